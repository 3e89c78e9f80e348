// The dialog-info parser (core/dialoginfo/dialog_info.*) on documents written from what
// Kamailio, Asterisk and FreeSWITCH really send, on sloppy ones, and on hostile ones.

#include <QDir>
#include <QTest>

#include "dialoginfo/dialog_info.h"
#include "dialoginfo_test_util.h"

using namespace sb;
using namespace sb::dialoginfo;
using namespace sb::dialoginfo::test;

Q_DECLARE_METATYPE(sb::dialoginfo::DialogState)
Q_DECLARE_METATYPE(sb::dialoginfo::Direction)
Q_DECLARE_METATYPE(sb::dialoginfo::DocumentState)
Q_DECLARE_METATYPE(sb::ErrorKind)

namespace {

QByteArray wrap(QByteArrayView dialogs, QByteArrayView rootAttributes = R"(version="1")") {
    QByteArray out = R"(<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" state="full" entity="sip:201@example.com" )";
    out += rootAttributes;
    out += ">\n";
    out += dialogs;
    out += "\n</dialog-info>\n";
    return out;
}

// The bytes of text in UTF-16 (host byte order, with the BOM the text starts with).
QByteArray utf16(const QString& text) {
    return QByteArray(reinterpret_cast<const char*>(text.utf16()), text.size() * 2);
}

QByteArray manyDialogs(int count) {
    QByteArray dialogs;
    for (int i = 0; i < count; ++i) {
        dialogs += "<dialog id=\"d" + QByteArray::number(i) + "\"><state>early</state></dialog>\n";
    }
    return wrap(dialogs);
}

}  // namespace

class TestDialogInfoParser : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    void dialects_data();
    void dialects();
    void kamailioTryingFields();
    void kamailioEarlyFields();
    void kamailioAggregated();
    void kamailioPartial();
    void asteriskHold();
    void asteriskEntityWithPort();
    void freeswitchTargetWithoutScheme();
    void freeswitchIdleHasNoDialog();
    void sloppyNoNamespace();
    void prefixedNamespace();
    void foreignElementsIgnored();
    void entitiesAndCdataDecoded();

    void stateNames_data();
    void stateNames();
    void documentState_data();
    void documentState();
    void version_data();
    void version();
    void direction_data();
    void direction();
    void stateEventAndCode();
    void duration();
    void idFallsBackToCallId();
    void unknownParticipantOrder();
    void displayOnTarget();
    void rendersMedia_data();
    void rendersMedia();

    void refused_data();
    void refused();
    void emptyBody();
    void billionLaughsNeverExpanded();
    void externalEntityNeverRead();
    void hugeBodyRefusedByLimit();
    void limitsAreConfigurable();
    void errorsCarryAnOffset();

    void normalisedEntity_data();
    void normalisedEntity();
    void names();

    void kamailioCaptures_data();
    void kamailioCaptures();
};

void TestDialogInfoParser::initTestCase() {
    initialiseXml();
    initialiseXml();  // idempotent
    QVERIFY2(!fixture(QStringLiteral("kamailio-early.xml")).isEmpty(),
             qPrintable(QStringLiteral("fixtures not found under ") + sourceFolder()));
}

void TestDialogInfoParser::dialects_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<qint64>("version");  // -1: none
    QTest::addColumn<QString>("entity");
    QTest::addColumn<int>("dialogCount");
    QTest::addColumn<DialogState>("firstState");
    QTest::addColumn<Direction>("firstDirection");

    QTest::newRow("kamailio trying") << "kamailio-trying.xml" << 0LL << "sip:201@example.com" << 1
                                     << DialogState::Trying << Direction::Initiator;
    QTest::newRow("kamailio early") << "kamailio-early.xml" << 3LL << "sip:202@example.com" << 1
                                    << DialogState::Early << Direction::Recipient;
    QTest::newRow("kamailio confirmed") << "kamailio-confirmed.xml" << 4LL << "sip:202@example.com"
                                        << 1 << DialogState::Confirmed << Direction::Recipient;
    QTest::newRow("kamailio terminated")
        << "kamailio-terminated.xml" << 5LL << "sip:202@example.com" << 1 << DialogState::Terminated
        << Direction::Recipient;
    QTest::newRow("kamailio aggregated")
        << "kamailio-aggregated.xml" << 9LL << "sip:202@example.com" << 2 << DialogState::Confirmed
        << Direction::Recipient;
    QTest::newRow("kamailio partial") << "kamailio-partial.xml" << 10LL << "sip:202@example.com"
                                      << 1 << DialogState::Terminated << Direction::Recipient;
    QTest::newRow("asterisk idle") << "asterisk-idle.xml" << 2LL << "sip:201@127.0.0.1:5060" << 1
                                   << DialogState::Terminated << Direction::Unknown;
    QTest::newRow("asterisk ringing") << "asterisk-ringing.xml" << 3LL << "sip:201@127.0.0.1:5060"
                                      << 1 << DialogState::Early << Direction::Recipient;
    QTest::newRow("asterisk busy") << "asterisk-busy.xml" << 4LL << "sip:201@127.0.0.1:5060" << 1
                                   << DialogState::Confirmed << Direction::Unknown;
    QTest::newRow("asterisk hold") << "asterisk-hold.xml" << 5LL << "sip:201@127.0.0.1:5060" << 1
                                   << DialogState::Confirmed << Direction::Unknown;
    QTest::newRow("freeswitch idle") << "freeswitch-idle.xml" << 12LL << "sip:201@example.com" << 0
                                     << DialogState::Trying << Direction::Unknown;
    QTest::newRow("freeswitch early") << "freeswitch-early.xml" << 13LL << "sip:201@example.com"
                                      << 1 << DialogState::Early << Direction::Recipient;
    QTest::newRow("freeswitch confirmed")
        << "freeswitch-confirmed.xml" << 14LL << "sip:201@example.com" << 1
        << DialogState::Confirmed << Direction::Recipient;
    QTest::newRow("sloppy no namespace")
        << "sloppy-no-namespace.xml" << -1LL << "sip:203@example.com" << 1
        << DialogState::Proceeding << Direction::Initiator;
}

