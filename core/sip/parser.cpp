#include "sip/parser.h"

#include <cstring>

#include "sip/char_class.h"

namespace sb::sip {

namespace {

inline bool isTokenChar(unsigned char c) {
    return chars::kTable[c] & chars::kToken;
}

bool isWsp(char c) {
    return c == ' ' || c == '\t';
}

Unexpected parseError(QString reason, qsizetype offset, int status = 400) {
    return fail(ErrorKind::Parse, std::move(reason), offset, status);
}

// Every limit is answered 513 Message Too Large (RFC 3261 §21.5.14), with the reason
// naming which limit it was.
Unexpected limitError(QString reason, qsizetype offset, int status = 513) {
    return fail(ErrorKind::Limit, std::move(reason), offset, status);
}

// End of the line starting at `pos` (index of '\n', or `end`), and the content end
// with an optional '\r' removed.
struct Line {
    const char* begin;
    const char* contentEnd;  // excludes CR LF
    const char* next;        // first byte of the following line
};

inline Line lineAt(const char* pos, const char* end) {
    const char* nl = static_cast<const char*>(std::memchr(pos, '\n', std::size_t(end - pos)));
    if (!nl) return {pos, end, end};
    const char* contentEnd = (nl > pos && nl[-1] == '\r') ? nl - 1 : nl;
    return {pos, contentEnd, nl + 1};
}

inline QByteArrayView view(const char* begin, const char* end) {
    return QByteArrayView(begin, end - begin);
}

inline QByteArrayView trimWsp(const char* begin, const char* end) {
    while (begin < end && (isWsp(*begin) || *begin == '\r' || *begin == '\n'))
        ++begin;
    while (end > begin && (isWsp(end[-1]) || end[-1] == '\r' || end[-1] == '\n'))
        --end;
    return view(begin, end);
}

bool isSipVersion(QByteArrayView v) {
    return v.size() == 7 && v.first(4).compare("SIP/", Qt::CaseInsensitive) == 0 && v[4] == '2' &&
           v[5] == '.' && v[6] == '0';
}

}  // namespace

Result<Message> Parser::parse(QByteArray bytes, const ParseLimits& limits) {
    if (bytes.size() > limits.maxMessageSize)
        return limitError(QStringLiteral("Message too large (%1 bytes, limit %2)")
                              .arg(bytes.size())
                              .arg(limits.maxMessageSize),
                          limits.maxMessageSize, 513);

    Message m;
    m.m_buffer = std::move(bytes);
    const char* const base = m.m_buffer.constData();
    const char* const end = base + m.m_buffer.size();
    const char* pos = base;
    auto offset = [base](const char* p) { return qsizetype(p - base); };

    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    while (pos < end && (*pos == '\r' || *pos == '\n'))
        ++pos;
    if (pos == end) return parseError(QStringLiteral("Empty message"), 0);

    // Start line.
    Line start = lineAt(pos, end);
    if (start.next == end && start.contentEnd == end)
        return parseError(QStringLiteral("Message ends inside the start line"), offset(end));
    if (start.contentEnd - start.begin > limits.maxLineLength)
        return limitError(QStringLiteral("Start line too long"), offset(start.begin));
    const QByteArrayView startLine = view(start.begin, start.contentEnd);
    const qsizetype sp1 = chars::find(startLine, ' ');
    if (sp1 <= 0) return parseError(QStringLiteral("Malformed start line"), offset(start.begin));
    const qsizetype sp2 = chars::find(startLine, ' ', sp1 + 1);

    if (sp1 >= 4 && chars::equalsIgnoreCase(startLine.first(4), "SIP/")) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        m.m_version = startLine.first(sp1);
        if (!isSipVersion(m.m_version))
            return parseError(QStringLiteral("Unsupported SIP version in status line"),
                              offset(start.begin), 0);
        const QByteArrayView code =
            sp2 < 0 ? startLine.sliced(sp1 + 1) : startLine.sliced(sp1 + 1, sp2 - sp1 - 1);
        if (code.size() != 3 || code[0] < '1' || code[0] > '6' || code[1] < '0' || code[1] > '9' ||
            code[2] < '0' || code[2] > '9')
            return parseError(QStringLiteral("Malformed status code"),
                              offset(start.begin) + sp1 + 1, 0);
        m.m_statusCode = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
        m.m_reasonPhrase = sp2 < 0 ? QByteArrayView() : startLine.sliced(sp2 + 1);
    } else {
        // Request-Line = Method SP Request-URI SP SIP-Version (single spaces, §7.1)
        if (sp2 < 0)
            return parseError(QStringLiteral("Malformed request line"), offset(start.begin));
        m.m_methodName = startLine.first(sp1);
        for (char c : m.m_methodName)
            if (!isTokenChar(static_cast<unsigned char>(c)))
                return parseError(QStringLiteral("Malformed method name"), offset(start.begin));
        m.m_method = methodFromName(m.m_methodName);
        m.m_requestUri = startLine.sliced(sp1 + 1, sp2 - sp1 - 1);
        m.m_version = startLine.sliced(sp2 + 1);
        if (m.m_requestUri.isEmpty() || chars::find(m.m_version, ' ') >= 0)
            return parseError(QStringLiteral("Malformed request line (extra whitespace)"),
                              offset(start.begin) + sp1);
        if (!isSipVersion(m.m_version)) {
            if (m.m_version.startsWith("SIP/"))
                return parseError(QStringLiteral("SIP version not supported"),
                                  offset(start.begin) + sp2 + 1, 505);
            return parseError(QStringLiteral("Malformed request line"),
                              offset(start.begin) + sp2 + 1);
        }
    }

