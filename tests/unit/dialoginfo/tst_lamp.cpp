// Lamp derivation (core/dialoginfo/lamp.*): DESIGN.md "Lamps" as tables — every lamp,
// the precedence between them (ringing wins over busy), unknown directions, hold, and
// offline overriding whatever the dialogs say.

#include <QTest>

#include "dialoginfo/lamp.h"
#include "dialoginfo_test_util.h"

using namespace sb;
using namespace sb::dialoginfo;
using namespace sb::dialoginfo::test;

Q_DECLARE_METATYPE(sb::dialoginfo::Lamp)

namespace {

// "in/early, out/confirmed/hold, ?/trying": one dialog per item, direction in (recipient),
// out (initiator) or ? (unknown), an RFC 4235 state, and an optional local-target flag:
// hold (+sip.rendering=no), media (+sip.rendering=yes). Dialog i has the remote party
// "Party i" <sip:30i@example.com>.
std::vector<DialogInfo> dialogs(const QString& spec) {
    std::vector<DialogInfo> out;
    const QStringList items = spec.split(u',', Qt::SkipEmptyParts);
    for (int i = 0; i < items.size(); ++i) {
        const QStringList parts = items[i].trimmed().split(u'/');
        DialogInfo d;
        d.id = QStringLiteral("d%1").arg(i);
        const QString direction = parts.value(0);
        d.direction = direction == u"in"    ? Direction::Recipient
                      : direction == u"out" ? Direction::Initiator
                                            : Direction::Unknown;
        const QString state = parts.value(1);
        if (state == u"trying") d.state = DialogState::Trying;
        if (state == u"proceeding") d.state = DialogState::Proceeding;
        if (state == u"early") d.state = DialogState::Early;
        if (state == u"confirmed") d.state = DialogState::Confirmed;
        if (state == u"terminated") d.state = DialogState::Terminated;
        d.local.target.emplace();
        d.local.target->uri = QStringLiteral("sip:201@127.0.0.1:5070");
        if (parts.value(2) == u"hold") {
            d.local.target->params.emplace_back(QStringLiteral("+sip.rendering"),
                                                QStringLiteral("no"));
        } else if (parts.value(2) == u"media") {
            d.local.target->params.emplace_back(QStringLiteral("+sip.rendering"),
                                                QStringLiteral("yes"));
        }
        d.remote.display = QStringLiteral("Party %1").arg(i);
        d.remote.identity = QStringLiteral("sip:30%1@example.com").arg(i);
        out.push_back(d);
    }
    return out;
}

}  // namespace

class TestLamp : public QObject {
    Q_OBJECT

private slots:
    void derive_data();
    void derive();
    void otherPartyFallsBackToTarget();
    void noLocalTargetIsBusy();
    void names();
    void dialects_data();
    void dialects();
    void kamailioCaptures_data();
    void kamailioCaptures();
};

