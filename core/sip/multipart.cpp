#include "sip/multipart.h"

#include "sip/params.h"

namespace sb::sip {

namespace {

// RFC 2046 §5.1.1: a boundary is 1 to 70 characters; some servers write longer ones.
constexpr qsizetype kMaxBoundary = 200;

bool isWhite(char c) {
    return c == ' ' || c == '\t';
}

QByteArrayView trimmed(QByteArrayView text) {
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && (isWhite(text[begin]) || text[begin] == '\r' || text[begin] == '\n'))
        ++begin;
    while (end > begin &&
           (isWhite(text[end - 1]) || text[end - 1] == '\r' || text[end - 1] == '\n'))
        --end;
    return text.sliced(begin, end - begin);
}

// A quoted parameter value without its quotes. Boundaries and Content-IDs never contain
// '"' or '\' (RFC 2046 bchars, RFC 2822 msg-id), so no unescaping is needed and the
// result stays a view.
QByteArrayView unquoted(QByteArrayView value) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        return value.sliced(1, value.size() - 2);
    return value;
}

bool sameName(QByteArrayView a, QByteArrayView b) {
    return a.size() == b.size() && a.compare(b, Qt::CaseInsensitive) == 0;
}

// Calls fn(name, value) for each header field of a part's header block (RFC 2822
// §2.2.3: a line starting with white space continues the previous field).
template <class Fn>
void forEachHeader(QByteArrayView block, Fn&& fn) {
    qsizetype pos = 0;
    const qsizetype size = block.size();
    while (pos < size) {
        qsizetype end = pos;
        // The field ends at a line break not followed by white space.
        for (;;) {
            const qsizetype lf = block.indexOf('\n', end);
            if (lf < 0) {
                end = size;
                break;
            }
            end = lf + 1;
            if (end >= size || !isWhite(block[end])) break;
        }
        const QByteArrayView line = block.sliced(pos, end - pos);
        pos = end;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) continue;
        if (!fn(trimmed(line.first(colon)), trimmed(line.sliced(colon + 1)))) return;
    }
}

struct Delimiter {
    qsizetype start = -1;  // the first '-' of "--boundary"
    qsizetype next = -1;   // first byte after the delimiter line
    bool close = false;
};

// The next delimiter line at or after `from`: "--" boundary at the start of a line,
// then "--" for the close delimiter, transport padding, and a line break (or the end of
// the body after a close delimiter).
Delimiter findDelimiter(QByteArrayView body, QByteArrayView boundary, qsizetype from) {
    qsizetype pos = from;
    while (pos < body.size()) {
        const qsizetype hit = body.indexOf(boundary, pos);
        if (hit < 0) return {};
        pos = hit + 1;
        const qsizetype start = hit - 2;
        if (start < 0 || body[start] != '-' || body[start + 1] != '-') continue;
        if (start > 0 && body[start - 1] != '\n') continue;
        qsizetype after = hit + boundary.size();
        bool close = false;
        if (body.sliced(after).startsWith("--")) {
            close = true;
            after += 2;
        }
        while (after < body.size() && isWhite(body[after]))
            ++after;
        if (after >= body.size()) {
            if (close) return {start, after, true};
            continue;
        }
        if (body[after] == '\n') return {start, after + 1, close};
        if (body[after] == '\r' && after + 1 < body.size() && body[after + 1] == '\n')
            return {start, after + 2, close};
        if (close) return {start, after, true};  // epilogue glued on: tolerated
    }
    return {};
}

MultipartPart makePart(QByteArrayView content) {
    MultipartPart part;
    // The header block ends at the first empty line; a part may have no headers at all
    // (it then starts with the empty line, RFC 2046 §5.1.1: default text/plain).
    qsizetype bodyStart = -1;
    qsizetype headerEnd = 0;
    if (content.startsWith("\r\n")) {
        bodyStart = 2;
    } else if (content.startsWith("\n")) {
        bodyStart = 1;
    } else {
        const qsizetype crlf = content.indexOf("\r\n\r\n");
        const qsizetype lf = content.indexOf("\n\n");
        if (crlf >= 0 && (lf < 0 || crlf < lf)) {
            headerEnd = crlf;
            bodyStart = crlf + 4;
        } else if (lf >= 0) {
            headerEnd = lf;
            bodyStart = lf + 2;
        } else {
            // Headers only, no body.
            headerEnd = content.size();
            bodyStart = content.size();
        }
    }
    part.headers = content.first(headerEnd);
    part.body = content.sliced(bodyStart);
    forEachHeader(part.headers, [&](QByteArrayView name, QByteArrayView value) {
        if (sameName(name, "Content-Type") && part.contentType.isEmpty())
            part.contentType = value;
        else if (sameName(name, "Content-ID") && part.contentId.isEmpty())
            part.contentId = value;
        else if (sameName(name, "Content-Transfer-Encoding") &&
                 part.contentTransferEncoding.isEmpty())
            part.contentTransferEncoding = value;
        return true;
    });
    return part;
}

