// The hardened libxml2 reader (core/dialoginfo/xml_reader.*) keeps one parser context per
// thread between reads. Nothing of one read may shape the next: a document read after a
// hostile, broken or merely unusual one must give exactly what it gives on a fresh context
// (a fresh thread), error reason and offset included.

#include <QTest>

#include <thread>

#include "dialoginfo/dialog_info.h"
#include "dialoginfo/rlmi.h"
#include "dialoginfo_test_util.h"

using namespace sb;
using namespace sb::dialoginfo;
using namespace sb::dialoginfo::test;

namespace {

QString participantText(const Participant& participant) {
    QString out = participant.identity + u'|' + participant.display;
    if (participant.target) {
        out += u'|' + participant.target->uri;
        for (const auto& [name, value] : participant.target->params) {
            out += u';' + name + u'=' + value;
        }
    }
    return out;
}

// Everything a read gives, as one comparable string: every field of the document, or the
// error's kind, reason and offset.
QString outcome(const Result<Document>& document) {
    if (!document) {
        return QStringLiteral("error %1 at %2: %3")
            .arg(int(document.error().kind))
            .arg(document.error().offset)
            .arg(document.error().reason);
    }
    QString out =
        QStringLiteral("version %1, %2, entity %3, %4 dialogs")
            .arg(document->version ? QString::number(*document->version) : QStringLiteral("none"))
            .arg(document->state == DocumentState::Full ? "full" : "partial")
            .arg(document->entity)
            .arg(document->dialogs.size());
    for (const DialogInfo& dialog : document->dialogs) {
        out += QStringLiteral("\n  %1 %2 %3 %4 %5 %6 %7/%8 %9")
                   .arg(dialog.id, dialog.callId, dialog.localTag, dialog.remoteTag,
                        directionName(dialog.direction), stateName(dialog.state), dialog.stateEvent)
                   .arg(dialog.stateCode)
                   .arg(dialog.durationSeconds ? QString::number(*dialog.durationSeconds)
                                               : QStringLiteral("-"));
        out += QStringLiteral("\n    local ") + participantText(dialog.local);
        out += QStringLiteral("\n    remote ") + participantText(dialog.remote);
    }
    return out;
}

QString outcome(const Result<RlmiList>& list) {
    if (!list) {
        return QStringLiteral("error %1 at %2: %3")
            .arg(int(list.error().kind))
            .arg(list.error().offset)
            .arg(list.error().reason);
    }
    QString out = QStringLiteral("list %1 version %2 full %3")
                      .arg(list->uri)
                      .arg(list->version ? QString::number(*list->version) : QStringLiteral("none"))
                      .arg(list->fullState);
    for (const RlmiResource& resource : list->resources) {
        out += QStringLiteral("\n  %1 %2").arg(resource.uri, resource.name);
        for (const RlmiInstance& instance : resource.instances) {
            out += QStringLiteral(" [%1 %2 %3 %4]")
                       .arg(instance.id, instance.state, instance.reason, instance.cid);
        }
    }
    return out;
}

// One input of the mixed sequences: a body and the parser it goes to.
struct Input {
    QByteArray name;
    QByteArray body;
    bool rlmi = false;
};

QString read(const Input& input) {
    return input.rlmi ? outcome(parseRlmi(input.body)) : outcome(parseDocument(input.body));
}

// The bytes of text in UTF-16 (host byte order, with the BOM the text starts with).
QByteArray utf16(const QString& text) {
    return QByteArray(reinterpret_cast<const char*>(text.utf16()), text.size() * 2);
}

QByteArray wrap(QByteArrayView dialogs) {
    QByteArray out = R"(<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="7" state="full" entity="sip:201@example.com">
)";
    out += dialogs;
    out += "\n</dialog-info>\n";
    return out;
}

// A successful document with many distinct element and attribute names (all ignored as
// foreign): each one lands in libxml2's per-context name dictionary.
QByteArray manyNames(int count, int salt) {
    QByteArray foreign;
    for (int i = 0; i < count; ++i) {
        const QByteArray name = "x" + QByteArray::number(salt) + "_" + QByteArray::number(i);
        foreign += "<" + name + " " + name + "a=\"1\"/>";
    }
    return wrap(R"(<dialog id="d1"><state>early</state>)" + foreign + "</dialog>");
}

