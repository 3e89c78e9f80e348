#pragma once

// Private to core/dialoginfo: the one place where libxml2 reads bytes. Both document
// parsers (dialog-info, RLMI) run through it, so the hardening lives once:
// XML_PARSE_NONET, never NOENT/DTDLOAD/HUGE, any DOCTYPE refused, the size limit checked
// before libxml2 sees the body, the nesting depth bounded, libxml2's own error printing
// silenced (the reason comes back as an sb::Error instead).
//
// It is a SAX2 reader, not a tree: a one-dialog document parses in a few microseconds
// because no node is allocated; the handler copies out only what the model keeps.

#include <QByteArrayView>

#include <optional>

#include "base/result.h"
#include "dialoginfo/dialog_info.h"

namespace sb::dialoginfo {

// One start tag as libxml2 reports it. The views point into libxml2's buffers and are
// valid only during the startElement() call.
class XmlElement {
public:
    XmlElement(const unsigned char* localName, const unsigned char* nsUri, int attributeCount,
               const unsigned char** attributes)
        : m_localName(localName),
          m_nsUri(nsUri),
          m_attributeCount(attributeCount),
          m_attributes(attributes) {}

    QByteArrayView localName() const;
    QByteArrayView nsUri() const;  // empty when the element is in no namespace
    // The value of an unqualified attribute (RFC 4235 and RFC 4662 use only those);
    // nullopt when absent. Raw: libxml2 (without XML_PARSE_NOENT) hands an "&" that came
    // from a reference back as "&#38;"; fine for numbers and keywords.
    std::optional<QByteArrayView> attribute(QByteArrayView localName) const;
    // The same value as text with every reference decoded ("a&amp;b" → "a&b"); empty
    // when absent.
    QString attributeText(QByteArrayView localName) const;

private:
    const unsigned char* m_localName;
    const unsigned char* m_nsUri;
    int m_attributeCount;
    const unsigned char** m_attributes;  // libxml2 SAX2: 5 pointers per attribute
};

// What a document parser does with the events of one read. Calling fail() stops the
// read; the first failure wins over anything libxml2 reports afterwards.
class XmlContentHandler {
public:
    virtual ~XmlContentHandler() = default;

    // depth: 1 for the root element.
    virtual void startElement(const XmlElement& element, int depth) = 0;
    virtual void endElement(int depth) = 0;
    // Character data (text and CDATA) of the innermost open element, possibly in pieces.
    virtual void characters(QByteArrayView text) = 0;

    void fail(ErrorKind kind, QString reason) {
        if (!m_failure) m_failure = makeError(kind, std::move(reason));
    }
    bool failed() const { return m_failure.has_value(); }

private:
    friend class XmlRead;
    std::optional<Error> m_failure;
};

// Reads one XML document from body under the limits. On error the reason names what is
// wrong ("empty body", "DOCTYPE refused", libxml2's message with line and column) and
// the offset is the byte where reading stopped, when known.
Result<void> readXml(QByteArrayView body, const ParseLimits& limits, XmlContentHandler& handler);

}  // namespace sb::dialoginfo
