// Tests core/dialoginfo/publish_profile.*: one side of a dialog as the document a
// publisher sends, for both profiles (rfc4235, kamailio) and every document option, as
// a table; hostile values through the writer and back through the parser; and what the
// rfc4235 profile writes validates against the RFC 4235 schema.

#include <QTest>

#include "dialog_info_schema.h"
#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_info_writer.h"
#include "dialoginfo/publish_profile.h"
#include "dialoginfo_test_util.h"

Q_DECLARE_METATYPE(sb::dialoginfo::PublishProfile)
Q_DECLARE_METATYPE(sb::dialoginfo::DialogState)
Q_DECLARE_METATYPE(sb::dialoginfo::Direction)
Q_DECLARE_METATYPE(sb::dialoginfo::DialogInfo)

using namespace sb;
using namespace sb::dialoginfo;
using sb::dialoginfo::test::validatesAgainstDialogInfoSchema;

namespace {

const QString kEntity = QStringLiteral("sip:201@switchboard.local");

DialogInfo side(DialogState state, Direction direction = Direction::Initiator) {
    DialogInfo dialog;
    dialog.id = QStringLiteral("d1");
    dialog.callId = QStringLiteral("call-1@127.0.0.1");
    dialog.localTag = QStringLiteral("lt");
    dialog.remoteTag = state == DialogState::Trying ? QString() : QStringLiteral("rt");
    dialog.direction = direction;
    dialog.state = state;
    if (state == DialogState::Terminated) {
        dialog.stateEvent = QStringLiteral("rejected");
        dialog.stateCode = 486;
    }
    dialog.local.identity = kEntity;
    dialog.local.display = QStringLiteral("Alice");
    dialog.local.target = Target{QStringLiteral("sip:201@127.0.0.1:5070"), {}};
    dialog.remote.identity = QStringLiteral("sip:202@switchboard.local");
    dialog.remote.display = QStringLiteral("Bob");
    dialog.remote.target = Target{QStringLiteral("sip:202@127.0.0.1:5072"), {}};
    return dialog;
}

PublishProfile kamailio() {
    PublishProfile profile;
    profile.compat = PublishProfile::Compat::Kamailio;
    return profile;
}

}  // namespace

