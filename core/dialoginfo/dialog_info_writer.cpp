#include "dialoginfo/dialog_info_writer.h"

#include <libxml/xmlwriter.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>

namespace sb::dialoginfo {

namespace {

constexpr const char* kDialogInfoNs = "urn:ietf:params:xml:ns:dialog-info";

bool isXmlChar(char16_t unit) {
    // XML 1.0 §2.2 Char: tab, LF, CR, and from U+0020 on, without U+FFFE and U+FFFF.
    if (unit < 0x20) return unit == 0x09 || unit == 0x0A || unit == 0x0D;
    return unit < 0xFFFE;
}

// UTF-8 of `value` without what XML 1.0 cannot carry (libxml2 would write a control
// character as is and the receiver's parser would refuse the whole document), into
// `out`, whose memory is reused from value to value.
void xmlText(QStringView value, std::string& out) {
    out.clear();
    const char16_t* units = reinterpret_cast<const char16_t*>(value.utf16());
    const qsizetype size = value.size();
    qsizetype i = 0;
    // Nearly every value is printable ASCII: byte by byte, no conversion.
    for (; i < size; ++i) {
        const char16_t unit = units[i];
        if (unit >= 0x80 || !isXmlChar(unit)) break;
        out.push_back(char(unit));
    }
    if (i == size) return;
    QString kept;
    kept.reserve(size - i);
    for (; i < size; ++i) {
        const QChar ch = value[i];
        if (ch.isHighSurrogate() && i + 1 < size && value[i + 1].isLowSurrogate()) {
            kept += ch;
            kept += value[++i];
        } else if (!ch.isSurrogate() && isXmlChar(ch.unicode())) {
            kept += ch;
        }
    }
    const QByteArray rest = kept.toUtf8();
    out.append(rest.constData(), std::size_t(rest.size()));
}

const xmlChar* xml(const char* text) {
    return reinterpret_cast<const xmlChar*>(text);
}

// RFC 4235 §4.1.2 / §4.4: the only values the schema allows in <state event="...">.
bool isSchemaEvent(const QString& event) {
    static const char* const kEvents[] = {"cancelled",  "rejected", "replaced", "local-bye",
                                          "remote-bye", "error",    "timeout"};
    for (const char* known : kEvents)
        if (event == QLatin1String(known)) return true;
    return false;
}

// The names stateName() and directionName() give, as the C strings libxml2 takes.
const char* stateText(DialogState state) {
    switch (state) {
        case DialogState::Trying:
            return "trying";
        case DialogState::Proceeding:
            return "proceeding";
        case DialogState::Early:
            return "early";
        case DialogState::Confirmed:
            return "confirmed";
        case DialogState::Terminated:
            return "terminated";
    }
    return "";
}
const char* directionText(Direction direction) {
    switch (direction) {
        case Direction::Initiator:
            return "initiator";
        case Direction::Recipient:
            return "recipient";
        case Direction::Unknown:
            return "unknown";
    }
    return "";
}

// The text writer calls, each failing only when libxml2 runs out of memory; the first
// failure sticks and the document is dropped.
//
// One writer and its buffer per thread and per form of the XML declaration, reused for
// every document: making them (a document, two 4 KB buffers, the writer's lists) cost
// more than writing a one-dialog document. A writer keeps the form it was made for,
// because the encoding it declares stays in its document and decides how libxml2
// escapes attribute values.
class Writer {
public:
    // The writer of this thread for the form, ready for a document; nullptr when
    // libxml2 is out of memory.
    static Writer* begin(bool declareEncoding) {
        thread_local std::unique_ptr<Writer> writers[2];
        std::unique_ptr<Writer>& slot = writers[declareEncoding ? 1 : 0];
        if (slot && !slot->m_ok) slot.reset();  // a failed document leaves it half written
        if (!slot) {
            slot.reset(new Writer);
            if (!slot->m_ok) {
                slot.reset();
                return nullptr;
            }
        }
        xmlBufferEmpty(slot->m_buffer);
        slot->check(xmlTextWriterStartDocument(slot->m_writer, "1.0",
                                               declareEncoding ? "UTF-8" : nullptr, nullptr));
        return slot.get();
    }

    ~Writer() {
        if (m_writer) xmlFreeTextWriter(m_writer);
        if (m_buffer) xmlBufferFree(m_buffer);
    }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void start(const char* name) {
        if (m_ok) check(xmlTextWriterStartElement(m_writer, xml(name)));
    }
    void attribute(const char* name, const char* value) {
        if (m_ok) check(xmlTextWriterWriteAttribute(m_writer, xml(name), xml(value)));
    }
    void attribute(const char* name, QStringView value) {
        xmlText(value, m_scratch);
        attribute(name, m_scratch.c_str());
    }
    void attributeIfSet(const char* name, const QString& value) {
        if (!value.isEmpty()) attribute(name, QStringView(value));
    }
    template <typename Integer>
    void number(const char* name, Integer value) {
        char digits[24];
        const auto written = std::to_chars(digits, digits + sizeof digits - 1, value);
        *written.ptr = '\0';
        attribute(name, digits);
    }
    void text(const char* value) {
        if (m_ok) check(xmlTextWriterWriteString(m_writer, xml(value)));
    }
    void text(QStringView value) {
        xmlText(value, m_scratch);
        text(m_scratch.c_str());
    }
    void end() {
        if (m_ok) check(xmlTextWriterEndElement(m_writer));
    }