void TestDialogInfoParser::dialects() {
    QFETCH(QString, file);
    QFETCH(qint64, version);
    QFETCH(QString, entity);
    QFETCH(int, dialogCount);
    QFETCH(DialogState, firstState);
    QFETCH(Direction, firstDirection);

    const QByteArray body = fixture(file);
    QVERIFY(!body.isEmpty());
    const auto document = parseDocument(body);
    QVERIFY2(document, qPrintable(describe(document)));
    if (version < 0) {
        QVERIFY(!document->version);
    } else {
        QCOMPARE(document->version, std::optional<quint64>(quint64(version)));
    }
    QCOMPARE(document->entity, entity);
    QCOMPARE(int(document->dialogs.size()), dialogCount);
    if (dialogCount > 0) {
        QCOMPARE(document->dialogs.front().state, firstState);
        QCOMPARE(document->dialogs.front().direction, firstDirection);
        QVERIFY(!document->dialogs.front().id.isEmpty());
    }
}

void TestDialogInfoParser::kamailioTryingFields() {
    const auto document = parseDocument(fixture(QStringLiteral("kamailio-trying.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->state, DocumentState::Full);
    const DialogInfo& dialog = document->dialogs.at(0);
    QCOMPARE(dialog.id, QStringLiteral("e1f2a3b4c5d6"));
    QCOMPARE(dialog.callId, QStringLiteral("0ba2cf53-9a78-4f2d@127.0.0.1"));
    QCOMPARE(dialog.localTag, QStringLiteral("as7d900as8"));
    QVERIFY(dialog.remoteTag.isEmpty());
    // <remote> came before <local>: each lands where it belongs.
    QCOMPARE(dialog.remote.identity, QStringLiteral("sip:202@example.com"));
    QVERIFY(dialog.remote.target);
    QCOMPARE(dialog.remote.target->uri, QStringLiteral("sip:202@example.com"));
    QCOMPARE(dialog.local.identity, QStringLiteral("sip:201@example.com"));
    QVERIFY(dialog.local.target);
    QCOMPARE(dialog.local.target->uri, QStringLiteral("sip:201@example.com"));
    QVERIFY(!dialog.durationSeconds);
    QCOMPARE(dialog.stateCode, 0);
    QVERIFY(dialog.stateEvent.isEmpty());
}

void TestDialogInfoParser::kamailioEarlyFields() {
    const auto document = parseDocument(fixture(QStringLiteral("kamailio-early.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    const DialogInfo& dialog = document->dialogs.at(0);
    QCOMPARE(dialog.callId, QStringLiteral("0ba2cf53-9a78-4f2d@127.0.0.1"));
    QCOMPARE(dialog.localTag, QStringLiteral("8321234356"));
    QCOMPARE(dialog.remoteTag, QStringLiteral("as7d900as8"));
    QCOMPARE(dialog.remote.display, QStringLiteral("Alice Example"));
    QCOMPARE(dialog.remote.identity, QStringLiteral("sip:201@example.com"));
    QCOMPARE(dialog.remote.target->uri, QStringLiteral("sip:201@127.0.0.1:5070"));
    QCOMPARE(dialog.local.display, QStringLiteral("Bob"));
}

void TestDialogInfoParser::kamailioAggregated() {
    const auto document = parseDocument(fixture(QStringLiteral("kamailio-aggregated.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.size(), std::size_t(2));
    const DialogInfo& confirmed = document->dialogs.at(0);
    const DialogInfo& waiting = document->dialogs.at(1);
    QCOMPARE(confirmed.id, QStringLiteral("a9b8c7d6e5f4"));
    QVERIFY(confirmed.callId.isEmpty());  // Kamailio: call-id and tags only while early
    QCOMPARE(waiting.id, QStringLiteral("f0e1d2c3b4a5"));
    QCOMPARE(waiting.state, DialogState::Early);
    QCOMPARE(waiting.callId, QStringLiteral("77c1e2d0-51aa@127.0.0.1"));
    QCOMPARE(waiting.remote.display, QStringLiteral("Carol"));
}

void TestDialogInfoParser::kamailioPartial() {
    const auto document = parseDocument(fixture(QStringLiteral("kamailio-partial.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->state, DocumentState::Partial);
    QCOMPARE(document->dialogs.at(0).stateEvent, QStringLiteral("cancelled"));
}

void TestDialogInfoParser::asteriskHold() {
    const auto document = parseDocument(fixture(QStringLiteral("asterisk-hold.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    const DialogInfo& dialog = document->dialogs.at(0);
    QCOMPARE(dialog.id, QStringLiteral("201"));
    QVERIFY(dialog.callId.isEmpty());
    QVERIFY(dialog.local.target);
    QCOMPARE(dialog.local.target->params.size(), std::size_t(1));
    QCOMPARE(dialog.local.target->params.at(0).first, QStringLiteral("+sip.rendering"));
    QCOMPARE(dialog.local.target->params.at(0).second, QStringLiteral("no"));
    QVERIFY(!dialog.local.target->rendersMedia());
    QVERIFY(dialog.local.identity.isEmpty());
    QVERIFY(!dialog.remote.target);
}

void TestDialogInfoParser::asteriskEntityWithPort() {
    const auto document = parseDocument(fixture(QStringLiteral("asterisk-busy.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(sb::dialoginfo::normalisedEntity(document->entity), QStringLiteral("201@127.0.0.1"));
}

void TestDialogInfoParser::freeswitchTargetWithoutScheme() {
    const auto document = parseDocument(fixture(QStringLiteral("freeswitch-early.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    const DialogInfo& dialog = document->dialogs.at(0);
    QCOMPARE(dialog.id, QStringLiteral("5a4b0d86-2d4f-4c5a-9f59-1b2d7c1c9e10"));
    QVERIFY(dialog.callId.isEmpty());
    QVERIFY(dialog.localTag.isEmpty());
    QCOMPARE(dialog.remote.target->uri, QStringLiteral("**202@example.com"));  // as written
    QVERIFY(dialog.local.target->rendersMedia());
}

void TestDialogInfoParser::freeswitchIdleHasNoDialog() {
    const auto document = parseDocument(fixture(QStringLiteral("freeswitch-idle.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    QVERIFY(document->dialogs.empty());
}

void TestDialogInfoParser::sloppyNoNamespace() {
    const auto document = parseDocument(fixture(QStringLiteral("sloppy-no-namespace.xml")));
    QVERIFY2(document, qPrintable(describe(document)));
    QVERIFY(!document->version);
    QCOMPARE(document->dialogs.at(0).id, QStringLiteral("x1"));
}

void TestDialogInfoParser::prefixedNamespace() {
    const QByteArray body = R"(<?xml version="1.0"?>
<d:dialog-info xmlns:d="urn:ietf:params:xml:ns:dialog-info" version="7" state="full" entity="sip:201@example.com">
  <d:dialog id="p1" direction="recipient"><d:state>early</d:state>
    <d:remote><d:identity display="Bob">sip:202@example.com</d:identity></d:remote>
  </d:dialog>
</d:dialog-info>)";
    const auto document = parseDocument(body);
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.size(), std::size_t(1));
    QCOMPARE(document->dialogs.at(0).remote.identity, QStringLiteral("sip:202@example.com"));
}

void TestDialogInfoParser::foreignElementsIgnored() {
    // Extension elements (RFC 4235 §4.1 allows them) and elements of another namespace
    // are skipped with their whole subtree, even when their local names look familiar.
    const QByteArray body = wrap(R"(
  <x:dialog xmlns:x="urn:example:ext" id="foreign"><x:state>confirmed</x:state></x:dialog>
  <dialog id="d1" direction="recipient">
    <x:extra xmlns:x="urn:example:ext"><state>confirmed</state></x:extra>
    <state>early</state>
    <route-set><hop>sip:proxy@example.com</hop></route-set>
    <remote>
      <x:identity xmlns:x="urn:example:ext">sip:wrong@example.com</x:identity>
      <identity>sip:202@example.com</identity>
      <unknown-thing>ignored</unknown-thing>
    </remote>
  </dialog>
  <something-new><dialog id="nested"><state>confirmed</state></dialog></something-new>)");
    const auto document = parseDocument(body);
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.size(), std::size_t(1));
    QCOMPARE(document->dialogs.at(0).id, QStringLiteral("d1"));
    QCOMPARE(document->dialogs.at(0).state, DialogState::Early);
    QCOMPARE(document->dialogs.at(0).remote.identity, QStringLiteral("sip:202@example.com"));
}

void TestDialogInfoParser::entitiesAndCdataDecoded() {
    // The five predefined entities and character references are part of XML itself
    // (no DTD needed); call-ids with quotes must survive.
    const QByteArray body = wrap(R"(
  <dialog id="a&amp;b" call-id="&quot;odd&quot;&lt;id&gt;@h" direction="recipient">
    <state>ea<![CDATA[rl]]>y</state>
    <remote><identity display="Tom &amp; Jerry &#x263A;">sip:202@example.com</identity></remote>
  </dialog>)");
    const auto document = parseDocument(body);
    QVERIFY2(document, qPrintable(describe(document)));
    const DialogInfo& dialog = document->dialogs.at(0);
    QCOMPARE(dialog.id, QStringLiteral("a&b"));
    QCOMPARE(dialog.callId, QStringLiteral("\"odd\"<id>@h"));
    QCOMPARE(dialog.state, DialogState::Early);
    QCOMPARE(dialog.remote.display, QStringLiteral("Tom & Jerry \u263A"));
}

void TestDialogInfoParser::stateNames_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<DialogState>("state");
    QTest::newRow("trying") << QByteArray("trying") << DialogState::Trying;
    QTest::newRow("Trying (Kamailio)") << QByteArray("Trying") << DialogState::Trying;
    QTest::newRow("proceeding") << QByteArray("proceeding") << DialogState::Proceeding;
    QTest::newRow("Proceeding") << QByteArray("Proceeding") << DialogState::Proceeding;
    QTest::newRow("early") << QByteArray("early") << DialogState::Early;
    QTest::newRow("EARLY") << QByteArray("EARLY") << DialogState::Early;
    QTest::newRow("confirmed") << QByteArray("confirmed") << DialogState::Confirmed;
    QTest::newRow("Confirmed") << QByteArray("Confirmed") << DialogState::Confirmed;
    QTest::newRow("terminated") << QByteArray("terminated") << DialogState::Terminated;
    QTest::newRow("with spaces") << QByteArray("\n   terminated \n ") << DialogState::Terminated;
}

void TestDialogInfoParser::stateNames() {
    QFETCH(QByteArray, text);
    QFETCH(DialogState, state);
    const auto document =
        parseDocument(wrap("<dialog id=\"d\"><state>" + text + "</state></dialog>"));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.at(0).state, state);
}

void TestDialogInfoParser::documentState_data() {
    QTest::addColumn<QByteArray>("attribute");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<DocumentState>("state");
    QTest::newRow("full") << QByteArray(R"(state="full")") << true << DocumentState::Full;
    QTest::newRow("partial") << QByteArray(R"(state="partial")") << true << DocumentState::Partial;
    QTest::newRow("Partial") << QByteArray(R"(state="Partial")") << true << DocumentState::Partial;
    QTest::newRow("missing means full") << QByteArray() << true << DocumentState::Full;
    QTest::newRow("bogus") << QByteArray(R"(state="some")") << false << DocumentState::Full;
}

void TestDialogInfoParser::documentState() {
    QFETCH(QByteArray, attribute);
    QFETCH(bool, ok);
    QFETCH(DocumentState, state);
    const QByteArray body =
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" " + attribute +
        " entity=\"sip:201@example.com\"/>";
    const auto document = parseDocument(body);
    QCOMPARE(bool(document), ok);
    if (ok) {
        QCOMPARE(document->state, state);
    } else {
        QCOMPARE(document.error().kind, ErrorKind::Parse);
        QVERIFY2(document.error().reason.contains(QStringLiteral("full nor partial")),
                 qPrintable(document.error().reason));
    }
}

void TestDialogInfoParser::version_data() {
    QTest::addColumn<QByteArray>("attribute");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<qint64>("version");  // -1: none
    QTest::newRow("zero (Kamailio's first)") << QByteArray(R"(version="0")") << true << 0LL;
    QTest::newRow("large") << QByteArray(R"(version="4294967296")") << true << 4294967296LL;
    QTest::newRow("spaces") << QByteArray(R"(version=" 12 ")") << true << 12LL;
    QTest::newRow("missing") << QByteArray() << true << -1LL;
    QTest::newRow("negative") << QByteArray(R"(version="-1")") << false << -1LL;
    QTest::newRow("text") << QByteArray(R"(version="abc")") << false << -1LL;
    QTest::newRow("overflow") << QByteArray(R"(version="99999999999999999999999")") << false
                              << -1LL;
}

void TestDialogInfoParser::version() {
    QFETCH(QByteArray, attribute);
    QFETCH(bool, ok);
    QFETCH(qint64, version);
    const auto document = parseDocument(wrap("", attribute));
    QCOMPARE(bool(document), ok);
    if (!ok) {
        QVERIFY2(document.error().reason.contains(QStringLiteral("version")),
                 qPrintable(document.error().reason));
        return;
    }
    if (version < 0) {
        QVERIFY(!document->version);
    } else {
        QCOMPARE(document->version, std::optional<quint64>(quint64(version)));
    }
}

void TestDialogInfoParser::direction_data() {
    QTest::addColumn<QByteArray>("attribute");
    QTest::addColumn<Direction>("direction");
    QTest::newRow("initiator") << QByteArray(R"(direction="initiator")") << Direction::Initiator;
    QTest::newRow("recipient") << QByteArray(R"(direction="recipient")") << Direction::Recipient;
    QTest::newRow("Recipient") << QByteArray(R"(direction="Recipient")") << Direction::Recipient;
    QTest::newRow("missing") << QByteArray() << Direction::Unknown;
    QTest::newRow("bogus") << QByteArray(R"(direction="sideways")") << Direction::Unknown;
}

void TestDialogInfoParser::direction() {
    QFETCH(QByteArray, attribute);
    QFETCH(Direction, direction);
    const auto document =
        parseDocument(wrap("<dialog id=\"d\" " + attribute + "><state>early</state></dialog>"));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.at(0).direction, direction);
}

void TestDialogInfoParser::stateEventAndCode() {
    const auto document = parseDocument(wrap(R"(
  <dialog id="d1"><state event="rejected" code="486">terminated</state></dialog>
  <dialog id="d2"><state event="replaced">terminated</state></dialog>
  <dialog id="d3"><state code="nonsense">terminated</state></dialog>)"));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.at(0).stateEvent, QStringLiteral("rejected"));
    QCOMPARE(document->dialogs.at(0).stateCode, 486);
    QCOMPARE(document->dialogs.at(1).stateEvent, QStringLiteral("replaced"));
    QCOMPARE(document->dialogs.at(1).stateCode, 0);
    QCOMPARE(document->dialogs.at(2).stateCode, 0);
}

void TestDialogInfoParser::duration() {
    const auto document = parseDocument(wrap(R"(
  <dialog id="d1"><state>confirmed</state><duration> 274 </duration></dialog>
  <dialog id="d2"><state>confirmed</state><duration>soon</duration></dialog>)"));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.at(0).durationSeconds, std::optional<qint64>(274));
    QVERIFY(!document->dialogs.at(1).durationSeconds);
}

void TestDialogInfoParser::idFallsBackToCallId() {
    const auto document =
        parseDocument(wrap(R"(<dialog call-id="c1@h"><state>early</state></dialog>)"));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.at(0).id, QStringLiteral("c1@h"));
    QCOMPARE(document->dialogs.at(0).callId, QStringLiteral("c1@h"));
}

void TestDialogInfoParser::unknownParticipantOrder() {
    // Target before identity, params in document order, a second identity ignored.
    const auto document = parseDocument(wrap(R"(
  <dialog id="d1"><state>confirmed</state>
    <local>
      <target uri=" sip:201@127.0.0.1:5070 ">
        <param pname="+sip.rendering" pval="yes"/>
        <param pname="x-other" pval="1"/>
        <param pval="nameless"/>
      </target>
      <identity display="Alice">  sip:201@example.com  </identity>
      <identity>sip:second@example.com</identity>
    </local>
  </dialog>)"));
    QVERIFY2(document, qPrintable(describe(document)));
    const Participant& local = document->dialogs.at(0).local;
    QCOMPARE(local.identity, QStringLiteral("sip:201@example.com"));
    QCOMPARE(local.display, QStringLiteral("Alice"));
    QCOMPARE(local.target->uri, QStringLiteral("sip:201@127.0.0.1:5070"));
    QCOMPARE(local.target->params.size(), std::size_t(2));
    QCOMPARE(local.target->params.at(1).first, QStringLiteral("x-other"));
}

void TestDialogInfoParser::displayOnTarget() {
    // Kamailio's attribute_display puts the display name on <target>, not <identity>;
    // a display on <identity> wins when both exist.
    const auto document = parseDocument(wrap(R"(
  <dialog id="d1"><state>early</state>
    <remote><identity>sip:202@example.com</identity><target display="202" uri="sip:202@example.com"/></remote>
    <local><target display="201" uri="sip:201@example.com"/><identity display="Alice">sip:201@example.com</identity></local>
  </dialog>)"));
    QVERIFY2(document, qPrintable(describe(document)));
    QCOMPARE(document->dialogs.at(0).remote.display, QStringLiteral("202"));
    QCOMPARE(document->dialogs.at(0).local.display, QStringLiteral("Alice"));
}

void TestDialogInfoParser::rendersMedia_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("renders");
    QTest::newRow("no") << "+sip.rendering"
                        << "no" << false;
    QTest::newRow("NO, upper name") << "+SIP.Rendering"
                                    << "NO" << false;
    QTest::newRow("quoted") << "+sip.rendering"
                            << "\"no\"" << false;
    QTest::newRow("yes") << "+sip.rendering"
                         << "yes" << true;
    QTest::newRow("unknown") << "+sip.rendering"
                             << "unknown" << true;
    QTest::newRow("other param") << "+sip.other"
                                 << "no" << true;
}

void TestDialogInfoParser::rendersMedia() {
    QFETCH(QString, name);
    QFETCH(QString, value);
    QFETCH(bool, renders);
    Target target;
    target.uri = QStringLiteral("sip:201@example.com");
    QVERIFY(target.rendersMedia());  // no params: renders
    target.params.emplace_back(name, value);
    QCOMPARE(target.rendersMedia(), renders);
}

void TestDialogInfoParser::refused_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<QString>("reason");  // a part of the reason

    QTest::newRow("billion laughs") << fixture(QStringLiteral("hostile-billion-laughs.xml"))
                                    << ErrorKind::Parse << "DOCTYPE refused";
    QTest::newRow("xxe") << fixture(QStringLiteral("hostile-xxe.xml")) << ErrorKind::Parse
                         << "DOCTYPE refused";
    QTest::newRow("doctype after comment and pi")
        << QByteArray(
               "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- hi --><?pi x?>\n<!doctype "
               "dialog-info><dialog-info/>")
        << ErrorKind::Parse << "DOCTYPE refused";
    QTest::newRow("doctype in utf-16 (backstop)")
        << utf16(QStringLiteral(
               "\uFEFF<!DOCTYPE dialog-info [<!ENTITY a \"b\">]><dialog-info "
               "xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" "
               "entity=\"sip:x@h\">&a;</dialog-info>"))
        << ErrorKind::Parse << "DOCTYPE refused";
    QTest::newRow("wrong namespace") << fixture(QStringLiteral("hostile-wrong-namespace.xml"))
                                     << ErrorKind::Parse << "urn:example:not-dialog-info";
    QTest::newRow("wrong root") << QByteArray(R"(<presence xmlns="urn:ietf:params:xml:ns:pidf"/>)")
                                << ErrorKind::Parse << "not <dialog-info>";
    QTest::newRow("not xml") << fixture(QStringLiteral("hostile-not-xml.txt")) << ErrorKind::Parse
                             << "not well-formed XML";
    QTest::newRow("truncated") << fixture(QStringLiteral("hostile-truncated.xml"))
                               << ErrorKind::Parse << "not well-formed XML";
    // Found by fuzz_dialog_info: libxml2 2.9 still reported character data after this
    // fatal error, to a handler that had seen no element.
    QTest::newRow("broken xml declaration")
        << QByteArray(
               "<?xml version=\"1.0\" en[oding=\"UTF-8\"?>\n<dialog-info>\n  text\n"
               "</dialog-info>\n")
        << ErrorKind::Parse << "not well-formed XML";
    QTest::newRow("two roots") << QByteArray("<dialog-info/><dialog-info/>") << ErrorKind::Parse
                               << "not well-formed XML";
    QTest::newRow("undeclared entity")
        << wrap(R"(<dialog id="&undefined;"><state>early</state></dialog>)") << ErrorKind::Parse
        << "not well-formed XML";
    QTest::newRow("deeply nested") << wrap(QByteArray("<dialog id=\"d\"><state>early</state>") +
                                           QByteArray("<x>").repeated(20000) +
                                           QByteArray("</x>").repeated(20000) + "</dialog>")
                                   << ErrorKind::Limit << "nested deeper than 32";
    QTest::newRow("2000 dialogs") << manyDialogs(2000) << ErrorKind::Limit
                                  << "more than 1000 dialogs";
    QTest::newRow("dialog without id or call-id")
        << wrap(R"(<dialog direction="recipient"><state>early</state></dialog>)")
        << ErrorKind::Parse << "neither an id nor a call-id";
    QTest::newRow("dialog without state")
        << wrap(R"(<dialog id="d9"><remote><identity>sip:a@h</identity></remote></dialog>)")
        << ErrorKind::Parse << "\"d9\" has no <state>";
    QTest::newRow("unknown state") << wrap(R"(<dialog id="d9"><state>ringing</state></dialog>)")
                                   << ErrorKind::Parse << "unknown state \"ringing\"";
}

void TestDialogInfoParser::refused() {
    QFETCH(QByteArray, body);
    QFETCH(ErrorKind, kind);
    QFETCH(QString, reason);
    QVERIFY(!body.isEmpty());
    const auto document = parseDocument(body);
    QVERIFY2(!document, "a hostile or broken document was accepted");
    QCOMPARE(document.error().kind, kind);
    QVERIFY2(document.error().reason.contains(reason), qPrintable(document.error().reason));
}

void TestDialogInfoParser::emptyBody() {
    // RFC 6665: an empty NOTIFY body is the caller's business; it is no document.
    for (const QByteArray& body : {QByteArray(), QByteArray(""), QByteArray(" \r\n\t ")}) {
        const auto document = parseDocument(body);
        QVERIFY(!document);
        QCOMPARE(document.error().kind, ErrorKind::Parse);
        QCOMPARE(document.error().reason, QStringLiteral("empty body"));
    }
}

void TestDialogInfoParser::billionLaughsNeverExpanded() {
    // Even with a DOCTYPE-free body an entity reference is never resolved: only XML's
    // five predefined ones exist.
    const auto bomb = parseDocument(fixture(QStringLiteral("hostile-billion-laughs.xml")));
    QVERIFY(!bomb);
    QVERIFY(!bomb.error().reason.contains(QStringLiteral("lollol")));
    QVERIFY(bomb.error().offset >= 0);
}

void TestDialogInfoParser::externalEntityNeverRead() {
    const auto xxe = parseDocument(fixture(QStringLiteral("hostile-xxe.xml")));
    QVERIFY(!xxe);
    QVERIFY(!xxe.error().reason.contains(QStringLiteral("root:")));
    // Without the DOCTYPE the reference is undeclared: an error, never a file read.
    const auto bare = parseDocument(wrap(
        R"(<dialog id="d"><state>early</state><remote><identity display="&xxe;">x</identity></remote></dialog>)"));
    QVERIFY(!bare);
    QVERIFY2(bare.error().reason.contains(QStringLiteral("xxe")), qPrintable(bare.error().reason));
}

void TestDialogInfoParser::hugeBodyRefusedByLimit() {
    // 10 MB: refused by the size limit before libxml2 reads a byte.
    QByteArray body = wrap("");
    body.append(QByteArray(10 * 1024 * 1024, ' '));
    const auto document = parseDocument(body);
    QVERIFY(!document);
    QCOMPARE(document.error().kind, ErrorKind::Limit);
    QVERIFY2(document.error().reason.contains(QStringLiteral("over the limit")),
             qPrintable(document.error().reason));
}

void TestDialogInfoParser::limitsAreConfigurable() {
    ParseLimits limits;
    limits.maxDialogs = 2000;
    limits.maxBytes = 1024 * 1024;
    const auto many = parseDocument(manyDialogs(2000), limits);
    QVERIFY2(many, qPrintable(describe(many)));
    QCOMPARE(many->dialogs.size(), std::size_t(2000));

    limits = ParseLimits();
    limits.maxBytes = 100;
    const auto small = parseDocument(fixture(QStringLiteral("kamailio-early.xml")), limits);
    QVERIFY(!small);
    QCOMPARE(small.error().kind, ErrorKind::Limit);

    limits = ParseLimits();
    limits.maxDepth = 3;  // dialog-info > dialog > remote > identity is 4 deep
    const auto shallow = parseDocument(fixture(QStringLiteral("kamailio-early.xml")), limits);
    QVERIFY(!shallow);
    QCOMPARE(shallow.error().kind, ErrorKind::Limit);
    limits.maxDepth = 4;
    QVERIFY(parseDocument(fixture(QStringLiteral("kamailio-early.xml")), limits));
}

void TestDialogInfoParser::errorsCarryAnOffset() {
    const QByteArray truncated = fixture(QStringLiteral("hostile-truncated.xml"));
    const auto document = parseDocument(truncated);
    QVERIFY(!document);
    QVERIFY(document.error().offset >= 0);
    QVERIFY(document.error().offset <= truncated.size());
    QVERIFY2(document.error().reason.contains(QStringLiteral("line")),
             qPrintable(document.error().reason));
}

void TestDialogInfoParser::normalisedEntity_data() {
    QTest::addColumn<QString>("uri");
    QTest::addColumn<QString>("key");
    QTest::newRow("plain") << "sip:201@example.com"
                           << "201@example.com";
    QTest::newRow("host case, port, params") << "sip:201@Host:5060;x=y"
                                             << "201@host";
    QTest::newRow("sips and headers") << "sips:201@EXAMPLE.com?Subject=x"
                                      << "201@example.com";
    QTest::newRow("scheme case") << "SIP:201@example.com"
                                 << "201@example.com";
    QTest::newRow("user case kept") << "sip:Alice@example.com"
                                    << "Alice@example.com";
    QTest::newRow("password dropped") << "sip:201:secret@example.com"
                                      << "201@example.com";
    QTest::newRow("escaped user") << "sip:%32%30%31@example.com"
                                  << "201@example.com";
    QTest::newRow("escaped reserved kept") << "sip:a%40b@example.com"
                                           << "a%40b@example.com";
    QTest::newRow("no user") << "sip:example.com:5060"
                             << "example.com";
    QTest::newRow("ipv6") << "sip:201@[::1]:5060"
                          << "201@[::1]";
    QTest::newRow("no scheme (FreeSWITCH)") << "**202@host"
                                            << "**202@host";
    QTest::newRow("no scheme with port") << "201@127.0.0.1:5060"
                                         << "201@127.0.0.1";
    QTest::newRow("tel") << "tel:+1-201-555-0123;phone-context=x"
                         << "+12015550123";
    QTest::newRow("name-addr") << "\"Alice\" <sip:201@Example.com:5070>;tag=1"
                               << "201@example.com";
    QTest::newRow("angle brackets") << "<sip:201@example.com>"
                                    << "201@example.com";
    QTest::newRow("spaces around") << "  sip:201@example.com  "
                                   << "201@example.com";
    QTest::newRow("empty") << ""
                           << "";
    QTest::newRow("brackets only") << "<>"
                                   << "";
    QTest::newRow("no host") << "sip:201@"
                             << "";
    QTest::newRow("words") << "not a uri"
                           << "";
}

void TestDialogInfoParser::normalisedEntity() {
    QFETCH(QString, uri);
    QFETCH(QString, key);
    QCOMPARE(sb::dialoginfo::normalisedEntity(uri), key);
}

void TestDialogInfoParser::names() {
    QCOMPARE(stateName(DialogState::Trying), QStringLiteral("trying"));
    QCOMPARE(stateName(DialogState::Proceeding), QStringLiteral("proceeding"));
    QCOMPARE(stateName(DialogState::Early), QStringLiteral("early"));
    QCOMPARE(stateName(DialogState::Confirmed), QStringLiteral("confirmed"));
    QCOMPARE(stateName(DialogState::Terminated), QStringLiteral("terminated"));
    QCOMPARE(directionName(Direction::Initiator), QStringLiteral("initiator"));
    QCOMPARE(directionName(Direction::Recipient), QStringLiteral("recipient"));
    QCOMPARE(directionName(Direction::Unknown), QStringLiteral("unknown"));
}

void TestDialogInfoParser::kamailioCaptures_data() {
    // Real bodies captured from Kamailio (another helper fills captures/); none is fine.
    QTest::addColumn<QString>("path");
    const QDir captures(sourceFolder() + QStringLiteral("/captures"));
    const QStringList files =
        captures.entryList({QStringLiteral("*.xml")}, QDir::Files, QDir::Name);
    for (const QString& name : files)
        QTest::newRow(qPrintable(name)) << captures.filePath(name);
    if (files.isEmpty()) QTest::newRow("none") << QString();
}

void TestDialogInfoParser::kamailioCaptures() {
    QFETCH(QString, path);
    if (path.isEmpty()) QSKIP("no captured Kamailio bodies in tests/unit/dialoginfo/captures");
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray body = file.readAll();
    const auto document = parseDocument(body);
    if (body.trimmed().isEmpty()) {
        // Kamailio's NOTIFY without a body ("no dialogs"): no document, the caller's case.
        QVERIFY(!document);
        QCOMPARE(document.error().reason, QStringLiteral("empty body"));
        return;
    }
    QVERIFY2(document, qPrintable(describe(document)));
    QVERIFY2(!document->entity.isEmpty(), "a dialog-info document without an entity");
    QVERIFY(!sb::dialoginfo::normalisedEntity(document->entity).isEmpty());
}

QTEST_GUILESS_MAIN(TestDialogInfoParser)
#include "tst_dialog_info_parser.moc"