class TestPublishProfile : public QObject {
    Q_OBJECT

private slots:
    // Each row: a profile, the side's state and direction, and what the written document
    // must say — the state text, whether tags, call-id, participants, event/code appear,
    // the version, and where the display name is.
    void table_data() {
        QTest::addColumn<PublishProfile>("profile");
        QTest::addColumn<DialogState>("state");
        QTest::addColumn<Direction>("direction");
        QTest::addColumn<QString>("stateText");
        QTest::addColumn<bool>("tags");
        QTest::addColumn<bool>("callId");
        QTest::addColumn<bool>("participants");
        QTest::addColumn<bool>("eventAndCode");
        QTest::addColumn<QString>("version");
        // "identity" / "target": the display name (Alice) on <identity> / on <target>;
        // "user": the target URI's user part on <target> (pua_dialoginfo's
        // attribute_display); "none".
        QTest::addColumn<QString>("display");

        const auto I = Direction::Initiator;
        const auto R = Direction::Recipient;
        const PublishProfile rfc;
        QTest::newRow("rfc trying")
            << rfc << DialogState::Trying << I << "trying" << true << true << true << false << "7"
            << "identity";
        QTest::newRow("rfc proceeding") << rfc << DialogState::Proceeding << R << "proceeding"
                                        << true << true << true << false << "7"
                                        << "identity";
        QTest::newRow("rfc early")
            << rfc << DialogState::Early << R << "early" << true << true << true << false << "7"
            << "identity";
        QTest::newRow("rfc confirmed keeps tags")
            << rfc << DialogState::Confirmed << I << "confirmed" << true << true << true << false
            << "7"
            << "identity";
        QTest::newRow("rfc terminated with event and code")
            << rfc << DialogState::Terminated << R << "terminated" << true << true << true << true
            << "7"
            << "identity";

        // compat = kamailio with display_names at its default: no display name anywhere,
        // as pua_dialoginfo with attribute_display at its default (0).
        const PublishProfile kam = kamailio();
        QTest::newRow("kamailio Trying")
            << kam << DialogState::Trying << I << "Trying" << false << true << true << false << "0"
            << "none";
        QTest::newRow("kamailio proceeding is early")
            << kam << DialogState::Proceeding << R << "early" << true << true << true << false
            << "0"
            << "none";
        QTest::newRow("kamailio early has tags")
            << kam << DialogState::Early << R << "early" << true << true << true << false << "0"
            << "none";
        QTest::newRow("kamailio confirmed without tags")
            << kam << DialogState::Confirmed << I << "confirmed" << false << true << true << false
            << "0"
            << "none";
        QTest::newRow("kamailio terminated without event")
            << kam << DialogState::Terminated << R << "terminated" << false << true << true << false
            << "0"
            << "none";
        PublishProfile kamTarget = kamailio();
        kamTarget.displayNames = PublishProfile::DisplayNames::Target;
        QTest::newRow("kamailio display_names target: the target's user part")
            << kamTarget << DialogState::Early << I << "early" << true << true << true << false
            << "0"
            << "user";
        QTest::newRow("kamailio display_names target, Trying: the identity's user part")
            << kamTarget << DialogState::Trying << I << "Trying" << false << true << true << false
            << "0"
            << "user";
        PublishProfile kamOff = kamailio();
        kamOff.displayNames = PublishProfile::DisplayNames::Off;
        QTest::newRow("kamailio display_names off")
            << kamOff << DialogState::Confirmed << R << "confirmed" << false << true << true
            << false << "0"
            << "none";
        PublishProfile kamCallerConfirmed = kamailio();
        kamCallerConfirmed.callerConfirmed = true;
        QTest::newRow("kamailio caller_confirmed: ringing caller confirmed, with tags")
            << kamCallerConfirmed << DialogState::Early << I << "confirmed" << true << true << true
            << false << "0"
            << "none";

        PublishProfile noCallId;
        noCallId.includeCallId = false;
        QTest::newRow("include_callid off") << noCallId << DialogState::Early << R << "early"
                                            << true << false << true << false << "7"
                                            << "identity";
        PublishProfile noTags;
        noTags.includeTags = false;
        QTest::newRow("include_tags off keeps targets")
            << noTags << DialogState::Early << R << "early" << false << true << true << false << "7"
            << "identity";
        PublishProfile noParticipants;
        noParticipants.includeLocalRemote = false;
        QTest::newRow("include_localremote off")
            << noParticipants << DialogState::Confirmed << I << "confirmed" << true << true << false
            << false << "7"
            << "none";
        PublishProfile callerConfirmed;
        callerConfirmed.callerConfirmed = true;
        QTest::newRow("caller_confirmed: caller ringing is confirmed")
            << callerConfirmed << DialogState::Early << I << "confirmed" << true << true << true
            << false << "7"
            << "identity";
        QTest::newRow("caller_confirmed: callee still early")
            << callerConfirmed << DialogState::Early << R << "early" << true << true << true
            << false << "7"
            << "identity";
        QTest::newRow("caller_confirmed: caller trying stays")
            << callerConfirmed << DialogState::Trying << I << "trying" << true << true << true
            << false << "7"
            << "identity";
        PublishProfile displayOnTarget;
        displayOnTarget.displayNames = PublishProfile::DisplayNames::Target;
        QTest::newRow("display_names target") << displayOnTarget << DialogState::Early << R
                                              << "early" << true << true << true << false << "7"
                                              << "target";
        PublishProfile noDisplay;
        noDisplay.displayNames = PublishProfile::DisplayNames::Off;
        QTest::newRow("display_names off") << noDisplay << DialogState::Early << R << "early"
                                           << true << true << true << false << "7"
                                           << "none";
        PublishProfile zero;
        zero.version = PublishProfile::Version::Zero;
        QTest::newRow("version zero")
            << zero << DialogState::Early << R << "early" << true << true << true << false << "0"
            << "identity";
    }

