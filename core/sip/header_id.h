#pragma once

#include <QByteArrayView>
#include <QtGlobal>

namespace sb::sip {

// The header fields the core knows by name. Anything else is HeaderId::Other and is
// still kept, matched by name.
enum class HeaderId : quint8 {
    Other,
    Accept,
    AcceptEncoding,
    AcceptLanguage,
    AlertInfo,
    Allow,
    AllowEvents,
    AuthenticationInfo,
    Authorization,
    CallId,
    CallInfo,
    Contact,
    ContentDisposition,
    ContentEncoding,
    ContentLanguage,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    Diversion,
    ErrorInfo,
    Event,
    Expires,
    From,
    HistoryInfo,
    InReplyTo,
    MaxForwards,
    MimeVersion,
    MinExpires,
    Organization,
    Path,
    Priority,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    Reason,
    RecordRoute,
    ReferTo,
    ReferredBy,
    Replaces,
    ReplyTo,
    Require,
    RetryAfter,
    Route,
    Server,
    SipETag,
    SipIfMatch,
    Subject,
    SubscriptionState,
    Supported,
    Timestamp,
    To,
    Unsupported,
    UserAgent,
    Via,
    Warning,
    WwwAuthenticate,
    Count
};

// Case-insensitive; understands the compact forms of RFC 3261 §7.3.3 and extensions
// (i m f t v l c k s e o u r b x y a ...). Unknown names give HeaderId::Other.
HeaderId headerIdFromName(QByteArrayView name);

// The long, canonical spelling used when the core writes a header ("Call-ID", "CSeq").
QByteArrayView canonicalHeaderName(HeaderId id);

// True where RFC 3261 §7.3.1 lets several values share one field, separated by commas.
// Authentication headers and dates are not lists even though they contain commas.
bool isCommaListHeader(HeaderId id);

}  // namespace sb::sip
