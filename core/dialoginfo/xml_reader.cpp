#include "dialoginfo/xml_reader.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include <climits>
#include <cstring>
#include <memory>
#include <mutex>

namespace sb::dialoginfo {

namespace {

struct ParserContextDeleter {
    void operator()(xmlParserCtxt* context) const { xmlFreeParserCtxt(context); }
};
using ParserContext = std::unique_ptr<xmlParserCtxt, ParserContextDeleter>;

// No network (XML_PARSE_NONET); libxml2's own printing off, the reason is read through
// the structured error handler instead. Deliberately absent: XML_PARSE_NOENT (would
// substitute entities: the billion laughs), XML_PARSE_DTDLOAD / DTDATTR (would fetch
// external DTDs: XXE), XML_PARSE_HUGE (would lift libxml2's own safety limits).
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

#if LIBXML_VERSION >= 21200
using ErrorPointer = const xmlError*;
#else
using ErrorPointer = xmlError*;
#endif

bool startsWith(QByteArrayView text, qsizetype at, QByteArrayView prefix) {
    return text.size() - at >= prefix.size() && text.sliced(at, prefix.size()) == prefix;
}

bool equalsNoCase(QByteArrayView a, QByteArrayView b) {
    if (a.size() != b.size()) return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = char(x - 'a' + 'A');
        if (y >= 'a' && y <= 'z') y = char(y - 'a' + 'A');
        if (x != y) return false;
    }
    return true;
}

// Where a <!DOCTYPE begins in the prolog (after the BOM, XML declaration, processing
// instructions, comments and white space), or -1. Refusing it here means libxml2 never
// reads an entity declaration at all; the SAX internalSubset callback below is the
// backstop for encodings this byte scan cannot see (UTF-16).
qsizetype doctypeInProlog(QByteArrayView body) {
    qsizetype i = startsWith(body, 0, "\xEF\xBB\xBF") ? 3 : 0;
    while (i < body.size()) {
        const char ch = body[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            ++i;
            continue;
        }
        if (ch != '<') return -1;
        if (startsWith(body, i, "<?")) {
            const qsizetype end = body.sliced(i + 2).indexOf("?>");
            if (end < 0) return -1;
            i += 2 + end + 2;
            continue;
        }
        if (startsWith(body, i, "<!--")) {
            const qsizetype end = body.sliced(i + 4).indexOf("-->");
            if (end < 0) return -1;
            i += 4 + end + 3;
            continue;
        }
        if (body.size() - i >= 9 && equalsNoCase(body.sliced(i, 9), "<!DOCTYPE")) return i;
        return -1;  // the root element (or garbage libxml2 will name) begins here
    }
    return -1;
}

QString doctypeReason() {
    return QStringLiteral(
        "DOCTYPE refused: a dialog-info or RLMI document carries no DTD, and entities are "
        "never expanded");
}

}  // namespace

QByteArrayView XmlElement::localName() const {
    return QByteArrayView(reinterpret_cast<const char*>(m_localName));
}

QByteArrayView XmlElement::nsUri() const {
    if (!m_nsUri) return {};
    return QByteArrayView(reinterpret_cast<const char*>(m_nsUri));
}

std::optional<QByteArrayView> XmlElement::attribute(QByteArrayView localName) const {
    // libxml2 SAX2: localname, prefix, URI, value, end for each attribute.
    for (int i = 0; i < m_attributeCount; ++i) {
        const unsigned char** attribute = m_attributes + 5 * i;
        if (attribute[2] != nullptr) continue;  // a namespaced (foreign) attribute
        // Compared in place: the name is NUL-terminated, the wanted one is not and holds
        // no NUL, so strncmp never reads past either and no strlen is needed per lookup.
        const char* name = reinterpret_cast<const char*>(attribute[0]);
        if (std::strncmp(name, localName.data(), std::size_t(localName.size())) != 0 ||
            name[localName.size()] != '\0') {
            continue;
        }
        return QByteArrayView(reinterpret_cast<const char*>(attribute[3]),
                              reinterpret_cast<const char*>(attribute[4]));
    }
    return std::nullopt;
}

QString XmlElement::attributeText(QByteArrayView localName) const {
    const std::optional<QByteArrayView> raw = attribute(localName);
    if (!raw) return {};
    if (!std::memchr(raw->data(), '&', std::size_t(raw->size()))) {
        return QString::fromUtf8(raw->data(), raw->size());
    }
    // Without entity substitution libxml2 writes each "&" that a reference produced as
    // "&#38;" (so that a tree builder could re-parse the value); a literal "&" cannot
    // occur in an attribute value (XML 1.0 §3.1), so the mapping back is exact.
    QByteArray decoded = raw->toByteArray();
    decoded.replace("&#38;", "&");
    return QString::fromUtf8(decoded);
}

