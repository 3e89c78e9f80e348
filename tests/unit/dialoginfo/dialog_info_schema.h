#pragma once

// Validation of application/dialog-info+xml bodies against the RFC 4235 §4.4 schema
// (fixtures/dialog-info.xsd) with libxml2's XML Schema validator. Header-only so that
// any test can use it: the unit tests of core/dialoginfo and core/server, and the
// integration tests that check what a running Switchboard sends. A target that includes
// it links LibXml2::LibXml2.

#include <QByteArray>
#include <QFileInfo>
#include <QString>
#include <QStringList>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include <memory>

namespace sb::dialoginfo::test {

// tests/unit/dialoginfo/fixtures/dialog-info.xsd: under SB_SOURCE_DIR (set by
// sb_add_test for every CTest run), else next to this header.
inline QString dialogInfoSchemaPath() {
    const QString root = qEnvironmentVariable("SB_SOURCE_DIR");
    const QString folder = root.isEmpty() ? QFileInfo(QString::fromUtf8(__FILE__)).absolutePath()
                                          : root + QStringLiteral("/tests/unit/dialoginfo");
    return folder + QStringLiteral("/fixtures/dialog-info.xsd");
}

namespace detail {

struct SchemaDeleter {
    void operator()(xmlSchemaPtr schema) const { xmlSchemaFree(schema); }
};
struct SchemaParserDeleter {
    void operator()(xmlSchemaParserCtxtPtr context) const { xmlSchemaFreeParserCtxt(context); }
};
struct ValidatorDeleter {
    void operator()(xmlSchemaValidCtxtPtr context) const { xmlSchemaFreeValidCtxt(context); }
};
struct DocDeleter {
    void operator()(xmlDocPtr doc) const { xmlFreeDoc(doc); }
};

// libxml2's structured error callback: every message goes into the QStringList given as
// user data. Generic, because libxml2 2.12 made the error pointer const.
inline xmlStructuredErrorFunc collector() {
    return [](void* messages, auto error) {
        if (!messages || !error || !error->message) return;
        QString line = QString::fromUtf8(error->message).trimmed();
        if (error->line > 0) line = QStringLiteral("line %1: %2").arg(error->line).arg(line);
        static_cast<QStringList*>(messages)->append(line);
    };
}

struct LoadedSchema {
    std::unique_ptr<xmlSchema, SchemaDeleter> schema;
    QString error;
};

// Parsed once per process.
inline const LoadedSchema& loadedSchema() {
    static const LoadedSchema loaded = [] {
        xmlInitParser();
        LoadedSchema result;
        const QString path = dialogInfoSchemaPath();
        std::unique_ptr<xmlSchemaParserCtxt, SchemaParserDeleter> parser(
            xmlSchemaNewParserCtxt(path.toLocal8Bit().constData()));
        if (!parser) {
            result.error = QStringLiteral("cannot open the schema %1").arg(path);
            return result;
        }
        QStringList messages;
        xmlSchemaSetParserStructuredErrors(parser.get(), collector(), &messages);
        result.schema.reset(xmlSchemaParse(parser.get()));
        if (!result.schema)
            result.error = QStringLiteral("schema %1 does not load: %2")
                               .arg(path, messages.join(QStringLiteral("; ")));
        return result;
    }();
    return loaded;
}

}  // namespace detail

// Whether `document` is well-formed XML that is valid against the RFC 4235 schema. On
// failure `error` (when given) says why: libxml2's messages with their line numbers.
inline bool validatesAgainstDialogInfoSchema(const QByteArray& document, QString* error = nullptr) {
    auto failWith = [error](QString reason) {
        if (error) *error = std::move(reason);
        return false;
    };
    const detail::LoadedSchema& loaded = detail::loadedSchema();
    if (!loaded.schema) return failWith(loaded.error);

    QStringList messages;
    xmlSetStructuredErrorFunc(&messages, detail::collector());
    std::unique_ptr<xmlDoc, detail::DocDeleter> doc(xmlReadMemory(
        document.constData(), int(document.size()), "dialog-info.xml", nullptr, XML_PARSE_NONET));
    xmlSetStructuredErrorFunc(nullptr, nullptr);
    if (!doc)
        return failWith(
            QStringLiteral("not well-formed XML: %1").arg(messages.join(QStringLiteral("; "))));

    std::unique_ptr<xmlSchemaValidCtxt, detail::ValidatorDeleter> validator(
        xmlSchemaNewValidCtxt(loaded.schema.get()));
    if (!validator) return failWith(QStringLiteral("out of memory"));
    xmlSchemaSetValidStructuredErrors(validator.get(), detail::collector(), &messages);
    const int result = xmlSchemaValidateDoc(validator.get(), doc.get());
    if (result != 0) {
        return failWith(result > 0 ? messages.join(QStringLiteral("; "))
                                   : QStringLiteral("libxml2 could not validate (internal error)"));
    }
    return true;
}

}  // namespace sb::dialoginfo::test
