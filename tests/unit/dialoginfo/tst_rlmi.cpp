// The RFC 4662 RLMI parser (core/dialoginfo/rlmi.*): list uri/version/fullState,
// resources with their instances, and the same hardening as dialog-info.

#include <QTest>

#include "dialoginfo/rlmi.h"
#include "dialoginfo_test_util.h"

using namespace sb;
using namespace sb::dialoginfo;
using namespace sb::dialoginfo::test;

Q_DECLARE_METATYPE(sb::ErrorKind)

class TestRlmi : public QObject {
    Q_OBJECT

private slots:
    void fullList();
    void partialList();
    void noNamespaceAndMissingVersion();
    void fullStateValues_data();
    void fullStateValues();
    void foreignElementsIgnored();
    void refused_data();
    void refused();
    void resourceLimit();
};

void TestRlmi::fullList() {
    const auto list = parseRlmi(fixture(QStringLiteral("rlmi-full.xml")));
    QVERIFY2(list, qPrintable(describe(list)));
    QCOMPARE(list->uri, QStringLiteral("sip:board@example.com"));
    QCOMPARE(list->version, std::optional<quint64>(0));
    QVERIFY(list->fullState);
    QCOMPARE(list->resources.size(), std::size_t(3));

    const RlmiResource& alice = list->resources.at(0);
    QCOMPARE(alice.uri, QStringLiteral("sip:201@example.com"));
    QCOMPARE(alice.name, QStringLiteral("Alice Example"));
    QCOMPARE(alice.instances.size(), std::size_t(1));
    QCOMPARE(alice.instances.at(0).id, QStringLiteral("juwigmtboe"));
    QCOMPARE(alice.instances.at(0).state, QStringLiteral("active"));
    QCOMPARE(alice.instances.at(0).cid, QStringLiteral("bUZBsM@example.com"));
    QVERIFY(alice.instances.at(0).reason.isEmpty());

    const RlmiResource& bob = list->resources.at(1);
    QCOMPARE(bob.name, QStringLiteral("Bob"));
    QCOMPARE(bob.instances.at(0).state, QStringLiteral("pending"));  // lower-cased
    QVERIFY(bob.instances.at(0).cid.isEmpty());

    const RlmiResource& carol = list->resources.at(2);
    QVERIFY(carol.name.isEmpty());
    QCOMPARE(carol.instances.at(0).state, QStringLiteral("terminated"));
    QCOMPARE(carol.instances.at(0).reason, QStringLiteral("rejected"));
}

void TestRlmi::partialList() {
    const auto list = parseRlmi(fixture(QStringLiteral("rlmi-partial.xml")));
    QVERIFY2(list, qPrintable(describe(list)));
    QCOMPARE(list->version, std::optional<quint64>(1));
    QVERIFY(!list->fullState);
    QCOMPARE(list->resources.size(), std::size_t(1));
    QCOMPARE(list->resources.at(0).instances.at(0).cid, QStringLiteral("ZvSvkz@example.com"));
}

void TestRlmi::noNamespaceAndMissingVersion() {
    const auto list = parseRlmi(R"(<list uri="sip:b@example.com" fullState="true">
  <resource uri="sip:201@example.com"><name>A</name><name>second</name>
    <instance id="i1" state="active" cid="c1@h"/><instance id="i2" state="terminated" reason="timeout"/>
  </resource></list>)");
    QVERIFY2(list, qPrintable(describe(list)));
    QVERIFY(!list->version);
    QCOMPARE(list->resources.at(0).name, QStringLiteral("A"));  // the first <name>
    QCOMPARE(list->resources.at(0).instances.size(), std::size_t(2));
    QCOMPARE(list->resources.at(0).instances.at(1).reason, QStringLiteral("timeout"));
}

void TestRlmi::fullStateValues_data() {
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<bool>("full");
    QTest::newRow("true") << QByteArray("true") << true << true;
    QTest::newRow("1") << QByteArray("1") << true << true;
    QTest::newRow("false") << QByteArray("false") << true << false;
    QTest::newRow("0") << QByteArray("0") << true << false;
    QTest::newRow("maybe") << QByteArray("maybe") << false << false;
}

