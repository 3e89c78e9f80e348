// Tests app/config.*: reading the INI configuration and saying exactly what is wrong.

#include <QTemporaryDir>
#include <QTest>

#include "app/config.h"

using sb::app::Config;
using sb::app::loadConfig;
using sb::app::parseListenAddress;
using sb::transport::Protocol;

class TstConfig : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;

    // Writes `text` to a fresh file and loads it.
    sb::Result<Config> load(const QByteArray& text) {
        const QString path = m_dir.filePath(QStringLiteral("c%1.ini").arg(++m_files));
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
        file.write(text);
        file.close();
        return loadConfig(path);
    }

    // The error text of a config that must fail.
    QString problems(const QByteArray& text) {
        const sb::Result<Config> config = load(text);
        if (config) return QStringLiteral("<loaded without error>");
        [&] { QCOMPARE(config.error().kind, sb::ErrorKind::Config); }();
        return config.error().reason;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void fullAccount() {
        const auto config = load(
            "; comment\n"
            "[account]\n"
            "aor = sip:alice@example.com\n"
            "auth_user = alice-auth\n"
            "password = \"s3cret,with;odd#chars\"\n"
            "proxy = 127.0.0.1:5070\n"
            "transport = TCP\n"
            "expires = 120\n"
            "[sip]\n"
            "listen = udp:127.0.0.1:0, tcp:[::1]:5062\n"
            "t1_ms = 50\n"
            "t2_ms = 400\n"
            "t4_ms = 500\n");
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        QCOMPARE(config->account.aor, QStringLiteral("sip:alice@example.com"));
        QCOMPARE(config->account.authUser, QStringLiteral("alice-auth"));
        QCOMPARE(config->account.password, QStringLiteral("s3cret,with;odd#chars"));
        QCOMPARE(config->account.proxyHost, QStringLiteral("127.0.0.1"));
        QCOMPARE(config->account.proxyPort, quint16(5070));
        QCOMPARE(config->account.transport, Protocol::Tcp);
        QCOMPARE(config->account.expires, 120u);
        QCOMPARE(config->sip.listen.size(), std::size_t(2));
        QCOMPARE(config->sip.listen[0].protocol, Protocol::Udp);
        QCOMPARE(config->sip.listen[0].address, QHostAddress(QStringLiteral("127.0.0.1")));
        QCOMPARE(config->sip.listen[0].port, quint16(0));
        QCOMPARE(config->sip.listen[1].protocol, Protocol::Tcp);
        QCOMPARE(config->sip.listen[1].address, QHostAddress(QStringLiteral("::1")));
        QCOMPARE(config->sip.listen[1].port, quint16(5062));
        QCOMPARE(config->sip.listen[1].toString(), QStringLiteral("tcp:[::1]:5062"));
        QCOMPARE(config->sip.t1.count(), 50);
        QCOMPARE(config->sip.t2.count(), 400);
        QCOMPARE(config->sip.t4.count(), 500);
        QVERIFY(config->warnings.isEmpty());
    }

    void defaults() {
        const auto config = load("[account]\naor = sip:bob@example.org\n");
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        QCOMPARE(config->account.authUser, QStringLiteral("bob"));  // from the AOR
        QVERIFY(config->account.password.isEmpty());
        QVERIFY(config->account.proxyHost.isEmpty());
        QCOMPARE(config->account.transport, Protocol::Udp);
        QCOMPARE(config->account.expires, 3600u);
        // Without [sip] listen: any IPv4 address, free port, the account's transport.
        QCOMPARE(config->sip.listen.size(), std::size_t(1));
        QCOMPARE(config->sip.listen[0].toString(), QStringLiteral("udp:0.0.0.0:0"));
        QCOMPARE(config->sip.t1.count(), 500);  // RFC 3261 Table 4
        QCOMPARE(config->sip.t2.count(), 4000);
        QCOMPARE(config->sip.t4.count(), 5000);
    }

    void authUserIsUnescaped() {
        const auto config = load("[account]\naor = sip:al%69ce@example.org\n");
        QVERIFY(config);
        QCOMPARE(config->account.authUser, QStringLiteral("alice"));
    }

    void proxyForms_data() {
        QTest::addColumn<QByteArray>("proxy");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::newRow("name") << QByteArray("pbx.example.com") << "pbx.example.com" << 0;
        QTest::newRow("name:port")
            << QByteArray("pbx.example.com:5080") << "pbx.example.com" << 5080;
        QTest::newRow("v4") << QByteArray("10.0.0.1") << "10.0.0.1" << 0;
        QTest::newRow("[v6]") << QByteArray("[2001:db8::1]") << "2001:db8::1" << 0;
        QTest::newRow("[v6]:port") << QByteArray("[::1]:5061") << "::1" << 5061;
    }
    void proxyForms() {
        QFETCH(QByteArray, proxy);
        QFETCH(QString, host);
        QFETCH(int, port);
        const auto config = load("[account]\naor = sip:a@b.c\nproxy = " + proxy + "\n");
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        QCOMPARE(config->account.proxyHost, host);
        QCOMPARE(int(config->account.proxyPort), port);
    }

    // Issue 4: the built-in server is the default profile.
    void withoutAccountTheServerRuns() {
        const auto config = load("[monitor]\n201 = Alice\n");
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        QVERIFY(config->server.enabled);
        QCOMPARE(config->server.domains, QStringList{QStringLiteral("switchboard.local")});
        QCOMPARE(config->server.realm, QStringLiteral("switchboard.local"));
        QCOMPARE(config->subscriptions.domain, QStringLiteral("switchboard.local"));
        // UDP and TCP on 127.0.0.1:5060 unless [sip] listen says otherwise.
        QCOMPARE(int(config->sip.listen.size()), 2);
        QCOMPARE(config->sip.listen[0].toString(), QStringLiteral("udp:127.0.0.1:5060"));
        QCOMPARE(config->sip.listen[1].toString(), QStringLiteral("tcp:127.0.0.1:5060"));
        QVERIFY(config->server.trustLoopback);
        QCOMPARE(config->server.digestAlgorithms.front(), sb::sip::DigestAlgorithm::Md5);
    }

    void defaultConfigIsTheServerOnLoopback() {
        const Config config = sb::app::defaultConfig();
        QVERIFY(config.server.enabled);
        QCOMPARE(int(config.sip.listen.size()), 2);
        for (const auto& listen : config.sip.listen) {
            QVERIFY(listen.address.isLoopback());
            QCOMPARE(int(listen.port), int(sb::app::kDefaultServerPort));
        }
    }

    void anAccountMeansClientModeUnlessTheServerIsAskedFor() {
        auto client = load("[account]\naor = sip:a@b.c\n");
        QVERIFY(client);
        QVERIFY(!client->server.enabled);
        auto both = load("[account]\naor = sip:a@b.c\n[server]\nenabled = true\n");
        QVERIFY(both);
        QVERIFY(both->server.enabled);
    }

    void serverKeys() {
        const auto config = load(
            "[sip]\nlisten = udp:127.0.0.1:5070\n"
            "[server]\n"
            "domain = Office.Example, 127.0.0.1\n"
            "realm = office\n"
            "trust_loopback = no\n"
            "trusted_peers = 127.0.0.2, ::1\n"
            "digest_algorithms = SHA-256, MD5\n"
            "min_expires = 30\nmax_expires = 7200\ndefault_expires = 600\n"
            "record_route = off\ntimer_c = 200\n"
            "record_route_host = 127.0.0.7\n"
            "upstream = 127.0.0.3:5080\nupstream_transport = tcp\n"
            "dialog_lifetime = 3600\n"
            "callee_trying = yes\n"
            "single_dialog_watchers = 205, Grandstream\n"
            "dummy_dialog_watchers = Yealink\n");
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        QVERIFY2(config->warnings.isEmpty(), qPrintable(config->warnings.join(QLatin1Char('\n'))));
        const sb::app::ServerConfig& server = config->server;
        QCOMPARE(server.domains,
                 (QStringList{QStringLiteral("office.example"), QStringLiteral("127.0.0.1")}));
        QCOMPARE(server.realm, QStringLiteral("office"));
        QVERIFY(!server.trustLoopback);
        QCOMPARE(int(server.trustedPeers.size()), 2);
        QCOMPARE(server.digestAlgorithms.front(), sb::sip::DigestAlgorithm::Sha256);
        QCOMPARE(server.minExpires, 30u);
        QCOMPARE(server.maxExpires, 7200u);
        QCOMPARE(server.defaultExpires, 600u);
        QVERIFY(!server.recordRoute);
        QCOMPARE(server.recordRouteHost, QStringLiteral("127.0.0.7"));
        QCOMPARE(server.timerC, 200u);
        QCOMPARE(server.upstreamHost, QStringLiteral("127.0.0.3"));
        QCOMPARE(int(server.upstreamPort), 5080);
        QCOMPARE(server.upstreamTransport, Protocol::Tcp);
        QCOMPARE(server.dialogLifetime, 3600u);
        QVERIFY(server.calleeTrying);
        QCOMPARE(server.singleDialogWatchers,
                 (QStringList{QStringLiteral("205"), QStringLiteral("Grandstream")}));
        QCOMPARE(server.dummyDialogWatchers, QStringList{QStringLiteral("Yealink")});
        QCOMPARE(config->subscriptions.domain, QStringLiteral("office.example"));
        QCOMPARE(int(config->sip.listen.size()), 1);
    }

    void recordRouteHost() {
        // Unset by default: the address each peer can reach is found per peer.
        const auto none = load("[server]\n");
        QVERIFY(none);
        QVERIFY(none->server.recordRouteHost.isEmpty());
        // IPv6 with or without brackets; kept without them (the URI adds them).
        const auto v6 = load("[server]\nrecord_route_host = \"[::1]\"\n");
        QVERIFY2(v6, qPrintable(v6 ? QString() : v6.error().reason));
        QCOMPARE(v6->server.recordRouteHost, QStringLiteral("::1"));
        QVERIFY(v6->warnings.isEmpty());
        const auto plain = load("[server]\nrecord_route_host = \"::1\"\n");
        QVERIFY(plain);
        QCOMPARE(plain->server.recordRouteHost, QStringLiteral("::1"));
    }

    void badServerValues_data() {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("expected");
        QTest::newRow("timer c too short")
            << QByteArray("[server]\ntimer_c = 60\n") << QStringLiteral("[server] timer_c:");
        QTest::newRow("min above max")
            << QByteArray("[server]\nmin_expires = 600\nmax_expires = 60\n")
            << QStringLiteral("[server] min_expires: 600 is more than max_expires (60)");
        QTest::newRow("default outside") << QByteArray("[server]\ndefault_expires = 10\n")
                                         << QStringLiteral("[server] default_expires:");
        QTest::newRow("algorithm")
            << QByteArray("[server]\ndigest_algorithms = SHA-512\n")
            << QStringLiteral("[server] digest_algorithms: 'SHA-512' is not one of: MD5, SHA-256");
        QTest::newRow("peer") << QByteArray("[server]\ntrusted_peers = pbx.example\n")
                              << QStringLiteral(
                                     "[server] trusted_peers: 'pbx.example' is not an IP address");
        QTest::newRow("upstream name")
            << QByteArray("[server]\nupstream = pbx.example:5060\n")
            << QStringLiteral(
                   "[server] upstream: 'pbx.example:5060': the host must be an IP address");
        QTest::newRow("record route host name")
            << QByteArray("[server]\nrecord_route_host = pbx.example\n")
            << QStringLiteral("[server] record_route_host: 'pbx.example' is not an IP address");
        QTest::newRow("record route host wildcard")
            << QByteArray("[server]\nrecord_route_host = 0.0.0.0\n")
            << QStringLiteral("[server] record_route_host: '0.0.0.0' is the wildcard address");
        QTest::newRow("enabled") << QByteArray("[server]\nenabled = maybe\n")
                                 << QStringLiteral(
                                        "[server] enabled: 'maybe' is not true or false");
        QTest::newRow("domain") << QByteArray("[server]\ndomain = a b\n")
                                << QStringLiteral(
                                       "[server] domain: 'a b' is not a host name or address");
    }

    void badServerValues() {
        QFETCH(QByteArray, ini);
        QFETCH(QString, expected);
        const QString text = problems(ini);
        QVERIFY2(text.contains(expected), qPrintable(text));
    }

    // Client mode republishes documents: the rules that read the INVITE are named as
    // not used there; the built-in server uses them without a word.
    void serverOnlyPublishKeysInClientMode() {
        const QByteArray publish =
            "[publish]\nenabled = true\nserver = 127.0.0.1:5080\nskip_caller = 201\n"
            "callee_entity = request-uri\ncompat = kamailio\n";
        const auto client = load("[account]\naor = sip:200@pbx.example\n" + publish);
        QVERIFY2(client, qPrintable(client ? QString() : client.error().reason));
        QCOMPARE(client->warnings.size(), 2);
        QVERIFY(client->warnings.join(QLatin1Char('\n')).contains(QStringLiteral("skip_caller")));
        QVERIFY(
            client->warnings.join(QLatin1Char('\n'))
                .contains(QStringLiteral("callee_entity: applies to the built-in server only")));
        const auto server = load("[server]\n" + publish);
        QVERIFY(server);
        QVERIFY2(server->warnings.isEmpty(), qPrintable(server->warnings.join(QLatin1Char('\n'))));
    }

    void publishSection() {
        // Off by default, with pua_dialoginfo's defaults.
        const auto none = load("[server]\n");
        QVERIFY(none);
        QVERIFY(!none->publish.enabled);
        QCOMPARE(none->publish.profile.compat, sb::dialoginfo::PublishProfile::Compat::Rfc4235);
        QVERIFY(none->publish.profile.includeCallId && none->publish.profile.includeTags);
        QCOMPARE(none->publish.expires, 3600u);
        QCOMPARE(none->publish.holdWhenBusy, 4u);

        const auto config = load(
            "[publish]\n"
            "enabled = true\nserver = 127.0.0.1:5080\ntransport = tcp\ncompat = Kamailio\n"
            "dialog_id = call-id\ninclude_callid = no\ninclude_tags = no\n"
            "include_localremote = no\nlifetime = 300\ncallee_entity = request-uri\n"
            "caller_confirmed = yes\ncallee_trying = yes\npublish_in_dialog = yes\n"
            "which_calls = marked\nmark_header = X-Publish\n"
            "skip_caller = 205, *@other.example\nskip_callee = header:X-No-Blf\n"
            "caller_entity_when_skipped = sip:anonymous@switchboard.local\n"
            "callee_entity_when_skipped = sip:hidden@switchboard.local\n"
            "display_names = off\nversion = zero\nexpires = 600\nhold_when_busy = 0\n");
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        // Every rule is applied: nothing to warn about.
        QVERIFY2(config->warnings.isEmpty(), qPrintable(config->warnings.join(QLatin1Char('\n'))));
        const sb::app::PublishConfig& p = config->publish;
        using Profile = sb::dialoginfo::PublishProfile;
        QVERIFY(p.enabled);
        QCOMPARE(p.serverHost, QStringLiteral("127.0.0.1"));
        QCOMPARE(int(p.serverPort), 5080);
        QCOMPARE(p.transport, Protocol::Tcp);
        QCOMPARE(p.profile.compat, Profile::Compat::Kamailio);
        QCOMPARE(p.dialogId, sb::app::PublishConfig::DialogIdStyle::CallId);
        QVERIFY(!p.profile.includeCallId);
        QVERIFY(!p.profile.includeTags);
        QVERIFY(!p.profile.includeLocalRemote);
        QCOMPARE(p.lifetime, 300u);
        QCOMPARE(p.calleeEntity, sb::app::PublishConfig::CalleeEntity::RequestUri);
        QVERIFY(p.profile.callerConfirmed);
        QVERIFY(p.calleeTrying);
        QVERIFY(p.publishInDialog);
        QCOMPARE(p.whichCalls, sb::app::PublishConfig::WhichCalls::Marked);
        QCOMPARE(p.markHeader, QStringLiteral("X-Publish"));
        QCOMPARE(p.skipCaller,
                 (QStringList{QStringLiteral("205"), QStringLiteral("*@other.example")}));
        QCOMPARE(p.skipCallee, QStringList{QStringLiteral("header:X-No-Blf")});
        QCOMPARE(p.callerEntityWhenSkipped, QStringLiteral("sip:anonymous@switchboard.local"));
        QCOMPARE(p.calleeEntityWhenSkipped, QStringLiteral("sip:hidden@switchboard.local"));
        QCOMPARE(p.profile.displayNames, Profile::DisplayNames::Off);
        QCOMPARE(p.profile.version, Profile::Version::Zero);
        QCOMPARE(p.expires, 600u);
        QCOMPARE(p.holdWhenBusy, 0u);
    }

    void badPublishValues_data() {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no server") << QByteArray("[publish]\nenabled = true\n")
                                   << QStringLiteral("[publish] server: is needed with enabled");
        QTest::newRow("server name") << QByteArray("[publish]\nserver = presence.example\n")
                                     << QStringLiteral("the host must be an IP address");
        QTest::newRow("compat")
            << QByteArray("[publish]\ncompat = asterisk\n")
            << QStringLiteral("[publish] compat: 'asterisk' is not one of: rfc4235, kamailio");
        QTest::newRow("entity when skipped")
            << QByteArray("[publish]\ncaller_entity_when_skipped = not a uri\n")
            << QStringLiteral("[publish] caller_entity_when_skipped: 'not a uri' is not a SIP URI");
        QTest::newRow("marked without header")
            << QByteArray("[publish]\nwhich_calls = marked\n")
            << QStringLiteral("[publish] mark_header: is needed with which_calls = marked");
        QTest::newRow("expires") << QByteArray("[publish]\nexpires = 0\n")
                                 << QStringLiteral("[publish] expires:");
        QTest::newRow("hold when busy") << QByteArray("[publish]\nhold_when_busy = 61\n")
                                        << QStringLiteral("[publish] hold_when_busy:");
    }

    void badPublishValues() {
        QFETCH(QByteArray, ini);
        QFETCH(QString, expected);
        const QString text = problems(ini);
        QVERIFY2(text.contains(expected), qPrintable(text));
    }

    void missingFile() {
        const sb::Result<Config> config = loadConfig(m_dir.filePath(QStringLiteral("nope.ini")));
        QVERIFY(!config);
        QCOMPARE(config.error().kind, sb::ErrorKind::Config);
        QVERIFY(config.error().reason.contains(QStringLiteral("no such file")));
    }

    void missingAor() {
        const QString text = problems("[account]\npassword = x\n");
        QVERIFY2(text.contains(QStringLiteral("[account] aor: missing")), qPrintable(text));
    }

    // Each bad value names its section and key and says what is wrong with it.
    void badValues_data() {
        QTest::addColumn<QByteArray>("ini");
        QTest::addColumn<QString>("expected");
        QTest::newRow("aor not a URI") << QByteArray("[account]\naor = alice at example\n")
                                       << "[account] aor: 'alice at example' is not a SIP URI";
        QTest::newRow("aor tel") << QByteArray("[account]\naor = tel:+4930123\n")
                                 << "[account] aor: 'tel:+4930123' must be a sip: or sips: URI";
        QTest::newRow("aor without user") << QByteArray("[account]\naor = sip:example.com\n")
                                          << "[account] aor: 'sip:example.com' has no user part";
        QTest::newRow("aor empty") << QByteArray("[account]\naor =\n") << "[account] aor: is empty";
        QTest::newRow("transport") << QByteArray("[account]\naor = sip:a@b.c\ntransport = sctp\n")
                                   << "[account] transport: 'sctp' is not one of: udp, tcp";
        QTest::newRow("expires text")
            << QByteArray("[account]\naor = sip:a@b.c\nexpires = soon\n")
            << "[account] expires: 'soon' is not a whole number of seconds from 1 to 604800";
        QTest::newRow("expires zero") << QByteArray("[account]\naor = sip:a@b.c\nexpires = 0\n")
                                      << "[account] expires: '0' is not a whole number of seconds";
        QTest::newRow("expires too long")
            << QByteArray("[account]\naor = sip:a@b.c\nexpires = 9999999\n")
            << "[account] expires: '9999999' is not a whole number of seconds";
        QTest::newRow("proxy port")
            << QByteArray("[account]\naor = sip:a@b.c\nproxy = host:99999\n")
            << "[account] proxy: 'host:99999': port '99999' is not a number from 0 to 65535";
        QTest::newRow("proxy port zero")
            << QByteArray("[account]\naor = sip:a@b.c\nproxy = host:0\n")
            << "[account] proxy: 'host:0': port 0 cannot be reached";
        QTest::newRow("proxy bare v6")
            << QByteArray("[account]\naor = sip:a@b.c\nproxy = ::1\n")
            << "[account] proxy: '::1': an IPv6 address must be written in brackets";
        QTest::newRow("proxy unquoted comma")
            << QByteArray("[account]\naor = sip:a@b.c\nproxy = a, b\n")
            << "[account] proxy: contains a comma; put the whole value in double quotes";
        QTest::newRow("password unquoted comma")
            << QByteArray("[account]\naor = sip:a@b.c\npassword = a,b\n")
            << "[account] password: contains a comma; put the whole value in double quotes";
        QTest::newRow("listen protocol")
            << QByteArray("[account]\naor = sip:a@b.c\n[sip]\nlisten = sctp:127.0.0.1:0\n")
            << "[sip] listen: 'sctp:127.0.0.1:0': protocol 'sctp' is not one of: udp, tcp";
        QTest::newRow("listen no port")
            << QByteArray("[account]\naor = sip:a@b.c\n[sip]\nlisten = udp:127.0.0.1\n")
            << "[sip] listen: 'udp:127.0.0.1' has no port";
        QTest::newRow("listen host name")
            << QByteArray("[account]\naor = sip:a@b.c\n[sip]\nlisten = udp:localhost:0\n")
            << "[sip] listen: 'udp:localhost:0': 'localhost' is not an IP address";
        QTest::newRow("listen lacks account transport")
            << QByteArray(
                   "[account]\naor = sip:a@b.c\ntransport = tcp\n[sip]\n"
                   "listen = udp:127.0.0.1:0\n")
            << "[sip] listen: no tcp address, but [account] transport is tcp";
        QTest::newRow("t1 text")
            << QByteArray("[account]\naor = sip:a@b.c\n[sip]\nt1_ms = fast\n")
            << "[sip] t1_ms: 'fast' is not a whole number of milliseconds from 10 to 600000";
        QTest::newRow("t2 below t1")
            << QByteArray("[account]\naor = sip:a@b.c\n[sip]\nt1_ms = 800\nt2_ms = 400\n")
            << "[sip] t2_ms: 400 is less than t1_ms (800)";
    }
    void badValues() {
        QFETCH(QByteArray, ini);
        QFETCH(QString, expected);
        const QString text = problems(ini);
        QVERIFY2(text.contains(expected), qPrintable(QStringLiteral("got: ") + text));
        QVERIFY2(text.contains(QStringLiteral("invalid configuration")), qPrintable(text));
    }

    // Every problem of a file is reported at once, one per line.
    void allProblemsAtOnce() {
        const QString text =
            problems("[account]\naor = nonsense\ntransport = x\nexpires = -1\n[sip]\nt1_ms = 1\n");
        QVERIFY(text.contains(QStringLiteral("[account] aor:")));
        QVERIFY(text.contains(QStringLiteral("[account] transport:")));
        QVERIFY(text.contains(QStringLiteral("[account] expires:")));
        QVERIFY(text.contains(QStringLiteral("[sip] t1_ms:")));
        QCOMPARE(text.count(QLatin1Char('\n')), 4);  // the heading and four problems
    }

    void unknownKeysWarn() {
        const auto config = load(
            "[account]\naor = sip:a@b.c\npasswrod = typo\n[sip]\nlisten = udp:127.0.0.1:0\n"
            "[extra]\nkey = 1\n");
        QVERIFY(config);
        QCOMPARE(config->warnings.size(), 2);
        QVERIFY(
            config->warnings.contains(QStringLiteral("[account] passwrod: unknown key, "
                                                     "ignored")));
        QVERIFY(config->warnings.contains(QStringLiteral("[extra] key: unknown key, ignored")));
    }

    void listenAddresses_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("normalised");
        QTest::newRow("udp v4") << "udp:127.0.0.1:5060"
                                << "udp:127.0.0.1:5060";
        QTest::newRow("tcp any") << "TCP:0.0.0.0:0"
                                 << "tcp:0.0.0.0:0";
        QTest::newRow("v6") << "udp:[::1]:0"
                            << "udp:[::1]:0";
    }
    void listenAddresses() {
        QFETCH(QString, text);
        QFETCH(QString, normalised);
        const auto address = parseListenAddress(text);
        QVERIFY2(address, qPrintable(address ? QString() : address.error().reason));
        QCOMPARE(address->toString(), normalised);
    }

    void sampleConfigIsValid_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("server");
        QTest::newRow("server") << QStringLiteral("switchboard.sample.ini") << true;
        QTest::newRow("client") << QStringLiteral("switchboard-client.sample.ini") << false;
    }

    void sampleConfigIsValid() {
        // The documented samples must load cleanly: README and run.sh use them.
        QFETCH(QString, file);
        QFETCH(bool, server);
        const QString path =
            qEnvironmentVariable("SB_SOURCE_DIR") + QStringLiteral("/resources/") + file;
        const sb::Result<Config> config = loadConfig(path);
        QVERIFY2(config, qPrintable(config ? QString() : config.error().reason));
        QVERIFY2(config->warnings.isEmpty(), qPrintable(config->warnings.join(QLatin1Char('\n'))));
        QCOMPARE(config->server.enabled, server);
    }

    void attendantAndDiversion() {
        const auto config = load(
            "[attendant]\n"
            "number = reception\n"
            "phone = 209\n"
            "ring_phone = false\n"
            "recall_after = 45\n"
            "default_reason = x-lunch\n"
            "auto_answer = alert-info\n"
            "[diversion]\n"
            "suffix = \";x-site=berlin\"\n"
            "counter = 1\n"
            "limit = 5\n"
            "privacy = full\n"
            "screen = no\n"
            "reasons = x-lunch, x-meeting\n"
            "history_info = beside\n");
        QVERIFY2(config, config ? "" : qPrintable(config.error().reason));
        const sb::server::AttendantOptions& options = config->attendant.options;
        QCOMPARE(options.number, QStringLiteral("reception"));
        QCOMPARE(options.phoneUser, QStringLiteral("209"));
        QVERIFY(!options.ringPhone);
        QCOMPARE(options.recallAfter, sb::base::Duration(std::chrono::seconds(45)));
        QCOMPARE(options.defaultReason, QByteArray("x-lunch"));
        QCOMPARE(options.autoAnswer, sb::server::AttendantOptions::AutoAnswer::AlertInfo);
        QCOMPARE(options.suffix, QByteArray(";x-site=berlin"));
        QCOMPARE(options.counter, 1);
        QCOMPARE(options.limit, 5);
        QCOMPARE(options.privacy, sb::sip::DiversionPrivacy::Full);
        QCOMPARE(options.screen, std::optional<bool>(false));
        QCOMPARE(options.extraReasons, (QByteArrayList{"x-lunch", "x-meeting"}));
        QCOMPARE(options.historyInfo, sb::server::AttendantOptions::HistoryInfo::Beside);
        QVERIFY(config->warnings.isEmpty());
    }

    // Client mode: the account is the reception identity; the PBX's directed-pickup code
    // is the REFER fallback ("ext" stands for the extension; none: no fallback).
    void clientAttendant_data() {
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("expected");
        QTest::newRow("star star ext") << "**ext"
                                       << "**ext";
        QTest::newRow("star 8") << "*8"
                                << "*8";
        QTest::newRow("star 97 ext hash") << "*97ext#"
                                          << "*97ext#";
        QTest::newRow("none") << "none"
                              << "";
        QTest::newRow("empty") << ""
                               << "";
    }

    void clientAttendant() {
        QFETCH(QString, code);
        QFETCH(QString, expected);
        const auto config = load(("[account]\naor = sip:200@pbx.example.com\n[attendant]\n"
                                  "number = 200\nphone = 204\npickup_code = " +
                                  code + "\n")
                                     .toUtf8());
        QVERIFY2(config, config ? "" : qPrintable(config.error().reason));
        QVERIFY(!config->server.enabled);
        QCOMPARE(config->attendant.options.number, QStringLiteral("200"));
        QCOMPARE(config->attendant.options.phoneUser, QStringLiteral("204"));
        QCOMPARE(config->attendant.pickupCode, expected);
        QVERIFY2(config->warnings.isEmpty(), qPrintable(config->warnings.join(u'\n')));
    }

    // A key of the other mode is reported, not fatal.
    void attendantKeysOfTheOtherMode() {
        const auto client = load(
            "[account]\naor = sip:200@pbx.example.com\n[attendant]\nnumber = 200\n"
            "recall_after = 40\n");
        QVERIFY(client);
        QCOMPARE(client->warnings,
                 QStringList{QStringLiteral("[attendant] recall_after: applies to the built-in "
                                            "server only; at a PBX the PBX rings and recalls")});
        const auto server = load("[attendant]\nnumber = 200\npickup_code = **ext\n");
        QVERIFY(server);
        QCOMPARE(server->warnings,
                 QStringList{QStringLiteral("[attendant] pickup_code: applies at a PBX (client "
                                            "mode) only; the built-in server picks up by itself")});
    }

    void attendantDefaults() {
        const auto config = load("[server]\nenabled = true\n");
        QVERIFY(config);
        const sb::server::AttendantOptions& options = config->attendant.options;
        QVERIFY(options.number.isEmpty());
        QVERIFY(options.ringPhone);
        QCOMPARE(options.defaultReason, QByteArray("deflection"));
        QVERIFY(options.suffix.isEmpty());
        QCOMPARE(options.historyInfo, sb::server::AttendantOptions::HistoryInfo::Off);
    }

    void attendantProblems_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("problem");
        QTest::newRow("number with @") << QByteArray("[attendant]\nnumber = 200@x\n")
                                       << "[attendant] number: '200@x' is not a user name";
        QTest::newRow("phone is the reception")
            << QByteArray("[attendant]\nnumber = 200\nphone = 200\n")
            << "[attendant] phone: is the reception number itself";
        QTest::newRow("recall too short") << QByteArray("[attendant]\nrecall_after = 1\n")
                                          << "[attendant] recall_after: '1' is not a whole number";
        QTest::newRow("unknown reason") << QByteArray("[attendant]\ndefault_reason = lunch\n")
                                        << "[attendant] default_reason: 'lunch' is neither";
        QTest::newRow("auto answer") << QByteArray("[attendant]\nauto_answer = yes\n")
                                     << "[attendant] auto_answer: 'yes' is not one of";
        QTest::newRow("reason not a token") << QByteArray("[diversion]\nreasons = \"a b\"\n")
                                            << "[diversion] reasons: 'a b' is not a token";
        QTest::newRow("suffix without semicolon")
            << QByteArray("[diversion]\nsuffix = privacy=full\n")
            << "[diversion] suffix: the suffix must start with ';'";
        QTest::newRow("suffix repeats privacy")
            << QByteArray("[diversion]\nprivacy = off\nsuffix = \";privacy=full\"\n")
            << "[diversion] suffix: the suffix repeats the privacy parameter";
        QTest::newRow("privacy") << QByteArray("[diversion]\nprivacy = partial\n")
                                 << "[diversion] privacy: 'partial' is not one of";
        QTest::newRow("history info") << QByteArray("[diversion]\nhistory_info = yes\n")
                                      << "[diversion] history_info: 'yes' is not one of";
        QTest::newRow("pickup code")
            << QByteArray("[attendant]\npickup_code = pick\n")
            << "[attendant] pickup_code: 'pick' is not a dial code like **ext";
        QTest::newRow("client reception is not the account")
            << QByteArray("[account]\naor = sip:alice@pbx.example.com\n[attendant]\nnumber = 200\n")
            << "[attendant] number: is 200, but in client mode the reception identity is the "
               "account the console registers ([account] aor's user alice)";
    }

    void attendantProblems() {
        QFETCH(QByteArray, text);
        QFETCH(QString, problem);
        const QString reported = problems(text);
        QVERIFY2(reported.contains(problem), qPrintable(reported));
    }
};

QTEST_GUILESS_MAIN(TstConfig)
#include "tst_config.moc"
