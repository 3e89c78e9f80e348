// Checks the integration harness itself against real Kamailio and sipp: the test
// registrar starts on a free port, challenges, stores bindings that ul.dump shows, and
// is gone (process and ports) after stop().

#include <QTest>

#include <csignal>

#include "free_port.h"
#include "kamailio_instance.h"
#include "sipp_process.h"

using namespace std::chrono_literals;
using sb::itest::Binding;
using sb::itest::KamailioInstance;
using sb::itest::SippProcess;

class TstKamailioHarness : public QObject {
    Q_OBJECT

private:
    KamailioInstance m_kamailio;

    static KamailioInstance::Options options() {
        KamailioInstance::Options o;
        o.subscribers = {{QStringLiteral("alice"), QStringLiteral("alice-secret")},
                         {QStringLiteral("bob"), QStringLiteral("bob,secret")}};
        return o;
    }

    // A sipp phone registering `user` with `password` over `transport`; its exit status.
    int registerWithSipp(const QString& user, const QString& password,
                         SippProcess::Transport transport, SippProcess& sipp) {
        SippProcess::Options o;
        o.scenario = QStringLiteral("uac_register.xml");
        o.transport = transport;
        o.remote = QStringLiteral("127.0.0.1:%1").arg(m_kamailio.port());
        o.timeout = 15s;
        o.extraArguments = {QStringLiteral("-s"),        user,
                            QStringLiteral("-au"),       user,
                            QStringLiteral("-ap"),       password,
                            QStringLiteral("-auth_uri"), m_kamailio.domain(),
                            QStringLiteral("-set"),      QStringLiteral("domain"),
                            m_kamailio.domain(),         QStringLiteral("-set"),
                            QStringLiteral("expires"),   QStringLiteral("300")};
        const auto started = sipp.start(o);
        if (!started) qWarning("%s", qPrintable(started.error().reason));
        return started ? sipp.waitForFinished(20s) : -1;
    }

    std::vector<Binding> bindingsOf(const QString& user) {
        QString error;
        std::vector<Binding> out;
        for (const Binding& b : m_kamailio.bindings(&error))
            if (b.aor == user) out.push_back(b);
        if (!error.isEmpty()) qWarning("%s", qPrintable(error));
        return out;
    }

private slots:
    void init() {
        const auto started = m_kamailio.start(options());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        QVERIFY(sb::itest::udpListening(m_kamailio.port()));
        QVERIFY(sb::itest::tcpListening(m_kamailio.port()));
    }
    void cleanup() { m_kamailio.stop(); }

    void registersOverUdp() {
        SippProcess sipp;
        QCOMPARE(registerWithSipp(QStringLiteral("alice"), QStringLiteral("alice-secret"),
                                  SippProcess::Transport::Udp, sipp),
                 0);
        QCOMPARE(sipp.countReceived(QStringLiteral("SIP/2.0 401")), 1);
        QCOMPARE(sipp.countReceived(QStringLiteral("SIP/2.0 200")), 1);
        const auto bindings = bindingsOf(QStringLiteral("alice"));
        QCOMPARE(bindings.size(), std::size_t(1));
        QCOMPARE(bindings[0].address,
                 QStringLiteral("sip:alice@127.0.0.1:%1;transport=UDP").arg(sipp.port()));
        QCOMPARE(bindings[0].cseq, 2);
    }

    void registersOverTcp() {
        SippProcess sipp;
        QCOMPARE(registerWithSipp(QStringLiteral("bob"), QStringLiteral("bob,secret"),
                                  SippProcess::Transport::Tcp, sipp),
                 0);
        const auto bindings = bindingsOf(QStringLiteral("bob"));
        QCOMPARE(bindings.size(), std::size_t(1));
        QVERIFY(bindings[0].address.contains(QStringLiteral("transport=TCP")));
    }

    void wrongPasswordIsRefused() {
        SippProcess sipp;
        QVERIFY(registerWithSipp(QStringLiteral("alice"), QStringLiteral("wrong"),
                                 SippProcess::Transport::Udp, sipp) != 0);
        // Kamailio challenges again instead of accepting.
        QVERIFY2(sipp.countReceived(QStringLiteral("SIP/2.0 401")) >= 2,
                 qPrintable(sipp.messages()));
        QCOMPARE(sipp.countReceived(QStringLiteral("SIP/2.0 200")), 0);
        QVERIFY(bindingsOf(QStringLiteral("alice")).empty());
    }

    void stopEndsProcessAndPorts() {
        const qint64 pid = m_kamailio.pid();
        const quint16 port = m_kamailio.port();
        QVERIFY(pid > 0);
        m_kamailio.stop();
        QVERIFY(!m_kamailio.isRunning());
        QVERIFY(::kill(static_cast<pid_t>(pid), 0) != 0);  // the PID is gone
        QTRY_VERIFY_WITH_TIMEOUT(!sb::itest::udpListening(port) && !sb::itest::tcpListening(port),
                                 5000);
    }
};

QTEST_GUILESS_MAIN(TstKamailioHarness)
#include "tst_kamailio_harness.moc"
