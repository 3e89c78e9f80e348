// The proxy's Via branch with its loop hash (RFC 3261 §16.3 step 4, §16.6 step 8), and
// Via removal from responses (§16.7 step 3).

#include <QTest>

#include "server/proxy_branch.h"

using namespace sb;
using namespace sb::server;

namespace {

sip::Message invite() {
    sip::Message m = sip::Message::request(sip::Method::Invite, "sip:202@switchboard.local");
    m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-1");
    m.addHeader(sip::HeaderId::MaxForwards, "70");
    m.addHeader(sip::HeaderId::From, "<sip:201@switchboard.local>;tag=a");
    m.addHeader(sip::HeaderId::To, "<sip:202@switchboard.local>");
    m.addHeader(sip::HeaderId::CallId, "c1");
    m.addHeader(sip::HeaderId::CSeq, "1 INVITE");
    return m;
}

}  // namespace

class TestProxyBranch : public QObject {
    Q_OBJECT

private slots:
    void branchCarriesTheLoopHash() {
        const QByteArray hash = loopHash(invite());
        QCOMPARE(hash.size(), 16);
        const QByteArray branch = makeBranch(hash, "unique1");
        QVERIFY(branch.startsWith("z9hG4bK"));
        QCOMPARE(loopHashOfBranch(branch), std::optional<QByteArrayView>(hash));
        QVERIFY(!loopHashOfBranch("z9hG4bK-other").has_value());
        QVERIFY(!loopHashOfBranch("z9hG4bKsbXXXXXXXXXXXXXXXX.1").has_value());
        QVERIFY(!loopHashOfBranch("z9hG4bKsb0123456789abcdef").has_value());  // no unique part
    }

    void hashIgnoresWhatChangesPerHop() {
        sip::Message a = invite();
        sip::Message b = invite();
        b.prependHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.9;branch=z9hG4bK-9");
        b.setHeader(sip::HeaderId::MaxForwards, "12");
        b.addHeader(sip::HeaderId::RecordRoute, "<sip:127.0.0.9;lr>");
        QCOMPARE(loopHash(a), loopHash(b));
    }

    void hashReflectsWhatDecidesRouting() {
        const QByteArray base = loopHash(invite());
        sip::Message uri = invite();
        uri.setRequestUri("sip:203@switchboard.local");
        QVERIFY(loopHash(uri) != base);
        sip::Message route = invite();
        route.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9;lr>");
        QVERIFY(loopHash(route) != base);
        sip::Message auth = invite();
        auth.addHeader(sip::HeaderId::ProxyAuthorization, "Digest username=\"201\"");
        QVERIFY(loopHash(auth) != base);
        sip::Message cseq = invite();
        cseq.setHeader(sip::HeaderId::CSeq, "2 INVITE");
        QVERIFY(loopHash(cseq) != base);
        sip::Message toTag = invite();
        toTag.setHeader(sip::HeaderId::To, "<sip:202@switchboard.local>;tag=x");
        QVERIFY(loopHash(toTag) != base);
    }

    void shortHashIsStable() {
        QCOMPARE(shortHash("abc"), shortHash("abc"));
        QVERIFY(shortHash("abc") != shortHash("abd"));
        QCOMPARE(shortHash("abc").size(), 16);
    }

    void removeTopViaKeepsTheRest() {
        sip::Message response = sip::Message::response(200);
        QVERIFY(!removeTopVia(response));
        response.addHeader(sip::HeaderId::Via,
                           "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-ours, "
                           "SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK-theirs");
        response.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.3;branch=z9hG4bK-first");
        QVERIFY(removeTopVia(response));
        auto vias = response.vias();
        QCOMPARE(vias->size(), 2u);
        QCOMPARE(vias->at(0).branch(), QByteArrayView("z9hG4bK-theirs"));
        QVERIFY(removeTopVia(response));
        QCOMPARE(response.topVia()->branch(), QByteArrayView("z9hG4bK-first"));
        QVERIFY(removeTopVia(response));
        QVERIFY(!response.has(sip::HeaderId::Via));
    }

    void branchStartsPending() {
        ProxyBranch branch;
        QVERIFY(branch.isPending());
        branch.state = ProxyBranch::State::Proceeding;
        QVERIFY(branch.isPending());
        branch.state = ProxyBranch::State::Completed;
        QVERIFY(!branch.isPending());
    }
};

QTEST_GUILESS_MAIN(TestProxyBranch)
#include "tst_proxy_branch.moc"
