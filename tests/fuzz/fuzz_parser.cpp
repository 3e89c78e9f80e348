// libFuzzer target for the SIP message core (core/sip): whatever the bytes, parsing,
// reading and re-serialising must neither crash nor trip a sanitizer, and a message
// that parsed must survive serialize() → parse() with the same start line, headers
// and body.

#include <QByteArray>
#include <QByteArrayView>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sip/header_id.h"
#include "sip/message.h"
#include "sip/name_addr.h"
#include "sip/params.h"
#include "sip/parser.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"
#include "sip/via.h"

namespace {

using sb::sip::HeaderId;
using sb::sip::Message;

// Keeps a value observable so that the calls producing it are not optimised away.
template <class T>
void keep(const T& value) {
    asm volatile("" : : "r"(&value) : "memory");
}

[[noreturn]] void failCheck(const char* what, QByteArrayView detail = {}) {
    std::fprintf(stderr, "fuzz_parser: %s\n", what);
    if (!detail.isEmpty()) {
        std::fprintf(stderr, "----\n%.*s\n----\n", int(detail.size()), detail.data());
    }
    std::abort();
}

void exerciseParams(const sb::sip::ParamList& params) {
    params.forEach([](QByteArrayView name, QByteArrayView value, bool hasValue) {
        keep(name);
        keep(value);
        keep(hasValue);
        return true;
    });
    keep(params.has("tag"));
    keep(params.value("transport"));
    keep(sb::sip::unquote(params.raw()));
}

void exerciseUri(const sb::sip::Uri& uri) {
    keep(uri.isSip());
    keep(uri.hostPort());
    keep(uri.addressOfRecord());
    keep(uri.transportParam());
    keep(sb::sip::percentDecode(uri.user));
    keep(sb::sip::uriEquivalent(uri, uri));
    exerciseParams(uri.params);
}

void exerciseNameAddr(const sb::sip::NameAddr& address) {
    keep(address.displayName());
    keep(address.tag());
    exerciseUri(address.uri);
    exerciseParams(address.params);
    // A parsed URI must parse again from its own text.
    if (!address.uriText.isEmpty() && !sb::sip::Uri::parse(address.uri.text)) {
        failCheck("Uri of a parsed name-addr does not re-parse", address.uri.text);
    }
}

void exerciseVia(const sb::sip::Via& via) {
    keep(via.branch());
    keep(via.hasMagicCookie());
    keep(via.received());
    keep(via.maddr());
    keep(via.hasRport());
    keep(via.rport());
    exerciseParams(via.params);
}

void exerciseAccessors(const Message& message) {
    keep(message.isRequest());
    keep(message.method());
    keep(message.methodName());
    keep(message.statusCode());
    keep(message.reasonPhrase());
    keep(message.sipVersion());
    keep(message.body());
    keep(message.raw());
    if (message.isRequest()) {
        if (auto uri = sb::sip::Uri::parse(message.requestUri())) exerciseUri(*uri);
    }

    for (const auto& field : message.headers()) {
        keep(message.header(field.name));
        keep(sb::sip::headerIdFromName(field.name));
        for (QByteArrayView item : sb::sip::splitCommaList(field.value))
            keep(item);
    }
    for (int i = 0; i < static_cast<int>(HeaderId::Count); ++i) {
        const auto id = static_cast<HeaderId>(i);
        keep(message.has(id));
        keep(message.header(id));
        keep(message.count(id));
        for (QByteArrayView value : message.values(id))
            keep(value);
    }

    if (auto via = message.topVia()) exerciseVia(*via);
    if (auto vias = message.vias()) {
        for (const auto& via : *vias)
            exerciseVia(via);
    }
    if (auto from = message.from()) exerciseNameAddr(*from);
    if (auto to = message.to()) exerciseNameAddr(*to);
    keep(message.callId());
    if (auto cseq = message.cseq()) keep(cseq->number);
    if (auto contacts = message.contacts()) {
        for (const auto& contact : contacts->entries) {
            exerciseNameAddr(contact);
            keep(contact.params.value("expires"));
            keep(contact.params.value("q"));
        }
    }
    for (HeaderId id : {HeaderId::Route, HeaderId::RecordRoute, HeaderId::Diversion, HeaderId::Path,
                        HeaderId::ReferTo, HeaderId::ReferredBy, HeaderId::HistoryInfo}) {
        if (auto list = message.nameAddrs(id)) {
            for (const auto& address : *list)
                exerciseNameAddr(address);
        }
    }
    keep(message.maxForwards());
    keep(message.expires());
    keep(message.minExpires());
    if (auto event = message.event()) {
        keep(event->id());
        exerciseParams(event->params);
    }
    if (auto state = message.subscriptionState()) {
        keep(state->reason());
        keep(state->expires());
        keep(state->retryAfter());
    }
    keep(message.sipETag());
    keep(message.sipIfMatch());
    if (auto replaces = message.replaces()) keep(replaces->earlyOnly);
    for (HeaderId id : {HeaderId::Expires, HeaderId::MaxForwards, HeaderId::ContentLength}) {
        keep(sb::sip::parseUnsigned(message.header(id)));
    }

    const auto valid = message.validate();
    if (!valid && valid.error().reason.isEmpty()) failCheck("validate() error without a reason");
}

// The size limits are not what the round trip checks: serialize() may legitimately
// grow a message (LF → CRLF, ": " after each name, the fuzzer's own edits).
sb::sip::ParseLimits roomyLimits() {
    sb::sip::ParseLimits limits;
    limits.maxMessageSize = 1024 * 1024;
    limits.maxHeaders = 4096;
    limits.maxLineLength = 1024 * 1024;
    return limits;
}

// serialize() of a parsed message must parse again, to the same message.
void checkRoundTrip(const Message& message) {
    const QByteArray wire = message.serialize();
    const auto again = sb::sip::Parser::parse(wire, roomyLimits());
    if (!again) failCheck("serialize() output does not parse", wire);
    if (again->isRequest() != message.isRequest() || again->methodName() != message.methodName() ||
        again->requestUri() != message.requestUri() ||
        again->statusCode() != message.statusCode() ||
        again->reasonPhrase() != message.reasonPhrase() || again->body() != message.body()) {
        failCheck("start line or body changed in the round trip", wire);
    }
    // Content-Length is rewritten; every other field survives in order.
    qsizetype j = 0;
    const auto& before = message.headers();
    const auto& after = again->headers();
    for (const auto& field : before) {
        if (field.id == HeaderId::ContentLength) continue;
        while (j < after.size() && after[j].id == HeaderId::ContentLength)
            ++j;
        if (j >= after.size() || after[j].id != field.id || after[j].name != field.name ||
            after[j].value != field.value) {
            failCheck("a header changed in the round trip", wire);
        }
        ++j;
    }
    exerciseAccessors(*again);
    if (again->serialize() != wire) failCheck("serialize() is not stable", wire);
}

// What a proxy or UA does to a received request: copy it, stamp the top Via, answer it.
void exerciseEdits(const Message& message) {
    Message copy = message;
    copy.prependHeader(HeaderId::Via, "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfuzz");
    copy.replaceFirstHeader(HeaderId::MaxForwards, "69");
    copy.addHeader(QByteArray("X-Fuzz"), QByteArray("1"));
    copy.removeHeaders(HeaderId::Route);
    checkRoundTrip(copy);
    if (message.isRequest() && message.validate()) {
        const Message response = sb::sip::makeResponse(message, 200, {}, "fuzztag");
        exerciseAccessors(response);
        checkRoundTrip(response);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));

    const sb::sip::StreamFrame frame = sb::sip::findStreamFrame(bytes);
    if (frame.skip < 0 || frame.skip > bytes.size() ||
        (frame.status == sb::sip::StreamFrame::Status::Complete &&
         (frame.length <= 0 || frame.skip + frame.length > bytes.size()))) {
        failCheck("findStreamFrame() reported a frame outside the buffer");
    }
    if (frame.status == sb::sip::StreamFrame::Status::Complete) {
        keep(sb::sip::Parser::parse(bytes.mid(frame.skip, frame.length)));
    }

    const auto parsed = sb::sip::Parser::parse(bytes);
    if (!parsed) {
        const sb::Error& error = parsed.error();
        if (error.reason.isEmpty()) failCheck("parse error without a reason");
        if (error.offset < -1 || error.offset > bytes.size()) {
            failCheck("parse error offset outside the input");
        }
        return 0;
    }
    exerciseAccessors(*parsed);
    checkRoundTrip(*parsed);
    exerciseEdits(*parsed);
    return 0;
}
