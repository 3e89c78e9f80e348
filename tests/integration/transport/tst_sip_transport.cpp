#include <QNetworkDatagram>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>
#include <QUdpSocket>

#include <memory>
#include <vector>

#include "base/event_loop_timers.h"
#include "base/random.h"
#include "base/sip_trace.h"
#include "sip/parser.h"
#include "transport/sip_transport.h"

using namespace sb;
using namespace sb::transport;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 10000;  // generous: the machine is shared

class RecordingUser final : public TransportUser {
public:
    std::vector<IncomingMessage> messages;
    std::vector<std::pair<Endpoint, Error>> failures;
    std::function<void(const IncomingMessage&)> react;

    void onMessage(IncomingMessage&& incoming) override {
        messages.push_back(std::move(incoming));
        if (react) react(messages.back());
    }
    void onFlowFailed(const Endpoint& remote, const Error& error) override {
        failures.emplace_back(remote, error);
    }
    std::size_t count() const { return messages.size(); }
};

class RecordingTrace final : public base::SipTrace {
public:
    struct Entry {
        Direction direction;
        QByteArray transport;
        QString local;
        QString remote;
        QByteArray message;
    };
    std::vector<Entry> entries;
    void record(Direction direction, QByteArrayView transport, const QString& local,
                const QString& remote, QByteArrayView message) override {
        entries.push_back(
            {direction, transport.toByteArray(), local, remote, message.toByteArray()});
    }
};

// Answers A/AAAA from a table and nothing else; never touches the network.
class TableResolver final : public DnsResolver {
public:
    QHash<QByteArray, QList<QHostAddress>> hosts;
    QList<QByteArray> asked;
    void lookupNaptr(const QByteArray&, NaptrCallback done) override {
        QTimer::singleShot(0, [done] { done(std::vector<NaptrRecord>{}); });
    }
    void lookupSrv(const QByteArray& name, SrvCallback done) override {
        asked.append("SRV " + name);
        QTimer::singleShot(0, [done] { done(std::vector<SrvRecord>{}); });
    }
    void lookupAddresses(const QByteArray& host, AddressCallback done) override {
        asked.append("A " + host);
        const QList<QHostAddress> found = hosts.value(host);
        QTimer::singleShot(0, [done, found] { done(found); });
    }
};

int g_branch = 0;

sip::Message makeRequest(QByteArray method = "OPTIONS",
                         QByteArray requestUri = "sip:bob@example.com", QByteArray body = {}) {
    const QByteArray branch = "z9hG4bKtest" + QByteArray::number(++g_branch);
    QByteArray text = method + " " + requestUri +
                      " SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP placeholder.invalid;branch=" +
                      branch +
                      ";rport\r\n"
                      "From: <sip:alice@example.com>;tag=a1\r\n"
                      "To: <sip:bob@example.com>\r\n"
                      "Call-ID: " +
                      branch +
                      "@test\r\n"
                      "CSeq: 1 " +
                      method +
                      "\r\n"
                      "Max-Forwards: 70\r\n";
    if (!body.isEmpty()) text += "Content-Type: text/plain\r\n";
    text += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    auto parsed = sip::Parser::parse(text);
    if (!parsed) qFatal("test request does not parse: %s", qPrintable(parsed.error().reason));
    return *parsed;
}

QByteArray rawRequest(QByteArray extraHeaders = {}, QByteArray contentLength = "0",
                      QByteArray body = {}) {
    return "OPTIONS sip:bob@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKraw1;rport\r\n"
           "From: <sip:alice@example.com>;tag=a1\r\n"
           "To: <sip:bob@example.com>\r\n"
           "Call-ID: raw-1@test\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Max-Forwards: 70\r\n" +
           extraHeaders + "Content-Length: " + contentLength + "\r\n\r\n" + body;
}

bool haveIpv6Loopback() {
    QUdpSocket probe;
    return probe.bind(QHostAddress(QHostAddress::LocalHostIPv6), 0);
}

// Two transports and their users on one loopback family.
struct Pair {
    base::EventLoopTimers timers;
    SipTransport a;
    SipTransport b;
    RecordingUser userA;
    RecordingUser userB;
    Endpoint udpA, udpB, tcpA, tcpB;

    Pair(const QString& host, SipTransportConfig config = {})
        : a(timers, config), b(timers, config) {
        a.setUser(&userA);
        b.setUser(&userB);
        udpA = *a.listen(QStringLiteral("udp:%1:0").arg(host));
        tcpA = *a.listen(QStringLiteral("tcp:%1:0").arg(host));
        udpB = *b.listen(QStringLiteral("udp:%1:0").arg(host));
        tcpB = *b.listen(QStringLiteral("tcp:%1:0").arg(host));
    }
};

}  // namespace

