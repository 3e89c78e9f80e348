// Tests app/stdin_reader.*: line splitting and end of input, over a pipe.

#include <QSignalSpy>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

#include "app/headless_protocol.h"
#include "app/stdin_reader.h"

using sb::app::StdinReader;

class TstStdinReader : public QObject {
    Q_OBJECT

private:
    int m_fds[2] = {-1, -1};

    void writeAll(const QByteArray& bytes) {
        qsizetype done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(m_fds[1], bytes.constData() + done, bytes.size() - done);
            QVERIFY(n > 0);
            done += n;
        }
    }

private slots:
    void init() {
        QCOMPARE(::pipe(m_fds), 0);
        // Room for the over-long line, so that writing it does not block the test.
        QVERIFY(::fcntl(m_fds[1], F_SETPIPE_SZ, 1 << 20) > 0);
    }
    void cleanup() {
        if (m_fds[0] >= 0) ::close(m_fds[0]);
        if (m_fds[1] >= 0) ::close(m_fds[1]);
        m_fds[0] = m_fds[1] = -1;
    }

    void linesThenEof() {
        StdinReader reader(m_fds[0]);
        QSignalSpy lines(&reader, &StdinReader::lineReceived);
        QSignalSpy eof(&reader, &StdinReader::endOfInput);
        reader.start();
        writeAll("{\"cmd\":\"a\"}\r\n{\"cmd\":");
        QTRY_COMPARE(lines.count(), 1);
        QCOMPARE(lines.at(0).at(0).toByteArray(), QByteArray("{\"cmd\":\"a\"}"));
        writeAll("\"b\"}\nlast without newline");
        QTRY_COMPARE(lines.count(), 2);
        QCOMPARE(lines.at(1).at(0).toByteArray(), QByteArray("{\"cmd\":\"b\"}"));
        ::close(m_fds[1]);
        m_fds[1] = -1;
        QTRY_COMPARE(eof.count(), 1);
        QCOMPARE(lines.count(), 3);
        QCOMPARE(lines.at(2).at(0).toByteArray(), QByteArray("last without newline"));
    }

    void overlongLineIsCutAndSkipped() {
        StdinReader reader(m_fds[0]);
        QSignalSpy lines(&reader, &StdinReader::lineReceived);
        reader.start();
        const QByteArray huge(sb::app::kMaxCommandLine + 10, 'x');
        writeAll(huge);
        writeAll(huge + "\nnext\n");
        QTRY_COMPARE(lines.count(), 2);
        QVERIFY(lines.at(0).at(0).toByteArray().size() > sb::app::kMaxCommandLine);
        QCOMPARE(lines.at(1).at(0).toByteArray(), QByteArray("next"));
    }

    void closedDescriptorIsEndOfInput() {
        StdinReader reader(987654);  // not an open descriptor
        QSignalSpy eof(&reader, &StdinReader::endOfInput);
        reader.start();
        QTRY_COMPARE(eof.count(), 1);
    }
};

QTEST_GUILESS_MAIN(TstStdinReader)
#include "tst_stdin_reader.moc"
