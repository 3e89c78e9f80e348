#pragma once

#include <QHash>
#include <QObject>
#include <QString>

#include "board/console.h"
#include "ua/subscription_set.h"

namespace sb::app {

// Client mode's source of dialog state: keeps one subscription per monitored extension
// (ua::SubscriptionSet) in step with the board's directory, and hands what the
// subscriptions learn — NOTIFY bodies and subscription states — to the board.
class SubscriptionBridge final : public QObject, public ua::SubscriptionHandler {
    Q_OBJECT
public:
    explicit SubscriptionBridge(board::Console& console, QObject* parent = nullptr);
    ~SubscriptionBridge() override;

    // Starts watching every monitored extension through `subscriptions`, and from now on
    // follows the directory (monitor/unmonitor). `subscriptions` must have this bridge as
    // its handler and outlive it, or be detached first.
    void attach(ua::SubscriptionSet& subscriptions);
    void detach();

    // ua::SubscriptionHandler
    void onStatus(const QByteArray& resource, const ua::SubscriptionStatus& status) override;
    ua::NotifyVerdict onNotify(const QByteArray& resource, QByteArrayView contentType,
                               QByteArrayView body, QString* badReason) override;

private:
    void watch(const QString& number, const QString& uri);
    void unwatch(const QString& number, const QString& uri);
    QString numberOf(const QByteArray& resource) const;

    board::Console& m_console;
    ua::SubscriptionSet* m_subscriptions = nullptr;
    QHash<QByteArray, QString> m_numberOfResource;  // subscribed URI → extension number
    QHash<QString, QString> m_numberOfEntity;       // normalised entity → extension number
    QMetaObject::Connection m_monitored;
    QMetaObject::Connection m_unmonitored;
};

}  // namespace sb::app