class TstSipTransport : public QObject {
    Q_OBJECT
private slots:
    void listenReportsBoundPorts();
    void udpRequestAndResponse_data();
    void udpRequestAndResponse();
    void tcpRequestAndResponse_data();
    void tcpRequestAndResponse();
    void tcpMessageSplitAcrossSegments();
    void tcpTwoMessagesInOneSegment();
    void largeRequestMovesToTcp();
    void largeRequestPinnedToUdpStays();
    void largeRequestFallsBackToUdp();
    void crlfPingGetsPong();
    void outboundFlowSendsPings();
    void udpKeepAlivesAreIgnored();
    void malformedDatagramGets400();
    void invalidRequestGets400WithReason();
    void unreadableDatagramIsDropped();
    void invalidResponseIsDropped();
    void oversizedDatagramGets513();
    void oversizedStreamGets513AndCloses();
    void streamWithoutContentLengthGets400AndCloses();
    void idleConnectionIsClosed();
    void refusedConnectionReportsFlowFailure();
    void responseReopensClosedConnection();
    void everythingIsTraced();
    void inboundConnectionsPerAddressAreLimited();
    void inboundConnectionsInAllAreLimited();
    void incompleteMessageClosesConnection();
    void sendQueueWhileConnectingIsBounded();
    void sendBufferOfOpenConnectionIsBounded();
    void responseToHostNameIsLocated();
};

void TstSipTransport::listenReportsBoundPorts() {
    base::EventLoopTimers timers;
    SipTransport transport(timers);
    const auto udp = transport.listen(QStringLiteral("udp:127.0.0.1:0"));
    const auto tcp = transport.listen(QStringLiteral("tcp:127.0.0.1:0"));
    QVERIFY(udp && tcp);
    QVERIFY(udp->port != 0);
    QVERIFY(tcp->port != 0);
    QCOMPARE(transport.localEndpoint(Protocol::Udp), std::optional(*udp));
    QCOMPARE(transport.localEndpoint(Protocol::Tcp), std::optional(*tcp));
    QVERIFY(!transport.localEndpoint(Protocol::Tls));
    // The same port twice is refused with a reason.
    const auto again = transport.listen(*udp);
    QVERIFY(!again.has_value());
    QCOMPARE(again.error().kind, ErrorKind::Transport);
    QVERIFY(!transport.listen(QStringLiteral("bogus")).has_value());
}

void TstSipTransport::udpRequestAndResponse_data() {
    QTest::addColumn<QString>("host");
    QTest::newRow("IPv4") << "127.0.0.1";
    QTest::newRow("IPv6") << "::1";
}

void TstSipTransport::udpRequestAndResponse() {
    QFETCH(QString, host);
    if (host.contains(':') && !haveIpv6Loopback()) QSKIP("no IPv6 loopback on this machine");
    Pair pair(host.contains(':') ? "[" + host + "]" : host);
    pair.userB.react = [&](const IncomingMessage& in) {
        if (in.message.isRequest()) {
            QVERIFY(
                pair.b.sendResponse(sip::makeResponse(in.message, 200), in.source, in.connection)
                    .has_value());
        }
    };

    sip::Message request = makeRequest();
    const auto used = pair.a.sendRequest(request, pair.udpB);
    QVERIFY(used.has_value());
    QCOMPARE(*used, pair.udpB);
    // §18.1.1: the top Via names the socket really used.
    QCOMPARE(request.topVia()->transport, QByteArrayView("UDP"));
    QCOMPARE(QHostAddress(QString::fromLatin1(request.topVia()->host)), QHostAddress(host));
    QCOMPARE(request.topVia()->port, std::optional<quint16>(pair.udpA.port));

    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    const IncomingMessage& atB = pair.userB.messages[0];
    QCOMPARE(atB.source, pair.udpA);  // sent from the listening socket
    QCOMPARE(atB.local, pair.udpB);
    QCOMPARE(atB.connection, ConnectionId(0));
    // RFC 3581: rport filled and received added although the address is the same.
    QCOMPARE(atB.message.topVia()->rport(), std::optional<quint16>(pair.udpA.port));
    QCOMPARE(QHostAddress(QString::fromLatin1(*atB.message.topVia()->received())),
             QHostAddress(host));

    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(1), kWait);
    QCOMPARE(pair.userA.messages[0].message.statusCode(), 200);
    QCOMPARE(pair.userA.messages[0].source, pair.udpB);  // the response left from B's listener
    QCOMPARE(pair.a.counters().messagesSent, quint64(1));
    QCOMPARE(pair.b.counters().messagesReceived, quint64(1));
}

void TstSipTransport::tcpRequestAndResponse_data() {
    QTest::addColumn<QString>("host");
    QTest::newRow("IPv4") << "127.0.0.1";
    QTest::newRow("IPv6") << "::1";
}

