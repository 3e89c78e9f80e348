// ParamList (RFC 3261 §25.1 generic-param / uri-parameter), quote/unquote of
// quoted-strings and the top-level search that the list splitting relies on.

#include <QTest>

#include "sip/params.h"
#include "sip_test_util.h"

using namespace sb::sip;
using namespace sb::sip::test;

namespace {

struct Param {
    QByteArray name;
    QByteArray value;
    bool hasValue;
    bool operator==(const Param&) const = default;
};

QList<Param> collect(const ParamList& params) {
    QList<Param> out;
    params.forEach([&](QByteArrayView name, QByteArrayView value, bool hasValue) {
        out.append({name.toByteArray(), value.toByteArray(), hasValue});
        return true;
    });
    return out;
}

}  // namespace

namespace QTest {
template <>
char* toString(const Param& p) {
    return qstrdup((p.name + (p.hasValue ? "=" + p.value : QByteArray())).constData());
}
}  // namespace QTest

class TestParams : public QObject {
    Q_OBJECT

private slots:
    void valuesAndFlags();
    void namesAreCaseInsensitive();
    void whitespaceAroundParts();
    void quotedValuesKeepQuotesAndSemicolons();
    void emptyList();
    void forEachStopsWhenAsked();
    void emptyValueIsNotAFlag();
    void namePrefixesDoNotMatch();
    void unquoteStripsAndUnescapes();
    void quoteEscapes();
    void quoteRoundTrip();
    void findTopLevelSkipsQuotesAndAngles();
};

void TestParams::valuesAndFlags() {
    const ParamList params(";tag=1928301774;lr;transport=TCP");
    QVERIFY(!params.isEmpty());
    QCOMPARE(bytes(params.raw()), QByteArray(";tag=1928301774;lr;transport=TCP"));
    QVERIFY(params.has("tag"));
    QVERIFY(params.has("lr"));
    QVERIFY(!params.has("maddr"));
    QCOMPARE(bytes(params.value("tag").value_or("<absent>")), QByteArray("1928301774"));
    QCOMPARE(bytes(params.value("transport").value_or("<absent>")), QByteArray("TCP"));
    QVERIFY(params.value("lr").has_value());  // a flag: present, empty
    QVERIFY(params.value("lr")->isEmpty());
    QVERIFY(!params.value("maddr").has_value());
    QCOMPARE(
        collect(params),
        (QList<Param>{{"tag", "1928301774", true}, {"lr", "", false}, {"transport", "TCP", true}}));
}

// RFC 3261 §7.3.1 / §19.1.4: parameter names compare case-insensitively; values are
// returned as written.
void TestParams::namesAreCaseInsensitive() {
    const ParamList params(";Transport=UDP;LR;Expires=60");
    QVERIFY(params.has("transport"));
    QVERIFY(params.has("lr"));
    QCOMPARE(bytes(params.value("TRANSPORT").value_or("<absent>")), QByteArray("UDP"));
    QCOMPARE(bytes(params.value("expires").value_or("<absent>")), QByteArray("60"));
}

// RFC 3261 §25.1: SEMI and EQUAL allow LWS around them (RFC 4475 §3.1.1.1).
void TestParams::whitespaceAroundParts() {
    const ParamList params(" ;   tag    = 1918181833n ; lr ;\r\n  q = 0.33");
    QCOMPARE(bytes(params.value("tag").value_or("<absent>")), QByteArray("1918181833n"));
    QVERIFY(params.has("lr"));
    QCOMPARE(bytes(params.value("q").value_or("<absent>")), QByteArray("0.33"));
    QCOMPARE(collect(params).size(), qsizetype(3));
}

void TestParams::quotedValuesKeepQuotesAndSemicolons() {
    const ParamList params(";text=\"Call completed; elsewhere\";cause=200;x=\"a\\\";b\"");
    QCOMPARE(bytes(params.value("text").value_or("<absent>")),
             QByteArray("\"Call completed; elsewhere\""));
    QCOMPARE(bytes(params.value("cause").value_or("<absent>")), QByteArray("200"));
    QCOMPARE(bytes(params.value("x").value_or("<absent>")), QByteArray("\"a\\\";b\""));
    QCOMPARE(collect(params).size(), qsizetype(3));
    QCOMPARE(unquote(*params.value("text")), QByteArray("Call completed; elsewhere"));
    QCOMPARE(unquote(*params.value("x")), QByteArray("a\";b"));
}