    QByteArray finish() {
        if (m_ok) check(xmlTextWriterEndDocument(m_writer));
        if (m_ok) check(xmlTextWriterFlush(m_writer));
        if (!m_ok) return {};
        QByteArray out(reinterpret_cast<const char*>(xmlBufferContent(m_buffer)),
                       xmlBufferLength(m_buffer));
        xmlBufferEmpty(m_buffer);
        return out;
    }

private:
    Writer() : m_buffer(xmlBufferCreate()) {
        if (m_buffer) m_writer = xmlNewTextWriterMemory(m_buffer, 0);
        m_ok = m_writer != nullptr;
        if (m_ok) {
            // Indented: a document in a SIP trace is read by people.
            check(xmlTextWriterSetIndent(m_writer, 1));
            check(xmlTextWriterSetIndentString(m_writer, xml("  ")));
        }
    }

    void check(int result) {
        if (result < 0) m_ok = false;
    }

    xmlBufferPtr m_buffer = nullptr;
    xmlTextWriterPtr m_writer = nullptr;
    std::string m_scratch;
    bool m_ok = false;
};

void writeParticipant(Writer& out, const char* name, const Participant& participant,
                      const WriteOptions& options) {
    const bool hasTarget = participant.target && !participant.target->uri.isEmpty();
    if (participant.identity.isEmpty() && !hasTarget) return;
    out.start(name);
    // RFC 4235 §4.1.6.1: <identity> (a nameaddr: the URI as text, the display name as
    // an attribute), then §4.1.6.2: <target uri> with its <param> children.
    if (!participant.identity.isEmpty()) {
        out.start("identity");
        if (!options.displayOnTarget) out.attributeIfSet("display", participant.display);
        out.text(QStringView(participant.identity));
        out.end();
    }
    if (hasTarget) {
        out.start("target");
        if (options.displayOnTarget) out.attributeIfSet("display", participant.display);
        out.attribute("uri", QStringView(participant.target->uri));
        for (const auto& [pname, pval] : participant.target->params) {
            if (pname.isEmpty()) continue;
            out.start("param");
            out.attribute("pname", QStringView(pname));
            out.attribute("pval", QStringView(pval));  // required by the schema, may be empty
            out.end();
        }
        out.end();
    }
    out.end();
}

void writeDialog(Writer& out, const DialogInfo& dialog, const WriteOptions& options) {
    out.start("dialog");
    // RFC 4235 §4.1.1: id is required; call-id, tags and direction are optional.
    out.attribute("id", QStringView(dialog.id));
    out.attributeIfSet("call-id", dialog.callId);
    out.attributeIfSet("local-tag", dialog.localTag);
    out.attributeIfSet("remote-tag", dialog.remoteTag);
    if (dialog.direction != Direction::Unknown)
        out.attribute("direction", directionText(dialog.direction));

    out.start("state");
    if (options.includeEventAndCode) {
        if (isSchemaEvent(dialog.stateEvent))
            out.attribute("event", QStringView(dialog.stateEvent));
        if (dialog.stateCode >= 100 && dialog.stateCode <= 699)
            out.number("code", dialog.stateCode);
    }
    const bool capitalise = options.capitalisedTrying && dialog.state == DialogState::Trying;
    out.text(capitalise ? "Trying" : stateText(dialog.state));
    out.end();

    if (dialog.durationSeconds) {
        out.start("duration");
        char digits[24];
        const auto written = std::to_chars(digits, digits + sizeof digits - 1,
                                           std::max<qint64>(*dialog.durationSeconds, 0));
        *written.ptr = '\0';
        out.text(digits);
        out.end();
    }
    if (options.remoteBeforeLocal) {
        writeParticipant(out, "remote", dialog.remote, options);
        writeParticipant(out, "local", dialog.local, options);
    } else {
        writeParticipant(out, "local", dialog.local, options);
        writeParticipant(out, "remote", dialog.remote, options);
    }
    out.end();
}

}  // namespace

QByteArray writeDocument(const Document& document, const WriteOptions& options) {
    initialiseXml();
    Writer* out = Writer::begin(options.declareEncoding);
    if (!out) return {};
    out->start("dialog-info");
    out->attribute("xmlns", kDialogInfoNs);
    out->number("version", document.version.value_or(0));
    out->attribute("state", document.state == DocumentState::Partial ? "partial" : "full");
    out->attribute("entity", QStringView(document.entity));
    for (const DialogInfo& dialog : document.dialogs)
        writeDialog(*out, dialog, options);
    out->end();
    return out->finish();
}

}  // namespace sb::dialoginfo