void TstSipTransport::tcpRequestAndResponse() {
    QFETCH(QString, host);
    if (host.contains(':') && !haveIpv6Loopback()) QSKIP("no IPv6 loopback on this machine");
    Pair pair(host.contains(':') ? "[" + host + "]" : host);
    pair.userB.react = [&](const IncomingMessage& in) {
        if (in.message.isRequest()) {
            QVERIFY(
                pair.b.sendResponse(sip::makeResponse(in.message, 200), in.source, in.connection)
                    .has_value());
        }
    };

    sip::Message request = makeRequest();
    const auto used = pair.a.sendRequest(request, pair.tcpB);
    QVERIFY(used.has_value());
    QCOMPARE(used->protocol, Protocol::Tcp);
    QCOMPARE(request.topVia()->transport, QByteArrayView("TCP"));
    QCOMPARE(request.topVia()->port, std::optional<quint16>(pair.tcpA.port));  // the TCP listener

    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    const IncomingMessage atB = pair.userB.messages[0];
    QVERIFY(atB.connection != 0);
    QCOMPARE(atB.source.protocol, Protocol::Tcp);
    QCOMPARE(atB.source.address, QHostAddress(host));

    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(1), kWait);
    const IncomingMessage atA = pair.userA.messages[0];
    QCOMPARE(atA.message.statusCode(), 200);
    QVERIFY(atA.connection != 0);
    QCOMPARE(pair.a.connectionCount(), std::size_t(1));
    QCOMPARE(pair.b.connectionCount(), std::size_t(1));

    // A second request reuses the connection, and B's request back to A's address uses
    // the connection A opened (inbound connections serve requests too).
    sip::Message second = makeRequest();
    QVERIFY(pair.a.sendRequest(second, pair.tcpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(2), kWait);
    QCOMPARE(pair.userB.messages[1].connection, atB.connection);

    pair.userB.react = nullptr;
    sip::Message back = makeRequest("NOTIFY");
    const auto backUsed = pair.b.sendRequest(back, atB.source);
    QVERIFY(backUsed.has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(3), kWait);
    QCOMPARE(pair.userA.messages.back().message.method(), sip::Method::Notify);
    QCOMPARE(pair.userA.messages.back().connection, atA.connection);
    QCOMPARE(pair.a.connectionCount(), std::size_t(1));
    QCOMPARE(pair.b.connectionCount(), std::size_t(1));
    QCOMPARE(pair.a.counters().connectionsOpened, quint64(1));
    QCOMPARE(pair.b.counters().connectionsAccepted, quint64(1));
}

void TstSipTransport::tcpMessageSplitAcrossSegments() {
    Pair pair("127.0.0.1");
    QTcpSocket raw;
    raw.connectToHost(pair.tcpB.address, pair.tcpB.port);
    QVERIFY(raw.waitForConnected(kWait));
    const QByteArray bytes = rawRequest({}, "11", "hello world");
    const qsizetype cuts[] = {10, 60, bytes.size() - 5};
    qsizetype from = 0;
    for (qsizetype cut : cuts) {
        raw.write(bytes.sliced(from, cut - from));
        raw.flush();
        QVERIFY(raw.waitForBytesWritten(kWait) || raw.bytesToWrite() == 0);
        QTest::qWait(20);  // let each part arrive on its own
        QCOMPARE(pair.userB.count(), std::size_t(0));
        from = cut;
    }
    raw.write(bytes.sliced(from));
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    QCOMPARE(pair.userB.messages[0].message.body(), QByteArrayView("hello world"));
    QCOMPARE(pair.userB.messages[0].source.port, raw.localPort());
}

void TstSipTransport::tcpTwoMessagesInOneSegment() {
    Pair pair("127.0.0.1");
    QTcpSocket raw;
    raw.connectToHost(pair.tcpB.address, pair.tcpB.port);
    QVERIFY(raw.waitForConnected(kWait));
    QByteArray first = rawRequest({}, "3", "one");
    QByteArray second = rawRequest({}, "3", "two");
    second.replace("raw-1@test", "raw-2@test");
    raw.write(first + second);
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(2), kWait);
    QCOMPARE(pair.userB.messages[0].message.body(), QByteArrayView("one"));
    QCOMPARE(pair.userB.messages[1].message.callId(), QByteArrayView("raw-2@test"));
    QCOMPARE(pair.userB.messages[0].connection, pair.userB.messages[1].connection);
}

void TstSipTransport::largeRequestMovesToTcp() {
    base::EventLoopTimers timers;
    SipTransport a(timers);
    RecordingUser userB;
    QVERIFY(a.listen(QStringLiteral("udp:127.0.0.1:0")).has_value());
    // B listens on UDP and TCP on one port number, as SIP servers do.
    std::unique_ptr<SipTransport> b;
    std::optional<Endpoint> udpB;
    for (int attempt = 0; attempt < 20 && !udpB; ++attempt) {
        b = std::make_unique<SipTransport>(timers);
        const auto udp = b->listen(QStringLiteral("udp:127.0.0.1:0"));
        QVERIFY(udp.has_value());
        if (b->listen(Endpoint{Protocol::Tcp, udp->address, udp->port})) udpB = *udp;
    }
    QVERIFY(udpB.has_value());
    b->setUser(&userB);

    sip::Message request = makeRequest("MESSAGE", "sip:bob@example.com", QByteArray(2000, 'x'));
    const auto used = a.sendRequest(request, *udpB);
    QVERIFY(used.has_value());
    QCOMPARE(used->protocol, Protocol::Tcp);  // §18.1.1
    QCOMPARE(used->port, udpB->port);
    QTRY_COMPARE_WITH_TIMEOUT(userB.count(), std::size_t(1), kWait);
    QVERIFY(userB.messages[0].connection != 0);
    QCOMPARE(userB.messages[0].message.topVia()->transport, QByteArrayView("TCP"));
    QCOMPARE(userB.messages[0].message.body().size(), 2000);

    // A small one stays on UDP.
    sip::Message small = makeRequest();
    QCOMPARE(a.sendRequest(small, *udpB)->protocol, Protocol::Udp);
    QTRY_COMPARE_WITH_TIMEOUT(userB.count(), std::size_t(2), kWait);
    QCOMPARE(userB.messages[1].connection, ConnectionId(0));
}

