// BestResponse: RFC 3261 §16.7 steps 6 and 7.

#include <QTest>

#include "server/best_response.h"

using namespace sb;
using namespace sb::server;

namespace {

sip::Message invite() {
    sip::Message m = sip::Message::request(sip::Method::Invite, "sip:202@switchboard.local");
    m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-1");
    m.addHeader(sip::HeaderId::From, "<sip:201@switchboard.local>;tag=a");
    m.addHeader(sip::HeaderId::To, "<sip:202@switchboard.local>");
    m.addHeader(sip::HeaderId::CallId, "c1");
    m.addHeader(sip::HeaderId::CSeq, "1 INVITE");
    return m;
}

sip::Message response(int status, QByteArray toTag) {
    return sip::makeResponse(invite(), status, {}, toTag);
}

}  // namespace

class TestBestResponse : public QObject {
    Q_OBJECT

private slots:
    void emptyGives500() {
        BestResponse best;
        QVERIFY(best.isEmpty());
        QCOMPARE(best.build(invite(), "p").statusCode(), 500);
    }

    void lowestClassWins() {
        BestResponse best;
        best.add(response(503, "a"));
        best.add(response(486, "b"));
        best.add(response(302, "c"));
        best.add(response(404, "d"));
        QCOMPARE(best.status(), 302);
        QCOMPARE(best.build(invite(), "p").to()->tag(), QByteArrayView("c"));
    }

    void sixHundredBeatsEverything() {
        BestResponse best;
        best.add(response(302, "a"));
        best.add(response(603, "b"));
        best.add(response(301, "c"));
        QVERIFY(best.has6xx());
        QCOMPARE(best.status(), 603);
    }

    void timeoutsAndCancelsComeLastIn4xx() {
        BestResponse best;
        best.addLocal(408);
        best.add(response(487, "x"));
        best.add(response(486, "busy"));
        QCOMPARE(best.status(), 486);
        QCOMPARE(best.build(invite(), "p").to()->tag(), QByteArrayView("busy"));
        // and 401/407/415/420/484 first
        best.add(response(484, "incomplete"));
        QCOMPARE(best.status(), 484);
    }

    void firstOfEqualsStays() {
        BestResponse best;
        best.add(response(486, "first"));
        best.add(response(480, "second"));
        QCOMPARE(best.build(invite(), "p").to()->tag(), QByteArrayView("first"));
    }

    void localTimeoutIsGeneratedHere() {
        BestResponse best;
        best.addLocal(408);
        const sip::Message built = best.build(invite(), "proxy-tag");
        QCOMPARE(built.statusCode(), 408);
        QCOMPARE(built.to()->tag(), QByteArrayView("proxy-tag"));
        QCOMPARE(built.topVia()->branch(), QByteArrayView("z9hG4bK-1"));
    }

    void serviceUnavailableBecomes500() {
        BestResponse best;
        best.add(response(503, "down"));
        best.addLocal(503);
        QCOMPARE(best.status(), 500);
        const sip::Message built = best.build(invite(), "p");
        QCOMPARE(built.statusCode(), 500);
        QCOMPARE(built.to()->tag(), QByteArrayView("p"));
        // Another 5xx is preferred over 503.
        best.add(response(502, "gw"));
        QCOMPARE(best.status(), 502);
    }

    void challengesAreGathered() {
        BestResponse best;
        sip::Message first = response(401, "a");
        first.addHeader(sip::HeaderId::WwwAuthenticate, R"(Digest realm="one", nonce="1")");
        sip::Message second = response(407, "b");
        second.addHeader(sip::HeaderId::ProxyAuthenticate, R"(Digest realm="two", nonce="2")");
        second.addHeader(sip::HeaderId::ProxyAuthenticate, R"(Digest realm="two", nonce="2")");
        best.add(response(486, "busy"));
        best.add(first);
        best.add(second);
        QCOMPARE(best.status(), 401);
        const sip::Message built = best.build(invite(), "p");
        QCOMPARE(built.to()->tag(), QByteArrayView("a"));
        QCOMPARE(built.count(sip::HeaderId::WwwAuthenticate), 1);
        QCOMPARE(built.count(sip::HeaderId::ProxyAuthenticate), 1);  // duplicates once
        QCOMPARE(built.header(sip::HeaderId::ProxyAuthenticate),
                 QByteArrayView(R"(Digest realm="two", nonce="2")"));
    }

    void challengesAreBounded() {
        BestResponse best;
        for (int i = 0; i < 100; ++i) {
            sip::Message challenge = response(407, "t");
            challenge.addHeader(sip::HeaderId::ProxyAuthenticate,
                                "Digest realm=\"r" + QByteArray::number(i) + "\"");
            best.add(challenge);
        }
        QCOMPARE(std::size_t(best.build(invite(), "p").count(sip::HeaderId::ProxyAuthenticate)),
                 BestResponse::kMaxChallenges);
    }

    void provisionalAndSuccessAreIgnored() {
        BestResponse best;
        best.add(response(180, "a"));
        best.add(response(200, "b"));
        QVERIFY(best.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestBestResponse)
#include "tst_best_response.moc"
