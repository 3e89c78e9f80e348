// Tests app/async_output.*: what is written reaches the descriptor in order, drain()
// waits for it, a reader that does not read never blocks the writer, the queue is
// bounded, and a regular file or /dev/null is written directly.

#include <QTemporaryFile>
#include <QTest>

#include <csignal>

#include <fcntl.h>
#include <unistd.h>

#include "app/async_output.h"

using sb::app::AsyncOutput;

namespace {

QByteArray readAll(int fd) {
    QByteArray out;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        out.append(buffer, n);
    }
    return out;
}

}  // namespace

class TstAsyncOutput : public QObject {
    Q_OBJECT

private slots:
    void linesArriveInOrder() {
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        QByteArray expected;
        {
            AsyncOutput out(fds[1]);
            for (int i = 0; i < 1000; ++i) {
                const QByteArray line = QByteArray::number(i) + '\n';
                expected += line;
                QCOMPARE(out.write(line), line.size());
            }
            // The pipe holds 64 KiB: the few KiB written fit, so the thread finishes.
            QVERIFY(out.drain(std::chrono::seconds(10)));
            QCOMPARE(out.bytesToWrite(), 0);
        }
        ::close(fds[1]);
        QCOMPARE(readAll(fds[0]), expected);
        ::close(fds[0]);
    }

    void aStalledReaderNeverBlocksTheWriterAndTheQueueIsBounded() {
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        const qint64 bound = 256 * 1024;
        qint64 accepted = 0;
        bool refused = false;
        {
            AsyncOutput out(fds[1], bound);
            const QByteArray line(1000, 'x');
            // Nobody reads: the pipe fills, the writer thread blocks, and writes queue up
            // to the bound; then they fail at once instead of blocking us.
            for (int i = 0; i < 2000 && !refused; ++i) {
                const qint64 n = out.write(line);
                if (n < 0) {
                    refused = true;
                    QVERIFY(out.errorString().contains(QStringLiteral("too slow")));
                } else {
                    accepted += n;
                }
            }
            QVERIFY(refused);
            // Let the writer finish: read everything it has and will write.
            ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
            QByteArray got;
            while (got.size() < accepted) {
                char buffer[65536];
                const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
                if (n > 0) {
                    got.append(buffer, n);
                } else {
                    out.drain(std::chrono::milliseconds(50));  // wait for the writer thread
                }
            }
            QVERIFY(out.drain(std::chrono::seconds(10)));
            QCOMPARE(got.size(), accepted);
        }
        QVERIFY(accepted >= bound - 1000);
        ::close(fds[0]);
        ::close(fds[1]);
    }

    void aReaderThatStopsReadingCannotHoldUpTheEnd() {
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        {
            AsyncOutput out(fds[1]);
            // More than the pipe holds (64 KiB): the writer thread waits for a reader
            // that never reads, with the pipe still open.
            const QByteArray line(1000, 'x');
            for (int i = 0; i < 200; ++i)
                QCOMPARE(out.write(line), line.size());
            QVERIFY(!out.drain(std::chrono::milliseconds(200)));
        }  // the destructor returns: this test ending at all is the assertion
        ::close(fds[0]);
        ::close(fds[1]);
    }

    void aClosedReaderMakesWritesFail() {
        int fds[2];
        QCOMPARE(::pipe(fds), 0);
        ::close(fds[0]);
        std::signal(SIGPIPE, SIG_IGN);  // as main() does: EPIPE instead of death
        AsyncOutput out(fds[1]);
        QCOMPARE(out.write("one\n"), 4);  // queued before the failure is known
        QVERIFY(out.drain(std::chrono::seconds(10)));
        QCOMPARE(out.write("two\n"), -1);
        ::close(fds[1]);
    }

    void aRegularFileAndDevNullAreWrittenAtOnce() {
        QTemporaryFile file;
        QVERIFY(file.open());
        {
            AsyncOutput out(file.handle());
            QCOMPARE(out.write("one\n"), 4);
            QCOMPARE(out.write("two\n"), 4);
            // Written directly: nothing waits, even before drain().
            QCOMPARE(out.bytesToWrite(), 0);
            QVERIFY(out.drain(std::chrono::milliseconds(0)));
        }
        file.seek(0);
        QCOMPARE(file.readAll(), QByteArray("one\ntwo\n"));

        const int null = ::open("/dev/null", O_WRONLY);
        QVERIFY(null >= 0);
        {
            AsyncOutput out(null);
            QCOMPARE(out.write("three\n"), 6);
            QCOMPARE(out.bytesToWrite(), 0);
        }
        ::close(null);
    }
};

QTEST_GUILESS_MAIN(TstAsyncOutput)
#include "tst_async_output.moc"
