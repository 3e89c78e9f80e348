#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

#include "sip/char_class.h"

namespace sb::sip {

// A ";name=value;flag" parameter list as it stands in a URI or header (RFC 3261 §25.1
// generic-param, uri-parameter). Zero-copy: it views the message's buffer. Names match
// case-insensitively; values are returned as written (quoted strings keep their quotes).
class ParamList {
public:
    ParamList() = default;
    // `raw` starts at the first ';' (or is empty).
    explicit ParamList(QByteArrayView raw) : m_raw(raw) {}

    bool has(QByteArrayView name) const;
    // nullopt when absent; an empty view for a flag parameter such as ";lr".
    std::optional<QByteArrayView> value(QByteArrayView name) const;
    QByteArrayView raw() const { return m_raw; }
    bool isEmpty() const { return m_raw.isEmpty(); }
    // Every parameter has a token name and no element is empty (";;" is malformed,
    // RFC 4475 badinv01). Values are not checked beyond being present after '='.
    bool isWellFormed() const;

    // Calls fn(name, value, hasValue) for each parameter, in order; stop by returning false.
    template <class Fn>
    void forEach(Fn&& fn) const;

private:
    QByteArrayView m_raw;
};

// Removes surrounding double quotes and backslash escapes (RFC 3261 §25.1 quoted-pair).
// A value without quotes is returned unchanged.
QByteArray unquote(QByteArrayView text);
// Wraps `text` in double quotes, escaping '"' and '\'.
QByteArray quote(QByteArrayView text);

// Position of the first `ch` at top level in `text`: outside quoted strings (which may
// contain escaped quotes) and, when `skipAngles` is set, outside <...>. -1 when absent.
qsizetype findTopLevel(QByteArrayView text, char ch, bool skipAngles = true, qsizetype from = 0);

template <class Fn>
void ParamList::forEach(Fn&& fn) const {
    qsizetype pos = 0;
    const qsizetype size = m_raw.size();
    while (pos < size) {
        if (m_raw[pos] == ';') ++pos;
        qsizetype end = findTopLevel(m_raw, ';', false, pos);
        if (end < 0) end = size;
        QByteArrayView item = chars::trimLws(m_raw.sliced(pos, end - pos));
        pos = end;
        if (item.isEmpty()) continue;
        const qsizetype eq = item.indexOf('=');
        const bool hasValue = eq >= 0;
        const QByteArrayView name = hasValue ? chars::trimLws(item.first(eq)) : item;
        const QByteArrayView value =
            hasValue ? chars::trimLws(item.sliced(eq + 1)) : QByteArrayView();
        if (!fn(name, value, hasValue)) return;
    }
}

}  // namespace sb::sip
