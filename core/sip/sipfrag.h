#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include "base/result.h"

namespace sb::sip {

// The status line a REFER's NOTIFY reports (RFC 3515 §2.4.5): the body is a
// message/sipfrag (RFC 3420) that starts with the Status-Line of the latest response
// the referred request got, e.g. "SIP/2.0 180 Ringing". Header fields after it are
// allowed and ignored.
struct SipFragStatus {
    int statusCode = 0;       // 100..699
    QByteArray reasonPhrase;  // may be empty ("SIP/2.0 200" is tolerated)
};

// Reads the Status-Line at the start of a sipfrag body. Tolerates a bare LF line end,
// a missing reason phrase and extra spaces; refuses anything else (a request line, no
// version, a code outside 100..699, control characters) with a reason saying why.
Result<SipFragStatus> parseSipFragStatus(QByteArrayView body);

// Whether a Content-Type value names message/sipfrag (parameters and case ignored).
bool isSipFragContentType(QByteArrayView contentType);

}  // namespace sb::sip