void TestParams::emptyList() {
    const ParamList none;
    QVERIFY(none.isEmpty());
    QVERIFY(!none.has("tag"));
    QVERIFY(!none.value("tag").has_value());
    QVERIFY(collect(none).isEmpty());
    const ParamList empty{QByteArrayView("")};
    QVERIFY(empty.isEmpty());
    QVERIFY(collect(empty).isEmpty());
}

void TestParams::forEachStopsWhenAsked() {
    const ParamList params(";a=1;b=2;c=3");
    QList<QByteArray> seen;
    params.forEach([&](QByteArrayView name, QByteArrayView, bool) {
        seen << name.toByteArray();
        return name != QByteArrayView("b");
    });
    QCOMPARE(seen, (QList<QByteArray>{"a", "b"}));
}

void TestParams::emptyValueIsNotAFlag() {
    const ParamList params(";x=;y");
    QCOMPARE(collect(params), (QList<Param>{{"x", "", true}, {"y", "", false}}));
    QVERIFY(params.value("x").has_value());
    QVERIFY(params.value("x")->isEmpty());
}

void TestParams::namePrefixesDoNotMatch() {
    const ParamList params(";tagx=1;xtag=2;ta=3");
    QVERIFY(!params.has("tag"));
    QVERIFY(!params.value("tag").has_value());
    QCOMPARE(bytes(params.value("ta").value_or("<absent>")), QByteArray("3"));
}

void TestParams::unquoteStripsAndUnescapes() {
    QCOMPARE(unquote("\"Alice Smith\""), QByteArray("Alice Smith"));
    QCOMPARE(unquote("\"a \\\"quoted\\\" \\\\ word\""), QByteArray("a \"quoted\" \\ word"));
    QCOMPARE(unquote("\"\""), QByteArray());
    QCOMPARE(unquote("token"), QByteArray("token"));
    QCOMPARE(unquote("\"\\x\""), QByteArray("x"));  // quoted-pair: any char after '\'
    QCOMPARE(unquote("\"Zo\xc3\xab\""), QByteArray("Zo\xc3\xab"));
}

void TestParams::quoteEscapes() {
    QCOMPARE(quote("Alice"), QByteArray("\"Alice\""));
    QCOMPARE(quote("a\"b\\c"), QByteArray("\"a\\\"b\\\\c\""));
    QCOMPARE(quote(""), QByteArray("\"\""));
}

void TestParams::quoteRoundTrip() {
    for (const QByteArray& text :
         {QByteArray("plain"), QByteArray("with \"quotes\""), QByteArray("back\\slash\\"),
          QByteArray("semi;colon, comma <angle>"), QByteArray("Zo\xc3\xab M\xc3\xbcller")}) {
        QCOMPARE(unquote(quote(text)), text);
    }
}

void TestParams::findTopLevelSkipsQuotesAndAngles() {
    QCOMPARE(findTopLevel("a,b", ','), qsizetype(1));
    QCOMPARE(findTopLevel("\"a,b\",c", ','), qsizetype(5));
    QCOMPARE(findTopLevel("<sip:a@b;x=1,2>,c", ','), qsizetype(15));
    QCOMPARE(findTopLevel("<sip:a@b;x=1,2>,c", ',', false), qsizetype(12));
    QCOMPARE(findTopLevel("\"a\\\",b\",c", ','), qsizetype(7));  // escaped quote inside
    QCOMPARE(findTopLevel("abc", ','), qsizetype(-1));
    QCOMPARE(findTopLevel("\"unterminated, c", ','), qsizetype(-1));
    QCOMPARE(findTopLevel("a,b,c", ',', true, 2), qsizetype(3));
    QCOMPARE(findTopLevel("x;y=\"1;2\";z", ';', false, 2), qsizetype(9));
}

QTEST_GUILESS_MAIN(TestParams)
#include "tst_params.moc"
