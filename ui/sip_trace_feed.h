#pragma once

#include <QMutex>
#include <QObject>
#include <QStringList>

#include <atomic>

#include "base/sip_trace.h"

namespace sb::ui {

// The window's end of the SIP trace: transports call record() (from any thread), the
// message is redacted at once (credentials never reach the window) and handed to the GUI
// thread in batches through a queued call, so a burst of 1,000 NOTIFYs a second costs
// one append per event-loop turn, not one per message. Records only while enabled (the
// trace dock is open): a closed dock costs one atomic load per message.
class SipTraceFeed final : public QObject, public base::SipTrace {
    Q_OBJECT
public:
    // Messages waiting for the GUI thread beyond this are dropped (and counted).
    static constexpr int kMaxPending = 2000;

    explicit SipTraceFeed(QObject* parent = nullptr);

    void record(Direction direction, QByteArrayView transport, const QString& local,
                const QString& remote, QByteArrayView message) override;

    void setEnabled(bool enabled) { m_enabled.store(enabled, std::memory_order_relaxed); }
    bool isEnabled() const { return m_enabled.load(std::memory_order_relaxed); }

    // The header line written above each message:
    // "12:00:01.234 sent udp 192.0.2.1:5060 → 192.0.2.9:5060 (412 bytes)".
    static QString headline(Direction direction, QByteArrayView transport, const QString& local,
                            const QString& remote, qsizetype bytes);

signals:
    // In the GUI thread: the redacted messages since the last batch, each with its
    // headline; `dropped` counts those lost to the kMaxPending bound.
    void messagesRecorded(const QStringList& messages, int dropped);

private:
    void deliver();

    std::atomic<bool> m_enabled{false};
    QMutex m_mutex;
    QStringList m_pending;          // guarded by m_mutex
    int m_dropped = 0;              // guarded by m_mutex
    bool m_deliveryQueued = false;  // guarded by m_mutex
};

}  // namespace sb::ui
