// Header names: case-insensitive recognition, compact forms (RFC 3261 §7.3.3 and the
// extensions that define one-letter names), canonical spellings, and which headers are
// comma lists (RFC 3261 §7.3.1).

#include <QTest>

#include "sip/header_id.h"
#include "sip_test_util.h"

using namespace sb::sip;
using namespace sb::sip::test;

Q_DECLARE_METATYPE(sb::sip::HeaderId)

class TestHeaderId : public QObject {
    Q_OBJECT

private slots:
    void compactForms_data();
    void compactForms();
    void longNamesAnyCase_data();
    void longNamesAnyCase();
    void canonicalNamesRoundTrip();
    void canonicalSpellings();
    void unknownNames();
    void commaLists_data();
    void commaLists();
};

void TestHeaderId::compactForms_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<HeaderId>("id");
    // RFC 3261 §7.3.3 / §20
    QTest::newRow("c Content-Type") << QByteArray("c") << HeaderId::ContentType;
    QTest::newRow("e Content-Encoding") << QByteArray("e") << HeaderId::ContentEncoding;
    QTest::newRow("f From") << QByteArray("f") << HeaderId::From;
    QTest::newRow("i Call-ID") << QByteArray("i") << HeaderId::CallId;
    QTest::newRow("k Supported") << QByteArray("k") << HeaderId::Supported;
    QTest::newRow("l Content-Length") << QByteArray("l") << HeaderId::ContentLength;
    QTest::newRow("m Contact") << QByteArray("m") << HeaderId::Contact;
    QTest::newRow("s Subject") << QByteArray("s") << HeaderId::Subject;
    QTest::newRow("t To") << QByteArray("t") << HeaderId::To;
    QTest::newRow("v Via") << QByteArray("v") << HeaderId::Via;
    // RFC 6665 (was RFC 3265) §8.2.1
    QTest::newRow("o Event") << QByteArray("o") << HeaderId::Event;
    QTest::newRow("u Allow-Events") << QByteArray("u") << HeaderId::AllowEvents;
    // RFC 3515 §2.1 and RFC 3892 §3
    QTest::newRow("r Refer-To") << QByteArray("r") << HeaderId::ReferTo;
    QTest::newRow("b Referred-By") << QByteArray("b") << HeaderId::ReferredBy;
    // Compact names are case-insensitive like every header name.
    QTest::newRow("I Call-ID") << QByteArray("I") << HeaderId::CallId;
    QTest::newRow("V Via") << QByteArray("V") << HeaderId::Via;
    QTest::newRow("M Contact") << QByteArray("M") << HeaderId::Contact;
    QTest::newRow("L Content-Length") << QByteArray("L") << HeaderId::ContentLength;
    QTest::newRow("O Event") << QByteArray("O") << HeaderId::Event;
    // Compact forms of headers the core does not know by name stay Other:
    // a Accept-Contact, j Reject-Contact, d Request-Disposition (RFC 3841),
    // x Session-Expires (RFC 4028), y Identity and n Identity-Info (RFC 4474).
    QTest::newRow("a Accept-Contact") << QByteArray("a") << HeaderId::Other;
    QTest::newRow("j Reject-Contact") << QByteArray("j") << HeaderId::Other;
    QTest::newRow("d Request-Disposition") << QByteArray("d") << HeaderId::Other;
    QTest::newRow("x Session-Expires") << QByteArray("x") << HeaderId::Other;
    QTest::newRow("y Identity") << QByteArray("y") << HeaderId::Other;
    QTest::newRow("n Identity-Info") << QByteArray("n") << HeaderId::Other;
    // Letters that are not compact forms at all.
    QTest::newRow("g") << QByteArray("g") << HeaderId::Other;
    QTest::newRow("z") << QByteArray("z") << HeaderId::Other;
}

void TestHeaderId::compactForms() {
    QFETCH(QByteArray, name);
    QFETCH(HeaderId, id);
    QCOMPARE(headerIdFromName(name), id);
}

void TestHeaderId::longNamesAnyCase_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<HeaderId>("id");
    QTest::newRow("Call-ID") << QByteArray("Call-ID") << HeaderId::CallId;
    QTest::newRow("call-id") << QByteArray("call-id") << HeaderId::CallId;
    QTest::newRow("CALL-ID") << QByteArray("CALL-ID") << HeaderId::CallId;
    QTest::newRow("cSeQ") << QByteArray("cSeQ") << HeaderId::CSeq;
    QTest::newRow("MaX-fOrWaRdS") << QByteArray("MaX-fOrWaRdS") << HeaderId::MaxForwards;
    QTest::newRow("via") << QByteArray("via") << HeaderId::Via;
    QTest::newRow("ViA") << QByteArray("ViA") << HeaderId::Via;
    QTest::newRow("www-authenticate")
        << QByteArray("www-authenticate") << HeaderId::WwwAuthenticate;
    QTest::newRow("PROXY-AUTHORIZATION")
        << QByteArray("PROXY-AUTHORIZATION") << HeaderId::ProxyAuthorization;
    QTest::newRow("sip-etag") << QByteArray("sip-etag") << HeaderId::SipETag;
    QTest::newRow("Sip-If-Match") << QByteArray("Sip-If-Match") << HeaderId::SipIfMatch;
    QTest::newRow("subscription-state")
        << QByteArray("subscription-state") << HeaderId::SubscriptionState;
    QTest::newRow("record-route") << QByteArray("record-route") << HeaderId::RecordRoute;
    QTest::newRow("Diversion") << QByteArray("Diversion") << HeaderId::Diversion;
    QTest::newRow("history-info") << QByteArray("history-info") << HeaderId::HistoryInfo;
    QTest::newRow("REPLACES") << QByteArray("REPLACES") << HeaderId::Replaces;
    QTest::newRow("refer-to") << QByteArray("refer-to") << HeaderId::ReferTo;
    QTest::newRow("referred-by") << QByteArray("referred-by") << HeaderId::ReferredBy;
    QTest::newRow("allow-events") << QByteArray("allow-events") << HeaderId::AllowEvents;
    QTest::newRow("min-expires") << QByteArray("min-expires") << HeaderId::MinExpires;
}

