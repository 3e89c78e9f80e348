#pragma once

#include <QByteArray>
#include <QIODevice>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sb::app {

// A write-only device that hands what is written to a thread of its own, which writes
// it to a file descriptor (stdout in headless mode). A slow or stalled reader then
// never blocks the event loop that runs the SIP core: bursts of lamp events queue up
// here, bounded by `maxPending` bytes (beyond it a write fails and the event is lost,
// which the caller reports). A descriptor that never makes a writer wait (/dev/null, a
// regular file) is written directly instead: no reader can stall it, and the hand-over
// to the thread (a futex wake per batch) was the biggest cost per call through the proxy.
class AsyncOutput final : public QIODevice {
public:
    explicit AsyncOutput(int fd, qint64 maxPending = 64 * 1024 * 1024);
    ~AsyncOutput() override;

    // Waits until everything written so far has reached the descriptor, or `limit`.
    bool drain(std::chrono::milliseconds limit);

    bool isSequential() const override { return true; }
    qint64 bytesToWrite() const override;

protected:
    qint64 readData(char* data, qint64 maxSize) override;
    qint64 writeData(const char* data, qint64 size) override;

private:
    void run();
    qint64 writeDirect(const char* data, qint64 size);

    const int m_fd;
    const qint64 m_maxPending;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_drained;
    QByteArray m_pending;
    qint64 m_inFlight = 0;
    bool m_stop = false;
    bool m_failed = false;
    bool m_direct = false;
    std::thread m_thread;
};

}  // namespace sb::app
