#pragma once

// Message builders shared by the dialog unit tests. Every message goes through the
// serializer and the parser, as it would on the wire.

#include <QByteArray>
#include <QtTest>

#include <initializer_list>

#include "sip/message.h"
#include "sip/parser.h"

namespace sb::test {

inline sip::Message wire(const sip::Message& message) {
    auto parsed = sip::Parser::parse(message.serialize());
    if (!parsed) qFatal("test message does not parse: %s", qPrintable(parsed.error().reason));
    return *parsed;
}

// The INVITE Alice's UA sends (UAC side) or receives (UAS side).
inline sip::Message invite(std::initializer_list<QByteArray> recordRoutes = {}, quint32 cseq = 1,
                           QByteArray requestUri = "sip:bob@biloxi.example.com") {
    sip::Message m = sip::Message::request(sip::Method::Invite, requestUri);
    m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds");
    m.addHeader(sip::HeaderId::MaxForwards, "70");
    for (const QByteArray& rr : recordRoutes)
        m.addHeader(sip::HeaderId::RecordRoute, rr);
    m.addHeader(sip::HeaderId::From, "Alice <sip:alice@atlanta.example.com>;tag=1928301774");
    m.addHeader(sip::HeaderId::To, "Bob <sip:bob@biloxi.example.com>");
    m.addHeader(sip::HeaderId::CallId, "a84b4c76e66710@pc33.atlanta.example.com");
    m.addHeader(sip::HeaderId::CSeq, QByteArray::number(cseq) + " INVITE");
    m.addHeader(sip::HeaderId::Contact, "<sip:alice@pc33.atlanta.example.com>");
    return wire(m);
}

// A response to `request` with To tag, Contact and Record-Route as given.
inline sip::Message response(const sip::Message& request, int status, QByteArray toTag,
                             QByteArray contact = "<sip:bob@192.0.2.4>",
                             std::initializer_list<QByteArray> recordRoutes = {}) {
    sip::Message m = sip::makeResponse(request, status, {}, toTag);
    for (const QByteArray& rr : recordRoutes)
        m.addHeader(sip::HeaderId::RecordRoute, rr);
    if (!contact.isEmpty()) m.addHeader(sip::HeaderId::Contact, contact);
    return wire(m);
}

inline QByteArrayList routesOf(const sip::Message& m) {
    QByteArrayList out;
    for (QByteArrayView v : m.values(sip::HeaderId::Route))
        out << v.toByteArray();
    return out;
}

inline QByteArrayList toList(const std::vector<QByteArray>& v) {
    return QByteArrayList(v.begin(), v.end());
}

}  // namespace sb::test