QByteArrayView bareContentId(QByteArrayView cid) {
    cid = trimmed(cid);
    if (cid.size() >= 4 && cid.first(4).compare("cid:", Qt::CaseInsensitive) == 0)
        cid = cid.sliced(4);
    if (cid.size() >= 2 && cid.front() == '<' && cid.back() == '>')
        cid = cid.sliced(1, cid.size() - 2);
    return cid;
}

}  // namespace

QByteArrayView MultipartPart::contentIdValue() const {
    return bareContentId(contentId);
}

QByteArrayView MultipartPart::header(QByteArrayView name) const {
    QByteArrayView found;
    forEachHeader(headers, [&](QByteArrayView fieldName, QByteArrayView value) {
        if (!sameName(fieldName, name)) return true;
        found = value;
        return false;
    });
    return found;
}

const MultipartPart* MultipartBody::root() const {
    if (parts.empty()) return nullptr;
    if (!start.isEmpty()) {
        if (const MultipartPart* named = byContentId(start)) return named;
    }
    return &parts.front();
}

const MultipartPart* MultipartBody::byContentId(QByteArrayView cid) const {
    const QByteArrayView wanted = bareContentId(cid);
    if (wanted.isEmpty()) return nullptr;
    for (const MultipartPart& part : parts) {
        // RFC 2392: Content-IDs compare as written (we tolerate case differences in
        // the domain side by comparing case-insensitively, as some servers re-case).
        const QByteArrayView id = part.contentIdValue();
        if (id.size() == wanted.size() && id.compare(wanted, Qt::CaseInsensitive) == 0)
            return &part;
    }
    return nullptr;
}

bool isMultipart(QByteArrayView contentType) {
    const QByteArrayView type = trimmed(contentType);
    return type.size() >= 10 && type.first(10).compare("multipart/", Qt::CaseInsensitive) == 0;
}

Result<MultipartBody> splitMultipart(QByteArrayView contentType, QByteArrayView body,
                                     const MultipartLimits& limits) {
    MultipartBody out;
    const qsizetype semicolon = contentType.indexOf(';');
    out.mediaType = trimmed(semicolon < 0 ? contentType : contentType.first(semicolon));
    if (!isMultipart(out.mediaType))
        return fail(ErrorKind::Parse, QStringLiteral("content type \"%1\" is not multipart")
                                          .arg(QString::fromUtf8(out.mediaType)));
    if (semicolon >= 0) {
        const ParamList params(contentType.sliced(semicolon));
        if (auto value = params.value("boundary")) out.boundary = unquoted(*value);
        if (auto value = params.value("type")) out.type = unquoted(*value);
        if (auto value = params.value("start")) out.start = unquoted(*value);
    }
    if (out.boundary.isEmpty())
        return fail(ErrorKind::Parse, QStringLiteral("multipart body without boundary parameter"));
    if (out.boundary.size() > kMaxBoundary)
        return fail(ErrorKind::Limit,
                    QStringLiteral("multipart boundary longer than %1 bytes").arg(kMaxBoundary));

    Delimiter delimiter = findDelimiter(body, out.boundary, 0);
    if (delimiter.start < 0)
        return fail(ErrorKind::Parse, QStringLiteral("multipart body without its boundary"), 0);
    // Everything before the first delimiter is the preamble (ignored, §5.1.1).
    while (!delimiter.close) {
        const qsizetype contentStart = delimiter.next;
        const Delimiter following = findDelimiter(body, out.boundary, contentStart);
        if (following.start < 0)
            return fail(ErrorKind::Parse,
                        QStringLiteral("multipart body ends without its close delimiter"),
                        contentStart);
        if (out.parts.size() >= limits.maxParts)
            return fail(
                ErrorKind::Limit,
                QStringLiteral("multipart body with more than %1 parts").arg(limits.maxParts),
                following.start);
        // The line break before the delimiter belongs to the delimiter.
        qsizetype contentEnd = following.start;
        if (contentEnd > contentStart && body[contentEnd - 1] == '\n') {
            --contentEnd;
            if (contentEnd > contentStart && body[contentEnd - 1] == '\r') --contentEnd;
        }
        out.parts.push_back(makePart(body.sliced(contentStart, contentEnd - contentStart)));
        delimiter = following;
    }
    // What follows the close delimiter is the epilogue (ignored).
    return out;
}

}  // namespace sb::sip
