#include <QTest>

#include "transport/system_dns_resolver.h"

using namespace sb;
using namespace sb::transport;

namespace {

// Writes RFC 1035 messages by hand; the resolver itself is never asked (no network).
struct DnsWriter {
    QByteArray bytes;
    void u16(quint16 v) {
        bytes.append(char(v >> 8));
        bytes.append(char(v & 0xff));
    }
    void u32(quint32 v) {
        u16(quint16(v >> 16));
        u16(quint16(v & 0xffff));
    }
    void name(QByteArrayView dotted) {
        for (const QByteArrayView label : QByteArray(dotted.toByteArray()).split('.')) {
            if (label.isEmpty()) continue;
            bytes.append(char(label.size()));
            bytes.append(label.data(), label.size());
        }
        bytes.append('\0');
    }
    void pointer(quint16 offset) { u16(0xc000 | offset); }
    void string(QByteArrayView text) {
        bytes.append(char(text.size()));
        bytes.append(text.data(), text.size());
    }
};

// Header + question for `domain`; returns the offset of the question name.
int header(DnsWriter& w, quint16 answers, QByteArrayView domain) {
    w.u16(0x1234);
    w.u16(0x8180);
    w.u16(1);
    w.u16(answers);
    w.u16(0);
    w.u16(0);
    const int nameOffset = int(w.bytes.size());
    w.name(domain);
    w.u16(35);
    w.u16(1);
    return nameOffset;
}

void naptrAnswer(DnsWriter& w, int ownerOffset, quint16 order, quint16 pref, QByteArrayView flags,
                 QByteArrayView service, QByteArrayView replacement,
                 bool compressReplacement = false, int replacementTail = 0) {
    w.pointer(quint16(ownerOffset));
    w.u16(35);
    w.u16(1);
    w.u32(300);
    DnsWriter rdata;
    rdata.u16(order);
    rdata.u16(pref);
    rdata.string(flags);
    rdata.string(service);
    rdata.string("");
    if (compressReplacement) {
        // "_sip._udp" + pointer to the owner name ("example.com" in the question)
        for (const QByteArrayView label : QByteArray(replacement.toByteArray()).split('.')) {
            rdata.bytes.append(char(label.size()));
            rdata.bytes.append(label.data(), label.size());
        }
        rdata.pointer(quint16(replacementTail));
    } else {
        rdata.name(replacement);
    }
    w.u16(quint16(rdata.bytes.size()));
    w.bytes.append(rdata.bytes);
}

}  // namespace

// The NAPTR answer parser of the production resolver (RFC 1035 §4.1, RFC 3403 §4.1).
class TstSystemDnsResolver : public QObject {
    Q_OBJECT
private slots:
    void parsesNaptrRecords();
    void followsCompressionPointers();
    void skipsOtherRecordTypes();
    void rejectsTruncatedMessages();
    void rejectsPointerLoops();
};

void TstSystemDnsResolver::parsesNaptrRecords() {
    DnsWriter w;
    const int owner = header(w, 2, "example.com");
    naptrAnswer(w, owner, 10, 50, "s", "SIP+D2T", "_sip._tcp.example.com");
    naptrAnswer(w, owner, 20, 50, "S", "SIP+D2U", "_sip._udp.example.com");
    const auto records = SystemDnsResolver::parseNaptrResponse(w.bytes);
    QVERIFY2(records.has_value(), qPrintable(records ? QString() : records.error().reason));
    QCOMPARE(records->size(), std::size_t(2));
    QCOMPARE((*records)[0].order, quint16(10));
    QCOMPARE((*records)[0].preference, quint16(50));
    QCOMPARE((*records)[0].flags, QByteArray("s"));
    QCOMPARE((*records)[0].service, QByteArray("SIP+D2T"));
    QCOMPARE((*records)[0].replacement, QByteArray("_sip._tcp.example.com"));
    QCOMPARE((*records)[1].flags, QByteArray("S"));
    QCOMPARE((*records)[1].replacement, QByteArray("_sip._udp.example.com"));
}

void TstSystemDnsResolver::followsCompressionPointers() {
    DnsWriter w;
    const int owner = header(w, 1, "example.com");
    naptrAnswer(w, owner, 10, 10, "s", "SIP+D2U", "_sip._udp", true, owner);
    const auto records = SystemDnsResolver::parseNaptrResponse(w.bytes);
    QVERIFY(records.has_value());
    QCOMPARE(records->size(), std::size_t(1));
    QCOMPARE((*records)[0].replacement, QByteArray("_sip._udp.example.com"));
}

void TstSystemDnsResolver::skipsOtherRecordTypes() {
    DnsWriter w;
    const int owner = header(w, 2, "example.com");
    // A CNAME-like record of another type first.
    w.pointer(quint16(owner));
    w.u16(5);
    w.u16(1);
    w.u32(60);
    DnsWriter target;
    target.name("alias.example.com");
    w.u16(quint16(target.bytes.size()));
    w.bytes.append(target.bytes);
    naptrAnswer(w, owner, 1, 1, "s", "SIP+D2T", "_sip._tcp.example.com");
    const auto records = SystemDnsResolver::parseNaptrResponse(w.bytes);
    QVERIFY(records.has_value());
    QCOMPARE(records->size(), std::size_t(1));
    QCOMPARE((*records)[0].service, QByteArray("SIP+D2T"));
}

void TstSystemDnsResolver::rejectsTruncatedMessages() {
    DnsWriter w;
    const int owner = header(w, 1, "example.com");
    naptrAnswer(w, owner, 10, 50, "s", "SIP+D2T", "_sip._tcp.example.com");
    for (qsizetype cut : {qsizetype(3), qsizetype(15), w.bytes.size() - 1, w.bytes.size() - 10}) {
        QVERIFY(
            !SystemDnsResolver::parseNaptrResponse(QByteArrayView(w.bytes).first(cut)).has_value());
    }
    QVERIFY(SystemDnsResolver::parseNaptrResponse(w.bytes).has_value());
}

void TstSystemDnsResolver::rejectsPointerLoops() {
    DnsWriter w;
    w.u16(1);
    w.u16(0x8180);
    w.u16(1);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    w.pointer(12);  // the question name points at itself
    w.u16(35);
    w.u16(1);
    QVERIFY(!SystemDnsResolver::parseNaptrResponse(w.bytes).has_value());
}

QTEST_GUILESS_MAIN(TstSystemDnsResolver)
#include "tst_system_dns_resolver.moc"