void TstSipTransport::largeRequestPinnedToUdpStays() {
    Pair pair("127.0.0.1");
    sip::Message request =
        makeRequest("MESSAGE", "sip:bob@example.com;transport=udp", QByteArray(2000, 'y'));
    const auto used = pair.a.sendRequest(request, pair.udpB);
    QVERIFY(used.has_value());
    QCOMPARE(used->protocol, Protocol::Udp);
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    QCOMPARE(pair.userB.messages[0].connection, ConnectionId(0));
    QCOMPARE(pair.userB.messages[0].message.body().size(), 2000);
}

void TstSipTransport::largeRequestFallsBackToUdp() {
    // §18.1.1: when the TCP connection cannot be made, the request goes over UDP after all.
    base::EventLoopTimers timers;
    SipTransport a(timers);
    SipTransport b(timers);
    RecordingUser userA;
    RecordingUser userB;
    a.setUser(&userA);
    b.setUser(&userB);
    QVERIFY(a.listen(QStringLiteral("udp:127.0.0.1:0")).has_value());
    const auto udpB = b.listen(QStringLiteral("udp:127.0.0.1:0"));  // no TCP at that port
    QVERIFY(udpB.has_value());
    sip::Message request = makeRequest("MESSAGE", "sip:bob@example.com", QByteArray(2000, 'z'));
    QCOMPARE(a.sendRequest(request, *udpB)->protocol, Protocol::Tcp);
    QTRY_COMPARE_WITH_TIMEOUT(userB.count(), std::size_t(1), kWait);
    QCOMPARE(userB.messages[0].connection, ConnectionId(0));
    QCOMPARE(userB.messages[0].message.topVia()->transport, QByteArrayView("UDP"));
    QVERIFY(userA.failures.empty());

    // That destination is now known to listen on UDP only: the next large request goes
    // there directly, without another connection attempt.
    const quint64 opened = a.counters().connectionsOpened;
    sip::Message second = makeRequest("MESSAGE", "sip:bob@example.com", QByteArray(2000, 'y'));
    QCOMPARE(a.sendRequest(second, *udpB)->protocol, Protocol::Udp);
    QTRY_COMPARE_WITH_TIMEOUT(userB.count(), std::size_t(2), kWait);
    QCOMPARE(a.counters().connectionsOpened, opened);
}

void TstSipTransport::crlfPingGetsPong() {
    Pair pair("127.0.0.1");
    QTcpSocket raw;
    raw.connectToHost(pair.tcpB.address, pair.tcpB.port);
    QVERIFY(raw.waitForConnected(kWait));
    raw.write("\r\n\r\n");
    QByteArray received;
    QTRY_VERIFY_WITH_TIMEOUT((received += raw.readAll()).size() >= 2, kWait);
    QCOMPARE(received, QByteArray("\r\n"));
    QCOMPARE(pair.b.counters().keepAlivesAnswered, quint64(1));
    QCOMPARE(pair.userB.count(), std::size_t(0));
    // The connection still carries SIP afterwards.
    raw.write(rawRequest());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
}