    void table() {
        QFETCH(PublishProfile, profile);
        QFETCH(DialogState, state);
        QFETCH(Direction, direction);
        QFETCH(QString, stateText);
        QFETCH(bool, tags);
        QFETCH(bool, callId);
        QFETCH(bool, participants);
        QFETCH(bool, eventAndCode);
        QFETCH(QString, version);
        QFETCH(QString, display);

        const Document document = publishedDocument(side(state, direction), kEntity, 7, profile);
        const QString xml = QString::fromUtf8(writeDocument(document, writeOptionsFor(profile)));
        QVERIFY2(xml.contains(QStringLiteral(">%1</state>").arg(stateText)), qPrintable(xml));
        QCOMPARE(xml.contains(QStringLiteral("local-tag=")), tags);
        QCOMPARE(xml.contains(QStringLiteral("call-id=")), callId);
        QCOMPARE(xml.contains(QStringLiteral("<local>")), participants);
        QCOMPARE(xml.contains(QStringLiteral("<remote>")), participants);
        QCOMPARE(xml.contains(QStringLiteral("event=\"rejected\"")), eventAndCode);
        QCOMPARE(xml.contains(QStringLiteral("code=\"486\"")), eventAndCode);
        QVERIFY2(xml.contains(QStringLiteral("version=\"%1\"").arg(version)), qPrintable(xml));
        QVERIFY(xml.contains(QStringLiteral("state=\"full\"")));
        QVERIFY(xml.contains(QStringLiteral("entity=\"%1\"").arg(kEntity)));
        if (display == QLatin1String("identity")) {
            QVERIFY2(xml.contains(QStringLiteral("<identity display=\"Alice\">")), qPrintable(xml));
        } else if (display == QLatin1String("target")) {
            QVERIFY2(xml.contains(QStringLiteral("<target display=\"Alice\" uri=")),
                     qPrintable(xml));
            QVERIFY(!xml.contains(QStringLiteral("<identity display=")));
        } else if (display == QLatin1String("user")) {
            QVERIFY2(xml.contains(QStringLiteral("<target display=\"201\" uri=")), qPrintable(xml));
            QVERIFY2(xml.contains(QStringLiteral("<target display=\"202\" uri=")), qPrintable(xml));
            QVERIFY(!xml.contains(QStringLiteral("Alice")));
            QVERIFY(!xml.contains(QStringLiteral("<identity display=")));
        } else {
            QVERIFY(!xml.contains(QStringLiteral("display=")));
        }
        // The same document reads back (the parser accepts both profiles).
        const Result<Document> parsed = parseDocument(xml.toUtf8());
        QVERIFY(parsed);
        QCOMPARE(parsed->dialogs.size(), std::size_t(1));
        QCOMPARE(parsed->dialogs.front().id, QStringLiteral("d1"));
    }

    // compat = kamailio: the targets pua_dialoginfo's callbacks write (seen from Kamailio
    // 5.6.3 in tests/integration/publish_equivalence): the identities while Trying, the
    // Contacts while ringing, and once confirmed or ended the caller's Contact but the
    // callee's identity. Tags only while ringing. side(): local 201 (Contact :5070),
    // remote 202 (Contact :5072); for a recipient, local is the callee.
    void kamailioTargets_data() {
        QTest::addColumn<DialogState>("state");
        QTest::addColumn<Direction>("direction");
        QTest::addColumn<bool>("callerConfirmed");
        QTest::addColumn<QString>("stateText");
        QTest::addColumn<QString>("localTarget");
        QTest::addColumn<QString>("remoteTarget");
        QTest::addColumn<bool>("tags");

        const auto I = Direction::Initiator;
        const auto R = Direction::Recipient;
        const QString localAor = kEntity;
        const QString remoteAor = QStringLiteral("sip:202@switchboard.local");
        const QString localContact = QStringLiteral("sip:201@127.0.0.1:5070");
        const QString remoteContact = QStringLiteral("sip:202@127.0.0.1:5072");
        QTest::newRow("caller Trying")
            << DialogState::Trying << I << false << "Trying" << localAor << remoteAor << false;
        QTest::newRow("callee Trying (callee_trying)")
            << DialogState::Trying << R << false << "Trying" << localAor << remoteAor << false;
        QTest::newRow("caller proceeding") << DialogState::Proceeding << I << false << "early"
                                           << localContact << remoteContact << true;
        QTest::newRow("caller early")
            << DialogState::Early << I << false << "early" << localContact << remoteContact << true;
        QTest::newRow("callee early")
            << DialogState::Early << R << false << "early" << localContact << remoteContact << true;
        QTest::newRow("caller confirmed: callee's identity")
            << DialogState::Confirmed << I << false << "confirmed" << localContact << remoteAor
            << false;
        QTest::newRow("callee confirmed: own identity")
            << DialogState::Confirmed << R << false << "confirmed" << localAor << remoteContact
            << false;
        QTest::newRow("caller terminated") << DialogState::Terminated << I << false << "terminated"
                                           << localContact << remoteAor << false;
        QTest::newRow("callee terminated") << DialogState::Terminated << R << false << "terminated"
                                           << localAor << remoteContact << false;
        QTest::newRow("caller_confirmed while ringing: the ringing document")
            << DialogState::Early << I << true << "confirmed" << localContact << remoteContact
            << true;
        QTest::newRow("caller_confirmed, answered")
            << DialogState::Confirmed << I << true << "confirmed" << localContact << remoteAor
            << false;
        QTest::newRow("caller_confirmed leaves the callee early")
            << DialogState::Early << R << true << "early" << localContact << remoteContact << true;
    }

