#include "sip/name_addr.h"

#include "sip/char_class.h"

namespace sb::sip {

Result<NameAddr> NameAddr::parse(QByteArrayView text) {
    NameAddr out;
    text = chars::trimLws(text);
    if (text.isEmpty()) return fail(ErrorKind::Parse, QStringLiteral("Empty address"), 0, 400);

    qsizetype pos = 0;
    if (text.front() == '"') {
        // quoted-string display name, with quoted-pair escapes (RFC 3261 §25.1)
        qsizetype i = 1;
        for (; i < text.size(); ++i) {
            if (text[i] == '\\')
                ++i;
            else if (text[i] == '"')
                break;
        }
        if (i >= text.size())
            return fail(ErrorKind::Parse, QStringLiteral("Unterminated quoted display name"), 0,
                        400);
        out.display = text.first(i + 1);
        pos = i + 1;
        while (pos < text.size() &&
               (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n'))
            ++pos;
        if (pos >= text.size() || text[pos] != '<')
            return fail(ErrorKind::Parse, QStringLiteral("Display name not followed by <URI>"), pos,
                        400);
    } else {
        const qsizetype lt = chars::find(text, '<');
        if (lt >= 0) {
            out.display = chars::trimLws(text.first(lt));
            for (char c : out.display)
                if (c == '"' || c == '>' || c == ';')
                    return fail(ErrorKind::Parse, QStringLiteral("Malformed display name"), 0, 400);
            pos = lt;
        }
    }

    if (pos < text.size() && text[pos] == '<') {
        const qsizetype gt = chars::find(text, '>', pos);
        if (gt < 0)
            return fail(ErrorKind::Parse, QStringLiteral("Missing '>' after URI"), pos, 400);
        out.angleBrackets = true;
        out.uriText = chars::trimLws(text.sliced(pos + 1, gt - pos - 1));
        QByteArrayView rest = chars::trimLws(text.sliced(gt + 1));
        if (!rest.isEmpty()) {
            if (rest.front() != ';')
                return fail(ErrorKind::Parse, QStringLiteral("Unexpected text after '>'"), gt + 1,
                            400);
            out.params = ParamList(rest);
        }
    } else {
        // addr-spec: the URI ends at the first ';' — what follows are header parameters
        // (RFC 3261 §20.10).
        const qsizetype semi = chars::find(text, ';');
        out.uriText = chars::trimLws(semi < 0 ? text : text.first(semi));
        if (semi >= 0) out.params = ParamList(text.sliced(semi));
        for (char c : out.uriText)
            if (c == ' ' || c == '\t')
                return fail(ErrorKind::Parse, QStringLiteral("Address without <> contains spaces"),
                            0, 400);
    }
    if (!out.params.isWellFormed())
        return fail(ErrorKind::Parse, QStringLiteral("Malformed header parameters"),
                    out.params.raw().data() - text.data(), 400);
    auto uri = Uri::parse(out.uriText);
    if (!uri) {
        Error error = uri.error();
        error.offset = (out.uriText.data() - text.data()) + std::max<qsizetype>(0, error.offset);
        return fail(std::move(error));
    }
    out.uri = *uri;
    return out;
}

QString NameAddr::displayName() const {
    if (display.isEmpty()) return {};
    if (display.front() == '"') return QString::fromUtf8(unquote(display));
    // token display names: LWS between tokens collapses to one space
    return QString::fromUtf8(display.toByteArray().simplified());
}

QByteArrayView NameAddr::tag() const {
    return params.value("tag").value_or(QByteArrayView());
}

ValueList splitCommaList(QByteArrayView value) {
    ValueList out;
    qsizetype pos = 0;
    while (pos <= value.size()) {
        qsizetype comma = findTopLevel(value, ',', true, pos);
        if (comma < 0) comma = value.size();
        QByteArrayView item = chars::trimLws(value.sliced(pos, comma - pos));
        if (!item.isEmpty()) out.append(item);
        pos = comma + 1;
    }
    return out;
}

}  // namespace sb::sip
