#include "app/async_output.h"

#include <algorithm>

#include <cerrno>

#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sb::app {

namespace {

// Whether a write to `fd` can only wait for the disk, never for a reader: a regular
// file or /dev/null (pipes, sockets and terminals can stall).
bool neverStalls(int fd) {
    struct stat out {};
    if (::fstat(fd, &out) != 0) return false;
    if (S_ISREG(out.st_mode)) return true;
    struct stat null {};
    return S_ISCHR(out.st_mode) && ::stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
           out.st_rdev == null.st_rdev;
}

}  // namespace

AsyncOutput::AsyncOutput(int fd, qint64 maxPending)
    : m_fd(fd), m_maxPending(maxPending), m_direct(neverStalls(fd)) {
    open(QIODevice::WriteOnly | QIODevice::Unbuffered);
    if (!m_direct) m_thread = std::thread([this] { run(); });
}

AsyncOutput::~AsyncOutput() {
    if (m_direct) return;
    // A reader that stopped reading but keeps the pipe open must not hold us here: the
    // writer thread waits for the descriptor in short polls and gives up once stopping.
    drain(std::chrono::seconds(2));
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

bool AsyncOutput::drain(std::chrono::milliseconds limit) {
    std::unique_lock lock(m_mutex);
    return m_drained.wait_for(
        lock, limit, [this] { return (m_pending.isEmpty() && m_inFlight == 0) || m_failed; });
}

qint64 AsyncOutput::bytesToWrite() const {
    std::lock_guard lock(m_mutex);
    return m_pending.size() + m_inFlight;
}

qint64 AsyncOutput::readData(char*, qint64) {
    return -1;
}

qint64 AsyncOutput::writeData(const char* data, qint64 size) {
    if (m_direct) return writeDirect(data, size);
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_failed) {
            setErrorString(QStringLiteral("the output was closed"));
            return -1;
        }
        if (m_pending.size() + m_inFlight + size > m_maxPending) {
            setErrorString(QStringLiteral("the reader is too slow: %1 bytes wait already")
                               .arg(m_pending.size() + m_inFlight));
            return -1;
        }
        // The writer sleeps only with nothing pending and nothing in flight; otherwise
        // it looks at m_pending again before it sleeps: no wake-up needed (a futex call
        // per event was a tenth of the server's time under load).
        wake = m_pending.isEmpty() && m_inFlight == 0;
        m_pending.append(data, size);
    }
    if (wake) m_wake.notify_one();
    return size;
}

qint64 AsyncOutput::writeDirect(const char* data, qint64 size) {
    // Only the event loop's thread writes here; the mutex keeps drain() and
    // bytesToWrite() as they are for the threaded case.
    std::lock_guard lock(m_mutex);
    if (m_failed) {
        setErrorString(QStringLiteral("the output was closed"));
        return -1;
    }
    qint64 left = size;
    while (left > 0) {
        const ssize_t written = ::write(m_fd, data + (size - left), static_cast<size_t>(left));
        if (written < 0) {
            if (errno == EINTR) continue;
            m_failed = true;
            setErrorString(qt_error_string(errno));
            return -1;
        }
        left -= written;
    }
    return size;
}

void AsyncOutput::run() {
    for (;;) {
        QByteArray chunk;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || !m_pending.isEmpty(); });
            if (m_pending.isEmpty()) return;  // stopping with nothing left
            chunk.swap(m_pending);
            m_inFlight = chunk.size();
        }
        const char* at = chunk.constData();
        qint64 left = chunk.size();
        bool failed = false;
        while (left > 0) {
            // Wait until the descriptor takes data, waking now and then to see whether we
            // are stopping. POLLOUT on a pipe promises PIPE_BUF bytes of room, so a write
            // of at most that never blocks (files and terminals are always writable).
            pollfd ready{m_fd, POLLOUT, 0};
            const int polled = ::poll(&ready, 1, 100);
            if (polled < 0 && errno != EINTR) {
                failed = true;
                break;
            }
            if (polled <= 0) {
                std::lock_guard lock(m_mutex);
                if (m_stop) {
                    failed = true;  // stopping while the reader sleeps: give up
                    break;
                }
                continue;
            }
            if (ready.revents & (POLLERR | POLLHUP | POLLNVAL)) {
                failed = true;  // the reader went away
                break;
            }
            const ssize_t written =
                ::write(m_fd, at, static_cast<size_t>(std::min<qint64>(left, PIPE_BUF)));
            if (written < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                failed = true;  // EPIPE: the reader went away
                break;
            }
            at += written;
            left -= written;
        }
        {
            std::lock_guard lock(m_mutex);
            m_inFlight = 0;
            if (failed) {
                m_failed = true;
                m_pending.clear();
            }
        }
        m_drained.notify_all();
        if (failed) {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop; });
            return;
        }
    }
}

}  // namespace sb::app
