#pragma once

#include <QByteArrayView>

#include <array>
#include <cstring>

// Character classes of RFC 3261 §25.1 as one lookup table, so the parser's inner loops
// test a byte with one load instead of a chain of comparisons. Internal to core/sip.
namespace sb::sip::chars {

enum : quint8 {
    kToken = 1 << 0,      // token
    kAlnum = 1 << 1,      // alphanum
    kHex = 1 << 2,        // HEXDIG
    kUser = 1 << 3,       // unreserved / user-unreserved (user part without '%')
    kHost = 1 << 4,       // hostname characters
    kWhite = 1 << 5,      // SP HTAB CR LF
    kUriIllegal = 1 << 6  // never raw inside a URI: controls, SP, < > "
};

inline constexpr std::array<quint8, 256> kTable = [] {
    std::array<quint8, 256> t{};
    for (int c = 0; c < 256; ++c) {
        quint8 v = 0;
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum) v |= kAlnum | kToken | kUser | kHost;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
        switch (c) {
            case '-':
            case '.':
            case '!':
            case '%':
            case '*':
            case '_':
            case '+':
            case '`':
            case '\'':
            case '~':
                v |= kToken;
                break;
            default:
                break;
        }
        switch (c) {
            case '-':
            case '_':
            case '.':
            case '!':
            case '~':
            case '*':
            case '\'':
            case '(':
            case ')':
            case '&':
            case '=':
            case '+':
            case '$':
            case ',':
            case ';':
            case '?':
            case '/':
                v |= kUser;
                break;
            default:
                break;
        }
        if (c == '-' || c == '.' || c == '_') v |= kHost;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') v |= kWhite;
        if (c <= ' ' || c == 127 || c == '<' || c == '>' || c == '"') v |= kUriIllegal;
        t[c] = v;
    }
    return t;
}();

inline bool is(char c, quint8 cls) {
    return kTable[static_cast<unsigned char>(c)] & cls;
}

// Trims SP, HTAB, CR and LF (linear whitespace, folds included) from both ends.
inline QByteArrayView trimLws(QByteArrayView text) {
    const char* b = text.data();
    const char* e = b + text.size();
    while (b < e && is(*b, kWhite))
        ++b;
    while (e > b && is(e[-1], kWhite))
        --e;
    return QByteArrayView(b, e - b);
}

// Case-insensitive ASCII equality.
inline bool equalsIgnoreCase(QByteArrayView a, QByteArrayView b) {
    if (a.size() != b.size()) return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i] == b[i]) continue;
        const char lower = char(a[i] | 0x20);
        if (lower < 'a' || lower > 'z' || lower != char(b[i] | 0x20)) return false;
    }
    return true;
}

// Index of `ch` in `text` from `from` on, -1 when absent. QByteArrayView::indexOf(char)
// goes through a generic substring search in Qt 6.4; memchr is several times faster.
inline qsizetype find(QByteArrayView text, char ch, qsizetype from = 0) {
    if (from >= text.size()) return -1;
    const void* hit = std::memchr(text.data() + from, ch, std::size_t(text.size() - from));
    return hit ? static_cast<const char*>(hit) - text.data() : -1;
}

}  // namespace sb::sip::chars