void TestLamp::derive_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("usable");
    QTest::addColumn<Lamp>("lamp");
    QTest::addColumn<int>("deciding");

    // Offline and idle.
    QTest::newRow("no subscription") << "" << false << Lamp::Offline << -1;
    QTest::newRow("offline overrides ringing") << "in/early" << false << Lamp::Offline << -1;
    QTest::newRow("offline overrides busy") << "out/confirmed" << false << Lamp::Offline << -1;
    QTest::newRow("no dialog is idle, not offline") << "" << true << Lamp::Idle << -1;
    QTest::newRow("only terminated is idle")
        << "in/terminated, out/terminated" << true << Lamp::Idle << -1;

    // Each lamp from one dialog.
    QTest::newRow("incoming trying rings") << "in/trying" << true << Lamp::Ringing << 0;
    QTest::newRow("incoming proceeding rings") << "in/proceeding" << true << Lamp::Ringing << 0;
    QTest::newRow("incoming early rings") << "in/early" << true << Lamp::Ringing << 0;
    QTest::newRow("outgoing trying calls") << "out/trying" << true << Lamp::Calling << 0;
    QTest::newRow("outgoing proceeding calls") << "out/proceeding" << true << Lamp::Calling << 0;
    QTest::newRow("outgoing early calls") << "out/early" << true << Lamp::Calling << 0;
    QTest::newRow("incoming confirmed busy") << "in/confirmed" << true << Lamp::Busy << 0;
    QTest::newRow("outgoing confirmed busy") << "out/confirmed" << true << Lamp::Busy << 0;
    QTest::newRow("confirmed rendering yes busy")
        << "in/confirmed/media" << true << Lamp::Busy << 0;
    QTest::newRow("confirmed on hold") << "in/confirmed/hold" << true << Lamp::Held << 0;

    // Unknown direction (Asterisk, some BLF servers).
    QTest::newRow("unknown trying calls") << "?/trying" << true << Lamp::Calling << 0;
    QTest::newRow("unknown proceeding rings") << "?/proceeding" << true << Lamp::Ringing << 0;
    QTest::newRow("unknown early rings") << "?/early" << true << Lamp::Ringing << 0;
    QTest::newRow("unknown confirmed busy") << "?/confirmed" << true << Lamp::Busy << 0;
    QTest::newRow("unknown confirmed hold") << "?/confirmed/hold" << true << Lamp::Held << 0;

    // Precedence: Ringing > Calling > Busy > Held.
    QTest::newRow("ringing over busy (call waiting)")
        << "in/confirmed, in/early" << true << Lamp::Ringing << 1;
    QTest::newRow("ringing over held")
        << "in/confirmed/hold, ?/early" << true << Lamp::Ringing << 1;
    QTest::newRow("ringing over calling") << "out/early, in/early" << true << Lamp::Ringing << 1;
    QTest::newRow("calling over busy (consultation)")
        << "in/confirmed/hold, out/trying" << true << Lamp::Calling << 1;
    QTest::newRow("busy over held")
        << "in/confirmed/hold, out/confirmed" << true << Lamp::Busy << 1;
    QTest::newRow("all confirmed on hold")
        << "in/confirmed/hold, out/confirmed/hold" << true << Lamp::Held << 0;
    QTest::newRow("oldest ringing decides") << "in/early, in/early" << true << Lamp::Ringing << 0;
    QTest::newRow("terminated skipped")
        << "in/terminated, out/confirmed" << true << Lamp::Busy << 1;
    QTest::newRow("everything at once")
        << "in/terminated, in/confirmed/hold, out/confirmed, out/early, ?/early" << true
        << Lamp::Ringing << 4;
}

void TestLamp::derive() {
    QFETCH(QString, spec);
    QFETCH(bool, usable);
    QFETCH(Lamp, lamp);
    QFETCH(int, deciding);
    const auto list = dialogs(spec);
    const LampView view = deriveLamp(list, usable);
    QCOMPARE(lampName(view.lamp), lampName(lamp));
    QCOMPARE(view.decidingDialog, deciding);
    if (deciding < 0) {
        QVERIFY(view.otherDisplay.isEmpty());
        QVERIFY(view.otherUri.isEmpty());
    } else {
        QCOMPARE(view.otherDisplay, QStringLiteral("Party %1").arg(deciding));
        QCOMPARE(view.otherUri, QStringLiteral("sip:30%1@example.com").arg(deciding));
    }
}

void TestLamp::otherPartyFallsBackToTarget() {
    auto list = dialogs(QStringLiteral("in/early"));
    list[0].remote.identity.clear();
    list[0].remote.display.clear();
    list[0].remote.target.emplace();
    list[0].remote.target->uri = QStringLiteral("**202@example.com");
    const LampView view = deriveLamp(list, true);
    QCOMPARE(view.otherUri, QStringLiteral("**202@example.com"));
    QVERIFY(view.otherDisplay.isEmpty());

    list[0].remote.target.reset();  // nothing known about the other party
    QVERIFY(deriveLamp(list, true).otherUri.isEmpty());
    QCOMPARE(deriveLamp(list, true).lamp, Lamp::Ringing);
}

void TestLamp::noLocalTargetIsBusy() {
    auto list = dialogs(QStringLiteral("in/confirmed"));
    list[0].local.target.reset();
    QCOMPARE(deriveLamp(list, true).lamp, Lamp::Busy);
}

void TestLamp::names() {
    QCOMPARE(lampName(Lamp::Offline), QStringLiteral("offline"));
    QCOMPARE(lampName(Lamp::Idle), QStringLiteral("idle"));
    QCOMPARE(lampName(Lamp::Ringing), QStringLiteral("ringing"));
    QCOMPARE(lampName(Lamp::Calling), QStringLiteral("calling"));
    QCOMPARE(lampName(Lamp::Busy), QStringLiteral("busy"));
    QCOMPARE(lampName(Lamp::Held), QStringLiteral("held"));
}

