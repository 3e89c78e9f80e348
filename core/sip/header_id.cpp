#include "sip/header_id.h"

#include <array>
#include <cstring>

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
constexpr int kBucketSize = 4;

constexpr char lowerAscii(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c | 0x20) : c;
}

constexpr int bucketOf(qsizetype length, char first) {
    const char lower = lowerAscii(first);
    return int(length) * 27 + ((lower >= 'a' && lower <= 'z') ? lower - 'a' : 26);
}

// Entries grouped by (length, first letter): a lookup compares at most a few names.
struct BucketIndex {
    std::array<std::array<quint8, kBucketSize>, (kMaxNameLength + 1) * 27> entries{};
    std::array<quint8, (kMaxNameLength + 1) * 27> counts{};
    constexpr BucketIndex() {
        for (quint8 i = 0; i < std::size(kNames); ++i) {
            const int bucket = bucketOf(kNames[i].lower.size(), kNames[i].lower[0]);
            entries[bucket][counts[bucket]++] = i;
        }
    }
};
constexpr BucketIndex kBuckets;

// Table names hold only [a-z0-9-], on which OR-ing 0x20 is the identity; on a received
// token it lower-cases letters and maps nothing else onto [a-z0-9-]. So eight bytes at
// a time can be compared with one OR and one compare.
bool equalsLower(QByteArrayView name, QByteArrayView lower) {
    const char* a = name.data();
    const char* b = lower.data();
    qsizetype i = 0;
    const qsizetype size = lower.size();
    for (; i + 8 <= size; i += 8) {
        quint64 x;
        quint64 y;
        std::memcpy(&x, a + i, 8);
        std::memcpy(&y, b + i, 8);
        if ((x | 0x2020202020202020ULL) != y) return false;
    }
    for (; i < size; ++i)
        if (char(a[i] | 0x20) != b[i]) return false;
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
    const int bucket = bucketOf(len, name[0]);
    const int count = kBuckets.counts[bucket];
    for (int i = 0; i < count; ++i) {
        const NameEntry& entry = kNames[kBuckets.entries[bucket][i]];
        if (equalsLower(name, entry.lower)) return entry.id;
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
