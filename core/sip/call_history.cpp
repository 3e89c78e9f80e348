#include "sip/call_history.h"

#include <algorithm>

#include "sip/diversion.h"
#include "sip/history_info.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"

namespace sb::sip {

namespace {

QString shown(QByteArrayView uri, const UriDisplay& display) {
    return display ? display(uri) : QString::fromUtf8(uri);
}

}  // namespace

QStringList arrivalHistory(const Message& message, const UriDisplay& display) {
    QStringList lines;
    Result<std::vector<ReceivedDiversion>> entries = receivedDiversions(message);
    if (entries && !entries->empty()) {
        for (const ReceivedDiversion& entry : *entries) {
            QString text = QStringLiteral("from %1").arg(shown(entry.uri, display));
            if (!entry.reason.isEmpty())
                text += QStringLiteral(", ") + QString::fromUtf8(entry.reason);
            lines << text;
        }
        return lines;
    }
    // Without Diversion, History-Info tells the same (RFC 7544): each entry with a cause
    // was diverted to from the entry its index names as parent, latest first as Diversion
    // lists them.
    Result<std::vector<HistoryEntry>> history = receivedHistory(message);
    if (!history) return lines;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
        Result<Uri> uri = Uri::parse(it->uri);
        const std::optional<QByteArrayView> cause = uri ? uri->params.value("cause") : std::nullopt;
        if (!cause) continue;
        const QByteArray parentIndex =
            it->index.left(std::max<qsizetype>(0, it->index.lastIndexOf('.')));
        const auto parent =
            std::find_if(history->begin(), history->end(),
                         [&](const HistoryEntry& e) { return e.index == parentIndex; });
        if (parent == history->end()) continue;
        Result<Uri> from = Uri::parse(parent->uri);
        const QByteArray fromText = from ? from->addressOfRecord() : parent->uri;
        lines << QStringLiteral("from %1, %2")
                     .arg(shown(fromText, display), QString::fromLatin1(diversionReasonForCause(
                                                        parseUnsigned(*cause).value_or(404))));
    }
    return lines;
}

}  // namespace sb::sip
