#include "base/sip_trace.h"

#include <QDateTime>

namespace sb::base {

namespace {

bool isCredentialsHeader(QByteArrayView line) {
    const qsizetype colon = line.indexOf(':');
    if (colon < 0) return false;
    const QByteArrayView name = line.first(colon).trimmed();
    return name.compare("Authorization", Qt::CaseInsensitive) == 0 ||
           name.compare("Proxy-Authorization", Qt::CaseInsensitive) == 0;
}

}  // namespace

QByteArray redactCredentials(QByteArrayView message) {
    // Every line is checked, not only the first header section: a trace holds whatever a
    // flow carried (sipfrag bodies, requests pipelined behind an unframeable one).
    QByteArray out;
    out.reserve(message.size());
    qsizetype pos = 0;
    bool redacting = false;
    while (pos < message.size()) {
        const qsizetype end = message.indexOf('\n', pos);
        const qsizetype next = end < 0 ? message.size() : end + 1;
        const QByteArrayView line = message.sliced(pos, next - pos);
        if (redacting && (line.front() == ' ' || line.front() == '\t') &&
            !line.trimmed().isEmpty()) {
            // RFC 3261 §7.3.1: a continuation line belongs to the header above it.
        } else if (isCredentialsHeader(line)) {
            redacting = true;
            out.append(line.first(line.indexOf(':') + 1));
            out.append(" <redacted>");
            out.append(line.endsWith("\r\n") ? "\r\n" : (line.endsWith("\n") ? "\n" : ""));
        } else {
            redacting = false;
            out.append(line);
        }
        pos = next;
    }
    return out;
}

FileSipTrace::FileSipTrace(const QString& path) : m_file(path) {
    (void)m_file.open(QIODevice::WriteOnly | QIODevice::Append);
}

void FileSipTrace::record(Direction direction, QByteArrayView transport, const QString& local,
                          const QString& remote, QByteArrayView message) {
    if (!m_file.isOpen()) return;
    const bool sent = direction == Direction::Sent;
    QByteArray head = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toUtf8();
    head += sent ? " SENT " : " RECV ";
    head += transport.toByteArray();
    head += ' ';
    head += (sent ? local : remote).toUtf8();
    head += " -> ";
    head += (sent ? remote : local).toUtf8();
    head += '\n';
    m_file.write(head);
    m_file.write(redactCredentials(message));
    m_file.write("\n----\n");
    m_file.flush();
}

}  // namespace sb::base
