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
        QTest::addColumn<QString>("display");  // "identity", "target" or "none"

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

        const PublishProfile kam = kamailio();
        QTest::newRow("kamailio Trying")
            << kam << DialogState::Trying << I << "Trying" << false << true << true << false << "0"
            << "target";
        QTest::newRow("kamailio proceeding is early")
            << kam << DialogState::Proceeding << R << "early" << true << true << true << false
            << "0"
            << "target";
        QTest::newRow("kamailio early has tags")
            << kam << DialogState::Early << R << "early" << true << true << true << false << "0"
            << "target";
        QTest::newRow("kamailio confirmed without tags")
            << kam << DialogState::Confirmed << I << "confirmed" << false << true << true << false
            << "0"
            << "target";
        QTest::newRow("kamailio terminated without event")
            << kam << DialogState::Terminated << R << "terminated" << false << true << true << false
            << "0"
            << "target";

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
            QVERIFY2(xml.contains(QStringLiteral("display=\"Alice\"/>")), qPrintable(xml));
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
