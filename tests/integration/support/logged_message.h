#pragma once

#include <QString>

#include <vector>

namespace sb::itest {

class SippProcess;

// One SIP message as a peer logged it: sipp's -trace_msg log, or Switchboard's
// --sip-trace file (docs/headless.md).
struct LoggedMessage {
    bool received = false;
    QString text;  // line breaks as LF
    // When it was logged, in microseconds since the epoch (sipp's log has microseconds,
    // Switchboard's trace milliseconds); 0 when the log has no time.
    qint64 timeUs = 0;

    QString startLine() const { return text.section(QLatin1Char('\n'), 0, 0).trimmed(); }
    QString head() const { return text.section(QStringLiteral("\n\n"), 0, 0); }
    QString body() const {
        const qsizetype end = text.indexOf(QStringLiteral("\n\n"));
        return end < 0 ? QString() : text.mid(end + 2).trimmed();
    }
    // The first value of a header field (full names only, case-insensitive).
    QString header(const QString& name) const;
    // The status code of a response, 0 for a request.
    int statusCode() const;
    // The method named in the CSeq header field ("INVITE", "PUBLISH").
    QString cseqMethod() const;
};

// Every message of a sipp run, in the order logged. Entries of -trace_msg are separated
// by a dashed line with the local time, then "UDP message received [N] bytes :" or
// "UDP message sent (N bytes):", an empty line and the message.
std::vector<LoggedMessage> loggedMessages(const SippProcess& sipp);

// Every message of a Switchboard SIP trace (the text of --sip-trace FILE): each entry is
// "<UTC time> SENT|RECV <transport> <from> -> <to>", the message, then "----".
std::vector<LoggedMessage> sipTraceMessages(const QString& trace);

// How many responses with `status` to requests of `method` (their CSeq) sipp received.
int countResponses(const SippProcess& sipp, int status, const QString& method);

}  // namespace sb::itest
