#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <vector>

#include "base/clock.h"

namespace sb::ua {

// Publications (RFC 3903) kept across a restart by the publishers of both modes: per
// publication its entity, the SIP-ETag the server holds it under, when it runs out
// there (wall clock) and the version of its last document, plus what the publisher
// itself needs to take it up (further keys of the same JSON object).
struct SavedPublication {
    QString entity;
    QByteArray etag;
    qint64 leftMs = 0;  // how long the server still holds it
    quint64 version = 0;
    QJsonObject record;  // the whole record, for the publisher's own keys
};

// One record for savedPublicationsDocument(): `left` is what the server still holds
// it for, dated by `wallNow` (UTC, ms since the epoch).
QJsonObject savedPublicationRecord(const QString& entity, const QByteArray& etag,
                                   base::Duration left, qint64 wallNow, quint64 version);
QByteArray savedPublicationsDocument(const QJsonArray& records);

// The records of a saved document that the server still holds (a second or more
// left at `wallNow`, entity and ETag present), in the order saved; a damaged document
// gives none.
std::vector<SavedPublication> readSavedPublications(QByteArrayView saved, qint64 wallNow);

}  // namespace sb::ua
