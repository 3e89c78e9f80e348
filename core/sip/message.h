#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QVarLengthArray>

#include <array>
#include <vector>

#include "base/result.h"
#include "sip/header_id.h"
#include "sip/method.h"
#include "sip/name_addr.h"
#include "sip/typed_headers.h"
#include "sip/via.h"

namespace sb::sip {

// One header field line. `value` is the text after the colon, trimmed, with any folded
// continuation lines still in it (RFC 3261 §7.3.1: treated as one space by accessors
// that tokenise). Views point into the message's buffer or into its owned storage.
struct HeaderField {
    HeaderId id = HeaderId::Other;
    QByteArrayView name;
    QByteArrayView value;
};

// A SIP request or response. A parsed message keeps the received bytes in one
// implicitly shared QByteArray and refers into it; nothing is copied per header.
// Typed accessors parse the one header they are asked for, on demand.
//
// The same class builds outgoing messages: edits add owned strings next to the views
// and serialize() writes the result with a correct Content-Length.
class Message {
public:
    using Headers = QVarLengthArray<HeaderField, 24>;

    Message() = default;
    // Copies share the received buffer and owned strings (implicitly shared, never
    // modified in place), so every view stays valid in the copy.
    Message(const Message& other) = default;
    Message& operator=(const Message& other) = default;
    Message(Message&&) noexcept = default;
    Message& operator=(Message&&) noexcept = default;

    // Builders for outgoing messages.
    static Message request(Method method, QByteArray requestUri);
    static Message request(QByteArray methodName, QByteArray requestUri);
    static Message response(int statusCode, QByteArray reasonPhrase = {});

    bool isRequest() const { return m_statusCode == 0; }
    bool isResponse() const { return m_statusCode != 0; }

    // Start line.
    Method method() const { return m_method; }
    QByteArrayView methodName() const { return m_methodName; }
    QByteArrayView requestUri() const { return m_requestUri; }
    int statusCode() const { return m_statusCode; }
    QByteArrayView reasonPhrase() const { return m_reasonPhrase; }
    QByteArrayView sipVersion() const { return m_version; }

    // Header fields in message order.
    const Headers& headers() const { return m_headers; }
    bool has(HeaderId id) const { return firstIndex(id) >= 0; }
    // First field's value; empty when absent.
    QByteArrayView header(HeaderId id) const;
    // By name, for HeaderId::Other (also works for known names and compact forms).
    QByteArrayView header(QByteArrayView name) const;
    // Whether a header of that name is present, even with an empty value.
    bool has(QByteArrayView name) const;
    // Every value of that header across all its fields, comma lists split where the
    // header is a list (RFC 3261 §7.3.1), in order.
    ValueList values(HeaderId id) const;
    int count(HeaderId id) const;

    QByteArrayView body() const { return m_body; }
    // The bytes exactly as received (empty for built messages).
    const QByteArray& raw() const { return m_buffer; }

    // Typed accessors.
    Result<Via> topVia() const;
    Result<std::vector<Via>> vias() const;
    Result<NameAddr> from() const;
    Result<NameAddr> to() const;
    QByteArrayView callId() const { return header(HeaderId::CallId); }
    Result<CSeq> cseq() const;
    // Contact values; `star` set for "Contact: *".
    struct Contacts {
        bool star = false;
        std::vector<NameAddr> entries;
    };
    Result<Contacts> contacts() const;
    Result<std::vector<NameAddr>> nameAddrs(
        HeaderId id) const;  // Route, Record-Route, Diversion, Path, ...
    std::optional<quint32> maxForwards() const;
    std::optional<quint32> expires() const;
    std::optional<quint32> minExpires() const;
    // RFC 3261 §20.33: the delta-seconds that lead Retry-After ("120 (lunch);duration=60").
    std::optional<quint32> retryAfter() const;
    Result<EventHeader> event() const;
    Result<SubscriptionStateHeader> subscriptionState() const;
    QByteArrayView sipETag() const { return header(HeaderId::SipETag); }
    QByteArrayView sipIfMatch() const { return header(HeaderId::SipIfMatch); }
    Result<ReplacesHeader> replaces() const;

    // RFC 3261 §8.2 / §8.1.3.3 checks beyond framing: mandatory headers present and
    // well-formed (Via, From, To, Call-ID, CSeq; Max-Forwards is tolerated missing),
    // CSeq method equals the request method, SIP/2.0 version. The error carries the
    // reason phrase for a 400 and the offending offset.
    Result<void> validate() const;

    // Editing.
    void setRequestUri(QByteArray uri);
    void setReasonPhrase(QByteArray reason);
    void addHeader(HeaderId id, QByteArray value);
    void addHeader(QByteArray name, QByteArray value);
    void prependHeader(HeaderId id,
                       QByteArray value);  // becomes the topmost of its kind and of the message
    void setHeader(HeaderId id, QByteArray value);  // replaces all fields of that kind
    int removeHeaders(HeaderId id);
    int removeHeaders(QByteArrayView name);
    bool removeFirstHeader(HeaderId id);
    // Replaces the value of the first `id` field (e.g. to add ;received to the top Via).
    bool replaceFirstHeader(HeaderId id, QByteArray value);
    // Sets the body and Content-Type (removed when `contentType` is empty).
    void setBody(QByteArray contentType, QByteArray body);

    // The wire form. Content-Length always reflects the body; compact names as received
    // are kept, added headers use canonical names.
    QByteArray serialize() const;
    // The same into `out`, replacing what it held: a buffer reused from send to send keeps
    // its memory (a datagram of 1 to 2 KB per message otherwise).
    void serializeInto(QByteArray& out) const;

private:
    friend class Parser;

    int firstIndex(HeaderId id) const;
    QByteArrayView own(QByteArray text);
    void reindex();
    // Keeps `other`'s storage alive in this message so views into it can be reused.
    void shareStorage(const Message& other);
    void insertField(int index, HeaderField field);
    friend Message makeResponse(const Message&, int, QByteArray, QByteArrayView);

    QByteArray m_buffer;              // received bytes, shared
    std::vector<QByteArray> m_owned;  // strings added by edits; moves keep their data pointers
    QByteArrayView m_methodName;
    QByteArrayView m_requestUri;
    QByteArrayView m_version;
    QByteArrayView m_reasonPhrase;
    QByteArrayView m_body;
    Headers m_headers;
    std::array<qint16, static_cast<int>(HeaderId::Count)>
        m_first{};  // index + 1 of first field, 0 = none
    int m_statusCode = 0;
    Method m_method = Method::Unknown;
};

// RFC 3261 §8.2.6.1 / §8.2.6.2: a response to `request` that copies Via, From, To (with
// `toTag` added when the request's To had none and `toTag` is non-empty), Call-ID and
// CSeq, and sets Content-Length: 0.
Message makeResponse(const Message& request, int statusCode, QByteArray reasonPhrase = {},
                     QByteArrayView toTag = {});

// The default reason phrase for a status code ("Ringing", "Not Found"...).
QByteArrayView defaultReasonPhrase(int statusCode);

}  // namespace sb::sip
