// The RFC 4235 document writer (writeDocument): round trips through parseDocument,
// escaping of every value, the schema's element order, the Kamailio-style options, and
// validation of what it writes against the RFC 4235 §4.4 schema (fixtures/dialog-info.xsd)
// with libxml2's XML Schema validator.

#include <QTest>

#include "dialog_info_schema.h"
#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_info_writer.h"
#include "dialoginfo_test_util.h"

Q_DECLARE_METATYPE(sb::dialoginfo::Document)

using namespace sb;
using namespace sb::dialoginfo;
using sb::dialoginfo::test::describe;
using sb::dialoginfo::test::validatesAgainstDialogInfoSchema;

namespace {

const QString kHostile = QStringLiteral("sip:a&b\"c'<d>@x");

DialogInfo confirmedCall() {
    DialogInfo dialog;
    dialog.id = QStringLiteral("as7d900as8");
    dialog.callId = QStringLiteral("a84b4c76e66710");
    dialog.localTag = QStringLiteral("1928301774");
    dialog.remoteTag = QStringLiteral("456887766");
    dialog.direction = Direction::Initiator;
    dialog.state = DialogState::Confirmed;
    dialog.durationSeconds = 274;
    dialog.local.identity = QStringLiteral("sip:alice@example.com");
    dialog.local.display = QStringLiteral("Alice");
    dialog.local.target = Target{QStringLiteral("sip:alice@127.0.0.1:5062"),
                                 {{QStringLiteral("+sip.rendering"), QStringLiteral("yes")}}};
    dialog.remote.identity = QStringLiteral("sip:bob@example.org");
    dialog.remote.display = QStringLiteral("Bob");
    dialog.remote.target = Target{QStringLiteral("sip:bob@127.0.0.2:5064"), {}};
    return dialog;
}

DialogInfo ringingCall() {
    DialogInfo dialog;
    dialog.id = QStringLiteral("j7zgt54");
    dialog.callId = QStringLiteral("ASDRRVASDRF");
    dialog.localTag = QStringLiteral("123456789");
    dialog.direction = Direction::Recipient;
    dialog.state = DialogState::Early;
    dialog.remote.identity = QStringLiteral("sip:carol@example.net");
    return dialog;
}

DialogInfo endedCall() {
    DialogInfo dialog;
    dialog.id = QStringLiteral("ended-1");
    dialog.state = DialogState::Terminated;
    dialog.stateEvent = QStringLiteral("rejected");
    dialog.stateCode = 486;
    return dialog;
}

Document documentWith(std::vector<DialogInfo> dialogs, quint64 version = 7) {
    Document document;
    document.version = version;
    document.state = DocumentState::Full;
    document.entity = QStringLiteral("sip:201@switchboard.local");
    document.dialogs = std::move(dialogs);
    return document;
}

// Field by field, with a message that names the first difference.
QString difference(const DialogInfo& a, const DialogInfo& b) {
    auto target = [](const std::optional<Target>& t) {
        if (!t) return QStringLiteral("(none)");
        QString text = t->uri;
        for (const auto& [name, value] : t->params)
            text += QStringLiteral(" %1=%2").arg(name, value);
        return text;
    };
    auto participant = [&](const Participant& p) {
        return QStringLiteral("[%1|%2|%3]").arg(p.identity, p.display, target(p.target));
    };
    auto describeDialog = [&](const DialogInfo& d) {
        return QStringList{d.id,
                           d.callId,
                           d.localTag,
                           d.remoteTag,
                           directionName(d.direction),
                           stateName(d.state),
                           d.stateEvent,
                           QString::number(d.stateCode),
                           d.durationSeconds ? QString::number(*d.durationSeconds) : QString(),
                           participant(d.local),
                           participant(d.remote)}
            .join(QLatin1Char('/'));
    };
    const QString left = describeDialog(a);
    const QString right = describeDialog(b);
    return left == right ? QString() : left + QStringLiteral(" != ") + right;
}

// Where `needle` first occurs in `haystack`, -1 when absent.
qsizetype at(const QByteArray& haystack, const char* needle) {
    return haystack.indexOf(needle);
}

}  // namespace