void TestLamp::dialects_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<Lamp>("lamp");
    QTest::addColumn<QString>("otherUri");
    QTest::newRow("kamailio trying")
        << "kamailio-trying.xml" << Lamp::Calling << "sip:202@example.com";
    QTest::newRow("kamailio early")
        << "kamailio-early.xml" << Lamp::Ringing << "sip:201@example.com";
    QTest::newRow("kamailio confirmed")
        << "kamailio-confirmed.xml" << Lamp::Busy << "sip:201@example.com";
    QTest::newRow("kamailio terminated") << "kamailio-terminated.xml" << Lamp::Idle << "";
    QTest::newRow("kamailio call waiting")
        << "kamailio-aggregated.xml" << Lamp::Ringing << "sip:203@example.com";
    QTest::newRow("asterisk unavailable is idle") << "asterisk-idle.xml" << Lamp::Idle << "";
    QTest::newRow("asterisk ringing")
        << "asterisk-ringing.xml" << Lamp::Ringing << "sip:202@127.0.0.1";
    QTest::newRow("asterisk busy") << "asterisk-busy.xml" << Lamp::Busy << "";
    QTest::newRow("asterisk hold") << "asterisk-hold.xml" << Lamp::Held << "";
    QTest::newRow("freeswitch idle") << "freeswitch-idle.xml" << Lamp::Idle << "";
    QTest::newRow("freeswitch early")
        << "freeswitch-early.xml" << Lamp::Ringing << "sip:202@example.com";
    QTest::newRow("freeswitch confirmed")
        << "freeswitch-confirmed.xml" << Lamp::Busy << "sip:202@example.com";
    QTest::newRow("no namespace proceeding out")
        << "sloppy-no-namespace.xml" << Lamp::Calling << "";
}

void TestLamp::dialects() {
    QFETCH(QString, file);
    QFETCH(Lamp, lamp);
    QFETCH(QString, otherUri);
    const auto document = parseDocument(fixture(file));
    QVERIFY2(document, qPrintable(describe(document)));
    const LampView view = deriveLamp(document->dialogs, true);
    QCOMPARE(lampName(view.lamp), lampName(lamp));
    QCOMPARE(view.otherUri, otherUri);
}

void TestLamp::kamailioCaptures_data() {
    // Real Kamailio bodies (captures/, filled by the capture script; skipped if absent).
    QTest::addColumn<QString>("file");
    QTest::addColumn<Lamp>("lamp");
    QTest::addColumn<QString>("otherUri");
    QTest::newRow("caller trying")
        << "kamailio_caller_trying.xml" << Lamp::Calling << "sip:202@switchboard.test";
    QTest::newRow("caller early") << "kamailio_caller_early.xml" << Lamp::Calling
                                  << "sip:202@switchboard.test";
    QTest::newRow("callee trying")
        << "kamailio_callee_trying.xml" << Lamp::Ringing << "sip:201@switchboard.test";
    QTest::newRow("callee early") << "kamailio_callee_early.xml" << Lamp::Ringing
                                  << "sip:201@switchboard.test";
    QTest::newRow("callee confirmed")
        << "kamailio_callee_confirmed.xml" << Lamp::Busy << "sip:201@switchboard.test";
    QTest::newRow("callee terminated") << "kamailio_callee_terminated.xml" << Lamp::Idle << "";
    QTest::newRow("all terminated")
        << "kamailio_callee_cancelled_all_terminated.xml" << Lamp::Idle << "";
    QTest::newRow("ringing after ended call") << "kamailio_callee_ringing_after_ended_call.xml"
                                              << Lamp::Ringing << "sip:201@switchboard.test";
    QTest::newRow("ringing while busy") << "kamailio_aggregated_ringing_while_busy.xml"
                                        << Lamp::Ringing << "sip:202@switchboard.test";
    QTest::newRow("two confirmed") << "kamailio_aggregated_two_confirmed.xml" << Lamp::Busy << "";
    QTest::newRow("one ended one confirmed")
        << "kamailio_aggregated_one_ended_one_confirmed.xml" << Lamp::Busy << "";
    QTest::newRow("four dialogs") << "kamailio_aggregated_four_dialogs.xml" << Lamp::Busy << "";
}

void TestLamp::kamailioCaptures() {
    QFETCH(QString, file);
    QFETCH(Lamp, lamp);
    QFETCH(QString, otherUri);
    QFile capture(sourceFolder() + QStringLiteral("/captures/") + file);
    if (!capture.open(QIODevice::ReadOnly)) QSKIP("capture not present");
    const auto document = parseDocument(capture.readAll());
    QVERIFY2(document, qPrintable(describe(document)));
    const LampView view = deriveLamp(document->dialogs, true);
    QCOMPARE(lampName(view.lamp), lampName(lamp));
    if (!otherUri.isEmpty()) QCOMPARE(view.otherUri, otherUri);
    if (view.lamp != Lamp::Idle) QVERIFY(!view.otherDisplay.isEmpty());  // from <target display>
}

QTEST_GUILESS_MAIN(TestLamp)
#include "tst_lamp.moc"
