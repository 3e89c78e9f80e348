// `switchboard --headless` against sipp registrars that challenge, never answer, or
// answer oddly (scenarios in this folder): the registration client's behaviour on the
// wire, seen from the far side and from Switchboard's SIP trace.

#include <QRegularExpression>
#include <QTest>

#include "sipp_process.h"
#include "switchboard_process.h"

using namespace std::chrono_literals;
using sb::itest::AccountIni;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

const QString kPassword = QStringLiteral("sipp-secret");

struct SentRegister {
    int cseq = 0;
    QString branch;
};

}  // namespace

class TstSippRegistration : public QObject {
    Q_OBJECT

private:
    SippProcess m_sipp;
    SwitchboardProcess m_switchboard;

    void startRegistrar(const QString& scenario, SippProcess::Transport transport,
                        const QStringList& extra = {}) {
        SippProcess::Options options;
        options.scenario = scenario;
        options.transport = transport;
        options.timeout = 40s;
        options.extraArguments = extra;
        const auto started = m_sipp.start(options);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
    }

    AccountIni account(const QString& transport) const {
        AccountIni ini;
        ini.aor = QStringLiteral("sip:alice@sipp.test");
        ini.password = kPassword;
        ini.proxy = QStringLiteral("127.0.0.1:%1").arg(m_sipp.port());
        ini.transport = transport;
        return ini;
    }

    void startSwitchboard(const AccountIni& ini) {
        const auto started = m_switchboard.start(ini.toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
    }

    QString diagnostics() const {
        return m_switchboard.diagnostics() + QStringLiteral("\nsipp:\n") +
               m_sipp.output().right(3000) + QStringLiteral("\nsipp messages (end):\n") +
               m_sipp.messages().right(3000);
    }

    // The REGISTERs Switchboard's trace shows as sent, in order.
    std::vector<SentRegister> sentRegisters() const {
        std::vector<SentRegister> out;
        static const QRegularExpression kCSeq(QStringLiteral("^CSeq:\\s*(\\d+) REGISTER"),
                                              QRegularExpression::MultilineOption);
        static const QRegularExpression kBranch(QStringLiteral("^Via:[^\\n]*;branch=([^;\\s]+)"),
                                                QRegularExpression::MultilineOption);
        for (const QString& block : m_switchboard.sipTrace().split(QStringLiteral("\n----\n"))) {
            if (!block.contains(QStringLiteral(" SENT ")) ||
                !block.contains(QStringLiteral("\nREGISTER ")))
                continue;
            out.push_back(
                {kCSeq.match(block).captured(1).toInt(), kBranch.match(block).captured(1)});
        }
        return out;
    }

    void quitCleanly() {
        m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")},
                                       {QStringLiteral("id"), 1}});
        QVERIFY2(m_switchboard.waitForEvent(QStringLiteral("ack"), 5s), qPrintable(diagnostics()));
        const std::optional<int> exitCode = m_switchboard.waitForExit(10s);
        QVERIFY2(exitCode.has_value(), qPrintable(diagnostics()));
        QCOMPARE(*exitCode, 0);
    }

