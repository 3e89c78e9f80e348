#include "sip/history_info.h"

#include <algorithm>

#include "sip/char_class.h"
#include "sip/name_addr.h"
#include "sip/uri.h"

namespace sb::sip {

namespace {

Unexpected invalid(QString reason) {
    return fail(ErrorKind::Protocol, std::move(reason));
}

// hi-index-val: 1*DIGIT *("." 1*DIGIT).
bool isIndex(QByteArrayView text) {
    if (text.isEmpty()) return false;
    bool digitBefore = false;
    for (char c : text) {
        if (c == '.') {
            if (!digitBefore) return false;
            digitBefore = false;
        } else if (c >= '0' && c <= '9') {
            digitBefore = true;
        } else {
            return false;
        }
    }
    return digitBefore;
}

bool sameAddress(QByteArrayView a, QByteArrayView b) {
    auto left = Uri::parse(a);
    auto right = Uri::parse(b);
    return left && right && left->addressOfRecord() == right->addressOfRecord();
}

// `uri` with `param` (";name=value") among its URI parameters, before any headers.
QByteArray withUriParam(const QByteArray& uri, const QByteArray& param) {
    const qsizetype headers = uri.indexOf('?');
    if (headers < 0) return uri + param;
    return uri.left(headers) + param + uri.mid(headers);
}

// `uri` with an escaped header (RFC 3261 §19.1.1 "?name=value", "&" between them).
QByteArray withUriHeader(const QByteArray& uri, const QByteArray& header) {
    return uri + (uri.contains('?') ? '&' : '?') + header;
}

// The next free child index of `parent` among `entries`: parent.1, parent.2, ...
QByteArray nextChildIndex(const std::vector<HistoryEntry>& entries, const QByteArray& parent) {
    int last = 0;
    const QByteArray prefix = parent + '.';
    for (const HistoryEntry& entry : entries) {
        if (!entry.index.startsWith(prefix)) continue;
        const QByteArray rest = entry.index.mid(prefix.size());
        const qsizetype dot = rest.indexOf('.');
        last = std::max(last, (dot < 0 ? rest : rest.left(dot)).toInt());
    }
    return prefix + QByteArray::number(last + 1);
}

}  // namespace

Result<std::vector<HistoryEntry>> receivedHistory(const Message& message) {
    std::vector<HistoryEntry> entries;
    for (QByteArrayView value : message.values(HeaderId::HistoryInfo)) {
        Result<NameAddr> parsed = NameAddr::parse(value);
        const std::optional<QByteArrayView> index =
            parsed ? parsed->params.value("index") : std::nullopt;
        if (!parsed || !index || !isIndex(*index)) {
            return invalid(
                QStringLiteral("malformed History-Info entry \"%1\"")
                    .arg(QString::fromUtf8(value.first(std::min<qsizetype>(value.size(), 120)))));
        }
        entries.push_back({parsed->uriText.toByteArray(), index->toByteArray()});
    }
    return entries;
}

int historyCauseFor(QByteArrayView reason) {
    // RFC 7544 §5 (with its erratum 3071 for "unavailable").
    struct Mapping {
        QByteArrayView reason;
        int cause;
    };
    static constexpr Mapping kMappings[] = {
        {"unconditional", 302}, {"user-busy", 486},   {"no-answer", 408},
        {"deflection", 480},    {"unavailable", 503},
    };
    for (const Mapping& mapping : kMappings) {
        if (reason.compare(mapping.reason, Qt::CaseInsensitive) == 0) return mapping.cause;
    }
    return 404;
}

QByteArrayView diversionReasonForCause(int cause) {
    switch (cause) {
        case 302:
            return "unconditional";
        case 486:
            return "user-busy";
        case 408:
            return "no-answer";
        case 480:
        case 487:
            return "deflection";
        case 503:
            return "unavailable";
        default:
            return "unknown";
    }
}

Result<void> addRetargetHistory(Message& request, const HistoryRetarget& retarget) {
    for (const QByteArray* uri : {&retarget.from, &retarget.to}) {
        const bool unsafe = std::any_of(uri->begin(), uri->end(),
                                        [](char c) { return chars::is(c, chars::kUriIllegal); });
        if (uri->isEmpty() || unsafe || !Uri::parse(*uri))
            return invalid(QStringLiteral("\"%1\" is not a URI").arg(QString::fromUtf8(*uri)));
    }
    if (retarget.cause < 100 || retarget.cause > 699)
        return invalid(QStringLiteral("%1 is not a SIP status").arg(retarget.cause));
    Result<std::vector<HistoryEntry>> received = receivedHistory(request);
    if (!received) return fail(received.error());
    std::vector<HistoryEntry> entries = std::move(*received);

    std::vector<QByteArray> added;
    QByteArray parent;
    if (!entries.empty() && sameAddress(entries.back().uri, retarget.from)) {
        parent = entries.back().index;
    } else {
        // The diverted leg is not recorded yet (the caller sent no History-Info, or our
        // own routing came after its last entry): record it first.
        parent = entries.empty() ? QByteArray("1") : nextChildIndex(entries, entries.back().index);
        QByteArray uri = retarget.from;
        if (retarget.privateFrom) uri = withUriHeader(uri, QByteArrayLiteral("Privacy=history"));
        added.push_back('<' + uri + ">;index=" + parent);
        entries.push_back({retarget.from, parent});
    }
    const QByteArray index = nextChildIndex(entries, parent);
    const QByteArray target =
        withUriParam(retarget.to, ";cause=" + QByteArray::number(retarget.cause));
    added.push_back('<' + target + ">;index=" + index + ";mp=" + parent);
    for (QByteArray& entry : added)
        request.addHeader(HeaderId::HistoryInfo, std::move(entry));
    return {};
}

}  // namespace sb::sip