class TestDialogInfoWriter : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { initialiseXml(); }

    void writesTheRootAsRfc4235Says() {
        const QByteArray xml = writeDocument(documentWith({}, 42));
        QVERIFY(xml.startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
        QVERIFY2(xml.contains("<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
                              "version=\"42\" state=\"full\" "
                              "entity=\"sip:201@switchboard.local\""),
                 xml.constData());
        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed)));
        QCOMPARE(parsed->version, std::optional<quint64>(42));
        QCOMPARE(parsed->state, DocumentState::Full);
        QCOMPARE(parsed->entity, QStringLiteral("sip:201@switchboard.local"));
        QVERIFY(parsed->dialogs.empty());
    }

    void missingVersionIsWrittenAsZero() {
        Document document = documentWith({});
        document.version.reset();
        document.state = DocumentState::Partial;
        const QByteArray xml = writeDocument(document);
        QVERIFY2(xml.contains("version=\"0\" state=\"partial\""), xml.constData());
    }

    void roundTripsEveryField() {
        const Document written = documentWith({confirmedCall(), ringingCall(), endedCall()});
        const QByteArray xml = writeDocument(written);
        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed)));
        QCOMPARE(parsed->dialogs.size(), written.dialogs.size());
        for (std::size_t i = 0; i < written.dialogs.size(); ++i) {
            const QString diff = difference(parsed->dialogs[i], written.dialogs[i]);
            QVERIFY2(diff.isEmpty(), qPrintable(diff));
        }
    }

    void escapesIdentitiesCallIdsAndTags() {
        DialogInfo dialog = confirmedCall();
        dialog.id = QStringLiteral("id\"with'quotes&<>");
        dialog.callId = QStringLiteral("call\"id'1&2<3>@127.0.0.1");
        dialog.localTag = QStringLiteral("tag&\"'");
        dialog.remoteTag = QStringLiteral("<remote>");
        dialog.local.identity = kHostile;
        dialog.local.display = QStringLiteral("Al \"The Boss\" & <Co>");
        dialog.remote.identity = kHostile;
        dialog.remote.display = QStringLiteral("O'Brien");
        dialog.remote.target = Target{QStringLiteral("sip:b&o\"b@127.0.0.1;x=<y>"),
                                      {{QStringLiteral("p&\""), QStringLiteral("v<'>")}}};
        Document written = documentWith({dialog});
        written.entity = QStringLiteral("sip:a&b@switchboard.local");
        const QByteArray xml = writeDocument(written);

        // Nothing raw that would end an attribute or start markup.
        QVERIFY2(!xml.contains("b\"c"), xml.constData());
        QVERIFY2(!xml.contains("<d>"), xml.constData());
        QVERIFY2(xml.contains("&amp;"), xml.constData());

        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed) + QLatin1Char('\n') + QString::fromUtf8(xml)));
        QCOMPARE(parsed->entity, written.entity);
        QCOMPARE(parsed->dialogs.size(), std::size_t(1));
        const QString diff = difference(parsed->dialogs.front(), dialog);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        QCOMPARE(parsed->dialogs.front().local.identity, kHostile);

        QString error;
        QVERIFY2(validatesAgainstDialogInfoSchema(xml, &error), qPrintable(error));
    }

    void keepsUnicodeAndLineBreaksInValues() {
        DialogInfo dialog = ringingCall();
        dialog.remote.display = QStringLiteral("Zoë Ångström 日本 😀");
        dialog.callId = QStringLiteral("line\nbreak\ttab");
        const QByteArray xml = writeDocument(documentWith({dialog}));
        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed)));
        QCOMPARE(parsed->dialogs.front().remote.display, dialog.remote.display);
        QCOMPARE(parsed->dialogs.front().callId, dialog.callId);
    }

    void dropsCharactersXmlCannotCarry() {
        DialogInfo dialog = ringingCall();
        dialog.remote.identity = QStringLiteral("sip:bell\x07@127.0.0.1");
        dialog.remote.display = QString(QStringLiteral("nul")) + QChar(0) + QStringLiteral("x") +
                                QChar(0xFFFF) + QChar(0xD800) + QStringLiteral("y");
        dialog.callId = QStringLiteral("esc\x1b[0m");
        const QByteArray xml = writeDocument(documentWith({dialog}));
        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed)));
        QCOMPARE(parsed->dialogs.front().remote.identity, QStringLiteral("sip:bell@127.0.0.1"));
        QCOMPARE(parsed->dialogs.front().remote.display, QStringLiteral("nulxy"));
        QCOMPARE(parsed->dialogs.front().callId, QStringLiteral("esc[0m"));
        QString error;
        QVERIFY2(validatesAgainstDialogInfoSchema(xml, &error), qPrintable(error));
    }

    void leavesOutEmptyAttributesAndParticipants() {
        DialogInfo dialog;
        dialog.id = QStringLiteral("bare");
        dialog.state = DialogState::Trying;
        const QByteArray xml = writeDocument(documentWith({dialog}));
        QVERIFY2(xml.contains("<dialog id=\"bare\">"), xml.constData());
        QVERIFY(!xml.contains("call-id"));
        QVERIFY(!xml.contains("local-tag"));
        QVERIFY(!xml.contains("remote-tag"));
        QVERIFY(!xml.contains("direction"));
        QVERIFY(!xml.contains("<local"));
        QVERIFY(!xml.contains("<remote"));
        QVERIFY(!xml.contains("<duration"));
        QVERIFY(!xml.contains("display"));
        QVERIFY2(xml.contains("<state>trying</state>"), xml.constData());

        // A participant with only a target is written, without <identity>.
        dialog.remote.target = Target{QStringLiteral("sip:202@127.0.0.1"), {}};
        const QByteArray withTarget = writeDocument(documentWith({dialog}));
        QVERIFY(withTarget.contains("<remote>"));
        QVERIFY(withTarget.contains("<target uri=\"sip:202@127.0.0.1\"/>"));
        QVERIFY(!withTarget.contains("<identity"));
    }

    void childrenFollowTheSchemaOrder() {
        const QByteArray xml = writeDocument(documentWith({confirmedCall()}));
        const qsizetype state = at(xml, "<state");
        const qsizetype duration = at(xml, "<duration>274</duration>");
        const qsizetype local = at(xml, "<local>");
        const qsizetype remote = at(xml, "<remote>");
        QVERIFY(state > 0 && duration > 0 && local > 0 && remote > 0);
        QVERIFY2(state < duration && duration < local && local < remote, xml.constData());
        // Inside a participant: identity, then target with its params.
        const qsizetype identity = at(xml, "<identity display=\"Alice\">sip:alice@example.com");
        const qsizetype target = at(xml, "<target uri=\"sip:alice@127.0.0.1:5062\">");
        const qsizetype param = at(xml, "<param pname=\"+sip.rendering\" pval=\"yes\"/>");
        QVERIFY2(local < identity && identity < target && target < param && param < remote,
                 xml.constData());
        // Dialogs in the order given.
        const QByteArray two = writeDocument(documentWith({ringingCall(), confirmedCall()}));
        QVERIFY(at(two, "id=\"j7zgt54\"") < at(two, "id=\"as7d900as8\""));
    }

    void remoteBeforeLocalAsKamailioWrites() {
        WriteOptions options;
        options.remoteBeforeLocal = true;
        const QByteArray xml = writeDocument(documentWith({confirmedCall()}), options);
        QVERIFY2(at(xml, "<remote>") < at(xml, "<local>"), xml.constData());
        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed)));
        const QString diff = difference(parsed->dialogs.front(), confirmedCall());
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        // The schema's sequence puts <local> first: the validator must see the difference.
        QString error;
        QVERIFY(!validatesAgainstDialogInfoSchema(xml, &error));
        QVERIFY2(error.contains(QStringLiteral("local")), qPrintable(error));
    }

    void capitalisedTryingOnlyForTrying() {
        WriteOptions options;
        options.capitalisedTrying = true;
        DialogInfo trying = ringingCall();
        trying.state = DialogState::Trying;
        trying.id = QStringLiteral("t");
        const QByteArray xml = writeDocument(documentWith({trying, confirmedCall()}), options);
        QVERIFY2(xml.contains("<state>Trying</state>"), xml.constData());
        QVERIFY2(xml.contains("<state>confirmed</state>"), xml.constData());
        QVERIFY(!writeDocument(documentWith({trying})).contains("Trying"));
        auto parsed = parseDocument(xml);
        QVERIFY2(parsed, qPrintable(describe(parsed)));
        QCOMPARE(parsed->dialogs.front().state, DialogState::Trying);
    }

    void eventAndCodeAsTheSchemaAllows() {
        const QByteArray xml = writeDocument(documentWith({endedCall()}));
        QVERIFY2(xml.contains("<state event=\"rejected\" code=\"486\">terminated</state>"),
                 xml.constData());

        WriteOptions without;
        without.includeEventAndCode = false;
        const QByteArray bare = writeDocument(documentWith({endedCall()}), without);
        QVERIFY2(bare.contains("<state>terminated</state>"), bare.constData());

        // An event outside RFC 4235's list, a code outside 100-699 and a negative
        // duration would make the document invalid: left out or clamped.
        DialogInfo odd = endedCall();
        odd.stateEvent = QStringLiteral("hangup");
        odd.stateCode = 999;
        odd.durationSeconds = -5;
        const QByteArray cleaned = writeDocument(documentWith({odd}));
        QVERIFY(!cleaned.contains("event="));
        QVERIFY(!cleaned.contains("code="));
        QVERIFY2(cleaned.contains("<duration>0</duration>"), cleaned.constData());
        QString error;
        QVERIFY2(validatesAgainstDialogInfoSchema(cleaned, &error), qPrintable(error));
    }

    void validatesAgainstTheRfc4235Schema_data() {
        QTest::addColumn<Document>("document");
        QTest::newRow("no dialogs") << documentWith({});
        QTest::newRow("one confirmed") << documentWith({confirmedCall()});
        QTest::newRow("aggregated") << documentWith({confirmedCall(), ringingCall(), endedCall()});
        Document partial = documentWith({endedCall()});
        partial.state = DocumentState::Partial;
        QTest::newRow("partial") << partial;
        DialogInfo idle;
        idle.id = QStringLiteral("615293b33c62dec073e05d9421e9f48b");
        idle.state = DialogState::Terminated;
        QTest::newRow("dummy idle dialog") << documentWith({idle});
        Document big = documentWith({}, 18446744073709551615ull);
        QTest::newRow("largest version") << big;
    }

    void validatesAgainstTheRfc4235Schema() {
        QFETCH(Document, document);
        const QByteArray xml = writeDocument(document);
        QString error;
        QVERIFY2(validatesAgainstDialogInfoSchema(xml, &error),
                 qPrintable(error + QLatin1Char('\n') + QString::fromUtf8(xml)));
    }

    // The validator is only worth something if it refuses what the schema refuses.
    void schemaRefusesInvalidDocuments_data() {
        QTest::addColumn<QByteArray>("xml");
        QTest::addColumn<QString>("mentions");
        const QByteArray head = "<?xml version=\"1.0\"?>";
        QTest::newRow("no version")
            << head +
                   "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" state=\"full\" "
                   "entity=\"sip:a@b\"/>"
            << QStringLiteral("version");
        QTest::newRow("bad document state")
            << head +
                   "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
                   "state=\"whole\" entity=\"sip:a@b\"/>"
            << QStringLiteral("state");
        QTest::newRow("dialog without state")
            << head +
                   "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
                   "state=\"full\" entity=\"sip:a@b\"><dialog id=\"x\"/></dialog-info>"
            << QStringLiteral("state");
        QTest::newRow("dialog without id")
            << head +
                   "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
                   "state=\"full\" entity=\"sip:a@b\"><dialog><state>early</state></dialog>"
                   "</dialog-info>"
            << QStringLiteral("id");
        QTest::newRow("unknown event")
            << head +
                   "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
                   "state=\"full\" entity=\"sip:a@b\"><dialog id=\"x\"><state "
                   "event=\"hangup\">terminated</state></dialog></dialog-info>"
            << QStringLiteral("event");
        QTest::newRow("wrong namespace")
            << head +
                   "<dialog-info xmlns=\"urn:example\" version=\"1\" state=\"full\" "
                   "entity=\"sip:a@b\"/>"
            << QStringLiteral("dialog-info");
        QTest::newRow("not xml") << QByteArray("<dialog-info") << QStringLiteral("well-formed");
    }

    void schemaRefusesInvalidDocuments() {
        QFETCH(QByteArray, xml);
        QFETCH(QString, mentions);
        QString error;
        QVERIFY(!validatesAgainstDialogInfoSchema(xml, &error));
        QVERIFY2(error.contains(mentions), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestDialogInfoWriter)
#include "tst_dialog_info_writer.moc"