private slots:
    void cleanup() {
        m_switchboard.stop();
        m_sipp.stop();
    }

    void challengeThenShorterLifetimeThenUnregister() {
        startRegistrar(QStringLiteral("uas_challenge.xml"), SippProcess::Transport::Udp,
                       {QStringLiteral("-set"), QStringLiteral("password"), kPassword});
        if (QTest::currentTestFailed()) return;
        startSwitchboard(account(QStringLiteral("udp")));
        if (QTest::currentTestFailed()) return;
        const auto registered =
            m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s);
        QVERIFY2(registered, qPrintable(diagnostics()));
        // The registrar's lifetime wins over the 3600 s asked (RFC 3261 §10.2.4).
        QCOMPARE(registered->value(QStringLiteral("expires")).toInt(), 300);

        quitCleanly();
        QVERIFY(m_switchboard.events().back().value(QStringLiteral("state")).toString() ==
                QLatin1String("unregistered"));
        // sipp ends with 0 only when the digest verified and the un-REGISTER came.
        QCOMPARE(m_sipp.waitForFinished(10s), 0);
        QCOMPARE(m_sipp.countReceived(QStringLiteral("REGISTER ")), 3);

        const auto sent = sentRegisters();
        QCOMPARE(sent.size(), std::size_t(3));
        QVERIFY(sent[0].cseq < sent[1].cseq && sent[1].cseq < sent[2].cseq);
    }

    void wrongCredentialsFail() {
        startRegistrar(
            QStringLiteral("uas_challenge.xml"), SippProcess::Transport::Udp,
            {QStringLiteral("-set"), QStringLiteral("password"), QStringLiteral("something-else")});
        if (QTest::currentTestFailed()) return;
        startSwitchboard(account(QStringLiteral("udp")));
        if (QTest::currentTestFailed()) return;
        const auto failed = m_switchboard.waitForRegistration(QStringLiteral("failed"), 15s);
        QVERIFY2(failed, qPrintable(diagnostics()));
        QCOMPARE(failed->value(QStringLiteral("code")).toInt(), 403);
        QCOMPARE(failed->value(QStringLiteral("reason")).toString(),
                 QStringLiteral("Wrong Credentials"));
        QVERIFY(failed->value(QStringLiteral("retry_in")).toInt() > 0);
        quitCleanly();
    }

    void silentRegistrarOverUdp() {
        // T1 = 50 ms: timer F = 64*T1 = 3.2 s instead of 32 s.
        startRegistrar(QStringLiteral("uas_silent.xml"), SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;
        AccountIni ini = account(QStringLiteral("udp"));
        ini.t1Ms = 50;
        startSwitchboard(ini);
        if (QTest::currentTestFailed()) return;
        const auto failed = m_switchboard.waitForRegistration(QStringLiteral("failed"), 15s);
        QVERIFY2(failed, qPrintable(diagnostics()));
        QCOMPARE(failed->value(QStringLiteral("code")).toInt(), 408);
        QVERIFY(failed->value(QStringLiteral("retry_in")).toInt() > 0);

        // Timer E retransmitted the one request (same branch, same CSeq) until timer F:
        // intervals 50, 100, 200, 400, 800, 1600 ms give at most 7 copies in 3.2 s.
        const auto sent = sentRegisters();
        QVERIFY2(sent.size() >= 2 && sent.size() <= 7, qPrintable(diagnostics()));
        for (const SentRegister& r : sent) {
            QCOMPARE(r.cseq, sent.front().cseq);
            QCOMPARE(r.branch, sent.front().branch);
        }
        QTRY_COMPARE(m_sipp.countReceived(QStringLiteral("REGISTER ")), int(sent.size()));
        quitCleanly();
    }

    void silentRegistrarOverTcp() {
        startRegistrar(QStringLiteral("uas_silent.xml"), SippProcess::Transport::Tcp);
        if (QTest::currentTestFailed()) return;
        AccountIni ini = account(QStringLiteral("tcp"));
        ini.t1Ms = 50;
        startSwitchboard(ini);
        if (QTest::currentTestFailed()) return;
        const auto failed = m_switchboard.waitForRegistration(QStringLiteral("failed"), 15s);
        QVERIFY2(failed, qPrintable(diagnostics()));
        QCOMPARE(failed->value(QStringLiteral("code")).toInt(), 408);
        // A reliable transport: no retransmissions (RFC 3261 §17.1.2.2).
        QCOMPARE(sentRegisters().size(), std::size_t(1));
        QCOMPARE(m_sipp.countReceived(QStringLiteral("REGISTER ")), 1);
        quitCleanly();
    }

    void oddAnswers() {
        startRegistrar(QStringLiteral("uas_odd_answers.xml"), SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;
        AccountIni ini = account(QStringLiteral("udp"));
        ini.t1Ms = 50;  // the 400 ms of silence see several retransmissions
        startSwitchboard(ini);
        if (QTest::currentTestFailed()) return;

        // 200 without Contact: the Expires header gives the lifetime.
        const auto first = m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s);
        QVERIFY2(first, qPrintable(diagnostics()));
        QCOMPARE(first->value(QStringLiteral("expires")).toInt(), 2);
        // The refresh; its 200 lists a foreign binding first: ours says 3 s. The repeated
        // first 200 was absorbed by the transaction and reported nothing.
        const auto refreshed = m_switchboard.waitForRegistration(QStringLiteral("registered"), 10s);
        QVERIFY2(refreshed, qPrintable(diagnostics()));
        QCOMPARE(refreshed->value(QStringLiteral("expires")).toInt(), 3);

        const auto sent = sentRegisters();
        QVERIFY2(sent.size() >= 3, qPrintable(diagnostics()));
        // The first REGISTER went out more than once (retransmitted, same branch)...
        QCOMPARE(sent[1].cseq, sent[0].cseq);
        QCOMPARE(sent[1].branch, sent[0].branch);
        // ...and the refresh is a new transaction with a higher CSeq.
        const auto refresh = std::find_if(sent.begin(), sent.end(), [&](const SentRegister& r) {
            return r.cseq != sent[0].cseq;
        });
        QVERIFY(refresh != sent.end());
        QVERIFY(refresh->cseq > sent[0].cseq);
        QVERIFY(refresh->branch != sent[0].branch);

        quitCleanly();
        QCOMPARE(m_sipp.waitForFinished(10s), 0);
    }
};

QTEST_GUILESS_MAIN(TstSippRegistration)
#include "tst_sipp_registration.moc"
