#pragma once

#include <QByteArray>
#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace sb::app {

// Reads lines from a file descriptor (stdin) without a thread: a QSocketNotifier says
// when one read() will not block. Emits each line without its "\n" (and "\r"), and
// endOfInput() once when the other side closes it, which headless mode treats as quit.
class StdinReader final : public QObject {
    Q_OBJECT
public:
    explicit StdinReader(int fd = 0, QObject* parent = nullptr);
    ~StdinReader() override;

    // Begins reading; an invalid descriptor ends input at once (on the next loop turn).
    void start();

signals:
    void lineReceived(const QByteArray& line);
    void endOfInput();

private:
    void readAvailable();
    void finish();

    int m_fd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QByteArray m_buffer;
    bool m_discarding = false;  // inside an over-long line: drop up to its end
    bool m_finished = false;
};

}  // namespace sb::app