    void kamailioTargets() {
        QFETCH(DialogState, state);
        QFETCH(Direction, direction);
        QFETCH(bool, callerConfirmed);
        QFETCH(QString, stateText);
        QFETCH(QString, localTarget);
        QFETCH(QString, remoteTarget);
        QFETCH(bool, tags);

        PublishProfile profile = kamailio();
        profile.callerConfirmed = callerConfirmed;
        DialogInfo dialog = side(state, direction);
        dialog.local.target->params = {{QStringLiteral("+sip.rendering"), QStringLiteral("no")}};
        const QByteArray xml =
            writeDocument(publishedDocument(dialog, kEntity, 5, profile), writeOptionsFor(profile));
        QVERIFY2(xml.contains(QStringLiteral(">%1</state>").arg(stateText).toUtf8()),
                 xml.constData());
        const Result<Document> parsed = parseDocument(xml);
        QVERIFY2(parsed, xml.constData());
        const DialogInfo& back = parsed->dialogs.front();
        QVERIFY(back.local.target);
        QVERIFY(back.remote.target);
        QCOMPARE(back.local.target->uri, localTarget);
        QCOMPARE(back.remote.target->uri, remoteTarget);
        // pua_dialoginfo writes a target's URI only.
        QVERIFY2(!xml.contains("<param"), xml.constData());
        QCOMPARE(!back.localTag.isEmpty(), tags);
        QCOMPARE(!back.remoteTag.isEmpty(), tags);
    }

    // A ringing callee whose 1xx had no Contact: pua_dialoginfo writes the identity.
    void kamailioMissingContactIsTheIdentity() {
        DialogInfo dialog = side(DialogState::Early, Direction::Initiator);
        dialog.remote.target.reset();
        const QByteArray xml = writeDocument(publishedDocument(dialog, kEntity, 1, kamailio()),
                                             writeOptionsFor(kamailio()));
        QVERIFY2(xml.contains("<target uri=\"sip:202@switchboard.local\"/>"), xml.constData());
        QVERIFY2(xml.contains("<target uri=\"sip:201@127.0.0.1:5070\"/>"), xml.constData());
    }