void TestHeaderId::longNamesAnyCase() {
    QFETCH(QByteArray, name);
    QFETCH(HeaderId, id);
    QCOMPARE(headerIdFromName(name), id);
}

// Every known id has a canonical name that maps back to it, in any letter case.
void TestHeaderId::canonicalNamesRoundTrip() {
    for (int i = int(HeaderId::Other) + 1; i < int(HeaderId::Count); ++i) {
        const auto id = HeaderId(i);
        const QByteArray name = bytes(canonicalHeaderName(id));
        QVERIFY2(name.size() > 1, qPrintable(QStringLiteral("id %1 has no long name").arg(i)));
        QVERIFY2(headerIdFromName(name) == id, name.constData());
        QVERIFY2(headerIdFromName(name.toLower()) == id, name.constData());
        QVERIFY2(headerIdFromName(name.toUpper()) == id, name.constData());
    }
}

// The spellings the core writes: RFC 3261 §20 and the extension RFCs.
void TestHeaderId::canonicalSpellings() {
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::CallId)), QByteArray("Call-ID"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::CSeq)), QByteArray("CSeq"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::WwwAuthenticate)), QByteArray("WWW-Authenticate"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::SipETag)), QByteArray("SIP-ETag"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::SipIfMatch)), QByteArray("SIP-If-Match"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::MimeVersion)), QByteArray("MIME-Version"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::MaxForwards)), QByteArray("Max-Forwards"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::ContentLength)), QByteArray("Content-Length"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::RecordRoute)), QByteArray("Record-Route"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::Via)), QByteArray("Via"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::Contact)), QByteArray("Contact"));
    QCOMPARE(bytes(canonicalHeaderName(HeaderId::SubscriptionState)),
             QByteArray("Subscription-State"));
}

void TestHeaderId::unknownNames() {
    QCOMPARE(headerIdFromName("X-Custom"), HeaderId::Other);
    QCOMPARE(headerIdFromName("NewFangledHeader"), HeaderId::Other);
    QCOMPARE(headerIdFromName("Via2"), HeaderId::Other);
    QCOMPARE(headerIdFromName("Vi"), HeaderId::Other);
    QCOMPARE(headerIdFromName("Call-IDs"), HeaderId::Other);
    QCOMPARE(headerIdFromName("C%6Fntact"), HeaderId::Other);  // RFC 4475 §3.1.1.5
    QCOMPARE(headerIdFromName(""), HeaderId::Other);
    QCOMPARE(headerIdFromName("Session-Expires"), HeaderId::Other);
    QCOMPARE(headerIdFromName("Identity"), HeaderId::Other);
}

void TestHeaderId::commaLists_data() {
    QTest::addColumn<HeaderId>("id");
    QTest::addColumn<bool>("list");
    // RFC 3261 §7.3.1: these take comma-separated values.
    for (HeaderId id :
         {HeaderId::Via, HeaderId::Contact, HeaderId::Route, HeaderId::RecordRoute,
          HeaderId::Accept, HeaderId::AcceptEncoding, HeaderId::AcceptLanguage, HeaderId::Allow,
          HeaderId::AllowEvents, HeaderId::Supported, HeaderId::Require, HeaderId::ProxyRequire,
          HeaderId::Unsupported, HeaderId::Path, HeaderId::Diversion, HeaderId::HistoryInfo}) {
        QTest::newRow(canonicalHeaderName(id).toByteArray().constData()) << id << true;
    }
    // Not lists: credentials and challenges hold commas between their parameters, dates
    // hold a comma, free text (Subject, User-Agent, Server, Organization) may hold any,
    // and the single-value fields must not be split.
    for (HeaderId id : {HeaderId::Authorization,
                        HeaderId::ProxyAuthorization,
                        HeaderId::WwwAuthenticate,
                        HeaderId::ProxyAuthenticate,
                        HeaderId::AuthenticationInfo,
                        HeaderId::Date,
                        HeaderId::CallId,
                        HeaderId::CSeq,
                        HeaderId::From,
                        HeaderId::To,
                        HeaderId::Subject,
                        HeaderId::UserAgent,
                        HeaderId::Server,
                        HeaderId::Organization,
                        HeaderId::ContentType,
                        HeaderId::ContentLength,
                        HeaderId::MaxForwards,
                        HeaderId::Expires,
                        HeaderId::MinExpires,
                        HeaderId::RetryAfter,
                        HeaderId::Event,
                        HeaderId::SubscriptionState,
                        HeaderId::ReferTo,
                        HeaderId::ReferredBy,
                        HeaderId::Replaces,
                        HeaderId::SipETag,
                        HeaderId::SipIfMatch,
                        HeaderId::Timestamp,
                        HeaderId::Priority,
                        HeaderId::Other}) {
        const QByteArray name =
            id == HeaderId::Other ? QByteArray("Other") : canonicalHeaderName(id).toByteArray();
        QTest::newRow(name.constData()) << id << false;
    }
}

void TestHeaderId::commaLists() {
    QFETCH(HeaderId, id);
    QFETCH(bool, list);
    QCOMPARE(isCommaListHeader(id), list);
}

QTEST_GUILESS_MAIN(TestHeaderId)
#include "tst_header_id.moc"
