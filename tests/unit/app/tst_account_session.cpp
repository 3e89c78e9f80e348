// AccountSession's server location (RFC 3263) with an injected DNS resolver and a
// ManualClock: DNS failures back off like registration failures and are reported as
// such, and every attempt after a back-off locates the registrar afresh. No sockets:
// the session listens nowhere, so no REGISTER can leave.

#include <QTest>

#include <functional>
#include <vector>

#include "app/account_session.h"
#include "base/manual_clock.h"
#include "base/random.h"
#include "ua/retry_backoff.h"

using namespace sb;
using namespace std::chrono_literals;
using app::RegistrationStatus;

namespace {

// Answers from a table, always later from the clock's loop (as the real one does).
class FakeDnsResolver final : public transport::DnsResolver {
public:
    explicit FakeDnsResolver(base::TimerQueue& timers) : m_timers(timers) {}

    void lookupNaptr(const QByteArray& domain, NaptrCallback done) override {
        questions.push_back("NAPTR " + domain);
        m_timers.start(0ms, [done] { done(std::vector<transport::NaptrRecord>{}); });
    }
    void lookupSrv(const QByteArray& name, SrvCallback done) override {
        questions.push_back("SRV " + name);
        auto answer = [done] { done(std::vector<transport::SrvRecord>{}); };
        if (holdSrv) {
            held.push_back(answer);
            return;
        }
        m_timers.start(0ms, answer);
    }
    void lookupAddresses(const QByteArray& host, AddressCallback done) override {
        questions.push_back("A " + host);
        ++addressLookups;
        const Result<QList<QHostAddress>> answer = addresses;
        m_timers.start(0ms, [done, answer] { done(answer); });
    }

    Result<QList<QHostAddress>> addresses = fail(ErrorKind::Transport, QStringLiteral("SERVFAIL"));
    std::vector<QByteArray> questions;
    int addressLookups = 0;
    bool holdSrv = false;  // SRV answers wait in `held` until the test releases them
    std::vector<std::function<void()>> held;

private:
    base::TimerQueue& m_timers;
};

app::Config accountConfig() {
    app::Config config;
    config.account.aor = QStringLiteral("sip:alice@pbx.example.com");
    config.account.password = QStringLiteral("secret");
    config.account.transport = transport::Protocol::Udp;
    // No [sip] listen: nothing is opened, so a located target has no Contact address.
    return config;
}

struct World {
    explicit World(app::Config config = accountConfig())
        : dns(clock),
          random(17),
          session(std::move(config), app::AccountSessionSeams{&dns, &clock, &random, {}}) {
        QObject::connect(&session, &app::AccountSession::registrationChanged,
                         [this](const RegistrationStatus& status) { events.push_back(status); });
        QObject::connect(&session, &app::AccountSession::stopped, [this] { ++stopped; });
    }

    int failures() const {
        return int(std::count_if(events.begin(), events.end(), [](const RegistrationStatus& s) {
            return s.state == RegistrationStatus::State::Failed;
        }));
    }

    base::ManualClock clock;
    FakeDnsResolver dns;
    base::SeededRandom random;
    app::AccountSession session;
    std::vector<RegistrationStatus> events;
    int stopped = 0;
};

// Whole seconds, rounded up, as the session reports retry_in.
quint32 ceilSeconds(base::Duration d) {
    return quint32((d + 999ms) / 1s);
}

}  // namespace

class TestAccountSession : public QObject {
    Q_OBJECT

private slots:
    void dnsFailureIsARegistrationFailureWithBackoff() {
        World w;
        QVERIFY(w.session.open());
        w.session.startRegistration();
        QCOMPARE(w.events.size(), std::size_t(1));
        QCOMPARE(w.events.back().state, RegistrationStatus::State::Registering);

        for (int failure = 1; failure <= 8; ++failure) {
            // Run the loop until the failure of this round is reported.
            while (w.failures() < failure && w.clock.pendingTimers() > 0)
                w.clock.advance(0ms);
            QCOMPARE(w.failures(), failure);
            QCOMPARE(w.dns.addressLookups, failure);
            const RegistrationStatus& status = w.events.back();
            QCOMPARE(status.state, RegistrationStatus::State::Failed);
            QCOMPARE(status.aor, QStringLiteral("sip:alice@pbx.example.com"));
            QCOMPARE(status.code, 0);
            QVERIFY2(
                status.reason.startsWith(QStringLiteral("DNS lookup of pbx.example.com failed: ")),
                qPrintable(status.reason));
            QVERIFY2(status.reason.contains(QStringLiteral("SERVFAIL")), qPrintable(status.reason));
            // The registration's back-off: doubling from 30 s to 30 min, 50-100 % of it.
            const base::Duration nominal = ua::RetryBackoff::nominal(failure, 30s, 30min);
            QVERIFY(status.retryIn.has_value());
            QVERIFY2(
                *status.retryIn >= ceilSeconds(nominal / 2) &&
                    *status.retryIn <= ceilSeconds(nominal),
                qPrintable(
                    QStringLiteral("failure %1: retry in %2 s").arg(failure).arg(*status.retryIn)));

            // Nobody asks DNS before the wait is over; then the registrar is located anew.
            const std::optional<base::Duration> wait = w.clock.untilNextTimer();
            QVERIFY(wait.has_value());
            QVERIFY(*wait <= std::chrono::seconds(*status.retryIn));
            QVERIFY(*wait > std::chrono::seconds(*status.retryIn) - 1s);
            w.clock.advance(*wait - 1ms);
            QCOMPARE(w.dns.addressLookups, failure);
            w.clock.advance(1ms);
        }
        // The question was the RFC 3263 one for a name with a transport: SRV, then A.
        QCOMPARE(w.dns.questions.front(), QByteArray("SRV _sip._udp.pbx.example.com"));
        QCOMPARE(w.dns.questions.at(1), QByteArray("A pbx.example.com"));
    }