void TstSipTransport::outboundFlowSendsPings() {
    SipTransportConfig config;
    config.flows.keepAliveInterval = 200ms;
    config.flows.pongTimeout = 5s;
    Pair pair("127.0.0.1", config);
    sip::Message request = makeRequest();
    QVERIFY(pair.a.sendRequest(request, pair.tcpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    // A pings its idle flow, B answers, and the flow stays up.
    QTRY_VERIFY_WITH_TIMEOUT(pair.a.counters().keepAlivesSent >= 2, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(pair.b.counters().keepAlivesAnswered >= 2, kWait);
    QCOMPARE(pair.a.connectionCount(), std::size_t(1));
    QVERIFY(pair.userA.failures.empty());
    QCOMPARE(pair.userA.count(), std::size_t(0));  // pongs are not messages
}

void TstSipTransport::udpKeepAlivesAreIgnored() {
    Pair pair("127.0.0.1");
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    raw.writeDatagram("\r\n\r\n", pair.udpB.address, pair.udpB.port);
    raw.writeDatagram("\r\n", pair.udpB.address, pair.udpB.port);
    raw.writeDatagram(QByteArray(4, '\0'), pair.udpB.address, pair.udpB.port);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.counters().keepAlivesIgnored, quint64(3), kWait);
    QCOMPARE(pair.b.counters().parseErrors, quint64(0));
    QCOMPARE(pair.b.counters().dropped, quint64(0));
    QCOMPARE(pair.userB.count(), std::size_t(0));
    QVERIFY(!raw.hasPendingDatagrams());
}

void TstSipTransport::malformedDatagramGets400() {
    Pair pair("127.0.0.1");
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    const QByteArray bad = rawRequest({}, "banana");
    const QString parserReason = sip::Parser::parse(bad).error().reason;
    raw.writeDatagram(bad, pair.udpB.address, pair.udpB.port);
    QTRY_VERIFY_WITH_TIMEOUT(raw.hasPendingDatagrams(), kWait);
    const auto response = sip::Parser::parse(raw.receiveDatagram().data());
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 400);
    QCOMPARE(QString::fromUtf8(response->reasonPhrase()), parserReason);
    QCOMPARE(response->callId(), QByteArrayView("raw-1@test"));
    // It went to the packet's source (RFC 3581), not to the Via's port 9.
    QCOMPARE(response->topVia()->rport(), std::optional<quint16>(raw.localPort()));
    QCOMPARE(pair.b.counters().parseErrors, quint64(1));
    QCOMPARE(pair.b.counters().refusalsSent, quint64(1));
    QCOMPARE(pair.userB.count(), std::size_t(0));
}

void TstSipTransport::invalidRequestGets400WithReason() {
    Pair pair("127.0.0.1");
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    QByteArray bad = rawRequest();
    bad.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");  // parses, fails validate()
    const auto parsed = sip::Parser::parse(bad);
    QVERIFY(parsed.has_value());
    const auto invalid = parsed->validate();
    QVERIFY(!invalid.has_value());
    raw.writeDatagram(bad, pair.udpB.address, pair.udpB.port);
    QTRY_VERIFY_WITH_TIMEOUT(raw.hasPendingDatagrams(), kWait);
    const auto response = sip::Parser::parse(raw.receiveDatagram().data());
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 400);
    QCOMPARE(QString::fromUtf8(response->reasonPhrase()), invalid.error().reason);
    QVERIFY(!response->to()->tag().isEmpty());
}

void TstSipTransport::unreadableDatagramIsDropped() {
    Pair pair("127.0.0.1");
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    raw.writeDatagram("this is not SIP at all\r\n\r\n", pair.udpB.address, pair.udpB.port);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.counters().dropped, quint64(1), kWait);
    QCOMPARE(pair.b.counters().parseErrors, quint64(1));
    QCOMPARE(pair.b.counters().refusalsSent, quint64(0));
    QTest::qWait(50);
    QVERIFY(!raw.hasPendingDatagrams());
}

void TstSipTransport::invalidResponseIsDropped() {
    Pair pair("127.0.0.1");
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    const QByteArray response =
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\n"
        "To: <sip:bob@example.com>;tag=b\r\n"
        "Call-ID: r1\r\n"
        "Content-Length: 0\r\n\r\n";  // no CSeq
    raw.writeDatagram(response, pair.udpB.address, pair.udpB.port);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.counters().dropped, quint64(1), kWait);
    QCOMPARE(pair.userB.count(), std::size_t(0));
    QVERIFY(!raw.hasPendingDatagrams());
}

void TstSipTransport::oversizedDatagramGets513() {
    SipTransportConfig config;
    config.limits.maxMessageSize = 4096;
    Pair pair("127.0.0.1", config);
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    const QByteArray big =
        rawRequest("Content-Type: text/plain\r\n", "8000", QByteArray(8000, 'b'));
    QCOMPARE(raw.writeDatagram(big, pair.udpB.address, pair.udpB.port), big.size());
    QTRY_VERIFY_WITH_TIMEOUT(raw.hasPendingDatagrams(), kWait);
    const auto response = sip::Parser::parse(raw.receiveDatagram().data());
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 513);
    QCOMPARE(pair.userB.count(), std::size_t(0));
}

void TstSipTransport::oversizedStreamGets513AndCloses() {
    SipTransportConfig config;
    config.limits.maxMessageSize = 4096;
    Pair pair("127.0.0.1", config);
    QTcpSocket raw;
    raw.connectToHost(pair.tcpB.address, pair.tcpB.port);
    QVERIFY(raw.waitForConnected(kWait));
    QSignalSpy closed(&raw, &QTcpSocket::disconnected);
    raw.write(rawRequest("Content-Type: text/plain\r\n", "100000"));
    QTRY_VERIFY_WITH_TIMEOUT(closed.count() == 1, kWait);
    const auto response = sip::Parser::parse(raw.readAll());
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 513);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.connectionCount(), std::size_t(0), kWait);
}