    // Header fields: one pass per line — the name with the token table, then memchr
    // for the line end from the colon on.
    pos = start.next;
    bool headersEnded = false;
    // The value, not a pointer into m_headers: the array may grow and move.
    std::optional<QByteArrayView> contentLength;
    while (pos < end) {
        if (*pos == '\n' || (*pos == '\r' && pos + 1 < end && pos[1] == '\n')) {  // the empty line
            pos += *pos == '\r' ? 2 : 1;
            headersEnded = true;
            break;
        }
        if (isWsp(*pos))
            return parseError(QStringLiteral("Continuation line without a header"), offset(pos));
        const char* p = pos;
        while (p < end && isTokenChar(static_cast<unsigned char>(*p)))
            ++p;
        const char* nameEnd = p;
        while (p < end && isWsp(*p))
            ++p;
        if (p >= end || *p != ':') {
            if (p < end && *p != '\r' && *p != '\n' && nameEnd == p)
                return parseError(QStringLiteral("Illegal character in header name"), offset(p));
            return parseError(QStringLiteral("Header line without a colon"), offset(pos));
        }
        if (nameEnd == pos) return parseError(QStringLiteral("Empty header name"), offset(pos));
        const char* colon = p;
        Line line = lineAt(colon, end);
        // RFC 3261 §7.3.1: lines starting with whitespace continue the field above.
        while (line.next < end && isWsp(*line.next)) {
            const Line more = lineAt(line.next, end);
            line.contentEnd = more.contentEnd;
            line.next = more.next;
        }
        if (line.contentEnd - pos > limits.maxLineLength)
            return limitError(QStringLiteral("Header line too long"), offset(pos));
        if (m.m_headers.size() >= limits.maxHeaders)
            return limitError(
                QStringLiteral("Too many header fields (limit %1)").arg(limits.maxHeaders),
                offset(pos));
        const QByteArrayView name = view(pos, nameEnd);
        m.m_headers.append(
            HeaderField{headerIdFromName(name), name, trimWsp(colon + 1, line.contentEnd)});
        const HeaderField& field = m.m_headers.back();
        if (field.id != HeaderId::Other) {
            auto& slot = m.m_first[static_cast<int>(field.id)];
            if (slot == 0) slot = qint16(m.m_headers.size());
            if (field.id == HeaderId::ContentLength) {
                if (contentLength)
                    return parseError(QStringLiteral("Duplicate Content-Length header"),
                                      offset(pos));
                contentLength = field.value;
            }
        }
        pos = line.next;
    }
    if (!headersEnded)
        return parseError(QStringLiteral("Message ends before the end of the headers"),
                          offset(end));

