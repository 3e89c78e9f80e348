#pragma once

#include <QByteArrayView>
#include <QString>
#include <QVarLengthArray>

#include "base/result.h"
#include "sip/params.h"
#include "sip/uri.h"

namespace sb::sip {

// name-addr or addr-spec with header parameters: From, To, Contact, Route,
// Record-Route, Diversion, Refer-To, ... (RFC 3261 §20.10, §25.1).
struct NameAddr {
    QByteArrayView display;  // as written: a token sequence or a quoted string, may be empty
    QByteArrayView uriText;  // the URI without angle brackets
    Uri uri;
    ParamList params;  // header parameters after the URI (";tag=...")
    bool angleBrackets = false;

    static Result<NameAddr> parse(QByteArrayView text);

    QString displayName() const;  // unquoted, unescaped, UTF-8 decoded
    QByteArrayView tag() const;   // empty when absent
};

// Splits a field value on commas at top level (not inside quotes or <...>) and trims
// each element; empty elements are dropped.
using ValueList = QVarLengthArray<QByteArrayView, 4>;
ValueList splitCommaList(QByteArrayView value);

}  // namespace sb::sip
