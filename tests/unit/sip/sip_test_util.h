#pragma once

// Small helpers shared by the core/sip unit tests (header-only: each test is its own
// executable).

#include <QByteArray>
#include <QByteArrayView>
#include <QFile>
#include <QString>
#include <QTest>

#include <optional>

#include "base/result.h"
#include "sip/message.h"
#include "sip/parser.h"

namespace sb::sip::test {

// Test messages are written with "\n" for readability; the wire uses CRLF (RFC 3261 §7).
inline QByteArray crlf(QByteArrayView text) {
    QByteArray out;
    out.reserve(text.size() + text.size() / 16);
    for (char ch : text) {
        if (ch == '\n') out.append('\r');
        out.append(ch);
    }
    return out;
}

inline QByteArray bytes(QByteArrayView view) {
    return view.toByteArray();
}

// "ok" or the error with its offset and status, for QVERIFY2 messages.
template <class T>
QString describe(const Result<T>& result) {
    if (result) return QStringLiteral("ok");
    return QStringLiteral("%1 [sipStatus %2]")
        .arg(result.error().toString())
        .arg(result.error().sipStatus);
}

// Reads a byte-exact fixture from tests/unit/sip/messages/. An empty array means the file
// is missing (QFINDTESTDATA has warned already).
inline QByteArray fixture(const QString& name) {
    const QString path = QFINDTESTDATA(QStringLiteral("messages/") + name);
    QFile file(path);
    if (path.isEmpty() || !file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

// Where a message is refused, if at all: by the parser (framing) or by validate().
struct Rejection {
    enum class Stage { Parser, Validate };
    Stage stage = Stage::Parser;
    Error error;
};

inline std::optional<Rejection> rejectionOf(const QByteArray& wire,
                                            const ParseLimits& limits = {}) {
    Result<Message> parsed = Parser::parse(wire, limits);
    if (!parsed) return Rejection{Rejection::Stage::Parser, parsed.error()};
    Result<void> valid = parsed->validate();
    if (!valid) return Rejection{Rejection::Stage::Validate, valid.error()};
    return std::nullopt;
}

inline const char* stageName(Rejection::Stage stage) {
    return stage == Rejection::Stage::Parser ? "Parser::parse" : "Message::validate";
}

}  // namespace sb::sip::test
