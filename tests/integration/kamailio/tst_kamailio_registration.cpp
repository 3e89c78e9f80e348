// `switchboard --headless` against a real Kamailio registrar (registrar.cfg): digest
// registration over UDP and TCP, the binding as Kamailio's own ul.dump shows it,
// refresh before expiry, and removal of the binding on quit, end of input and SIGTERM.

#include <QJsonArray>
#include <QRegularExpression>
#include <QTest>

#include "kamailio_instance.h"
#include "switchboard_process.h"

using namespace std::chrono_literals;
using sb::itest::AccountIni;
using sb::itest::Binding;
using sb::itest::KamailioInstance;
using sb::itest::SwitchboardProcess;

namespace {

const QString kUser = QStringLiteral("alice");
const QString kPassword = QStringLiteral("s3cret;with,odd=chars");

}  // namespace

class TstKamailioRegistration : public QObject {
    Q_OBJECT

private:
    KamailioInstance m_kamailio;
    SwitchboardProcess m_switchboard;

    AccountIni account(const QString& transport) const {
        AccountIni ini;
        ini.aor = QStringLiteral("sip:%1@%2").arg(kUser, m_kamailio.domain());
        ini.password = kPassword;
        ini.proxy = QStringLiteral("127.0.0.1:%1").arg(m_kamailio.port());
        ini.transport = transport;
        return ini;
    }

    std::vector<Binding> ourBindings() const {
        QString error;
        std::vector<Binding> out;
        for (const Binding& b : m_kamailio.bindings(&error))
            if (b.aor == kUser) out.push_back(b);
        if (!error.isEmpty()) qWarning("ul.dump: %s", qPrintable(error));
        return out;
    }

    // The listen address of `protocol` from the "started" event, as host:port.
    QString listenHostPort(const QString& protocol) const {
        for (const QJsonObject& event : m_switchboard.events()) {
            if (event.value(QStringLiteral("event")).toString() != QLatin1String("started"))
                continue;
            for (const QJsonValue& listen : event.value(QStringLiteral("listen")).toArray()) {
                const QString text = listen.toString();
                if (text.startsWith(protocol + QLatin1Char(':')))
                    return text.mid(protocol.size() + 1);
            }
        }
        return {};
    }

    QString diagnostics() const {
        return m_switchboard.diagnostics() + QStringLiteral("\nKamailio log (end):\n") +
               m_kamailio.logText().right(3000);
    }

    // The CSeq numbers of the REGISTERs the trace shows as sent, in order.
    QList<int> sentRegisterCSeqs() const {
        QList<int> out;
        static const QRegularExpression kCSeq(QStringLiteral("^CSeq:\\s*(\\d+) REGISTER"),
                                              QRegularExpression::MultilineOption);
        for (const QString& block : m_switchboard.sipTrace().split(QStringLiteral("\n----\n"))) {
            if (!block.contains(QStringLiteral(" SENT ")) ||
                !block.contains(QStringLiteral("\nREGISTER ")))
                continue;
            const QRegularExpressionMatch m = kCSeq.match(block);
            if (m.hasMatch()) out << m.captured(1).toInt();
        }
        return out;
    }

    void registerAndCheckBinding(const AccountIni& ini) {
        const auto started = m_switchboard.start(ini.toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        const QString expectedContact =
            QStringLiteral("sip:alice@") + listenHostPort(ini.transport);
        const auto registered =
            m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s);
        QVERIFY2(registered, qPrintable(diagnostics()));
        QCOMPARE(registered->value(QStringLiteral("aor")).toString(), ini.aor);
        QCOMPARE(registered->value(QStringLiteral("expires")).toInt(), ini.expires);

        const std::vector<Binding> bindings = ourBindings();
        QVERIFY2(bindings.size() == 1, qPrintable(m_kamailio.ulDump()));
        QCOMPARE(bindings[0].address, expectedContact);
        // Digest made it through: the challenge came first, so the binding's CSeq is 2.
        QCOMPARE(bindings[0].cseq, 2);
        QVERIFY(m_switchboard.sipTrace().contains(QStringLiteral("Authorization: <redacted>")));
        QVERIFY2(!m_switchboard.sipTrace().contains(QStringLiteral("response=")),
                 "the SIP trace must not contain digest responses");
    }

    void quitAndCheckUnbound() {
        m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")},
                                       {QStringLiteral("id"), QStringLiteral("q1")}});
        const auto ack = m_switchboard.waitForEvent(QStringLiteral("ack"), 5s);
        QVERIFY2(ack, qPrintable(diagnostics()));
        QCOMPARE(ack->value(QStringLiteral("id")).toString(), QStringLiteral("q1"));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("unregistered"), 10s),
                 qPrintable(diagnostics()));
        const std::optional<int> exitCode = m_switchboard.waitForExit(10s);
        QVERIFY2(exitCode.has_value(), qPrintable(diagnostics()));
        QCOMPARE(*exitCode, 0);
        QVERIFY2(ourBindings().empty(), qPrintable(m_kamailio.ulDump()));
    }