void TestRlmi::fullStateValues() {
    QFETCH(QByteArray, value);
    QFETCH(bool, ok);
    QFETCH(bool, full);
    const auto list = parseRlmi(
        R"(<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:b@h" version="3" fullState=")" +
        value + "\"/>");
    QCOMPARE(bool(list), ok);
    if (ok) QCOMPARE(list->fullState, full);
}

void TestRlmi::foreignElementsIgnored() {
    const auto list = parseRlmi(
        R"(<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:b@h" version="1" fullState="true">
  <x:resource xmlns:x="urn:example:ext" uri="sip:foreign@h"/>
  <resource uri="sip:201@example.com"><x:instance xmlns:x="urn:example:ext" id="no"/><instance id="yes" state="active"/></resource>
</list>)");
    QVERIFY2(list, qPrintable(describe(list)));
    QCOMPARE(list->resources.size(), std::size_t(1));
    QCOMPARE(list->resources.at(0).instances.size(), std::size_t(1));
    QCOMPARE(list->resources.at(0).instances.at(0).id, QStringLiteral("yes"));
}

void TestRlmi::refused_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<QString>("reason");
    QTest::newRow("empty") << QByteArray() << ErrorKind::Parse << "empty body";
    QTest::newRow("doctype") << QByteArray(R"(<?xml version="1.0"?>
<!DOCTYPE list [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="&x;" version="1" fullState="true"/>)")
                             << ErrorKind::Parse << "DOCTYPE refused";
    QTest::newRow("dialog-info is no rlmi")
        << fixture(QStringLiteral("kamailio-early.xml")) << ErrorKind::Parse << "not <list>";
    QTest::newRow("wrong namespace")
        << QByteArray(R"(<list xmlns="urn:ietf:params:xml:ns:resource-lists"/>)")
        << ErrorKind::Parse << "urn:ietf:params:xml:ns:resource-lists";
    QTest::newRow("bad version") << QByteArray(
                                        R"(<list uri="sip:b@h" version="x" fullState="true"/>)")
                                 << ErrorKind::Parse << "version";
    QTest::newRow("truncated") << QByteArray(R"(<list uri="sip:b@h" version="1"><resource)")
                               << ErrorKind::Parse << "not well-formed XML";
    QTest::newRow("broken xml declaration")
        << QByteArray(
               "<?xml version=\"1.0\" en[oding=\"UTF-8\"?>\n<list>\n  <resource/>\n</list>\n")
        << ErrorKind::Parse << "not well-formed XML";
    QTest::newRow("too big") << QByteArray(300 * 1024, ' ') << ErrorKind::Limit << "over the limit";
}

void TestRlmi::refused() {
    QFETCH(QByteArray, body);
    QFETCH(ErrorKind, kind);
    QFETCH(QString, reason);
    const auto list = parseRlmi(body);
    QVERIFY(!list);
    QCOMPARE(list.error().kind, kind);
    QVERIFY2(list.error().reason.contains(reason), qPrintable(list.error().reason));
}

void TestRlmi::resourceLimit() {
    QByteArray body =
        R"(<list xmlns="urn:ietf:params:xml:ns:rlmi" uri="sip:b@h" version="1" fullState="true">)";
    for (int i = 0; i < 2000; ++i) {
        body += "<resource uri=\"sip:" + QByteArray::number(1000 + i) +
                "@example.com\"><instance id=\"i" + QByteArray::number(i) +
                "\" state=\"active\" cid=\"c" + QByteArray::number(i) + "@h\"/></resource>";
    }
    body += "</list>";
    ParseLimits limits;
    limits.maxBytes = 1024 * 1024;
    const auto list = parseRlmi(body, limits);
    QVERIFY2(list, qPrintable(describe(list)));
    QCOMPARE(list->resources.size(), std::size_t(2000));

    limits.maxResources = 1999;
    const auto refused = parseRlmi(body, limits);
    QVERIFY(!refused);
    QCOMPARE(refused.error().kind, ErrorKind::Limit);
}

QTEST_GUILESS_MAIN(TestRlmi)
#include "tst_rlmi.moc"