// Good documents (both parsers) and every kind of bad one that reaches libxml2 or stops it
// half-way: DOCTYPE behind UTF-16 (the byte scan cannot see it, the SAX backstop stops the
// parser), undeclared entities, truncation, garbage, limits hit mid-document, handler
// failures, and unusual but valid documents (encoding declaration, foreign namespaces,
// CDATA, character references, UTF-16).
QList<Input> inputs() {
    QList<Input> list;
    const auto add = [&list](const char* name, QByteArray body, bool rlmi = false) {
        list.append(Input{name, std::move(body), rlmi});
    };
    for (const char* file :
         {"kamailio-early.xml", "kamailio-trying.xml", "kamailio-aggregated.xml",
          "kamailio-partial.xml", "asterisk-hold.xml", "freeswitch-confirmed.xml",
          "sloppy-no-namespace.xml", "hostile-billion-laughs.xml", "hostile-xxe.xml",
          "hostile-truncated.xml", "hostile-not-xml.txt", "hostile-wrong-namespace.xml"}) {
        add(file, fixture(QString::fromLatin1(file)));
    }
    add("rlmi-full.xml", fixture(QStringLiteral("rlmi-full.xml")), true);
    add("rlmi-partial.xml", fixture(QStringLiteral("rlmi-partial.xml")), true);
    add("dialog-info given to the RLMI parser", fixture(QStringLiteral("kamailio-early.xml")),
        true);
    const QByteArray early = fixture(QStringLiteral("kamailio-early.xml"));
    add("truncated half-way", early.left(early.size() / 2));
    add("truncated in the root tag", early.left(40));
    add("UTF-16 DOCTYPE entity bomb",
        utf16(QStringLiteral("\uFEFF<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
                             "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
                             "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n"
                             "<dialog-info>&b;</dialog-info>\n")));
    add("UTF-16 good", utf16(QChar(0xFEFF) + QString::fromUtf8(early).remove(
                                                 QStringLiteral("<?xml version=\"1.0\"?>"))));
    add("undeclared entity in an attribute",
        wrap(R"(<dialog id="&lol9;"><state>early</state></dialog>)"));
    add("undeclared entity in text", wrap(R"(<dialog id="d"><state>&lol9;</state></dialog>)"));
    add("nested too deep",
        wrap(QByteArray("<dialog id=\"d\"><state>early</state>") + QByteArray("<x>").repeated(100) +
             QByteArray("</x>").repeated(100) + "</dialog>"));
    add("unknown state (handler failure)",
        wrap(R"(<dialog id="d"><state>ringing</state></dialog>)"));
    add("two roots", "<dialog-info/><dialog-info/>");
    add("mismatched tags", wrap(R"(<dialog id="d"><state>early</dialog></state>)"));
    add("invalid UTF-8", wrap("<dialog id=\"d\xff\xfe\"><state>early</state></dialog>"));
    add("NUL character reference", wrap(R"(<dialog id="d&#0;"><state>early</state></dialog>)"));
    add("Latin-1 declared",
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"2\" "
        "entity=\"sip:J\xf6rg@example.com\"><dialog id=\"\xe9\"><state>early</state>"
        "</dialog></dialog-info>");
    add("foreign namespaces and xml:space",
        wrap(R"(<dialog xmlns:x="urn:x" xml:space="preserve" id="d" x:id="foreign">)"
             R"(<x:state>confirmed</x:state><state>early</state></dialog>)"));
    add("CDATA and references",
        wrap(R"(<dialog id="a&amp;b&#38;c"><state><![CDATA[ear]]>ly</state>)"
             R"(<remote><identity display="&lt;&#x41;&gt;">sip:&#50;01@h</identity></remote>)"
             R"(</dialog>)"));
    add("many distinct names", manyNames(800, 1));
    add("prefixed root", R"(<d:dialog-info xmlns:d="urn:ietf:params:xml:ns:dialog-info" )"
                         R"(version="1" entity="sip:a@b"><d:dialog id="p">)"
                         R"(<d:state>early</d:state></d:dialog></d:dialog-info>)");
    return list;
}

// What each input gives on a fresh context: read on a thread of its own (the reader's
// context is per thread, so a new thread starts without one).
QStringList freshOutcomes(const QList<Input>& list) {
    QStringList out;
    for (const Input& input : list) {
        QString result;
        std::thread thread([&] { result = read(input); });
        thread.join();
        out.append(result);
    }
    return out;
}

}  // namespace

class TestXmlReaderReuse : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void inputsAreWhatTheySay();
    void goodDocumentAfterHostileOne_data();
    void goodDocumentAfterHostileOne();
    void alternatingReadsMatchFreshOnes();
    void manyDistinctNamesDoNotAccumulate();
    void readsOnSeveralThreads();
};

void TestXmlReaderReuse::initTestCase() {
    initialiseXml();
    QVERIFY2(!fixture(QStringLiteral("kamailio-early.xml")).isEmpty(),
             qPrintable(QStringLiteral("fixtures not found under ") + sourceFolder()));
}

void TestXmlReaderReuse::inputsAreWhatTheySay() {
    // The sequences below only prove something if the mix really holds both kinds.
    int good = 0, bad = 0;
    for (const Input& input : inputs()) {
        QVERIFY2(!input.body.isEmpty(), input.name.constData());
        read(input).startsWith(QStringLiteral("error")) ? ++bad : ++good;
    }
    QVERIFY(good >= 10);
    QVERIFY(bad >= 15);
    QVERIFY(!parseDocument(utf16(QStringLiteral("\uFEFF<!DOCTYPE d []><dialog-info/>"))));
}

