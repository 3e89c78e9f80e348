#include "sip/message.h"

#include <algorithm>

namespace sb::sip {

Message Message::request(Method method, QByteArray requestUri) {
    Message m;
    m.m_method = method;
    m.m_methodName = sip::methodName(method);  // static storage
    m.m_requestUri = m.own(std::move(requestUri));
    m.m_version = "SIP/2.0";
    return m;
}

Message Message::request(QByteArray name, QByteArray requestUri) {
    Message m;
    m.m_method = methodFromName(name);
    m.m_methodName = m.own(std::move(name));
    m.m_requestUri = m.own(std::move(requestUri));
    m.m_version = "SIP/2.0";
    return m;
}

Message Message::response(int statusCode, QByteArray reasonPhrase) {
    Message m;
    m.m_statusCode = statusCode;
    m.m_version = "SIP/2.0";
    if (reasonPhrase.isEmpty())
        m.m_reasonPhrase = defaultReasonPhrase(statusCode);
    else
        m.m_reasonPhrase = m.own(std::move(reasonPhrase));
    return m;
}

QByteArrayView Message::own(QByteArray text) {
    m_owned.push_back(std::move(text));
    const QByteArray& stored = m_owned.back();
    return QByteArrayView(stored.constData(), stored.size());
}

void Message::shareStorage(const Message& other) {
    if (!other.m_buffer.isEmpty()) m_owned.push_back(other.m_buffer);
    m_owned.insert(m_owned.end(), other.m_owned.begin(), other.m_owned.end());
}

int Message::firstIndex(HeaderId id) const {
    if (id == HeaderId::Other) return -1;
    return m_first[static_cast<int>(id)] - 1;
}

void Message::reindex() {
    m_first.fill(0);
    for (int i = 0; i < m_headers.size(); ++i) {
        auto& slot = m_first[static_cast<int>(m_headers[i].id)];
        if (slot == 0) slot = qint16(i + 1);
    }
    m_first[0] = 0;
}

QByteArrayView Message::header(HeaderId id) const {
    const int index = firstIndex(id);
    return index < 0 ? QByteArrayView() : m_headers[index].value;
}

QByteArrayView Message::header(QByteArrayView name) const {
    const HeaderId id = headerIdFromName(name);
    if (id != HeaderId::Other) return header(id);
    for (const HeaderField& field : m_headers)
        if (field.id == HeaderId::Other && field.name.compare(name, Qt::CaseInsensitive) == 0)
            return field.value;
    return {};
}

bool Message::has(QByteArrayView name) const {
    const HeaderId id = headerIdFromName(name);
    if (id != HeaderId::Other) return has(id);
    return std::any_of(m_headers.begin(), m_headers.end(), [&](const HeaderField& field) {
        return field.id == HeaderId::Other && field.name.compare(name, Qt::CaseInsensitive) == 0;
    });
}

ValueList Message::values(HeaderId id) const {
    ValueList out;
    const int first = firstIndex(id);
    if (first < 0) return out;
    const bool list = isCommaListHeader(id);
    for (int i = first; i < m_headers.size(); ++i) {
        if (m_headers[i].id != id) continue;
        if (!list) {
            out.append(m_headers[i].value);
            continue;
        }
        for (QByteArrayView item : splitCommaList(m_headers[i].value))
            out.append(item);
    }
    return out;
}

int Message::count(HeaderId id) const {
    int n = 0;
    for (const HeaderField& field : m_headers)
        n += field.id == id;
    return n;
}

Result<Via> Message::topVia() const {
    const int index = firstIndex(HeaderId::Via);
    if (index < 0) return fail(ErrorKind::Parse, QStringLiteral("Missing Via header"), -1, 400);
    QByteArrayView value = m_headers[index].value;
    // The first value of a comma list; Via params never contain top-level commas.
    const qsizetype comma = findTopLevel(value, ',', false);
    return Via::parse(comma < 0 ? value : value.first(comma));
}

Result<std::vector<Via>> Message::vias() const {
    std::vector<Via> out;
    for (QByteArrayView value : values(HeaderId::Via)) {
        auto via = Via::parse(value);
        if (!via) return fail(via.error());
        out.push_back(*via);
    }
    return out;
}

namespace {
Result<NameAddr> singleNameAddr(const Message& m, HeaderId id, const char* name) {
    const QByteArrayView value = m.header(id);
    if (value.isEmpty() && !m.has(id))
        return fail(ErrorKind::Parse, QStringLiteral("Missing %1 header").arg(QLatin1String(name)),
                    -1, 400);
    auto parsed = NameAddr::parse(value);
    if (!parsed) {
        Error error = parsed.error();
        error.reason =
            QStringLiteral("Malformed %1 header: %2").arg(QLatin1String(name), error.reason);
        return fail(std::move(error));
    }
    return parsed;
}
}  // namespace

Result<NameAddr> Message::from() const {
    return singleNameAddr(*this, HeaderId::From, "From");
}

Result<NameAddr> Message::to() const {
    return singleNameAddr(*this, HeaderId::To, "To");
}

Result<CSeq> Message::cseq() const {
    if (!has(HeaderId::CSeq))
        return fail(ErrorKind::Parse, QStringLiteral("Missing CSeq header"), -1, 400);
    auto parsed = CSeq::parse(header(HeaderId::CSeq));
    if (!parsed) {
        Error error = parsed.error();
        error.reason = QStringLiteral("Malformed CSeq header: %1").arg(error.reason);
        return fail(std::move(error));
    }
    return parsed;
}

Result<Message::Contacts> Message::contacts() const {
    Contacts out;
    for (QByteArrayView value : values(HeaderId::Contact)) {
        if (value == "*") {
            out.star = true;
            continue;
        }
        auto entry = NameAddr::parse(value);
        if (!entry) {
            Error error = entry.error();
            error.reason = QStringLiteral("Malformed Contact header: %1").arg(error.reason);
            return fail(std::move(error));
        }
        out.entries.push_back(*entry);
    }
    if (out.star && !out.entries.empty())
        return fail(ErrorKind::Parse, QStringLiteral("Contact: * mixed with addresses"), -1, 400);
    return out;
}

Result<std::vector<NameAddr>> Message::nameAddrs(HeaderId id) const {
    std::vector<NameAddr> out;
    for (QByteArrayView value : values(id)) {
        auto entry = NameAddr::parse(value);
        if (!entry) {
            Error error = entry.error();
            error.reason = QStringLiteral("Malformed %1 header: %2")
                               .arg(QString::fromLatin1(canonicalHeaderName(id)), error.reason);
            return fail(std::move(error));
        }
        out.push_back(*entry);
    }
    return out;
}

std::optional<quint32> Message::maxForwards() const {
    return has(HeaderId::MaxForwards) ? parseUnsigned(header(HeaderId::MaxForwards)) : std::nullopt;
}

std::optional<quint32> Message::expires() const {
    return has(HeaderId::Expires) ? parseUnsigned(header(HeaderId::Expires)) : std::nullopt;
}

std::optional<quint32> Message::minExpires() const {
    return has(HeaderId::MinExpires) ? parseUnsigned(header(HeaderId::MinExpires)) : std::nullopt;
}

std::optional<quint32> Message::retryAfter() const {
    const QByteArrayView value = header(HeaderId::RetryAfter).trimmed();
    qsizetype digits = 0;
    while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9')
        ++digits;
    if (digits == 0) return std::nullopt;
    return parseUnsigned(value.first(digits));
}

Result<EventHeader> Message::event() const {
    if (!has(HeaderId::Event))
        return fail(ErrorKind::Parse, QStringLiteral("Missing Event header"), -1, 400);
    return EventHeader::parse(header(HeaderId::Event));
}

Result<SubscriptionStateHeader> Message::subscriptionState() const {
    if (!has(HeaderId::SubscriptionState))
        return fail(ErrorKind::Parse, QStringLiteral("Missing Subscription-State header"), -1, 400);
    return SubscriptionStateHeader::parse(header(HeaderId::SubscriptionState));
}

Result<ReplacesHeader> Message::replaces() const {
    if (!has(HeaderId::Replaces))
        return fail(ErrorKind::Parse, QStringLiteral("Missing Replaces header"), -1, 400);
    return ReplacesHeader::parse(header(HeaderId::Replaces));
}

Result<void> Message::validate() const {
    auto offsetOf = [this](QByteArrayView view) -> qsizetype {
        if (m_buffer.isEmpty() || view.data() < m_buffer.constData() ||
            view.data() > m_buffer.constData() + m_buffer.size())
            return -1;
        return view.data() - m_buffer.constData();
    };
    auto failAt = [&](QString reason, QByteArrayView where) {
        return fail(ErrorKind::Parse, std::move(reason), offsetOf(where), 400);
    };

    if (isRequest()) {
        auto uri = Uri::parse(m_requestUri);
        if (!uri)
            return failAt(QStringLiteral("Malformed Request-URI: %1").arg(uri.error().reason),
                          m_requestUri);
    }
    // Headers that must appear exactly once (RFC 3261 §7.3.1 forbids repeating
    // non-list headers; §8.1.1 makes these mandatory).
    static constexpr std::pair<HeaderId, const char*> kSingle[] = {{HeaderId::From, "From"},
                                                                   {HeaderId::To, "To"},
                                                                   {HeaderId::CallId, "Call-ID"},
                                                                   {HeaderId::CSeq, "CSeq"}};
    for (const auto& [id, name] : kSingle) {
        const int n = count(id);
        if (n == 0)
            return fail(ErrorKind::Parse,
                        QStringLiteral("Missing %1 header").arg(QLatin1String(name)), -1, 400);
        if (n > 1) {
            int seen = 0;
            for (const HeaderField& field : m_headers)
                if (field.id == id && ++seen == 2)
                    return failAt(QStringLiteral("Duplicate %1 header").arg(QLatin1String(name)),
                                  field.name);
        }
    }
    for (HeaderId id :
         {HeaderId::MaxForwards, HeaderId::Expires, HeaderId::ContentLength, HeaderId::MinExpires})
        if (count(id) > 1) {
            return failAt(QStringLiteral("Duplicate %1 header")
                              .arg(QString::fromLatin1(canonicalHeaderName(id))),
                          header(id));
        }

    bool anyVia = false;
    for (const HeaderField& field : m_headers) {
        if (field.id != HeaderId::Via) continue;
        for (QByteArrayView value : splitCommaList(field.value)) {
            auto via = Via::parse(value);
            if (!via)
                return failAt(QStringLiteral("Malformed Via header: %1").arg(via.error().reason),
                              value);
            anyVia = true;
        }
    }
    if (!anyVia) return fail(ErrorKind::Parse, QStringLiteral("Missing Via header"), -1, 400);
    auto fromHeader = from();
    if (!fromHeader) return failAt(fromHeader.error().reason, header(HeaderId::From));
    auto toHeader = to();
    if (!toHeader) return failAt(toHeader.error().reason, header(HeaderId::To));
    if (callId().isEmpty())
        return failAt(QStringLiteral("Empty Call-ID header"), header(HeaderId::CallId));
    for (char c : callId())
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            return failAt(QStringLiteral("Malformed Call-ID header"), header(HeaderId::CallId));
    auto seq = cseq();
    if (!seq) return failAt(seq.error().reason, header(HeaderId::CSeq));
    if (isRequest() && seq->methodName != m_methodName)
        return failAt(QStringLiteral("CSeq method does not match the request method"),
                      header(HeaderId::CSeq));
    if (has(HeaderId::MaxForwards)) {
        auto mf = maxForwards();
        if (!mf || *mf > 255)
            return failAt(QStringLiteral("Malformed Max-Forwards header"),
                          header(HeaderId::MaxForwards));
    }
    if (has(HeaderId::Expires) && !expires())
        return failAt(QStringLiteral("Malformed Expires header"), header(HeaderId::Expires));
    if (has(HeaderId::Contact)) {
        auto contact = contacts();
        if (!contact) return failAt(contact.error().reason, header(HeaderId::Contact));
    }
    return {};
}

void Message::setRequestUri(QByteArray uri) {
    m_requestUri = own(std::move(uri));
}

void Message::setReasonPhrase(QByteArray reason) {
    m_reasonPhrase = own(std::move(reason));
}

void Message::insertField(int index, HeaderField field) {
    m_headers.insert(m_headers.begin() + index, field);
    reindex();
}

void Message::addHeader(HeaderId id, QByteArray value) {
    m_headers.append(HeaderField{id, canonicalHeaderName(id), own(std::move(value))});
    auto& slot = m_first[static_cast<int>(id)];
    if (slot == 0 && id != HeaderId::Other) slot = qint16(m_headers.size());
}

void Message::addHeader(QByteArray name, QByteArray value) {
    const HeaderId id = headerIdFromName(name);
    if (id != HeaderId::Other) {
        addHeader(id, std::move(value));
        return;
    }
    const QByteArrayView nameView = own(std::move(name));
    m_headers.append(HeaderField{id, nameView, own(std::move(value))});
}

void Message::prependHeader(HeaderId id, QByteArray value) {
    // Topmost of its kind: before the first existing one, or at the very top.
    const int first = firstIndex(id);
    insertField(first < 0 ? 0 : first,
                HeaderField{id, canonicalHeaderName(id), own(std::move(value))});
}

void Message::setHeader(HeaderId id, QByteArray value) {
    const int first = firstIndex(id);
    removeHeaders(id);
    const HeaderField field{id, canonicalHeaderName(id), own(std::move(value))};
    if (first < 0) {
        m_headers.append(field);
        reindex();
    } else {
        insertField(first, field);
    }
}

int Message::removeHeaders(HeaderId id) {
    const auto before = m_headers.size();
    m_headers.erase(std::remove_if(m_headers.begin(), m_headers.end(),
                                   [id](const HeaderField& f) { return f.id == id; }),
                    m_headers.end());
    reindex();
    return int(before - m_headers.size());
}

int Message::removeHeaders(QByteArrayView name) {
    const HeaderId id = headerIdFromName(name);
    if (id != HeaderId::Other) return removeHeaders(id);
    const auto before = m_headers.size();
    m_headers.erase(std::remove_if(m_headers.begin(), m_headers.end(),
                                   [name](const HeaderField& f) {
                                       return f.id == HeaderId::Other &&
                                              f.name.compare(name, Qt::CaseInsensitive) == 0;
                                   }),
                    m_headers.end());
    reindex();
    return int(before - m_headers.size());
}

bool Message::removeFirstHeader(HeaderId id) {
    const int first = firstIndex(id);
    if (first < 0) return false;
    m_headers.erase(m_headers.begin() + first);
    reindex();
    return true;
}

bool Message::replaceFirstHeader(HeaderId id, QByteArray value) {
    const int first = firstIndex(id);
    if (first < 0) return false;
    m_headers[first].value = own(std::move(value));
    return true;
}

void Message::setBody(QByteArray contentType, QByteArray body) {
    removeHeaders(HeaderId::ContentType);
    if (!contentType.isEmpty()) addHeader(HeaderId::ContentType, std::move(contentType));
    m_body = own(std::move(body));
}

QByteArray Message::serialize() const {
    QByteArray out;
    serializeInto(out);
    return out;
}

void Message::serializeInto(QByteArray& out) const {
    qsizetype size = 64 + m_body.size() + m_requestUri.size() + m_reasonPhrase.size();
    for (const HeaderField& field : m_headers)
        size += field.name.size() + field.value.size() + 4;
    out.resize(0);  // keeps the capacity of a buffer no one else shares
    out.reserve(size);
    // RFC 3261 §7.1: the version is sent in upper case whatever was received.
    if (isRequest()) {
        out.append(m_methodName).append(' ').append(m_requestUri).append(" SIP/2.0\r\n");
    } else {
        out.append("SIP/2.0 ")
            .append(QByteArray::number(m_statusCode))
            .append(' ')
            .append(m_reasonPhrase)
            .append("\r\n");
    }
    const QByteArray length = QByteArray::number(m_body.size());
    bool lengthWritten = false;
    for (const HeaderField& field : m_headers) {
        if (field.id == HeaderId::ContentLength) {
            // Where and how the message had it, with the value the body really has.
            if (lengthWritten) continue;
            out.append(field.name).append(": ").append(length).append("\r\n");
            lengthWritten = true;
            continue;
        }
        out.append(field.name).append(": ").append(field.value).append("\r\n");
    }
    if (!lengthWritten) out.append("Content-Length: ").append(length).append("\r\n");
    out.append("\r\n").append(m_body);
}

Message makeResponse(const Message& request, int statusCode, QByteArray reasonPhrase,
                     QByteArrayView toTag) {
    Message response = Message::response(statusCode, std::move(reasonPhrase));
    response.shareStorage(request);
    for (const HeaderField& field : request.headers()) {
        switch (field.id) {
            case HeaderId::Via:
            case HeaderId::From:
            case HeaderId::CallId:
            case HeaderId::CSeq:
                response.m_headers.append(field);
                break;
            case HeaderId::To:
                if (!toTag.isEmpty() && statusCode > 100) {
                    auto to = NameAddr::parse(field.value);
                    if (to && to->tag().isEmpty()) {
                        QByteArray value = field.value.toByteArray();
                        value.append(";tag=").append(toTag);
                        response.m_headers.append(
                            HeaderField{field.id, field.name, response.own(std::move(value))});
                        break;
                    }
                }
                response.m_headers.append(field);
                break;
            default:
                break;
        }
    }
    response.reindex();
    return response;
}

QByteArrayView defaultReasonPhrase(int statusCode) {
    switch (statusCode) {
        case 100:
            return "Trying";
        case 180:
            return "Ringing";
        case 181:
            return "Call Is Being Forwarded";
        case 182:
            return "Queued";
        case 183:
            return "Session Progress";
        case 200:
            return "OK";
        case 202:
            return "Accepted";
        case 204:
            return "No Notification";
        case 300:
            return "Multiple Choices";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Moved Temporarily";
        case 305:
            return "Use Proxy";
        case 380:
            return "Alternative Service";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 402:
            return "Payment Required";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 410:
            return "Gone";
        case 412:
            return "Conditional Request Failed";
        case 413:
            return "Request Entity Too Large";
        case 414:
            return "Request-URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Unsupported URI Scheme";
        case 420:
            return "Bad Extension";
        case 421:
            return "Extension Required";
        case 423:
            return "Interval Too Brief";
        case 480:
            return "Temporarily Unavailable";
        case 481:
            return "Call/Transaction Does Not Exist";
        case 482:
            return "Loop Detected";
        case 483:
            return "Too Many Hops";
        case 484:
            return "Address Incomplete";
        case 485:
            return "Ambiguous";
        case 486:
            return "Busy Here";
        case 487:
            return "Request Terminated";
        case 488:
            return "Not Acceptable Here";
        case 489:
            return "Bad Event";
        case 491:
            return "Request Pending";
        case 493:
            return "Undecipherable";
        case 494:
            return "Security Agreement Required";
        case 500:
            return "Server Internal Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Server Time-out";
        case 505:
            return "Version Not Supported";
        case 513:
            return "Message Too Large";
        case 600:
            return "Busy Everywhere";
        case 603:
            return "Decline";
        case 604:
            return "Does Not Exist Anywhere";
        case 606:
            return "Not Acceptable";
        default:
            return statusCode < 200 ? "Progress" : statusCode < 300 ? "OK" : "Error";
    }
}

}  // namespace sb::sip
