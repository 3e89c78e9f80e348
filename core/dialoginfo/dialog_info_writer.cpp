#include "dialoginfo/dialog_info_writer.h"

#include <libxml/xmlwriter.h>

#include <algorithm>
#include <memory>

namespace sb::dialoginfo {

namespace {

constexpr const char* kDialogInfoNs = "urn:ietf:params:xml:ns:dialog-info";

struct BufferDeleter {
    void operator()(xmlBufferPtr buffer) const { xmlBufferFree(buffer); }
};
struct WriterDeleter {
    void operator()(xmlTextWriterPtr writer) const { xmlFreeTextWriter(writer); }
};

bool isXmlChar(char16_t unit) {
    // XML 1.0 §2.2 Char: tab, LF, CR, and from U+0020 on, without U+FFFE and U+FFFF.
    if (unit < 0x20) return unit == 0x09 || unit == 0x0A || unit == 0x0D;
    return unit < 0xFFFE;
}

// UTF-8 of `value` without what XML 1.0 cannot carry: libxml2 would write a control
// character as is and the receiver's parser would refuse the whole document.
QByteArray xmlText(const QString& value) {
    bool clean = true;
    for (QChar ch : value) {
        if (!isXmlChar(ch.unicode()) || ch.isSurrogate()) {
            clean = false;
            break;
        }
    }
    if (clean) return value.toUtf8();
    QString kept;
    kept.reserve(value.size());
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar ch = value[i];
        if (ch.isHighSurrogate() && i + 1 < value.size() && value[i + 1].isLowSurrogate()) {
            kept += ch;
            kept += value[++i];
        } else if (!ch.isSurrogate() && isXmlChar(ch.unicode())) {
            kept += ch;
        }
    }
    return kept.toUtf8();
}

const xmlChar* xml(const char* text) {
    return reinterpret_cast<const xmlChar*>(text);
}
const xmlChar* xml(const QByteArray& text) {
    return reinterpret_cast<const xmlChar*>(text.constData());
}

// RFC 4235 §4.1.2 / §4.4: the only values the schema allows in <state event="...">.
bool isSchemaEvent(const QString& event) {
    static const char* const kEvents[] = {"cancelled",  "rejected", "replaced", "local-bye",
                                          "remote-bye", "error",    "timeout"};
    for (const char* known : kEvents)
        if (event == QLatin1String(known)) return true;
    return false;
}

// The text writer calls, each failing only when libxml2 runs out of memory; the first
// failure sticks and the document is dropped.
class Writer {
public:
    Writer() : m_buffer(xmlBufferCreate()) {
        if (m_buffer) m_writer.reset(xmlNewTextWriterMemory(m_buffer.get(), 0));
        m_ok = m_writer != nullptr;
        if (m_ok) {
            // Indented: a document in a SIP trace is read by people.
            check(xmlTextWriterSetIndent(m_writer.get(), 1));
            check(xmlTextWriterSetIndentString(m_writer.get(), xml("  ")));
        }
    }

    void startDocument(bool declareEncoding) {
        if (m_ok)
            check(xmlTextWriterStartDocument(m_writer.get(), "1.0",
                                             declareEncoding ? "UTF-8" : nullptr, nullptr));
    }
    void start(const char* name) {
        if (m_ok) check(xmlTextWriterStartElement(m_writer.get(), xml(name)));
    }
    void attribute(const char* name, const QByteArray& value) {
        if (m_ok) check(xmlTextWriterWriteAttribute(m_writer.get(), xml(name), xml(value)));
    }
    void attributeIfSet(const char* name, const QString& value) {
        if (!value.isEmpty()) attribute(name, xmlText(value));
    }
    void text(const QByteArray& value) {
        if (m_ok) check(xmlTextWriterWriteString(m_writer.get(), xml(value)));
    }
    void end() {
        if (m_ok) check(xmlTextWriterEndElement(m_writer.get()));
    }

    QByteArray finish() {
        if (m_ok) check(xmlTextWriterEndDocument(m_writer.get()));
        if (m_ok) check(xmlTextWriterFlush(m_writer.get()));
        if (!m_ok) return {};
        return QByteArray(reinterpret_cast<const char*>(xmlBufferContent(m_buffer.get())),
                          xmlBufferLength(m_buffer.get()));
    }

private:
    void check(int result) {
        if (result < 0) m_ok = false;
    }

    std::unique_ptr<xmlBuffer, BufferDeleter> m_buffer;
    std::unique_ptr<xmlTextWriter, WriterDeleter> m_writer;
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
        out.text(xmlText(participant.identity));
        out.end();
    }
    if (hasTarget) {
        out.start("target");
        if (options.displayOnTarget) out.attributeIfSet("display", participant.display);
        out.attribute("uri", xmlText(participant.target->uri));
        for (const auto& [pname, pval] : participant.target->params) {
            if (pname.isEmpty()) continue;
            out.start("param");
            out.attribute("pname", xmlText(pname));
            out.attribute("pval", xmlText(pval));  // required by the schema, may be empty
            out.end();
        }
        out.end();
    }
    out.end();
}

void writeDialog(Writer& out, const DialogInfo& dialog, const WriteOptions& options) {
    out.start("dialog");
    // RFC 4235 §4.1.1: id is required; call-id, tags and direction are optional.
    out.attribute("id", xmlText(dialog.id));
    out.attributeIfSet("call-id", dialog.callId);
    out.attributeIfSet("local-tag", dialog.localTag);
    out.attributeIfSet("remote-tag", dialog.remoteTag);
    if (dialog.direction != Direction::Unknown)
        out.attribute("direction", directionName(dialog.direction).toUtf8());

    out.start("state");
    if (options.includeEventAndCode) {
        if (isSchemaEvent(dialog.stateEvent)) out.attribute("event", dialog.stateEvent.toUtf8());
        if (dialog.stateCode >= 100 && dialog.stateCode <= 699)
            out.attribute("code", QByteArray::number(dialog.stateCode));
    }
    const bool capitalise = options.capitalisedTrying && dialog.state == DialogState::Trying;
    out.text(capitalise ? QByteArray("Trying") : stateName(dialog.state).toUtf8());
    out.end();

    if (dialog.durationSeconds) {
        out.start("duration");
        out.text(QByteArray::number(std::max<qint64>(*dialog.durationSeconds, 0)));
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
    Writer out;
    out.startDocument(options.declareEncoding);
    out.start("dialog-info");
    out.attribute("xmlns", kDialogInfoNs);
    out.attribute("version", QByteArray::number(document.version.value_or(0)));
    out.attribute("state", document.state == DocumentState::Partial ? "partial" : "full");
    out.attribute("entity", xmlText(document.entity));
    for (const DialogInfo& dialog : document.dialogs)
        writeDialog(out, dialog, options);
    out.end();
    return out.finish();
}

}  // namespace sb::dialoginfo