void TestXmlReaderReuse::goodDocumentAfterHostileOne_data() {
    QTest::addColumn<QByteArray>("hostile");
    QTest::newRow("billion laughs") << fixture(QStringLiteral("hostile-billion-laughs.xml"));
    QTest::newRow("xxe") << fixture(QStringLiteral("hostile-xxe.xml"));
    QTest::newRow("truncated") << fixture(QStringLiteral("hostile-truncated.xml"));
    QTest::newRow("not xml") << fixture(QStringLiteral("hostile-not-xml.txt"));
    QTest::newRow("UTF-16 DOCTYPE") << utf16(QStringLiteral(
        "\uFEFF<!DOCTYPE d [<!ENTITY a \"aaaa\">]><dialog-info>&a;&a;&a;</dialog-info>"));
    QTest::newRow("undeclared entities")
        << wrap(R"(<dialog id="&a;&b;&c;"><state>&d;</state></dialog>)");
    QTest::newRow("nested too deep")
        << wrap(QByteArray("<x>").repeated(5000) + QByteArray("</x>").repeated(5000));
    QTest::newRow("truncated mid-attribute") << QByteArray(R"(<dialog-info version="1)");
}

void TestXmlReaderReuse::goodDocumentAfterHostileOne() {
    QFETCH(QByteArray, hostile);
    const QByteArray good = fixture(QStringLiteral("kamailio-early.xml"));
    const QString expected = freshOutcomes({Input{"good", good}}).first();
    QVERIFY2(expected.startsWith(QStringLiteral("version 3")), qPrintable(expected));
    QVERIFY(!parseDocument(hostile));
    QCOMPARE(outcome(parseDocument(good)), expected);
    QVERIFY(!parseDocument(hostile));
    QVERIFY(!parseDocument(hostile));
    QCOMPARE(outcome(parseDocument(good)), expected);
    QCOMPARE(outcome(parseDocument(good)), expected);  // and after a good one
}

void TestXmlReaderReuse::alternatingReadsMatchFreshOnes() {
    const QList<Input> list = inputs();
    const QStringList fresh = freshOutcomes(list);
    // Every input right after every input (each ordered pair), then a long deterministic
    // shuffle: each result must equal the fresh one.
    for (int before = 0; before < list.size(); ++before) {
        for (int after = 0; after < list.size(); ++after) {
            read(list[before]);
            const QString result = read(list[after]);
            if (result != fresh[after]) {
                QFAIL(qPrintable(QStringLiteral("%1 after %2:\n%3\nfresh:\n%4")
                                     .arg(QString::fromUtf8(list[after].name),
                                          QString::fromUtf8(list[before].name), result,
                                          fresh[after])));
            }
        }
    }
    quint32 state = 12345;
    for (int i = 0; i < 3000; ++i) {
        state = state * 1103515245u + 12345u;  // a fixed LCG: the same order every run
        const int at = int((state >> 8) % quint32(list.size()));
        QCOMPARE(read(list[at]), fresh[at]);
    }
}

void TestXmlReaderReuse::manyDistinctNamesDoNotAccumulate() {
    // libxml2 interns names per context and a reset keeps them; a stream of valid documents
    // full of new names must not build up state (libxml2's dictionary limit would fail
    // every later read on the thread). 200 documents x 1,600 new names.
    const QByteArray good = fixture(QStringLiteral("kamailio-early.xml"));
    const QString expected = freshOutcomes({Input{"good", good}}).first();
    for (int salt = 0; salt < 200; ++salt) {
        const auto document = parseDocument(manyNames(800, salt));
        QVERIFY2(document, qPrintable(describe(document)));
        QCOMPARE(document->dialogs.size(), std::size_t(1));
    }
    QCOMPARE(outcome(parseDocument(good)), expected);
}

void TestXmlReaderReuse::readsOnSeveralThreads() {
    // Each thread has its own context; reads at the same time give the fresh results, and
    // a thread's context is freed when the thread ends (checked under the asan preset).
    const QList<Input> list = inputs();
    const QStringList fresh = freshOutcomes(list);
    QStringList mismatches[2];
    std::thread threads[2];
    for (int t = 0; t < 2; ++t) {
        threads[t] = std::thread([&, t] {
            for (int round = 0; round < 20; ++round) {
                for (int i = 0; i < list.size(); ++i) {
                    const int at = t == 0 ? i : int(list.size()) - 1 - i;
                    if (read(list[at]) != fresh[at]) {
                        mismatches[t].append(QString::fromUtf8(list[at].name));
                    }
                }
            }
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    QVERIFY2(mismatches[0].isEmpty(), qPrintable(mismatches[0].join(u", ")));
    QVERIFY2(mismatches[1].isEmpty(), qPrintable(mismatches[1].join(u", ")));
}

QTEST_GUILESS_MAIN(TestXmlReaderReuse)
#include "tst_xml_reader_reuse.moc"
