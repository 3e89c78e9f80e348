// The Status-Line of a REFER NOTIFY's message/sipfrag body (RFC 3515 §2.4.5, RFC 3420):
// what is read, what is tolerated, and that malformed bodies are refused with a reason.

#include <QTest>

#include "sip/sipfrag.h"

using namespace sb;
using namespace sb::sip;

class TestSipFrag : public QObject {
    Q_OBJECT

private slots:
    void statusLines_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("code");
        QTest::addColumn<QByteArray>("phrase");
        QTest::newRow("trying") << QByteArray("SIP/2.0 100 Trying\r\n") << 100
                                << QByteArray("Trying");
        QTest::newRow("ok, no line end") << QByteArray("SIP/2.0 200 OK") << 200 << QByteArray("OK");
        QTest::newRow("with headers")
            << QByteArray("SIP/2.0 180 Ringing\r\nContact: <sip:a@b>\r\n\r\n") << 180
            << QByteArray("Ringing");
        QTest::newRow("bare LF") << QByteArray("SIP/2.0 486 Busy Here\nX: y\n") << 486
                                 << QByteArray("Busy Here");
        QTest::newRow("no phrase") << QByteArray("SIP/2.0 503\r\n") << 503 << QByteArray();
        QTest::newRow("lower-case version, tabs")
            << QByteArray("sip/2.0\t481\tCall Does Not Exist  \r\n") << 481
            << QByteArray("Call Does Not Exist");
        QTest::newRow("utf-8 phrase") << QByteArray("SIP/2.0 603 Abgelehnt \xc3\xa4\r\n") << 603
                                      << QByteArray("Abgelehnt \xc3\xa4");
    }
    void statusLines() {
        QFETCH(QByteArray, body);
        QFETCH(int, code);
        QFETCH(QByteArray, phrase);
        Result<SipFragStatus> status = parseSipFragStatus(body);
        QVERIFY2(status, status ? "" : qPrintable(status.error().reason));
        QCOMPARE(status->statusCode, code);
        QCOMPARE(status->reasonPhrase, phrase);
    }

    void malformedBodiesAreRefused_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("reason");
        QTest::newRow("empty") << QByteArray() << "empty";
        QTest::newRow("blank") << QByteArray("\r\n\r\n") << "empty";
        QTest::newRow("request line") << QByteArray("INVITE sip:a@b SIP/2.0\r\n") << "SIP/2.0";
        QTest::newRow("other version") << QByteArray("SIP/3.0 200 OK\r\n") << "SIP/2.0";
        QTest::newRow("version glued to code") << QByteArray("SIP/2.0200 OK") << "SIP/2.0";
        QTest::newRow("no code") << QByteArray("SIP/2.0 OK\r\n") << "three digits";
        QTest::newRow("two digits") << QByteArray("SIP/2.0 20 OK\r\n") << "three digits";
        QTest::newRow("four digits") << QByteArray("SIP/2.0 2000 OK\r\n") << "three digits";
        QTest::newRow("code 099") << QByteArray("SIP/2.0 099 Odd\r\n") << "out of range";
        QTest::newRow("code 700") << QByteArray("SIP/2.0 700 Odd\r\n") << "out of range";
        QTest::newRow("NUL") << QByteArray("SIP/2.0 200 O\0K\r\n", 17) << "control";
        QTest::newRow("huge line")
            << QByteArray("SIP/2.0 200 ") + QByteArray(5000, 'x') << "too long";
        QTest::newRow("binary") << QByteArray("\x01\x02\x03") << "control";
    }
    void malformedBodiesAreRefused() {
        QFETCH(QByteArray, body);
        QFETCH(QString, reason);
        Result<SipFragStatus> status = parseSipFragStatus(body);
        QVERIFY(!status);
        QVERIFY2(status.error().reason.contains(reason), qPrintable(status.error().reason));
    }

    void contentType() {
        QVERIFY(isSipFragContentType("message/sipfrag"));
        QVERIFY(isSipFragContentType("Message/SIPfrag;version=2.0"));
        QVERIFY(isSipFragContentType(" message/sipfrag ; version=2.0"));
        QVERIFY(!isSipFragContentType("message/sip"));
        QVERIFY(!isSipFragContentType("text/plain"));
        QVERIFY(!isSipFragContentType(""));
    }
};

QTEST_APPLESS_MAIN(TestSipFrag)
#include "tst_sipfrag.moc"
