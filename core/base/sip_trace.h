#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QFile>
#include <QString>

namespace sb::base {

// Returns `message` with the values of Authorization and Proxy-Authorization header
// fields (any case, folded continuation lines included) replaced by "<redacted>":
// credentials must never reach a log or trace.
QByteArray redactCredentials(QByteArrayView message);

// Where the SIP trace goes. Transports call record() for every message they send or
// receive; implementations redact before they store anything.
class SipTrace {
public:
    enum class Direction { Sent, Received };
    virtual ~SipTrace() = default;
    virtual void record(Direction direction, QByteArrayView transport, const QString& local,
                        const QString& remote, QByteArrayView message) = 0;
};

// Appends a readable, redacted trace to a file (created if missing).
class FileSipTrace final : public SipTrace {
public:
    explicit FileSipTrace(const QString& path);
    bool isOpen() const { return m_file.isOpen(); }
    QString errorString() const { return m_file.errorString(); }
    void record(Direction direction, QByteArrayView transport, const QString& local,
                const QString& remote, QByteArrayView message) override;

private:
    QFile m_file;
};

}  // namespace sb::base
