#include "ui/sip_trace_feed.h"

#include <QMetaObject>
#include <QMutexLocker>
#include <QTime>

namespace sb::ui {

SipTraceFeed::SipTraceFeed(QObject* parent) : QObject(parent) {}

QString SipTraceFeed::headline(Direction direction, QByteArrayView transport, const QString& local,
                               const QString& remote, qsizetype bytes) {
    const QString time = QTime::currentTime().toString(QStringLiteral("HH:mm:ss.zzz"));
    const QString proto = QString::fromLatin1(transport).toLower();
    return direction == Direction::Sent
               ? tr("%1 sent %2 %3 → %4 (%n bytes)", nullptr, int(bytes))
                     .arg(time, proto, local, remote)
               : tr("%1 received %2 %3 ← %4 (%n bytes)", nullptr, int(bytes))
                     .arg(time, proto, local, remote);
}

void SipTraceFeed::record(Direction direction, QByteArrayView transport, const QString& local,
                          const QString& remote, QByteArrayView message) {
    if (!isEnabled()) return;
    // Redact before anything is stored (base/sip_trace.h): Authorization and
    // Proxy-Authorization values never reach the window.
    const QByteArray redacted = base::redactCredentials(message);
    QString text = headline(direction, transport, local, remote, message.size());
    text += u'\n';
    text += QString::fromUtf8(redacted).trimmed();
    bool queue = false;
    {
        QMutexLocker lock(&m_mutex);
        if (m_pending.size() >= kMaxPending) {
            m_pending.removeFirst();
            ++m_dropped;
        }
        m_pending << text;
        queue = !m_deliveryQueued;
        m_deliveryQueued = true;
    }
    // Queued even from the GUI thread: the trace never re-enters a transport's caller.
    if (queue) QMetaObject::invokeMethod(this, &SipTraceFeed::deliver, Qt::QueuedConnection);
}

void SipTraceFeed::deliver() {
    QStringList batch;
    int dropped = 0;
    {
        QMutexLocker lock(&m_mutex);
        batch.swap(m_pending);
        dropped = m_dropped;
        m_dropped = 0;
        m_deliveryQueued = false;
    }
    if (!batch.isEmpty() || dropped > 0) emit messagesRecorded(batch, dropped);
}

}  // namespace sb::ui
