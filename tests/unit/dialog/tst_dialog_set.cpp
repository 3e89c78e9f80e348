// Dialog store: forked early dialogs (§12.1.2, §13.2.2.4) and lookups.

#include <QTest>

#include "dialog/dialog_set.h"
#include "dialog_test_messages.h"

using namespace sb;
using namespace sb::test;
using dialog::Dialog;
using dialog::DialogSet;

class TestDialogSet : public QObject {
    Q_OBJECT

private slots:
    void forkedEarlyDialogs() {
        DialogSet set;
        const sip::Message request = invite();
        QVERIFY(set.onUacResponse(request, response(request, 100, {})) == nullptr);
        Dialog* a =
            set.onUacResponse(request, response(request, 180, "fork-a", "<sip:bob@192.0.2.10>"));
        Dialog* b =
            set.onUacResponse(request, response(request, 180, "fork-b", "<sip:bob@192.0.2.11>"));
        QVERIFY(a && b && a != b);
        QCOMPARE(set.size(), 2u);
        QCOMPARE(
            set.onUacResponse(request, response(request, 183, "fork-a", "<sip:bob@192.0.2.12>")),
            a);
        QCOMPARE(set.size(), 2u);
        QCOMPARE(a->remoteTarget(), QByteArray("sip:bob@192.0.2.12"));
        QCOMPARE(b->remoteTarget(), QByteArray("sip:bob@192.0.2.11"));
        QCOMPARE(set.dialogsOf("a84b4c76e66710@pc33.atlanta.example.com", "1928301774").size(), 2u);

        QCOMPARE(set.onUacResponse(request, response(request, 200, "fork-b")), b);
        QVERIFY(b->isConfirmed());
        QVERIFY(a->isEarly());
        // The INVITE transaction is over: the fork that never answered ends.
        set.terminateEarly("a84b4c76e66710@pc33.atlanta.example.com", "1928301774");
        QVERIFY(a->isTerminated());
        QVERIFY(b->isConfirmed());
        set.removeTerminated();
        QCOMPARE(set.size(), 1u);
        QCOMPARE(set.find(b->id()), b);
    }

    void twoForksAnswering() {
        DialogSet set;
        const sip::Message request = invite();
        Dialog* a = set.onUacResponse(request, response(request, 200, "fork-a"));
        Dialog* b = set.onUacResponse(request, response(request, 200, "fork-b"));
        QVERIFY(a && b && a != b);
        QVERIFY(a->isConfirmed() && b->isConfirmed());
        // A retransmitted 2xx finds the dialog it belongs to.
        QCOMPARE(set.onUacResponse(request, response(request, 200, "fork-a")), a);
        QCOMPARE(set.size(), 2u);
    }

    void failureEndsEveryEarlyDialog() {
        DialogSet set;
        const sip::Message request = invite();
        Dialog* a = set.onUacResponse(request, response(request, 180, "fork-a"));
        Dialog* b = set.onUacResponse(request, response(request, 180, "fork-b"));
        set.onUacResponse(request, response(request, 486, "fork-c"));
        QVERIFY(a->isTerminated());
        QVERIFY(b->isTerminated());
        set.removeTerminated();
        QCOMPARE(set.size(), 0u);
    }

    void lookups() {
        DialogSet set;
        const sip::Message request = invite();
        const sip::Message ok = response(request, 200, "t1");
        Dialog* d = set.onUacResponse(request, ok);
        QVERIFY(d);
        QCOMPARE(set.findForResponse(ok), d);
        // A request from the far side: From has its tag, To has ours.
        sip::Message bye =
            sip::Message::request(sip::Method::Bye, "sip:alice@pc33.atlanta.example.com");
        bye.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKx");
        bye.addHeader(sip::HeaderId::From, d->remoteParty());
        bye.addHeader(sip::HeaderId::To, d->localParty());
        bye.addHeader(sip::HeaderId::CallId, d->id().callId);
        bye.addHeader(sip::HeaderId::CSeq, "1 BYE");
        QCOMPARE(set.findForRequest(wire(bye)), d);
        QVERIFY(set.remove(d->id()));
        QVERIFY(set.findForResponse(ok) == nullptr);
        QVERIFY(!set.remove(dialog::DialogId{"x", "y", "z"}));
    }

    void uasEarlyThenConfirmed() {
        DialogSet set;
        const sip::Message request = invite();
        Dialog* early = set.onUasResponse(request, response(request, 180, "uas-1"));
        QVERIFY(early && early->isEarly());
        QCOMPARE(set.onUasResponse(request, response(request, 200, "uas-1")), early);
        QVERIFY(early->isConfirmed());
        QCOMPARE(set.size(), 1u);
    }
};

QTEST_GUILESS_MAIN(TestDialogSet)
#include "tst_dialog_set.moc"
