#include "app/stdin_reader.h"

#include <QTimer>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>

#include "app/headless_protocol.h"

namespace sb::app {

StdinReader::StdinReader(int fd, QObject* parent) : QObject(parent), m_fd(fd) {}

StdinReader::~StdinReader() = default;

void StdinReader::start() {
    if (::fcntl(m_fd, F_GETFD) == -1) {
        QTimer::singleShot(0, this, &StdinReader::finish);
        return;
    }
    m_notifier = std::make_unique<QSocketNotifier>(m_fd, QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &StdinReader::readAvailable);
}

void StdinReader::readAvailable() {
    char chunk[16384];
    // One read per notification: the notifier only promises that one will not block.
    const ssize_t got = ::read(m_fd, chunk, sizeof chunk);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (got <= 0) {
        finish();
        return;
    }
    m_buffer.append(chunk, got);
    qsizetype start = 0;
    for (;;) {
        const qsizetype newline = m_buffer.indexOf('\n', start);
        if (newline < 0) break;
        QByteArray line = m_buffer.mid(start, newline - start);
        start = newline + 1;
        if (m_discarding) {
            m_discarding = false;
            continue;
        }
        if (line.endsWith('\r')) line.chop(1);
        emit lineReceived(line);
        if (m_finished) return;
    }
    m_buffer.remove(0, start);
    // A line that never ends must not grow without bound: hand over what we have (the
    // command parser refuses it as too long) and skip the rest of it.
    if (!m_discarding && m_buffer.size() > kMaxCommandLine) {
        emit lineReceived(m_buffer);
        m_buffer.clear();
        m_discarding = true;
    } else if (m_discarding) {
        m_buffer.clear();
    }
}

void StdinReader::finish() {
    if (m_finished) return;
    m_finished = true;
    m_notifier.reset();
    // A last line without "\n" still counts.
    if (!m_buffer.isEmpty() && !m_discarding) {
        QByteArray line = std::exchange(m_buffer, {});
        if (line.endsWith('\r')) line.chop(1);
        emit lineReceived(line);
    }
    emit endOfInput();
}

}  // namespace sb::app