    // Byte for byte what Kamailio 5.6.3's pua_dialoginfo (every parameter at its default)
    // PUBLISHed for one call 201 → 202 (recorded with tests/integration/publish_equivalence's
    // kamailio_pua_defaults.cfg and capture_publish.xml), from the sides the tracker gives
    // for that call: display names from From, the caller's tag from the start, the
    // callee's Contact, event and code when ended — all of which compat = kamailio drops.
    void kamailioDocumentsAsPuaDialoginfoWritesThem_data() {
        QTest::addColumn<DialogInfo>("dialog");
        QTest::addColumn<PublishProfile>("profile");
        QTest::addColumn<QByteArray>("expected");

        const QString caller = QStringLiteral("sip:201@equiv.test");
        const QString callee = QStringLiteral("sip:202@equiv.test");
        const auto sideOf = [&](Direction direction, DialogState state) {
            DialogInfo dialog;
            dialog.id = QStringLiteral("padi-6b09babf-1f94-1");
            dialog.callId = QStringLiteral("1-8123@127.0.0.1");
            const QString callerTag = QStringLiteral("8123SIPpTag001");
            const QString calleeTag =
                state == DialogState::Trying ? QString() : QStringLiteral("8117SIPpTag011");
            Participant from{caller, QStringLiteral("Phone 201"),
                             Target{QStringLiteral("sip:201@127.0.0.1:45063"), {}}};
            Participant to{callee, QString(), std::nullopt};
            if (state != DialogState::Trying)
                to.target = Target{QStringLiteral("sip:202@127.0.0.1:45064"), {}};
            const bool initiator = direction == Direction::Initiator;
            dialog.direction = direction;
            dialog.state = state;
            dialog.localTag = initiator ? callerTag : calleeTag;
            dialog.remoteTag = initiator ? calleeTag : callerTag;
            dialog.local = initiator ? from : to;
            dialog.remote = initiator ? to : from;
            if (state == DialogState::Terminated)
                dialog.stateEvent =
                    initiator ? QStringLiteral("local-bye") : QStringLiteral("remote-bye");
            return dialog;
        };
        const auto document = [](const char* entity, const char* dialogAttributes,
                                 const char* state, const char* remote, const char* local) {
            return QByteArray(
                       "<?xml version=\"1.0\"?>\n"
                       "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
                       "version=\"0\" state=\"full\" entity=\"") +
                   entity + "\">\n  <dialog id=\"padi-6b09babf-1f94-1\" " + dialogAttributes +
                   ">\n    <state>" + state + "</state>\n    <remote>\n" + remote +
                   "    </remote>\n    <local>\n" + local +
                   "    </local>\n  </dialog>\n"
                   "</dialog-info>\n";
        };
        const auto participant = [](const char* identity, const char* target) {
            return QByteArray("      <identity>") + identity + "</identity>\n      <target " +
                   target + "/>\n";
        };
        const PublishProfile kam = kamailio();
        QTest::newRow("caller Trying")
            << sideOf(Direction::Initiator, DialogState::Trying) << kam
            << document("sip:201@equiv.test",
                        "call-id=\"1-8123@127.0.0.1\" direction=\"initiator\"", "Trying",
                        participant("sip:202@equiv.test", "uri=\"sip:202@equiv.test\""),
                        participant("sip:201@equiv.test", "uri=\"sip:201@equiv.test\""));
        QTest::newRow("caller early")
            << sideOf(Direction::Initiator, DialogState::Early) << kam
            << document("sip:201@equiv.test",
                        "call-id=\"1-8123@127.0.0.1\" local-tag=\"8123SIPpTag001\" "
                        "remote-tag=\"8117SIPpTag011\" direction=\"initiator\"",
                        "early",
                        participant("sip:202@equiv.test", "uri=\"sip:202@127.0.0.1:45064\""),
                        participant("sip:201@equiv.test", "uri=\"sip:201@127.0.0.1:45063\""));
        QTest::newRow("callee confirmed")
            << sideOf(Direction::Recipient, DialogState::Confirmed) << kam
            << document("sip:202@equiv.test",
                        "call-id=\"1-8123@127.0.0.1\" direction=\"recipient\"", "confirmed",
                        participant("sip:201@equiv.test", "uri=\"sip:201@127.0.0.1:45063\""),
                        participant("sip:202@equiv.test", "uri=\"sip:202@equiv.test\""));
        QTest::newRow("caller terminated")
            << sideOf(Direction::Initiator, DialogState::Terminated) << kam
            << document("sip:201@equiv.test",
                        "call-id=\"1-8123@127.0.0.1\" direction=\"initiator\"", "terminated",
                        participant("sip:202@equiv.test", "uri=\"sip:202@equiv.test\""),
                        participant("sip:201@equiv.test", "uri=\"sip:201@127.0.0.1:45063\""));
        // attribute_display = 1 (display_names = target): the URI's user part, first.
        PublishProfile kamTarget = kamailio();
        kamTarget.displayNames = PublishProfile::DisplayNames::Target;
        QTest::newRow("callee early, display_names target")
            << sideOf(Direction::Recipient, DialogState::Early) << kamTarget
            << document("sip:202@equiv.test",
                        "call-id=\"1-8123@127.0.0.1\" local-tag=\"8117SIPpTag011\" "
                        "remote-tag=\"8123SIPpTag001\" direction=\"recipient\"",
                        "early",
                        participant("sip:201@equiv.test",
                                    "display=\"201\" uri=\"sip:201@127.0.0.1:45063\""),
                        participant("sip:202@equiv.test",
                                    "display=\"202\" uri=\"sip:202@127.0.0.1:45064\""));
    }