    // Body (§18.3 for datagrams: no Content-Length means the rest of the datagram).
    const qsizetype available = end - pos;
    qsizetype bodyLength = available;
    if (contentLength) {
        auto declared = parseUnsigned(*contentLength);
        if (!declared)
            return parseError(QStringLiteral("Malformed Content-Length header"),
                              offset(contentLength->data()));
        if (qsizetype(*declared) > available)
            return parseError(
                QStringLiteral("Content-Length (%1) larger than the body received (%2)")
                    .arg(*declared)
                    .arg(available),
                offset(contentLength->data()));
        bodyLength = qsizetype(*declared);
    }
    m.m_body = QByteArrayView(pos, bodyLength);
    return m;
}

Result<Message> Parser::salvageRequest(QByteArray bytes, const ParseLimits& limits) {
    if (bytes.size() > limits.maxMessageSize) bytes.truncate(limits.maxMessageSize);
    Message m;
    m.m_buffer = std::move(bytes);
    const QByteArrayView all(m.m_buffer);
    qsizetype pos = 0;
    while (pos < all.size() && (all[pos] == '\r' || all[pos] == '\n'))
        ++pos;
    auto nextLine = [&](qsizetype from) {
        qsizetype nl = chars::find(all, '\n', from);
        return nl < 0 ? all.size() : nl;
    };
    const qsizetype startEnd = nextLine(pos);
    const QByteArrayView startLine = chars::trimLws(all.sliced(pos, startEnd - pos));
    const qsizetype sp1 = chars::find(startLine, ' ');
    if (sp1 <= 0 || (sp1 >= 4 && chars::equalsIgnoreCase(startLine.first(4), "SIP/")))
        return parseError(QStringLiteral("Not a request"), pos);
    m.m_methodName = startLine.first(sp1);
    m.m_method = methodFromName(m.m_methodName);
    const qsizetype sp2 = chars::find(startLine, ' ', sp1 + 1);
    m.m_requestUri = sp2 < 0 ? startLine.sliced(sp1 + 1) : startLine.sliced(sp1 + 1, sp2 - sp1 - 1);
    m.m_version = "SIP/2.0";
    int lines = 0;
    for (pos = startEnd + 1; pos < all.size() && lines < limits.maxHeaders; ++lines) {
        qsizetype end = nextLine(pos);
        if (chars::trimLws(all.sliced(pos, end - pos)).isEmpty()) break;
        // Folded continuation lines belong to the field (RFC 3261 §7.3.1).
        while (end + 1 < all.size() && isWsp(all[end + 1]))
            end = nextLine(end + 1);
        const QByteArrayView line = all.sliced(pos, end - pos);
        pos = end + 1;
        const qsizetype colon = chars::find(line, ':');
        if (colon <= 0) continue;
        const QByteArrayView name = chars::trimLws(line.first(colon));
        const HeaderId id = headerIdFromName(name);
        if (id != HeaderId::Via && id != HeaderId::From && id != HeaderId::To &&
            id != HeaderId::CallId && id != HeaderId::CSeq)
            continue;
        m.m_headers.append(HeaderField{id, name, chars::trimLws(line.sliced(colon + 1))});
    }
    m.reindex();
    if (m.count(HeaderId::Via) == 0 || m.count(HeaderId::From) != 1 || m.count(HeaderId::To) != 1 ||
        m.count(HeaderId::CallId) != 1 || m.count(HeaderId::CSeq) != 1 || !m.topVia())
        return parseError(QStringLiteral("Too little of the request is readable to answer it"), -1);
    return m;
}