private slots:
    void init() {
        KamailioInstance::Options options;
        options.subscribers = {{kUser, kPassword}};
        const auto started = m_kamailio.start(options);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
    }
    void cleanup() {
        m_switchboard.stop();
        m_kamailio.stop();
    }

    void registersOverUdp() {
        AccountIni ini = account(QStringLiteral("udp"));
        ini.listen = QStringLiteral("udp:127.0.0.1:0");
        registerAndCheckBinding(ini);
        if (QTest::currentTestFailed()) return;
        quitAndCheckUnbound();
    }

    void registersOverTcp() {
        const AccountIni ini = account(QStringLiteral("tcp"));
        const auto started = m_switchboard.start(ini.toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                 qPrintable(diagnostics()));
        const std::vector<Binding> bindings = ourBindings();
        QVERIFY2(bindings.size() == 1, qPrintable(m_kamailio.ulDump()));
        QCOMPARE(bindings[0].address, QStringLiteral("sip:alice@%1;transport=tcp")
                                          .arg(listenHostPort(QStringLiteral("tcp"))));
        QVERIFY(m_switchboard.sipTrace().contains(QStringLiteral(" SENT TCP ")));
        QVERIFY(!m_switchboard.sipTrace().contains(QStringLiteral(" SENT UDP ")));
        quitAndCheckUnbound();
    }

    void registersWithoutProxy() {
        // The AOR names the registrar itself: no proxy key, the domain is an address.
        AccountIni ini = account(QStringLiteral("udp"));
        ini.aor = QStringLiteral("sip:alice@127.0.0.1:%1").arg(m_kamailio.port());
        ini.proxy.clear();
        ini.listen = QStringLiteral("udp:127.0.0.1:0");
        const auto started = m_switchboard.start(ini.toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                 qPrintable(diagnostics()));
        QCOMPARE(ourBindings().size(), std::size_t(1));
        quitAndCheckUnbound();
    }

    void refreshesBeforeExpiry() {
        // Kamailio accepts lifetimes down to 1 s here (min_expires=1), so a refresh comes
        // within seconds instead of an hour.
        AccountIni ini = account(QStringLiteral("udp"));
        ini.expires = 4;
        const auto started = m_switchboard.start(ini.toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                 qPrintable(diagnostics()));
        const std::vector<Binding> first = ourBindings();
        QCOMPARE(first.size(), std::size_t(1));

        // The refresh: another 200 before the first binding ran out.
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 10s),
                 qPrintable(diagnostics()));
        const std::vector<Binding> refreshed = ourBindings();
        QCOMPARE(refreshed.size(), std::size_t(1));
        QCOMPARE(refreshed[0].address, first[0].address);
        QCOMPARE(refreshed[0].callId, first[0].callId);  // RFC 3261 §10.2.4: same Call-ID
        QVERIFY2(refreshed[0].cseq > first[0].cseq,
                 qPrintable(
                     QStringLiteral("CSeq %1 then %2").arg(first[0].cseq).arg(refreshed[0].cseq)));

        const QList<int> cseqs = sentRegisterCSeqs();
        QVERIFY2(cseqs.size() >= 3, qPrintable(diagnostics()));
        for (qsizetype i = 1; i < cseqs.size(); ++i)
            QVERIFY2(cseqs[i] > cseqs[i - 1], "every REGISTER has a higher CSeq (§10.2.4)");
        quitAndCheckUnbound();
    }

    void wrongPasswordFails() {
        AccountIni ini = account(QStringLiteral("udp"));
        ini.password = QStringLiteral("not-the-password");
        const auto started = m_switchboard.start(ini.toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        const auto failed = m_switchboard.waitForRegistration(QStringLiteral("failed"), 15s);
        QVERIFY2(failed, qPrintable(diagnostics()));
        QCOMPARE(failed->value(QStringLiteral("code")).toInt(), 401);
        QVERIFY(failed->value(QStringLiteral("retry_in")).toInt() > 0);
        QVERIFY(ourBindings().empty());
        // One answer to each challenge, no loop (§22.3): two REGISTERs only.
        QCOMPARE(sentRegisterCSeqs().size(), 2);

        m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
        const std::optional<int> exitCode = m_switchboard.waitForExit(10s);
        QVERIFY2(exitCode.has_value(), qPrintable(diagnostics()));
        QCOMPARE(*exitCode, 0);
    }

    void endOfInputUnregisters() {
        const auto started = m_switchboard.start(account(QStringLiteral("udp")).toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                 qPrintable(diagnostics()));
        QCOMPARE(ourBindings().size(), std::size_t(1));
        m_switchboard.closeInput();
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("unregistered"), 10s),
                 qPrintable(diagnostics()));
        QCOMPARE(m_switchboard.waitForExit(10s), std::optional<int>(0));
        QVERIFY(ourBindings().empty());
    }

    void sigtermUnregisters() {
        const auto started = m_switchboard.start(account(QStringLiteral("tcp")).toIni());
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                 qPrintable(diagnostics()));
        QCOMPARE(ourBindings().size(), std::size_t(1));
        m_switchboard.terminate();
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("unregistered"), 10s),
                 qPrintable(diagnostics()));
        QCOMPARE(m_switchboard.waitForExit(10s), std::optional<int>(0));
        QVERIFY(ourBindings().empty());
    }
};

QTEST_GUILESS_MAIN(TstKamailioRegistration)
#include "tst_kamailio_registration.moc"
