#include <QTest>

#include "transport/connection_admission.h"

using namespace sb;
using namespace sb::transport;

// Limits on inbound connections, in all and per source, without sockets.
class TstConnectionAdmission : public QObject {
    Q_OBJECT
private slots:
    void perAddressLimit();
    void totalLimit();
    void releaseMakesRoom();
    void ipv4MappedCountsAsIpv4();
    void ipv6CountsPerSlash64();
    void releaseOfUnknownIsHarmless();
};

void TstConnectionAdmission::perAddressLimit() {
    ConnectionAdmission admission({100, 3});
    const QHostAddress a("127.0.0.9");
    const QHostAddress b("127.0.0.8");
    for (int i = 0; i < 3; ++i)
        QVERIFY(admission.admit(a).has_value());
    const auto refused = admission.admit(a);
    QVERIFY(!refused.has_value());
    QCOMPARE(refused.error().kind, ErrorKind::Limit);
    QVERIFY(refused.error().reason.contains(QLatin1String("127.0.0.9")));
    QCOMPARE(admission.from(a), std::size_t(3));  // the refusal counted nothing
    QVERIFY(admission.admit(b).has_value());      // another host is not affected
    QCOMPARE(admission.total(), std::size_t(4));
}

void TstConnectionAdmission::totalLimit() {
    ConnectionAdmission admission({5, 64});
    for (int i = 1; i <= 5; ++i)
        QVERIFY(admission.admit(QHostAddress(QStringLiteral("198.51.100.%1").arg(i))).has_value());
    QVERIFY(!admission.admit(QHostAddress("198.51.100.99")).has_value());
    QCOMPARE(admission.total(), std::size_t(5));
    QCOMPARE(admission.from(QHostAddress("198.51.100.99")), std::size_t(0));
}

void TstConnectionAdmission::releaseMakesRoom() {
    ConnectionAdmission admission({2, 2});
    const QHostAddress a("203.0.113.7");
    QVERIFY(admission.admit(a).has_value());
    QVERIFY(admission.admit(a).has_value());
    QVERIFY(!admission.admit(a).has_value());
    admission.release(a);
    QCOMPARE(admission.total(), std::size_t(1));
    QVERIFY(admission.admit(a).has_value());
    admission.release(a);
    admission.release(a);
    QCOMPARE(admission.total(), std::size_t(0));
    QCOMPARE(admission.from(a), std::size_t(0));
}

void TstConnectionAdmission::ipv4MappedCountsAsIpv4() {
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d.
    ConnectionAdmission admission({100, 2});
    QVERIFY(admission.admit(QHostAddress("127.0.0.19")).has_value());
    QVERIFY(admission.admit(QHostAddress("::ffff:127.0.0.19")).has_value());
    QVERIFY(!admission.admit(QHostAddress("127.0.0.19")).has_value());
    QCOMPARE(admission.from(QHostAddress("::ffff:127.0.0.19")), std::size_t(2));
}

void TstConnectionAdmission::ipv6CountsPerSlash64() {
    ConnectionAdmission admission({100, 2});
    QVERIFY(admission.admit(QHostAddress("2001:db8:1:2::1")).has_value());
    QVERIFY(admission.admit(QHostAddress("2001:db8:1:2:abcd::99")).has_value());
    QVERIFY(!admission.admit(QHostAddress("2001:db8:1:2:ffff:ffff:ffff:ffff")).has_value());
    QVERIFY(admission.admit(QHostAddress("2001:db8:1:3::1")).has_value());  // another /64
    QCOMPARE(ConnectionAdmission::sourceKey(QHostAddress("2001:db8:1:2:abcd::99")),
             QHostAddress("2001:db8:1:2::"));
}

void TstConnectionAdmission::releaseOfUnknownIsHarmless() {
    ConnectionAdmission admission({10, 10});
    QVERIFY(admission.admit(QHostAddress("127.0.0.9")).has_value());
    admission.release(QHostAddress("127.0.0.200"));
    QCOMPARE(admission.total(), std::size_t(1));
    QCOMPARE(admission.from(QHostAddress("127.0.0.9")), std::size_t(1));
}

QTEST_GUILESS_MAIN(TstConnectionAdmission)
#include "tst_connection_admission.moc"
