#include "sip/params.h"

#include <cstring>

namespace sb::sip {

bool ParamList::has(QByteArrayView name) const {
    return value(name).has_value();
}

std::optional<QByteArrayView> ParamList::value(QByteArrayView name) const {
    std::optional<QByteArrayView> found;
    forEach([&](QByteArrayView n, QByteArrayView v, bool) {
        if (!chars::equalsIgnoreCase(n, name)) return true;
        found = v;
        return false;
    });
    return found;
}

bool ParamList::isWellFormed() const {
    if (m_raw.isEmpty()) return true;
    if (m_raw.front() != ';') return false;
    qsizetype pos = 1;
    while (pos <= m_raw.size()) {
        qsizetype end = findTopLevel(m_raw, ';', false, pos);
        if (end < 0) end = m_raw.size();
        const QByteArrayView item = chars::trimLws(m_raw.sliced(pos, end - pos));
        if (item.isEmpty()) return false;
        const qsizetype eq = chars::find(item, '=');
        const QByteArrayView name = chars::trimLws(eq < 0 ? item : item.first(eq));
        if (name.isEmpty()) return false;
        for (char c : name)
            if (!chars::is(c, chars::kToken)) return false;
        if (eq >= 0 && chars::trimLws(item.sliced(eq + 1)).isEmpty()) return false;
        pos = end + 1;
    }
    return true;
}

QByteArray unquote(QByteArrayView text) {
    text = text.trimmed();
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') return text.toByteArray();
    QByteArray out;
    out.reserve(text.size() - 2);
    for (qsizetype i = 1; i + 1 < text.size(); ++i) {
        char c = text[i];
        if (c == '\\' && i + 2 < text.size()) c = text[++i];  // quoted-pair
        out.append(c);
    }
    return out;
}

QByteArray quote(QByteArrayView text) {
    QByteArray out;
    out.reserve(text.size() + 2);
    out.append('"');
    for (char c : text) {
        if (c == '"' || c == '\\') out.append('\\');
        out.append(c);
    }
    out.append('"');
    return out;
}

qsizetype findTopLevel(QByteArrayView text, char ch, bool skipAngles, qsizetype from) {
    if (from >= text.size()) return -1;
    // Fast path: no quote or bracket before the first `ch` means it is at top level.
    const char* begin = text.data() + from;
    const char* hit =
        static_cast<const char*>(std::memchr(begin, ch, std::size_t(text.size() - from)));
    if (!hit) return -1;
    bool plain = true;
    for (const char* p = begin; p < hit; ++p) {
        if (*p == '"' || (skipAngles && *p == '<')) {
            plain = false;
            break;
        }
    }
    if (plain) return hit - text.data();

    bool inQuotes = false;
    int angle = 0;
    for (qsizetype i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (inQuotes) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inQuotes = false;
            continue;
        }
        if (c == '"') {
            inQuotes = true;
        } else if (skipAngles && c == '<') {
            ++angle;
        } else if (skipAngles && c == '>' && angle > 0) {
            --angle;
        } else if (c == ch && angle == 0) {
            return i;
        }
    }
    return -1;
}

}  // namespace sb::sip
