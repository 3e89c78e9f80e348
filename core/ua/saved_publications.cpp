#include "ua/saved_publications.h"

#include <QJsonDocument>

#include <chrono>

namespace sb::ua {

QJsonObject savedPublicationRecord(const QString& entity, const QByteArray& etag,
                                   base::Duration left, qint64 wallNow, quint64 version) {
    const qint64 leftMs = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
    return QJsonObject{{QStringLiteral("entity"), entity},
                       {QStringLiteral("etag"), QString::fromUtf8(etag)},
                       {QStringLiteral("expires_at"), wallNow + leftMs},
                       {QStringLiteral("version"), qint64(version)}};
}

QByteArray savedPublicationsDocument(const QJsonArray& records) {
    return QJsonDocument(QJsonObject{{QStringLiteral("publications"), records}}).toJson();
}

std::vector<SavedPublication> readSavedPublications(QByteArrayView saved, qint64 wallNow) {
    std::vector<SavedPublication> out;
    QJsonParseError error{};
    const QJsonDocument json = QJsonDocument::fromJson(saved.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !json.isObject()) return out;
    for (const QJsonValue& value : json.object().value(QStringLiteral("publications")).toArray()) {
        SavedPublication publication;
        publication.record = value.toObject();
        const QJsonObject& o = publication.record;
        publication.entity = o.value(QStringLiteral("entity")).toString();
        publication.etag = o.value(QStringLiteral("etag")).toString().toUtf8();
        publication.leftMs = o.value(QStringLiteral("expires_at")).toInteger() - wallNow;
        publication.version = quint64(o.value(QStringLiteral("version")).toInteger());
        // Run out meanwhile (or damaged): the server holds nothing of it any more.
        if (publication.entity.isEmpty() || publication.etag.isEmpty() || publication.leftMs < 1000)
            continue;
        out.push_back(std::move(publication));
    }
    return out;
}

}  // namespace sb::ua
