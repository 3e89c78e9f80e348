#include "sip/forward_record.h"

#include "sip/history_info.h"

namespace sb::sip {

namespace {

void copyFields(const Message& from, HeaderId id, Message& to) {
    for (const HeaderField& field : from.headers()) {
        if (field.id == id) to.addHeader(id, field.value.toByteArray());
    }
}

}  // namespace

QByteArrayList ForwardOptions::reasons() const {
    QByteArrayList out;
    for (QByteArrayView reason : registeredDiversionReasons())
        out << reason.toByteArray();
    for (const QByteArray& extra : extraReasons)
        if (!out.contains(extra)) out << extra;
    return out;
}

Result<QByteArray> recordForward(Message& onward, const ForwardOptions& options,
                                 const ForwardChoices& choices, QByteArrayView from,
                                 QByteArrayView to, const Message* arrivedWith) {
    using HistoryInfo = ForwardOptions::HistoryInfo;
    const QByteArray reason = choices.reason.isEmpty() ? options.defaultReason : choices.reason;
    HistoryInfo history = options.historyInfo;
    if (choices.historyInfo) {
        if (!*choices.historyInfo) {
            history = HistoryInfo::Off;
        } else if (history == HistoryInfo::Off) {
            history = HistoryInfo::Beside;
        }
    }
    const DiversionPrivacy privacy = choices.privacy.value_or(options.privacy);
    DiversionEntry entry;
    entry.uri = from.toByteArray();
    entry.reason = reason;
    entry.counter = choices.counter.value_or(options.counter);
    entry.limit = options.limit;
    entry.privacy = privacy;
    entry.screen = options.screen;
    entry.suffix = options.suffix;
    // Checked even when only History-Info goes out: a bad reason is bad either way.
    if (Result<QByteArray> text = formatDiversion(entry); !text) return fail(text.error());
    if (history != HistoryInfo::Instead) {
        if (arrivedWith) copyFields(*arrivedWith, HeaderId::Diversion, onward);
        if (Result<void> added = addDiversion(onward, entry); !added) return fail(added.error());
    }
    if (history != HistoryInfo::Off) {
        if (arrivedWith) copyFields(*arrivedWith, HeaderId::HistoryInfo, onward);
        HistoryRetarget retarget;
        retarget.from = from.toByteArray();
        retarget.to = to.toByteArray();
        retarget.cause = historyCauseFor(reason);
        retarget.privateFrom = privacy == DiversionPrivacy::Full ||
                               privacy == DiversionPrivacy::Name ||
                               privacy == DiversionPrivacy::Uri;
        if (Result<void> added = addRetargetHistory(onward, retarget); !added)
            return fail(added.error());
    }
    return reason;
}

}  // namespace sb::sip
