// Method names: case-sensitive (RFC 3261 §7.1), extension methods are Unknown.

#include <QTest>

#include "sip/method.h"
#include "sip_test_util.h"

using namespace sb::sip;
using namespace sb::sip::test;

Q_DECLARE_METATYPE(sb::sip::Method)

class TestMethod : public QObject {
    Q_OBJECT

private slots:
    void knownMethods_data();
    void knownMethods();
    void caseSensitive();
    void extensionMethods();
};

void TestMethod::knownMethods_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<Method>("method");
    QTest::newRow("INVITE") << QByteArray("INVITE") << Method::Invite;
    QTest::newRow("ACK") << QByteArray("ACK") << Method::Ack;
    QTest::newRow("BYE") << QByteArray("BYE") << Method::Bye;
    QTest::newRow("CANCEL") << QByteArray("CANCEL") << Method::Cancel;
    QTest::newRow("REGISTER") << QByteArray("REGISTER") << Method::Register;
    QTest::newRow("OPTIONS") << QByteArray("OPTIONS") << Method::Options;
    QTest::newRow("SUBSCRIBE") << QByteArray("SUBSCRIBE") << Method::Subscribe;
    QTest::newRow("NOTIFY") << QByteArray("NOTIFY") << Method::Notify;
    QTest::newRow("PUBLISH") << QByteArray("PUBLISH") << Method::Publish;
    QTest::newRow("REFER") << QByteArray("REFER") << Method::Refer;
    QTest::newRow("MESSAGE") << QByteArray("MESSAGE") << Method::Message;
    QTest::newRow("INFO") << QByteArray("INFO") << Method::Info;
    QTest::newRow("PRACK") << QByteArray("PRACK") << Method::Prack;
    QTest::newRow("UPDATE") << QByteArray("UPDATE") << Method::Update;
}

void TestMethod::knownMethods() {
    QFETCH(QByteArray, name);
    QFETCH(Method, method);
    QCOMPARE(methodFromName(name), method);
    QCOMPARE(bytes(methodName(method)), name);
}

void TestMethod::caseSensitive() {
    QCOMPARE(methodFromName("invite"), Method::Unknown);
    QCOMPARE(methodFromName("Invite"), Method::Unknown);
    QCOMPARE(methodFromName("register"), Method::Unknown);
}

void TestMethod::extensionMethods() {
    QCOMPARE(methodFromName("NEWMETHOD"), Method::Unknown);
    QCOMPARE(methodFromName("RE%47IST%45R"), Method::Unknown);  // RFC 4475 §3.1.1.5
    QCOMPARE(methodFromName("INVITE2"), Method::Unknown);
    QCOMPARE(methodFromName("INVIT"), Method::Unknown);
    QCOMPARE(methodFromName(""), Method::Unknown);
}

QTEST_GUILESS_MAIN(TestMethod)
#include "tst_method.moc"