void TstSipTransport::streamWithoutContentLengthGets400AndCloses() {
    Pair pair("127.0.0.1");
    QTcpSocket raw;
    raw.connectToHost(pair.tcpB.address, pair.tcpB.port);
    QVERIFY(raw.waitForConnected(kWait));
    QSignalSpy closed(&raw, &QTcpSocket::disconnected);
    QByteArray bad = rawRequest();
    bad.replace("Content-Length: 0\r\n", "");
    raw.write(bad);
    QTRY_VERIFY_WITH_TIMEOUT(closed.count() == 1, kWait);
    const auto response = sip::Parser::parse(raw.readAll());
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 400);
    QVERIFY(response->reasonPhrase().contains("Content-Length"));
}

void TstSipTransport::idleConnectionIsClosed() {
    SipTransportConfig config;
    config.flows.idleTimeout = 300ms;
    config.flows.keepAliveInterval = 0ms;
    Pair pair("127.0.0.1", config);
    sip::Message request = makeRequest();
    QVERIFY(pair.a.sendRequest(request, pair.tcpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.connectionCount(), std::size_t(0), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(pair.a.connectionCount(), std::size_t(0), kWait);
    QVERIFY(pair.userA.failures.empty());  // an idle close is not a failure
    // The next request simply opens a new connection.
    sip::Message again = makeRequest();
    QVERIFY(pair.a.sendRequest(again, pair.tcpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(2), kWait);
    QCOMPARE(pair.a.counters().connectionsOpened, quint64(2));
}

void TstSipTransport::refusedConnectionReportsFlowFailure() {
    Pair pair("127.0.0.1");
    quint16 closedPort = 0;
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress(QHostAddress::LocalHost), 0));
        closedPort = server.serverPort();
    }
    const Endpoint nowhere{Protocol::Tcp, QHostAddress(QHostAddress::LocalHost), closedPort};
    sip::Message request = makeRequest();
    const auto used = pair.a.sendRequest(request, nowhere);
    QVERIFY(used.has_value());  // the failure comes later, from the event loop
    QVERIFY(pair.userA.failures.empty());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.failures.size(), std::size_t(1), kWait);
    QCOMPARE(pair.userA.failures[0].first, nowhere);
    QCOMPARE(pair.userA.failures[0].second.kind, ErrorKind::Transport);
    QCOMPARE(pair.a.connectionCount(), std::size_t(0));
}