// One read in progress: the libxml2 context's userData, translating SAX2 callbacks into
// XmlContentHandler calls and keeping the depth limit.
class XmlRead {
public:
    XmlRead(xmlParserCtxt* context, const ParseLimits& limits, XmlContentHandler& handler)
        : m_context(context), m_limits(limits), m_handler(handler) {}

    static xmlSAXHandler saxHandler() {
        xmlSAXHandler sax;
        std::memset(&sax, 0, sizeof sax);
        sax.initialized = XML_SAX2_MAGIC;
        sax.startElementNs = &XmlRead::onStartElement;
        sax.endElementNs = &XmlRead::onEndElement;
        sax.characters = &XmlRead::onCharacters;
        sax.cdataBlock = &XmlRead::onCharacters;
        sax.internalSubset = &XmlRead::onDoctype;
        sax.externalSubset = &XmlRead::onDoctype;
        sax.serror = &XmlRead::onError;
        // No getEntity/entityDecl: only the five predefined entities exist, any other
        // reference is a well-formedness error (XML 1.0 §4.1 without a DTD).
        return sax;
    }

    Result<void> result() const;

private:
    static XmlRead& self(void* context) { return *static_cast<XmlRead*>(context); }

    static void onStartElement(void* context, const xmlChar* localName, const xmlChar*,
                               const xmlChar* nsUri, int, const xmlChar**, int attributeCount, int,
                               const xmlChar** attributes) {
        XmlRead& read = self(context);
        if (!read.delivering()) return;
        if (read.m_depth + 1 > read.m_limits.maxDepth) {
            read.m_handler.fail(
                ErrorKind::Limit,
                QStringLiteral("elements nested deeper than %1").arg(read.m_limits.maxDepth));
        } else {
            read.m_handler.startElement(XmlElement(localName, nsUri, attributeCount, attributes),
                                        ++read.m_depth);
        }
        read.stopIfFailed();
    }

    static void onEndElement(void* context, const xmlChar*, const xmlChar*, const xmlChar*) {
        XmlRead& read = self(context);
        if (!read.delivering() || read.m_depth == 0) return;
        read.m_handler.endElement(read.m_depth--);
        read.stopIfFailed();
    }

    static void onCharacters(void* context, const xmlChar* text, int length) {
        XmlRead& read = self(context);
        if (!read.delivering() || read.m_depth == 0) return;
        read.m_handler.characters(QByteArrayView(reinterpret_cast<const char*>(text), length));
        read.stopIfFailed();
    }

    static void onDoctype(void* context, const xmlChar*, const xmlChar*, const xmlChar*) {
        XmlRead& read = self(context);
        read.m_handler.fail(ErrorKind::Parse, doctypeReason());
        read.stopIfFailed();
    }

    static void onError(void* context, ErrorPointer error) {
        XmlRead& read = self(context);
        if (!error || error->level < XML_ERR_ERROR || read.m_xmlError) return;
        QString message = QString::fromUtf8(error->message ? error->message : "unknown error");
        read.m_xmlError = makeError(ErrorKind::Parse,
                                    QStringLiteral("not well-formed XML: %1 (line %2, column %3)")
                                        .arg(message.trimmed())
                                        .arg(error->line)
                                        .arg(error->int2),
                                    read.consumed());
    }

    // Whether events still reach the handler. libxml2 2.9 keeps calling characters()
    // after a fatal error in some paths (xmlParseCharData ignores disableSAX), so the
    // handler only ever sees balanced events inside elements it was told about, and
    // nothing after the first error.
    bool delivering() const {
        return !m_handler.failed() && !m_xmlError && m_context->disableSAX == 0;
    }

    qsizetype consumed() const { return qsizetype(xmlByteConsumed(m_context)); }

    void stopIfFailed() {
        if (!m_handler.failed() || m_stopped) return;
        m_stopped = true;
        if (m_handler.m_failure->offset < 0) m_handler.m_failure->offset = consumed();
        xmlStopParser(m_context);
    }

    xmlParserCtxt* m_context;
    const ParseLimits& m_limits;
    XmlContentHandler& m_handler;
    int m_depth = 0;
    bool m_stopped = false;
    std::optional<Error> m_xmlError;
};

Result<void> XmlRead::result() const {
    if (m_handler.m_failure) return fail(*m_handler.m_failure);
    if (m_xmlError) return fail(*m_xmlError);
    if (!m_context->wellFormed)
        return fail(ErrorKind::Parse, QStringLiteral("not well-formed XML"));
    return {};
}

