#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace sb::app {

// Turns SIGINT and SIGTERM into a Qt signal on the event loop (self-pipe), so that a
// terminated console still unregisters instead of leaving a stale binding behind.
class SignalWatcher final : public QObject {
    Q_OBJECT
public:
    explicit SignalWatcher(QObject* parent = nullptr);
    ~SignalWatcher() override;

    // Installs the handlers; false when the pipe cannot be made.
    bool install();

signals:
    void terminationRequested(int signalNumber);

private:
    void readSignal();

    std::unique_ptr<QSocketNotifier> m_notifier;
};

}  // namespace sb::app