void TstSipTransport::responseReopensClosedConnection() {
    // §18.2.2: the request's connection is gone: connect to received at the sent-by port.
    Pair pair("127.0.0.1");
    sip::Message request = makeRequest();
    QVERIFY(pair.a.sendRequest(request, pair.tcpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    const IncomingMessage atB = pair.userB.messages[0];
    pair.b.closeConnection(atB.connection);
    QTRY_COMPARE_WITH_TIMEOUT(pair.a.connectionCount(), std::size_t(0), kWait);
    QVERIFY(pair.b.sendResponse(sip::makeResponse(atB.message, 200), atB.source, atB.connection)
                .has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(1), kWait);
    QCOMPARE(pair.userA.messages[0].message.statusCode(), 200);
    QCOMPARE(pair.a.counters().connectionsAccepted, quint64(1));  // B came to A's listener
}

void TstSipTransport::everythingIsTraced() {
    Pair pair("127.0.0.1");
    RecordingTrace traceA;
    RecordingTrace traceB;
    pair.a.setTrace(&traceA);
    pair.b.setTrace(&traceB);
    sip::Message request = makeRequest();
    request.addHeader(sip::HeaderId::Authorization,
                      "Digest username=\"alice\", response=\"secret\"");
    QVERIFY(pair.a.sendRequest(request, pair.udpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    QCOMPARE(traceA.entries.size(), std::size_t(1));
    QCOMPARE(traceA.entries[0].direction, base::SipTrace::Direction::Sent);
    QCOMPARE(traceA.entries[0].transport, QByteArray("UDP"));
    QCOMPARE(traceA.entries[0].local, pair.udpA.toString());
    QCOMPARE(traceA.entries[0].remote, pair.udpB.toString());
    QCOMPARE(traceA.entries[0].message, request.serialize());  // redaction is the sink's job
    QCOMPARE(traceB.entries.size(), std::size_t(1));
    QCOMPARE(traceB.entries[0].direction, base::SipTrace::Direction::Received);
    QCOMPARE(traceB.entries[0].remote, pair.udpA.toString());

    // Refused input is traced as well (that is where an admin looks first).
    QUdpSocket raw;
    QVERIFY(raw.bind(QHostAddress(QHostAddress::LocalHost), 0));
    raw.writeDatagram(rawRequest({}, "x"), pair.udpB.address, pair.udpB.port);
    QTRY_COMPARE_WITH_TIMEOUT(traceB.entries.size(), std::size_t(3), kWait);
    QCOMPARE(traceB.entries[1].direction, base::SipTrace::Direction::Received);
    QCOMPARE(traceB.entries[2].direction, base::SipTrace::Direction::Sent);
    QVERIFY(traceB.entries[2].message.startsWith("SIP/2.0 400 "));
}

namespace {

// Raw client sockets towards `target`, bound to `from`; all connected.
std::vector<std::unique_ptr<QTcpSocket>> connectRaw(const Endpoint& target, int count,
                                                    const QHostAddress& from) {
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < count; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        if (!socket->bind(from, 0)) qFatal("cannot bind a test socket");
        socket->connectToHost(target.address, target.port);
        if (!socket->waitForConnected(kWait)) qFatal("test socket did not connect");
        sockets.push_back(std::move(socket));
    }
    return sockets;
}

int closedCount(const std::vector<std::unique_ptr<QTcpSocket>>& sockets) {
    int closed = 0;
    for (const auto& socket : sockets) {
        // Reading notices the peer's close.
        socket->readAll();
        if (socket->state() == QAbstractSocket::UnconnectedState) ++closed;
    }
    return closed;
}

}  // namespace

void TstSipTransport::inboundConnectionsPerAddressAreLimited() {
    SipTransportConfig config;
    config.maxInboundConnectionsPerAddress = 2;
    Pair pair("127.0.0.1", config);
    const QHostAddress one(QHostAddress::LocalHost);
    auto sockets = connectRaw(pair.tcpB, 3, one);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.counters().connectionsRefused, quint64(1), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(closedCount(sockets), 1, kWait);
    QCOMPARE(pair.b.connectionCount(), std::size_t(2));
    QCOMPARE(pair.b.counters().connectionsAccepted, quint64(2));
    // Another loopback address is another host.
    auto other = connectRaw(pair.tcpB, 1, QHostAddress(QStringLiteral("127.0.0.2")));
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.connectionCount(), std::size_t(3), kWait);
    // A closed connection makes room again.
    for (auto& socket : sockets) {
        if (socket->state() == QAbstractSocket::ConnectedState) {
            socket->disconnectFromHost();
            break;
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.connectionCount(), std::size_t(2), kWait);
    auto again = connectRaw(pair.tcpB, 1, one);
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.connectionCount(), std::size_t(3), kWait);
    again[0]->write(rawRequest());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    QCOMPARE(pair.b.counters().connectionsRefused, quint64(1));
}

void TstSipTransport::inboundConnectionsInAllAreLimited() {
    SipTransportConfig config;
    config.maxInboundConnections = 2;
    Pair pair("127.0.0.1", config);
    auto first = connectRaw(pair.tcpB, 1, QHostAddress(QStringLiteral("127.0.0.2")));
    auto second = connectRaw(pair.tcpB, 1, QHostAddress(QStringLiteral("127.0.0.3")));
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.connectionCount(), std::size_t(2), kWait);
    auto third = connectRaw(pair.tcpB, 1, QHostAddress(QStringLiteral("127.0.0.4")));
    QTRY_COMPARE_WITH_TIMEOUT(pair.b.counters().connectionsRefused, quint64(1), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(closedCount(third), 1, kWait);
    QCOMPARE(pair.b.connectionCount(), std::size_t(2));
    // Outbound connections are not inbound ones: B can still connect out.
    sip::Message request = makeRequest();
    QVERIFY(pair.b.sendRequest(request, pair.tcpA).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(1), kWait);
}

void TstSipTransport::incompleteMessageClosesConnection() {
    // Slow loris: a byte every 50 ms keeps the flow from idling, but the message never
    // ends, and the deadline from its first byte closes the connection.
    SipTransportConfig config;
    config.flows.incompleteMessageTimeout = 400ms;
    Pair pair("127.0.0.1", config);
    QTcpSocket raw;
    raw.connectToHost(pair.tcpB.address, pair.tcpB.port);
    QVERIFY(raw.waitForConnected(kWait));
    // A whole message first: it is delivered, and its deadline ends with it.
    raw.write(rawRequest());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    const QByteArray endless =
        "OPTIONS sip:bob@example.com SIP/2.0\r\nX-Slow: " + QByteArray(kWait / 50, 's');
    QSignalSpy closed(&raw, &QTcpSocket::disconnected);
    for (qsizetype i = 0; i < endless.size() && closed.isEmpty(); ++i) {
        raw.write(endless.sliced(i, 1));
        raw.flush();
        QTest::qWait(50);
    }
    QTRY_COMPARE_WITH_TIMEOUT(closed.count(), 1, kWait);
    QCOMPARE(pair.b.counters().incompleteMessageTimeouts, quint64(1));
    QCOMPARE(pair.b.connectionCount(), std::size_t(0));
    QCOMPARE(pair.userB.count(), std::size_t(1));
}

void TstSipTransport::sendQueueWhileConnectingIsBounded() {
    SipTransportConfig config;
    config.maxQueuedBytes = 8 * 1024;
    Pair pair("127.0.0.1", config);
    // Nothing runs the event loop between these sends: the connection is still being
    // made, so everything waits in its queue.
    int accepted = 0;
    std::optional<Error> refused;
    for (int i = 0; i < 5 && !refused; ++i) {
        sip::Message request = makeRequest("MESSAGE", "sip:bob@example.com", QByteArray(3000, 'q'));
        const auto sent = pair.a.sendRequest(request, pair.tcpB);
        if (sent) {
            ++accepted;
        } else {
            refused = sent.error();
        }
    }
    QCOMPARE(accepted, 2);
    QVERIFY(refused.has_value());
    QCOMPARE(refused->kind, ErrorKind::Limit);
    QCOMPARE(pair.a.counters().sendsRefused, quint64(1));
    // What was queued still goes out once connected, and nothing else.
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(2), kWait);
    QTest::qWait(50);
    QCOMPARE(pair.userB.count(), std::size_t(2));
}

void TstSipTransport::sendBufferOfOpenConnectionIsBounded() {
    SipTransportConfig config;
    config.maxQueuedBytes = 8 * 1024;
    Pair pair("127.0.0.1", config);
    sip::Message first = makeRequest();
    QVERIFY(pair.a.sendRequest(first, pair.tcpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(1), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(pair.a.isConnectionOpen(*pair.a.connectionTo(pair.tcpB)), kWait);
    const IncomingMessage atB = pair.userB.messages[0];

    // Responses on B's side of the connection: the socket buffers what the event loop
    // has not written yet, and that counts.
    int accepted = 0;
    std::optional<Error> refused;
    for (int i = 0; i < 5 && !refused; ++i) {
        sip::Message response = sip::makeResponse(atB.message, 200);
        response.addHeader("X-Padding", QByteArray(3000, 'p'));
        const auto sent = pair.b.sendResponse(response, atB.source, atB.connection);
        if (sent) {
            ++accepted;
        } else {
            refused = sent.error();
        }
    }
    QCOMPARE(accepted, 2);
    QVERIFY(refused.has_value());
    QCOMPARE(refused->kind, ErrorKind::Limit);
    QCOMPARE(pair.b.counters().sendsRefused, quint64(1));
    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(2), kWait);

    // Requests the same way, once the earlier bytes left.
    accepted = 0;
    refused.reset();
    for (int i = 0; i < 5 && !refused; ++i) {
        sip::Message request = makeRequest("MESSAGE", "sip:bob@example.com", QByteArray(3000, 'r'));
        const auto sent = pair.a.sendRequest(request, pair.tcpB);
        if (sent) {
            ++accepted;
        } else {
            refused = sent.error();
        }
    }
    QCOMPARE(accepted, 2);
    QVERIFY(refused.has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userB.count(), std::size_t(3), kWait);
    QCOMPARE(pair.a.connectionCount(), std::size_t(1));  // refusing closed nothing
}

// RFC 3263 §5: a response whose Via names a host (here through maddr, §18.2.2) is sent
// once the name is located; without a locator the transport says it cannot.
void TstSipTransport::responseToHostNameIsLocated() {
    Pair pair(QStringLiteral("127.0.0.1"));
    TableResolver dns;
    dns.hosts.insert("client.sb.test", {QHostAddress(QStringLiteral("127.0.0.1"))});
    base::SeededRandom random(5);
    ServerLocator locator(dns, pair.timers, random);

    std::vector<Result<void>> sent;
    pair.userB.react = [&](const IncomingMessage& in) {
        if (!in.message.isRequest()) return;
        sip::Message response = sip::makeResponse(in.message, 200);
        response.replaceFirstHeader(sip::HeaderId::Via,
                                    "SIP/2.0/UDP 127.0.0.1:" + QByteArray::number(pair.udpA.port) +
                                        ";branch=" + in.message.topVia()->branch().toByteArray() +
                                        ";maddr=client.sb.test");
        sent.push_back(pair.b.sendResponse(response, in.source, in.connection));
    };

    sip::Message first = makeRequest();
    QVERIFY(pair.a.sendRequest(first, pair.udpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(sent.size(), std::size_t(1), kWait);
    QVERIFY2(!sent[0].has_value(), "a host name was answered without a locator");
    QVERIFY(sent[0].error().reason.contains(QStringLiteral("client.sb.test")));
    QCOMPARE(pair.userA.count(), std::size_t(0));

    pair.b.setServerLocator(&locator);
    sip::Message second = makeRequest();
    QVERIFY(pair.a.sendRequest(second, pair.udpB).has_value());
    QTRY_COMPARE_WITH_TIMEOUT(sent.size(), std::size_t(2), kWait);
    QVERIFY(sent[1].has_value());
    QTRY_COMPARE_WITH_TIMEOUT(pair.userA.count(), std::size_t(1), kWait);
    QCOMPARE(pair.userA.messages[0].message.statusCode(), 200);
    QCOMPARE(pair.userA.messages[0].message.callId(), second.callId());
    // The port was given, so only the addresses were asked (no SRV).
    QCOMPARE(dns.asked, QList<QByteArray>{"A client.sb.test"});
}

QTEST_GUILESS_MAIN(TstSipTransport)
#include "tst_sip_transport.moc"
