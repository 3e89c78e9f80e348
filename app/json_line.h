#pragma once

#include <QByteArray>
#include <QLatin1StringView>
#include <QStringView>

#include <vector>

namespace sb::app {

// Compact JSON text written straight into bytes, for events written by the thousand a
// second (lamp changes on a busy server): QJsonObject keeps each object as a CBOR
// container and re-sorts it on every insert, which cost more than the SIP work behind
// the event. Give keys in sorted order and the text is what
// QJsonDocument::toJson(Compact) writes for the same object.
class JsonLine {
public:
    JsonLine& beginObject();
    JsonLine& endObject();
    JsonLine& beginArray();
    JsonLine& endArray();
    JsonLine& key(QLatin1StringView name);
    JsonLine& string(QStringView text);
    JsonLine& string(QLatin1StringView text);
    JsonLine& number(qint64 value);
    JsonLine& boolean(bool value);

    // The text with a newline, ready for a JSON-lines stream.
    QByteArray takeLine();

private:
    void beforeValue();

    QByteArray m_text;
    // Per open container: whether the next value needs a comma first.
    std::vector<bool> m_needsComma;
    bool m_afterKey = false;
};

// Appends `text` as a JSON string literal: quotes, backslashes and control characters
// escaped (RFC 8259 §7), everything else as UTF-8.
void appendJsonString(QByteArray& out, QStringView text);

}  // namespace sb::app
