#pragma once

#include <QString>
#include <QtGlobal>

namespace sb {

// What kind of failure an Error reports; lets callers branch without parsing text.
enum class ErrorKind {
    Parse,      // malformed input from the wire
    Limit,      // input over a configured size/count limit
    Transport,  // socket-level failure
    Timeout,    // a protocol timer ran out
    Auth,       // credentials refused or a challenge we cannot answer
    Protocol,   // well-formed but not acceptable (wrong state, unsupported)
    Config,     // bad user configuration
    Io,         // files
};

// An error as a value: what went wrong, where, and which SIP status (if any) answers it.
struct Error {
    ErrorKind kind = ErrorKind::Parse;
    QString reason;         // human readable, fit for a 400 reason phrase or a UI message
    qsizetype offset = -1;  // byte offset into the input where it went wrong, -1 if none
    int sipStatus = 0;      // status code that answers a request failing this way, 0 if none

    QString toString() const;
};

Error makeError(ErrorKind kind, QString reason, qsizetype offset = -1, int sipStatus = 0);

}  // namespace sb
