#include "app/json_line.h"

namespace sb::app {

void appendJsonString(QByteArray& out, QStringView text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    // Nearly every value is printable ASCII without quotes or backslashes: copied unit
    // by unit into room made once, no UTF-8 conversion (and no allocation for it).
    const qsizetype start = out.size();
    out.resize(start + text.size());
    char* plain = out.data() + start;
    qsizetype i = 0;
    for (; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (c < 0x20 || c >= 0x80 || c == u'"' || c == u'\\') break;
        plain[i] = char(c);
    }
    out.truncate(start + i);
    qsizetype plainFrom = i;
    const auto flushPlain = [&](qsizetype upTo) {
        if (upTo > plainFrom) out += text.sliced(plainFrom, upTo - plainFrom).toUtf8();
    };
    for (; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (c >= 0x20 && c != u'"' && c != u'\\') continue;
        flushPlain(i);
        plainFrom = i + 1;
        out += '\\';
        switch (c) {
            case u'"':
                out += '"';
                break;
            case u'\\':
                out += '\\';
                break;
            case u'\b':
                out += 'b';
                break;
            case u'\f':
                out += 'f';
                break;
            case u'\n':
                out += 'n';
                break;
            case u'\r':
                out += 'r';
                break;
            case u'\t':
                out += 't';
                break;
            default:
                out += "u00";
                out += kHex[(c >> 4) & 0xf];
                out += kHex[c & 0xf];
        }
    }
    flushPlain(text.size());
    out += '"';
}

void JsonLine::beforeValue() {
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (m_needsComma.empty()) return;
    if (m_needsComma.back()) m_text += ',';
    m_needsComma.back() = true;
}

JsonLine& JsonLine::beginObject() {
    beforeValue();
    m_text += '{';
    m_needsComma.push_back(false);
    return *this;
}

JsonLine& JsonLine::endObject() {
    m_text += '}';
    m_needsComma.pop_back();
    return *this;
}

JsonLine& JsonLine::beginArray() {
    beforeValue();
    m_text += '[';
    m_needsComma.push_back(false);
    return *this;
}

JsonLine& JsonLine::endArray() {
    m_text += ']';
    m_needsComma.pop_back();
    return *this;
}

JsonLine& JsonLine::key(QLatin1StringView name) {
    beforeValue();
    m_text += '"';
    m_text.append(name.data(), name.size());
    m_text += "\":";
    m_afterKey = true;
    return *this;
}

JsonLine& JsonLine::string(QStringView text) {
    beforeValue();
    appendJsonString(m_text, text);
    return *this;
}

JsonLine& JsonLine::string(QLatin1StringView text) {
    return string(QStringView(QString(text)));
}

JsonLine& JsonLine::number(qint64 value) {
    beforeValue();
    m_text += QByteArray::number(value);
    return *this;
}

JsonLine& JsonLine::boolean(bool value) {
    beforeValue();
    m_text += value ? "true" : "false";
    return *this;
}

QByteArray JsonLine::takeLine() {
    m_text += '\n';
    m_needsComma.clear();
    m_afterKey = false;
    return std::exchange(m_text, {});
}

}  // namespace sb::app
