#include "sip/typed_headers.h"

#include "sip/char_class.h"

namespace sb::sip {

namespace {

bool isLws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// token ;params — shared by Event and Subscription-State.
Result<std::pair<QByteArrayView, ParamList>> tokenWithParams(QByteArrayView text,
                                                             const char* what) {
    text = chars::trimLws(text);
    qsizetype semi = chars::find(text, ';');
    QByteArrayView token = chars::trimLws(semi < 0 ? text : text.first(semi));
    if (token.isEmpty())
        return fail(ErrorKind::Parse, QStringLiteral("Empty %1 header").arg(QLatin1String(what)), 0,
                    400);
    for (char c : token)
        if (isLws(c) || c == ',' || c == '"' || c == '<')
            return fail(ErrorKind::Parse,
                        QStringLiteral("Malformed %1 header").arg(QLatin1String(what)), 0, 400);
    return std::pair{token, semi < 0 ? ParamList() : ParamList(text.sliced(semi))};
}

std::optional<quint32> unsignedParam(const ParamList& params, QByteArrayView name) {
    auto value = params.value(name);
    if (!value) return std::nullopt;
    return parseUnsigned(*value);
}

}  // namespace

std::optional<quint32> parseUnsigned(QByteArrayView text) {
    text = chars::trimLws(text);
    if (text.isEmpty()) return std::nullopt;
    while (text.size() > 1 && text.front() == '0')
        text = text.sliced(1);  // leading zeros are allowed
    if (text.size() > 10) return std::nullopt;
    quint64 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + quint64(c - '0');
    }
    if (value > 0xffffffffULL) return std::nullopt;
    return quint32(value);
}

Result<CSeq> CSeq::parse(QByteArrayView text) {
    text = chars::trimLws(text);
    qsizetype pos = 0;
    quint64 number = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        number = number * 10 + quint64(text[pos] - '0');
        // RFC 3261 §20.16: any 32-bit unsigned value (only a UAC's first choice stays
        // below 2**31, §8.1.1.5).
        if (number > 0xffffffffULL)
            return fail(ErrorKind::Parse, QStringLiteral("CSeq number too large"), pos, 400);
        ++pos;
    }
    if (pos == 0)
        return fail(ErrorKind::Parse, QStringLiteral("CSeq has no sequence number"), 0, 400);
    if (pos >= text.size() || !isLws(text[pos]))
        return fail(ErrorKind::Parse, QStringLiteral("CSeq has no method"), pos, 400);
    while (pos < text.size() && isLws(text[pos]))
        ++pos;
    CSeq cseq;
    cseq.number = quint32(number);
    cseq.methodName = text.sliced(pos);
    if (cseq.methodName.isEmpty())
        return fail(ErrorKind::Parse, QStringLiteral("CSeq has no method"), pos, 400);
    for (char c : cseq.methodName)
        if (!chars::is(c, chars::kToken))
            return fail(ErrorKind::Parse, QStringLiteral("Malformed CSeq method"), pos, 400);
    cseq.method = methodFromName(cseq.methodName);
    return cseq;
}

Result<EventHeader> EventHeader::parse(QByteArrayView text) {
    auto parts = tokenWithParams(text, "Event");
    if (!parts) return fail(parts.error());
    return EventHeader{parts->first, parts->second};
}

QByteArrayView EventHeader::id() const {
    return params.value("id").value_or(QByteArrayView());
}

Result<SubscriptionStateHeader> SubscriptionStateHeader::parse(QByteArrayView text) {
    auto parts = tokenWithParams(text, "Subscription-State");
    if (!parts) return fail(parts.error());
    return SubscriptionStateHeader{parts->first, parts->second};
}

QByteArrayView SubscriptionStateHeader::reason() const {
    return params.value("reason").value_or(QByteArrayView());
}

std::optional<quint32> SubscriptionStateHeader::expires() const {
    return unsignedParam(params, "expires");
}

std::optional<quint32> SubscriptionStateHeader::retryAfter() const {
    return unsignedParam(params, "retry-after");
}

Result<ReplacesHeader> ReplacesHeader::parse(QByteArrayView text) {
    text = chars::trimLws(text);
    const qsizetype semi = chars::find(text, ';');
    ReplacesHeader out;
    out.callId = chars::trimLws(semi < 0 ? text : text.first(semi));
    if (out.callId.isEmpty())
        return fail(ErrorKind::Parse, QStringLiteral("Replaces has no Call-ID"), 0, 400);
    const ParamList params(semi < 0 ? QByteArrayView() : text.sliced(semi));
    auto toTag = params.value("to-tag");
    auto fromTag = params.value("from-tag");
    // RFC 3891 §6.1: both tags are mandatory.
    if (!toTag || !fromTag || toTag->isEmpty() || fromTag->isEmpty())
        return fail(ErrorKind::Parse, QStringLiteral("Replaces needs to-tag and from-tag"), semi,
                    400);
    out.toTag = *toTag;
    out.fromTag = *fromTag;
    out.earlyOnly = params.has("early-only");
    return out;
}

}  // namespace sb::sip
