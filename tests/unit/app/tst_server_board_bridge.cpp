// Tests app/server_board_bridge.*: the built-in server lights the board the way client
// subscriptions do — registrations become the extension's usability, dialogs its lamp.

#include <QTest>

#include "app/server_board_bridge.h"
#include "base/manual_clock.h"
#include "board/console.h"
#include "server/binding_store.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"

using namespace sb;
using dialoginfo::Lamp;

namespace {

server::Binding bindingOf(const QString& user, base::TimePoint now) {
    server::Binding binding;
    binding.user = user;
    binding.contactUri = "sip:" + user.toUtf8() + "@127.0.0.1:5062";
    binding.contactValue = "<" + binding.contactUri + ">";
    binding.source = transport::Endpoint{transport::Protocol::Udp, QHostAddress::LocalHost, 5062};
    binding.callId = "call-" + user.toUtf8();
    binding.cseq = 1;
    binding.expiresAt = now + std::chrono::seconds(300);
    return binding;
}

dialoginfo::DialogInfo dialogWith(const QString& id, dialoginfo::DialogState state,
                                  dialoginfo::Direction direction, const QString& other) {
    dialoginfo::DialogInfo dialog;
    dialog.id = id;
    dialog.callId = QStringLiteral("c-") + id;
    dialog.state = state;
    dialog.direction = direction;
    dialog.remote.identity = QStringLiteral("sip:%1@switchboard.local").arg(other);
    return dialog;
}

}  // namespace

class TstServerBoardBridge : public QObject {
    Q_OBJECT

private:
    base::ManualClock m_clock;
    std::unique_ptr<board::Console> m_console;
    std::unique_ptr<server::DialogStateStore> m_dialogs;
    std::unique_ptr<server::BindingStore> m_bindings;
    server::LocalDomains m_domains{QStringList{QStringLiteral("switchboard.local")}};
    std::unique_ptr<app::ServerBoardBridge> m_bridge;

    const board::ExtensionState& state(const QString& number) {
        const board::ExtensionState* found = m_console->state(number);
        if (!found) qFatal("no extension %s", qPrintable(number));
        return *found;
    }

private slots:
    void init() {
        m_console = std::make_unique<board::Console>(m_clock);
        m_console->setDomain(QStringLiteral("switchboard.local"));
        QVERIFY(m_console->monitor(
            board::Extension{QStringLiteral("201"), QStringLiteral("Alice"), {}, {}}));
        QVERIFY(m_console->monitor(
            board::Extension{QStringLiteral("202"), QStringLiteral("Bob"), {}, {}}));
        m_dialogs = std::make_unique<server::DialogStateStore>();
        m_bindings = std::make_unique<server::BindingStore>(m_clock);
        m_bridge = std::make_unique<app::ServerBoardBridge>(*m_console, *m_dialogs, *m_bindings,
                                                            m_domains);
        m_bridge->refreshAll();
    }

    void cleanup() {
        m_bridge.reset();
        m_bindings.reset();
        m_dialogs.reset();
        m_console.reset();
    }

    void unregisteredUsersAreOfflineWithTheReason() {
        QCOMPARE(state("201").lamp.lamp, Lamp::Offline);
        QCOMPARE(state("201").subscription.state, ua::SubscriptionStatus::State::Unavailable);
        QCOMPARE(state("201").subscription.reason, QByteArray("not registered"));
    }

    void aBindingMakesTheExtensionIdleAndItsExpiryOfflineAgain() {
        QVERIFY(m_bindings->put(bindingOf(QStringLiteral("201"), m_clock.now())));
        QCOMPARE(state("201").subscription.state, ua::SubscriptionStatus::State::Active);
        QCOMPARE(state("201").subscription.reason, QByteArray("registered"));
        QCOMPARE(state("201").lamp.lamp, Lamp::Idle);
        QCOMPARE(state("202").lamp.lamp, Lamp::Offline);

        m_clock.advance(std::chrono::seconds(301));
        QCOMPARE(state("201").lamp.lamp, Lamp::Offline);
        QCOMPARE(state("201").subscription.reason, QByteArray("not registered"));
    }

    void trackedDialogsLightBothParties() {
        QVERIFY(m_bindings->put(bindingOf(QStringLiteral("201"), m_clock.now())));
        QVERIFY(m_bindings->put(bindingOf(QStringLiteral("202"), m_clock.now())));
        m_dialogs->setDialogs(
            QStringLiteral("201"), QStringLiteral("call:1"),
            {dialogWith(QStringLiteral("a"), dialoginfo::DialogState::Early,
                        dialoginfo::Direction::Initiator, QStringLiteral("202"))});
        m_dialogs->setDialogs(
            QStringLiteral("202"), QStringLiteral("call:1"),
            {dialogWith(QStringLiteral("b"), dialoginfo::DialogState::Early,
                        dialoginfo::Direction::Recipient, QStringLiteral("201"))});
        QCOMPARE(state("201").lamp.lamp, Lamp::Calling);
        QCOMPARE(state("202").lamp.lamp, Lamp::Ringing);
        QCOMPARE(state("202").lamp.otherUri, QStringLiteral("sip:201@switchboard.local"));

        m_dialogs->setDialogs(
            QStringLiteral("202"), QStringLiteral("call:1"),
            {dialogWith(QStringLiteral("b"), dialoginfo::DialogState::Confirmed,
                        dialoginfo::Direction::Recipient, QStringLiteral("201"))});
        QCOMPARE(state("202").lamp.lamp, Lamp::Busy);

        m_dialogs->removeSource(QStringLiteral("202"), QStringLiteral("call:1"));
        m_dialogs->removeSource(QStringLiteral("201"), QStringLiteral("call:1"));
        QCOMPARE(state("201").lamp.lamp, Lamp::Idle);
        QCOMPARE(state("202").lamp.lamp, Lamp::Idle);
    }

    void publishedStateLightsAnUnregisteredUser() {
        // A Kamailio with pua_dialoginfo publishes for users registered there, not here.
        m_dialogs->setDialogs(
            QStringLiteral("202"), QStringLiteral("publish:1"),
            {dialogWith(QStringLiteral("p"), dialoginfo::DialogState::Confirmed,
                        dialoginfo::Direction::Recipient, QStringLiteral("201"))});
        QCOMPARE(state("202").subscription.reason, QByteArray("published"));
        QCOMPARE(state("202").lamp.lamp, Lamp::Busy);
    }

    void anExtensionAddedLaterIsLitAtOnce() {
        QVERIFY(m_bindings->put(bindingOf(QStringLiteral("203"), m_clock.now())));
        QVERIFY(m_console->monitor(
            board::Extension{QStringLiteral("203"), QStringLiteral("Carol"), {}, {}}));
        QCOMPARE(state("203").lamp.lamp, Lamp::Idle);
    }

    void anExtensionOfAnotherDomainIsNotAUserOfThisServer() {
        QVERIFY(m_console->monitor(board::Extension{QStringLiteral("300"),
                                                    QStringLiteral("Remote"),
                                                    {},
                                                    QStringLiteral("sip:300@pbx.example")}));
        QCOMPARE(state("300").lamp.lamp, Lamp::Offline);
        QCOMPARE(state("300").subscription.reason, QByteArray("not a user of this server"));
    }
};

QTEST_GUILESS_MAIN(TstServerBoardBridge)
#include "tst_server_board_bridge.moc"