void initialiseXml() {
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

namespace {

// A context is reused only while it stays small: libxml2 interns every element and
// attribute name in the context's dictionary, and xmlCtxtReset keeps the dictionary (and
// the grown name, node and attribute tables). Without a bound, a stream of valid
// documents full of new names grows it without end and slows every later read on the
// thread (1,000 documents of 1,600 new names each: 112 s instead of 2 s, Debug build).
// A dialog-info or RLMI document uses some 30 names.
constexpr std::size_t kMaxReusedDictionaryEntries = 512;
constexpr int kMaxReusedAttributeSlots = 512;  // ctxt->maxatts: 5 per attribute

// The thread's idle parser context, or null. Creating and freeing a context costs about
// a tenth of a one-dialog read (xmlNewParserCtxt allocates a dozen tables and a
// dictionary); resetting one costs almost nothing. One per thread because a context is
// not thread-safe; taken out while a read runs, so a nested read (none exists today)
// would simply get its own. Freed at thread exit (nothing calls xmlCleanupParser).
thread_local ParserContext t_idleContext;

ParserContext takeContext() {
    if (t_idleContext) return std::move(t_idleContext);
    // Created as a push-parser context only so that xmlCtxtResetPush can load it below;
    // the document is still read by the pull parser (xmlParseDocument).
    return ParserContext(xmlCreatePushParserCtxt(nullptr, nullptr, nullptr, 0, nullptr));
}

// Puts the context back for the next read on this thread, unless anything of this read
// could shape the next one: after any failure (a hostile or broken document, a stopped
// parser) the context is freed, so the next read starts on a fresh one exactly as if no
// context had ever been reused.
void releaseContext(ParserContext context, bool succeeded) {
    if (!succeeded || !context->wellFormed || context->disableSAX != 0) return;
    if (context->dict && xmlDictSize(context->dict) > int(kMaxReusedDictionaryEntries)) return;
    if (context->maxatts > kMaxReusedAttributeSlots) return;
    if (t_idleContext) return;
    // Frees the input (libxml2's copy of the body) now rather than at the next read, so an
    // idle context holds no document bytes.
    xmlCtxtReset(context.get());
    t_idleContext = std::move(context);
}

}  // namespace

Result<void> readXml(QByteArrayView body, const ParseLimits& limits, XmlContentHandler& handler) {
    // The limit is checked before libxml2 sees a byte: a 10 MB body costs one comparison.
    if (body.size() > limits.maxBytes || body.size() > INT_MAX) {
        return fail(ErrorKind::Limit, QStringLiteral("body of %1 bytes is over the limit of %2")
                                          .arg(body.size())
                                          .arg(limits.maxBytes));
    }
    if (body.trimmed().isEmpty()) return fail(ErrorKind::Parse, QStringLiteral("empty body"));
    if (const qsizetype at = doctypeInProlog(body); at >= 0) {
        return fail(ErrorKind::Parse, doctypeReason(), at);
    }

    initialiseXml();
    ParserContext context = takeContext();
    if (!context || !context->sax) {
        return fail(ErrorKind::Parse, QStringLiteral("libxml2 could not create a parser"));
    }
    // xmlCtxtResetPush clears everything a read leaves behind (inputs, stacks, error
    // state, encoding, myDoc), detects the encoding from the first four bytes and copies
    // the body into libxml2's own NUL-terminated buffer (the body is usually a view into a
    // larger SIP message: nothing may read past its end). That input has no read
    // callback, so the pull parser's GROW returns at once; the memory parser's input has a
    // no-op callback that libxml2 2.9 calls and grows its buffer for on every GROW near
    // the end of the body, a quarter of the instructions of a one-dialog read.
    // xmlParseDocument rather than xmlParseChunk: the push parser names a truncated
    // document "Extra content at the end of the document"; the pull parser says which tag
    // is unfinished, and its messages and offsets stay what they were.
    const int size = int(body.size());
    if (xmlCtxtResetPush(context.get(), body.data(), size, nullptr, nullptr) != 0) {
        return fail(ErrorKind::Parse, QStringLiteral("libxml2 could not reset its parser"));
    }
    static const xmlSAXHandler kSax = XmlRead::saxHandler();
    *context->sax = kSax;  // every read: XML_PARSE_NOERROR edits the handler in place
    XmlRead read(context.get(), limits, handler);
    context->userData = &read;
    xmlCtxtUseOptions(context.get(), kParseOptions);
    xmlParseDocument(context.get());
    if (context->myDoc) {  // not built by these SAX callbacks, but never leak one
        xmlFreeDoc(context->myDoc);
        context->myDoc = nullptr;
    }
    Result<void> result = read.result();
    context->userData = nullptr;  // `read` dies here; nothing may reach it later
    releaseContext(std::move(context), bool(result));
    return result;
}

}  // namespace sb::dialoginfo