    void everyAttemptAfterBackoffLocatesAfresh() {
        World w;
        w.dns.addresses = QList<QHostAddress>{QHostAddress(QStringLiteral("127.0.0.9"))};
        QVERIFY(w.session.open());
        w.session.startRegistration();
        while (w.failures() < 1 && w.clock.pendingTimers() > 0)
            w.clock.advance(0ms);
        QCOMPARE(w.failures(), 1);
        QCOMPARE(w.dns.addressLookups, 1);
        // Located, but no listener reaches it (the session listens nowhere): the target
        // fails like one that does not answer, and the list is exhausted.
        QCOMPARE(w.events.back().code, 503);
        QVERIFY2(w.events.back().reason.contains(QStringLiteral("udp:127.0.0.9:5060")),
                 qPrintable(w.events.back().reason));

        // DNS changed meanwhile: the next attempt uses the new answer, not the old list.
        w.dns.addresses = QList<QHostAddress>{QHostAddress(QStringLiteral("127.0.0.8"))};
        w.clock.advance(*w.clock.untilNextTimer());
        while (w.failures() < 2 && w.clock.pendingTimers() > 0)
            w.clock.advance(0ms);
        QCOMPARE(w.dns.addressLookups, 2);
        QCOMPARE(w.failures(), 2);
        QVERIFY2(w.events.back().reason.contains(QStringLiteral("udp:127.0.0.8:5060")),
                 qPrintable(w.events.back().reason));
        QVERIFY(!w.events.back().reason.contains(QStringLiteral("127.0.0.9")));
        // Still one back-off series across DNS and REGISTER failures.
        QVERIFY(*w.events.back().retryIn >= 30u && *w.events.back().retryIn <= 60u);
    }

    void stopDuringBackoffEndsTheLookups() {
        World w;
        QVERIFY(w.session.open());
        w.session.startRegistration();
        while (w.failures() < 1 && w.clock.pendingTimers() > 0)
            w.clock.advance(0ms);
        QCOMPARE(w.failures(), 1);

        w.session.stop();
        w.clock.advance(0ms);
        QCOMPARE(w.stopped, 1);
        QCOMPARE(w.events.back().state, RegistrationStatus::State::Unregistered);
        w.clock.advance(24h);
        QCOMPARE(w.dns.addressLookups, 1);
        QCOMPARE(w.stopped, 1);
    }

    void stopWhileLocating() {
        World w;
        w.dns.holdSrv = true;
        QVERIFY(w.session.open());
        w.session.startRegistration();
        w.clock.advance(0ms);  // the client asks for targets, the SRV question is out
        QCOMPARE(w.dns.questions, std::vector<QByteArray>{"SRV _sip._udp.pbx.example.com"});
        w.session.stop();
        w.clock.advance(0ms);
        QCOMPARE(w.stopped, 1);
        QCOMPARE(w.events.back().state, RegistrationStatus::State::Unregistered);
        // The answer comes after all: the cancelled lookup goes no further.
        for (const auto& answer : w.dns.held)
            answer();
        w.clock.advance(1h);
        QCOMPARE(w.failures(), 0);
        QCOMPARE(w.dns.addressLookups, 0);
        QCOMPARE(w.stopped, 1);
    }

    void unusableAorIsNotRetried() {
        app::Config config = accountConfig();
        config.account.aor = QStringLiteral("sip:alice@");
        World w(config);
        QVERIFY(w.session.open());
        w.session.startRegistration();
        QCOMPARE(w.events.back().state, RegistrationStatus::State::Failed);
        QVERIFY(!w.events.back().retryIn.has_value());
        w.clock.advance(1h);
        QVERIFY(w.dns.questions.empty());
    }
};

QTEST_GUILESS_MAIN(TestAccountSession)
#include "tst_account_session.moc"
