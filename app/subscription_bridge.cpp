#include "app/subscription_bridge.h"

#include "base/log.h"
#include "dialoginfo/dialog_info.h"

namespace sb::app {

SubscriptionBridge::SubscriptionBridge(board::Console& console, QObject* parent)
    : QObject(parent), m_console(console) {}

SubscriptionBridge::~SubscriptionBridge() {
    detach();
}

void SubscriptionBridge::attach(ua::SubscriptionSet& subscriptions) {
    detach();
    m_subscriptions = &subscriptions;
    m_monitored = connect(&m_console, &board::Console::monitored, this, &SubscriptionBridge::watch);
    m_unmonitored =
        connect(&m_console, &board::Console::unmonitored, this, &SubscriptionBridge::unwatch);
    for (const board::Extension& extension : m_console.directory().extensions())
        watch(extension.number, m_console.uriOf(extension.number));
}

void SubscriptionBridge::detach() {
    disconnect(m_monitored);
    disconnect(m_unmonitored);
    m_subscriptions = nullptr;
    m_numberOfResource.clear();
    m_numberOfEntity.clear();
}

void SubscriptionBridge::watch(const QString& number, const QString& uri) {
    if (!m_subscriptions || uri.isEmpty()) return;
    const QByteArray resource = uri.toUtf8();
    m_numberOfResource.insert(resource, number);
    m_numberOfEntity.insert(dialoginfo::normalisedEntity(uri), number);
    m_subscriptions->subscribe(resource);
}

void SubscriptionBridge::unwatch(const QString& number, const QString& uri) {
    if (!m_subscriptions) return;
    const QByteArray resource = uri.toUtf8();
    m_numberOfResource.remove(resource);
    // Two URIs may share an entity key (port or parameters differ): only our own goes.
    const QString entity = dialoginfo::normalisedEntity(uri);
    if (m_numberOfEntity.value(entity) == number) m_numberOfEntity.remove(entity);
    m_subscriptions->unsubscribe(resource);
}

QString SubscriptionBridge::numberOf(const QByteArray& resource) const {
    if (const auto it = m_numberOfResource.constFind(resource); it != m_numberOfResource.cend())
        return *it;
    // A resource named by a list server (RFC 4662) may be written differently.
    return m_numberOfEntity.value(dialoginfo::normalisedEntity(QString::fromUtf8(resource)));
}

void SubscriptionBridge::onStatus(const QByteArray& resource,
                                  const ua::SubscriptionStatus& status) {
    const QString number = numberOf(resource);
    if (number.isEmpty()) {
        qCDebug(lcApp) << "subscription state for" << resource << "which is not monitored";
        return;
    }
    m_console.setSubscriptionStatus(number, status);
}

ua::NotifyVerdict SubscriptionBridge::onNotify(const QByteArray& resource,
                                               QByteArrayView contentType, QByteArrayView body,
                                               QString* badReason) {
    const QByteArrayView type = contentType.trimmed();
    const qsizetype semicolon = type.indexOf(';');
    const QByteArrayView mediaType = (semicolon < 0 ? type : type.first(semicolon)).trimmed();
    if (!mediaType.isEmpty() &&
        mediaType.compare("application/dialog-info+xml", Qt::CaseInsensitive) != 0) {
        if (badReason)
            *badReason = QStringLiteral(
                             "Unsupported body type %1; expected "
                             "application/dialog-info+xml")
                             .arg(QString::fromUtf8(mediaType));
        return ua::NotifyVerdict::BadBody;
    }
    QString reason;
    switch (m_console.applyDialogInfo(body, numberOf(resource), &reason)) {
        case board::ApplyResult::Applied:
        case board::ApplyResult::Ignored:
            return ua::NotifyVerdict::Accepted;
        case board::ApplyResult::NeedFullState:
            return ua::NotifyVerdict::NeedFullState;
        case board::ApplyResult::Malformed:
            if (badReason) *badReason = QStringLiteral("Bad dialog-info: %1").arg(reason);
            return ua::NotifyVerdict::BadBody;
        case board::ApplyResult::UnknownEntity:
            qCDebug(lcApp) << "dialog-info for an entity that is not monitored, from" << resource;
            return ua::NotifyVerdict::Accepted;
    }
    return ua::NotifyVerdict::Accepted;
}

}  // namespace sb::app
