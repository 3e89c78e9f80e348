#include "sip/diversion.h"

#include <algorithm>
#include <array>

#include "sip/char_class.h"
#include "sip/name_addr.h"
#include "sip/params.h"
#include "sip/uri.h"

namespace sb::sip {

namespace {

constexpr std::array<QByteArrayView, 11> kRegisteredReasons = {
    "unknown",        "user-busy",  "no-answer", "unavailable",    "unconditional", "time-of-day",
    "do-not-disturb", "deflection", "follow-me", "out-of-service", "away",
};

Unexpected invalid(QString reason) {
    return fail(ErrorKind::Protocol, std::move(reason));
}

std::optional<int> positiveNumber(QByteArrayView text) {
    const std::optional<quint32> value = parseUnsigned(text);
    if (!value || *value > 1000000) return std::nullopt;
    return int(*value);
}

// The parameters an option writes, which the suffix must not repeat (a second
// ";privacy=" would leave the receiver to pick one).
std::vector<QByteArrayView> writtenParameters(const DiversionEntry& entry) {
    std::vector<QByteArrayView> names{"reason"};
    if (entry.counter > 0) names.push_back("counter");
    if (entry.limit > 0) names.push_back("limit");
    if (entry.privacy != DiversionPrivacy::Unset) names.push_back("privacy");
    if (entry.screen) names.push_back("screen");
    return names;
}

Result<void> checkSuffix(const DiversionEntry& entry) {
    const QByteArrayView suffix = entry.suffix;
    if (suffix.isEmpty()) return {};
    if (suffix.front() != ';')
        return invalid(QStringLiteral("the suffix must start with ';' (e.g. ;privacy=full)"));
    const bool unsafe = std::any_of(suffix.begin(), suffix.end(), [](char c) {
        return c == '\r' || c == '\n' || c == ',' || c == '<' || c == '>';
    });
    if (unsafe || !ParamList(suffix).isWellFormed())
        return invalid(QStringLiteral("the suffix \"%1\" is not a list of parameters")
                           .arg(QString::fromUtf8(suffix)));
    Result<void> result;
    const std::vector<QByteArrayView> written = writtenParameters(entry);
    ParamList(suffix).forEach([&](QByteArrayView name, QByteArrayView, bool) {
        for (QByteArrayView own : written) {
            if (name.compare(own, Qt::CaseInsensitive) != 0) continue;
            result = invalid(QStringLiteral("the suffix repeats the %1 parameter, which is "
                                            "set as an option of its own")
                                 .arg(QString::fromLatin1(own)));
            return false;
        }
        return true;
    });
    return result;
}

}  // namespace

std::span<const QByteArrayView> registeredDiversionReasons() {
    return kRegisteredReasons;
}

bool isSipToken(QByteArrayView text) {
    return !text.isEmpty() && std::all_of(text.begin(), text.end(),
                                          [](char c) { return chars::is(c, chars::kToken); });
}

QByteArrayView privacyToken(DiversionPrivacy privacy) {
    switch (privacy) {
        case DiversionPrivacy::Full:
            return "full";
        case DiversionPrivacy::Name:
            return "name";
        case DiversionPrivacy::Uri:
            return "uri";
        case DiversionPrivacy::Off:
            return "off";
        case DiversionPrivacy::Unset:
            break;
    }
    return {};
}

std::optional<DiversionPrivacy> parseDiversionPrivacy(QByteArrayView text) {
    for (DiversionPrivacy privacy : {DiversionPrivacy::Full, DiversionPrivacy::Name,
                                     DiversionPrivacy::Uri, DiversionPrivacy::Off}) {
        if (text.compare(privacyToken(privacy), Qt::CaseInsensitive) == 0) return privacy;
    }
    return std::nullopt;
}

Result<std::vector<ReceivedDiversion>> receivedDiversions(const Message& message) {
    std::vector<ReceivedDiversion> entries;
    for (QByteArrayView value : message.values(HeaderId::Diversion)) {
        Result<NameAddr> parsed = NameAddr::parse(value);
        if (!parsed) {
            return invalid(
                QStringLiteral("malformed Diversion entry \"%1\"")
                    .arg(QString::fromUtf8(value.first(std::min<qsizetype>(value.size(), 120)))));
        }
        ReceivedDiversion entry;
        entry.display = parsed->displayName();
        entry.uri = parsed->uriText.toByteArray();
        if (auto reason = parsed->params.value("reason")) entry.reason = unquote(*reason);
        if (auto counter = parsed->params.value("counter")) {
            const std::optional<int> number = positiveNumber(unquote(*counter));
            if (!number) return invalid(QStringLiteral("malformed Diversion counter"));
            entry.counter = *number;
        }
        if (auto limit = parsed->params.value("limit")) {
            entry.limit = positiveNumber(unquote(*limit));
            if (!entry.limit) return invalid(QStringLiteral("malformed Diversion limit"));
        }
        if (auto privacy = parsed->params.value("privacy")) entry.privacy = unquote(*privacy);
        entries.push_back(std::move(entry));
    }
    return entries;
}

Result<QByteArray> formatDiversion(const DiversionEntry& entry) {
    if (!isSipToken(entry.reason)) {
        return invalid(
            QStringLiteral("the reason \"%1\" is not a token (letters, digits and -.!%*_+`'~)")
                .arg(QString::fromUtf8(entry.reason)));
    }
    const bool uriUnsafe = std::any_of(entry.uri.begin(), entry.uri.end(),
                                       [](char c) { return chars::is(c, chars::kUriIllegal); });
    if (entry.uri.isEmpty() || uriUnsafe || !Uri::parse(entry.uri))
        return invalid(QStringLiteral("\"%1\" is not a URI").arg(QString::fromUtf8(entry.uri)));
    if (entry.counter < 0 || entry.limit < 0)
        return invalid(QStringLiteral("counter and limit must not be negative"));
    if (Result<void> suffix = checkSuffix(entry); !suffix) return fail(suffix.error());

    QByteArray text = '<' + entry.uri + ">;reason=" + entry.reason;
    if (entry.counter > 0) text += ";counter=" + QByteArray::number(entry.counter);
    if (entry.limit > 0) text += ";limit=" + QByteArray::number(entry.limit);
    if (entry.privacy != DiversionPrivacy::Unset)
        text += ";privacy=" + privacyToken(entry.privacy).toByteArray();
    if (entry.screen) text += *entry.screen ? ";screen=yes" : ";screen=no";
    text += entry.suffix;
    return text;
}

DiversionCount countDiversions(const std::vector<ReceivedDiversion>& entries) {
    DiversionCount count;
    for (const ReceivedDiversion& entry : entries) {
        count.diversions += entry.counter;
        if (entry.limit) count.limit = std::min(count.limit.value_or(*entry.limit), *entry.limit);
    }
    return count;
}

Result<void> addDiversion(Message& request, const DiversionEntry& entry) {
    Result<QByteArray> text = formatDiversion(entry);
    if (!text) return fail(text.error());
    Result<std::vector<ReceivedDiversion>> received = receivedDiversions(request);
    if (!received) return fail(received.error());
    DiversionCount count = countDiversions(*received);
    count.diversions += std::max(entry.counter, 1);
    if (entry.limit > 0) count.limit = std::min(count.limit.value_or(entry.limit), entry.limit);
    if (count.limit && count.diversions > *count.limit) {
        return invalid(QStringLiteral("the call has been diverted %1 times already and allows "
                                      "at most %2")
                           .arg(count.diversions - std::max(entry.counter, 1))
                           .arg(*count.limit));
    }
    // Topmost of the Diversion fields; with none, after the other headers rather than
    // above the Via (prependHeader would put it at the very top).
    if (request.has(HeaderId::Diversion)) {
        request.prependHeader(HeaderId::Diversion, *text);
    } else {
        request.addHeader(HeaderId::Diversion, *text);
    }
    return {};
}

}  // namespace sb::sip