    void kamailioDocumentsAsPuaDialoginfoWritesThem() {
        QFETCH(DialogInfo, dialog);
        QFETCH(PublishProfile, profile);
        QFETCH(QByteArray, expected);
        const QString entity = dialog.local.identity;
        const QByteArray xml =
            writeDocument(publishedDocument(dialog, entity, 4, profile), writeOptionsFor(profile));
        QCOMPARE(xml, expected);
    }

    void remoteComesBeforeLocalOnlyUnderKamailio() {
        const DialogInfo dialog = side(DialogState::Confirmed);
        const QString rfc = QString::fromUtf8(
            writeDocument(publishedDocument(dialog, kEntity, 1, {}), writeOptionsFor({})));
        QVERIFY(rfc.indexOf(QStringLiteral("<local>")) < rfc.indexOf(QStringLiteral("<remote>")));
        const QString kam = QString::fromUtf8(writeDocument(
            publishedDocument(dialog, kEntity, 1, kamailio()), writeOptionsFor(kamailio())));
        QVERIFY(kam.indexOf(QStringLiteral("<remote>")) < kam.indexOf(QStringLiteral("<local>")));
    }

    void rfc4235ProfileValidatesAgainstTheSchema() {
        for (DialogState state : {DialogState::Trying, DialogState::Proceeding, DialogState::Early,
                                  DialogState::Confirmed, DialogState::Terminated}) {
            const QByteArray xml =
                writeDocument(publishedDocument(side(state), kEntity, 3, {}), writeOptionsFor({}));
            QString error;
            QVERIFY2(validatesAgainstDialogInfoSchema(xml, &error), qPrintable(error));
        }
    }

    void hostileValuesArriveIntact() {
        // The seed's module writes an empty <identity/> for such a value and invalid XML
        // for a call-id with quotes; both profiles must carry them through unchanged.
        const QString hostile = QStringLiteral("sip:a&b\"c'<d>@x");
        const QString longUri = QStringLiteral("sip:") + QString(2048, QLatin1Char('x')) +
                                QStringLiteral("@example.com");
        for (const PublishProfile& profile : {PublishProfile{}, kamailio()}) {
            DialogInfo dialog = side(DialogState::Early, Direction::Recipient);
            dialog.callId = QStringLiteral("call\"with'quotes&<amp>");
            dialog.remote.identity = hostile;
            dialog.remote.display = QStringLiteral("Smith & \"Sons\" <Ltd>");
            dialog.local.target = Target{longUri, {}};
            const QByteArray xml = writeDocument(publishedDocument(dialog, hostile, 1, profile),
                                                 writeOptionsFor(profile));
            const Result<Document> parsed = parseDocument(xml);
            QVERIFY2(parsed, qPrintable(QString::fromUtf8(xml)));
            QCOMPARE(parsed->entity, hostile);
            const DialogInfo& back = parsed->dialogs.front();
            QCOMPARE(back.callId, dialog.callId);
            QCOMPARE(back.remote.identity, hostile);
            QCOMPARE(back.local.target->uri, longUri);
        }
    }
};

QTEST_GUILESS_MAIN(TestPublishProfile)
#include "tst_publish_profile.moc"
