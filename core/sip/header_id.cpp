#include "sip/header_id.h"

#include <array>

namespace sb::sip {

namespace {

struct NameEntry {
    QByteArrayView lower;
    HeaderId id;
};

// Long names (lower case) and the compact forms of RFC 3261 §7.3.3 and its extensions.
constexpr NameEntry kNames[] = {
    {"accept", HeaderId::Accept},
    {"accept-encoding", HeaderId::AcceptEncoding},
    {"accept-language", HeaderId::AcceptLanguage},
    {"alert-info", HeaderId::AlertInfo},
    {"allow", HeaderId::Allow},
    {"allow-events", HeaderId::AllowEvents},
    {"u", HeaderId::AllowEvents},  // RFC 6665
    {"authentication-info", HeaderId::AuthenticationInfo},
    {"authorization", HeaderId::Authorization},
    {"call-id", HeaderId::CallId},
    {"i", HeaderId::CallId},
    {"call-info", HeaderId::CallInfo},
    {"contact", HeaderId::Contact},
    {"m", HeaderId::Contact},
    {"content-disposition", HeaderId::ContentDisposition},
    {"content-encoding", HeaderId::ContentEncoding},
    {"e", HeaderId::ContentEncoding},
    {"content-language", HeaderId::ContentLanguage},
    {"content-length", HeaderId::ContentLength},
    {"l", HeaderId::ContentLength},
    {"content-type", HeaderId::ContentType},
    {"c", HeaderId::ContentType},
    {"cseq", HeaderId::CSeq},
    {"date", HeaderId::Date},
    {"diversion", HeaderId::Diversion},
    {"error-info", HeaderId::ErrorInfo},
    {"event", HeaderId::Event},
    {"o", HeaderId::Event},  // RFC 6665
    {"expires", HeaderId::Expires},
    {"from", HeaderId::From},
    {"f", HeaderId::From},
    {"history-info", HeaderId::HistoryInfo},
    {"in-reply-to", HeaderId::InReplyTo},
    {"max-forwards", HeaderId::MaxForwards},
    {"mime-version", HeaderId::MimeVersion},
    {"min-expires", HeaderId::MinExpires},
    {"organization", HeaderId::Organization},
    {"path", HeaderId::Path},
    {"priority", HeaderId::Priority},
    {"proxy-authenticate", HeaderId::ProxyAuthenticate},
    {"proxy-authorization", HeaderId::ProxyAuthorization},
    {"proxy-require", HeaderId::ProxyRequire},
    {"reason", HeaderId::Reason},
    {"record-route", HeaderId::RecordRoute},
    {"refer-to", HeaderId::ReferTo},
    {"r", HeaderId::ReferTo},  // RFC 3515
    {"referred-by", HeaderId::ReferredBy},
    {"b", HeaderId::ReferredBy},  // RFC 3892
    {"replaces", HeaderId::Replaces},
    {"reply-to", HeaderId::ReplyTo},
    {"require", HeaderId::Require},
    {"retry-after", HeaderId::RetryAfter},
    {"route", HeaderId::Route},
    {"server", HeaderId::Server},
    {"sip-etag", HeaderId::SipETag},
    {"sip-if-match", HeaderId::SipIfMatch},
    {"subject", HeaderId::Subject},
    {"s", HeaderId::Subject},
    {"subscription-state", HeaderId::SubscriptionState},
    {"supported", HeaderId::Supported},
    {"k", HeaderId::Supported},
    {"timestamp", HeaderId::Timestamp},
    {"to", HeaderId::To},
    {"t", HeaderId::To},
    {"unsupported", HeaderId::Unsupported},
    {"user-agent", HeaderId::UserAgent},
    {"via", HeaderId::Via},
    {"v", HeaderId::Via},
    {"warning", HeaderId::Warning},
    {"www-authenticate", HeaderId::WwwAuthenticate},
};

constexpr int kMaxNameLength = 20;

// Entries grouped by length so a lookup compares only names of the right size.
struct LengthIndex {
    std::array<std::array<quint8, 16>, kMaxNameLength + 1> entries{};
    std::array<quint8, kMaxNameLength + 1> counts{};
    constexpr LengthIndex() {
        for (quint8 i = 0; i < std::size(kNames); ++i) {
            const auto len = kNames[i].lower.size();
            entries[len][counts[len]++] = i;
        }
    }
};
constexpr LengthIndex kByLength;

constexpr char lowerAscii(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c | 0x20) : c;
}

bool equalsLower(QByteArrayView name, QByteArrayView lower) {
    const char* a = name.data();
    const char* b = lower.data();
    for (qsizetype i = 0; i < lower.size(); ++i)
        if (lowerAscii(a[i]) != b[i]) return false;
    return true;
}

constexpr QByteArrayView kCanonical[] = {
    "",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Diversion",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "History-Info",
    "In-Reply-To",
    "Max-Forwards",
    "MIME-Version",
    "Min-Expires",
    "Organization",
    "Path",
    "Priority",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Replaces",
    "Reply-To",
    "Require",
    "Retry-After",
    "Route",
    "Server",
    "SIP-ETag",
    "SIP-If-Match",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
};
static_assert(std::size(kCanonical) == static_cast<std::size_t>(HeaderId::Count));

}  // namespace

HeaderId headerIdFromName(QByteArrayView name) {
    const qsizetype len = name.size();
    if (len <= 0 || len > kMaxNameLength) return HeaderId::Other;
    const int count = kByLength.counts[len];
    const char first = lowerAscii(name[0]);
    for (int i = 0; i < count; ++i) {
        const NameEntry& entry = kNames[kByLength.entries[len][i]];
        if (entry.lower[0] == first && equalsLower(name, entry.lower)) return entry.id;
    }
    return HeaderId::Other;
}

QByteArrayView canonicalHeaderName(HeaderId id) {
    const auto index = static_cast<std::size_t>(id);
    return index < std::size(kCanonical) ? kCanonical[index] : QByteArrayView();
}

bool isCommaListHeader(HeaderId id) {
    switch (id) {
        case HeaderId::Accept:
        case HeaderId::AcceptEncoding:
        case HeaderId::AcceptLanguage:
        case HeaderId::AlertInfo:
        case HeaderId::Allow:
        case HeaderId::AllowEvents:
        case HeaderId::CallInfo:
        case HeaderId::Contact:
        case HeaderId::ContentEncoding:
        case HeaderId::ContentLanguage:
        case HeaderId::Diversion:
        case HeaderId::ErrorInfo:
        case HeaderId::HistoryInfo:
        case HeaderId::InReplyTo:
        case HeaderId::Path:
        case HeaderId::ProxyRequire:
        case HeaderId::Reason:
        case HeaderId::RecordRoute:
        case HeaderId::Require:
        case HeaderId::Route:
        case HeaderId::Supported:
        case HeaderId::Unsupported:
        case HeaderId::Via:
        case HeaderId::Warning:
            return true;
        default:
            return false;
    }
}

}  // namespace sb::sip