StreamFrame findStreamFrame(QByteArrayView buffered, const ParseLimits& limits) {
    StreamFrame frame;
    qsizetype skip = 0;
    while (skip < buffered.size() && (buffered[skip] == '\r' || buffered[skip] == '\n'))
        ++skip;
    frame.skip = skip;
    const QByteArrayView data = buffered.sliced(skip);
    if (data.isEmpty()) return frame;

    // End of headers: CRLFCRLF (bare LF tolerated).
    qsizetype headerEnd = -1;
    qsizetype search = 0;
    while (true) {
        const qsizetype nl = chars::find(data, '\n', search);
        if (nl < 0) break;
        qsizetype next = nl + 1;
        if (next < data.size() && data[next] == '\r') ++next;
        if (next < data.size() && data[next] == '\n') {
            headerEnd = next + 1;
            break;
        }
        if (next >= data.size()) break;
        search = nl + 1;
    }
    if (headerEnd < 0) {
        if (data.size() > limits.maxMessageSize) {
            frame.status = StreamFrame::Status::Invalid;
            frame.error =
                makeError(ErrorKind::Limit, QStringLiteral("Header section too large"), skip, 513);
        }
        return frame;
    }

    // Content-Length is mandatory on streams (RFC 3261 §18.3, §20.14).
    std::optional<quint32> contentLength;
    qsizetype pos = 0;
    while (pos < headerEnd) {
        qsizetype nl = chars::find(data, '\n', pos);
        if (nl < 0 || nl >= headerEnd) nl = headerEnd;
        // Folded continuation lines belong to the field above (RFC 3261 §7.3.1).
        while (nl + 1 < headerEnd && isWsp(data[nl + 1])) {
            qsizetype more = chars::find(data, '\n', nl + 1);
            nl = (more < 0 || more >= headerEnd) ? headerEnd : more;
        }
        const QByteArrayView line = data.sliced(pos, nl - pos);
        const qsizetype colon = chars::find(line, ':');
        if (colon > 0 && pos > 0) {
            const QByteArrayView name = chars::trimLws(line.first(colon));
            // headerIdFromName() expects a token; anything else is not Content-Length.
            const bool token = std::all_of(name.begin(), name.end(), [](char c) {
                return isTokenChar(static_cast<unsigned char>(c));
            });
            if (token && headerIdFromName(name) == HeaderId::ContentLength) {
                // RFC 4475 §3.3.9: two lengths make the framing unknowable.
                if (contentLength) {
                    frame.status = StreamFrame::Status::Invalid;
                    frame.error = makeError(ErrorKind::Parse,
                                            QStringLiteral("Duplicate Content-Length header"),
                                            skip + pos, 400);
                    return frame;
                }
                contentLength = parseUnsigned(line.sliced(colon + 1));
                if (!contentLength) {
                    frame.status = StreamFrame::Status::Invalid;
                    frame.error = makeError(ErrorKind::Parse,
                                            QStringLiteral("Malformed Content-Length header"),
                                            skip + pos, 400);
                    return frame;
                }
            }
        }
        pos = nl + 1;
    }
    if (!contentLength) {
        frame.status = StreamFrame::Status::Invalid;
        frame.error =
            makeError(ErrorKind::Parse,
                      QStringLiteral("Missing Content-Length on a stream transport"), skip, 400);
        return frame;
    }
    const qsizetype total = headerEnd + qsizetype(*contentLength);
    if (total > limits.maxMessageSize) {
        frame.status = StreamFrame::Status::Invalid;
        frame.error = makeError(ErrorKind::Limit,
                                QStringLiteral("Message too large (%1 bytes, limit %2)")
                                    .arg(total)
                                    .arg(limits.maxMessageSize),
                                skip, 513);
        return frame;
    }
    if (data.size() < total) return frame;
    frame.status = StreamFrame::Status::Complete;
    frame.length = total;
    return frame;
}

}  // namespace sb::sip
