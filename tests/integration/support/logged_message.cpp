#include "logged_message.h"

#include <QDateTime>
#include <QRegularExpression>

#include "sipp_process.h"

namespace sb::itest {

namespace {

// "2026-11-27 17:26:21.600349" (sipp: local time, microseconds) or
// "2026-11-27T17:26:21.600Z" (Switchboard: UTC, milliseconds).
qint64 microsecondsOf(const QString& stamp, Qt::TimeSpec spec) {
    static const QRegularExpression re(
        QStringLiteral("(\\d{4}-\\d{2}-\\d{2})[ T](\\d{2}:\\d{2}:\\d{2})(?:\\.(\\d{1,6}))?"));
    const QRegularExpressionMatch match = re.match(stamp);
    if (!match.hasMatch()) return 0;
    QDateTime when = QDateTime::fromString(match.captured(1) + QLatin1Char('T') + match.captured(2),
                                           Qt::ISODate);
    if (!when.isValid()) return 0;
    when.setTimeSpec(spec);
    const QString fraction = match.captured(3).leftJustified(6, QLatin1Char('0'));
    return when.toMSecsSinceEpoch() * 1000 + fraction.toLongLong();
}

}  // namespace

QString LoggedMessage::header(const QString& name) const {
    const QString section = head();
    qsizetype from = section.indexOf(QLatin1Char('\n'));  // after the start line
    while (from >= 0 && from < section.size()) {
        const qsizetype end = section.indexOf(QLatin1Char('\n'), from + 1);
        const QString line =
            section.mid(from + 1, end < 0 ? section.size() - from - 1 : end - from - 1);
        const qsizetype colon = line.indexOf(QLatin1Char(':'));
        if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
        from = end;
    }
    return {};
}

int LoggedMessage::statusCode() const {
    const QString line = startLine();
    if (!line.startsWith(QStringLiteral("SIP/2.0 "))) return 0;
    return line.mid(8, 3).toInt();
}

QString LoggedMessage::cseqMethod() const {
    return header(QStringLiteral("CSeq"))
        .section(QLatin1Char(' '), 1, 1, QString::SectionSkipEmpty);
}

std::vector<LoggedMessage> loggedMessages(const SippProcess& sipp) {
    std::vector<LoggedMessage> out;
    QString log = sipp.messages();
    log.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    static const QRegularExpression entry(
        QStringLiteral("^(UDP|TCP) message (received|sent) [^\\n]*\\n\\n"),
        QRegularExpression::MultilineOption);
    QRegularExpressionMatchIterator it = entry.globalMatch(log);
    std::vector<std::pair<QRegularExpressionMatch, qsizetype>> starts;
    while (it.hasNext()) {
        const QRegularExpressionMatch match = it.next();
        starts.emplace_back(match, match.capturedEnd());
    }
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const qsizetype begin = starts[i].second;
        qsizetype end = i + 1 < starts.size() ? starts[i + 1].first.capturedStart() : log.size();
        // The separator line of the next entry is not part of this message.
        const qsizetype dashes = log.lastIndexOf(QStringLiteral("\n-----"), end);
        if (dashes > begin) end = dashes;
        LoggedMessage message;
        message.received = starts[i].first.captured(2) == QLatin1String("received");
        message.text = log.mid(begin, end - begin).trimmed();
        // The dashed line with the time comes right before the entry.
        const qsizetype lineStart = starts[i].first.capturedStart();
        const qsizetype separator = log.lastIndexOf(QStringLiteral("-----"), lineStart);
        if (separator >= 0) {
            message.timeUs =
                microsecondsOf(log.mid(separator, lineStart - separator), Qt::LocalTime);
        }
        out.push_back(message);
    }
    return out;
}

std::vector<LoggedMessage> sipTraceMessages(const QString& trace) {
    std::vector<LoggedMessage> out;
    QString text = trace;
    text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    for (const QString& entry : text.split(QStringLiteral("\n----\n"), Qt::SkipEmptyParts)) {
        const qsizetype newline = entry.indexOf(QLatin1Char('\n'));
        if (newline < 0) continue;
        const QString headline = entry.left(newline);
        LoggedMessage message;
        message.received = headline.contains(QStringLiteral(" RECV "));
        if (!message.received && !headline.contains(QStringLiteral(" SENT "))) continue;
        message.text = entry.mid(newline + 1).trimmed();
        message.timeUs = microsecondsOf(headline, Qt::UTC);
        out.push_back(message);
    }
    return out;
}

int countResponses(const SippProcess& sipp, int status, const QString& method) {
    int found = 0;
    for (const LoggedMessage& m : loggedMessages(sipp)) {
        if (m.received && m.statusCode() == status && m.cseqMethod() == method) ++found;
    }
    return found;
}

}  // namespace sb::itest
