#include "server/publish_rules.h"

#include "server/local_domains.h"
#include "sip/name_addr.h"
#include "sip/uri.h"

namespace sb::server {

namespace {

constexpr int kCaller = 0;
constexpr int kCallee = 1;

// The entity a URI stands for: sip:<user>@<primary domain> when it is one of ours (every
// local domain names the same users), else its address-of-record form.
QString entityOf(const sip::Uri& uri, const LocalDomains& domains) {
    if (const QString user = domains.userOf(uri); !user.isEmpty()) return domains.aorUri(user);
    if (!uri.isSip() || uri.host.isEmpty()) return {};
    return QString::fromUtf8(uri.addressOfRecord());
}

QString entityOfHeader(const Result<sip::NameAddr>& nameAddr, const LocalDomains& domains) {
    return nameAddr ? entityOf(nameAddr->uri, domains) : QString();
}

bool isLocalEntity(const QString& entity, const LocalDomains& domains) {
    const QByteArray text = entity.toUtf8();
    const Result<sip::Uri> uri = sip::Uri::parse(text);
    return uri && !domains.userOf(*uri).isEmpty();
}

}  // namespace

bool matchesSidePattern(const QString& pattern, const QString& entity, const sip::Message& invite,
                        const LocalDomains& domains) {
    static const QString kHeaderPrefix = QStringLiteral("header:");
    if (pattern.startsWith(kHeaderPrefix, Qt::CaseInsensitive)) {
        const QByteArray name = pattern.mid(kHeaderPrefix.size()).trimmed().toUtf8();
        return !name.isEmpty() && invite.has(name);
    }
    const QByteArray text = entity.toUtf8();
    const Result<sip::Uri> uri = sip::Uri::parse(text);
    if (!uri || !uri->isSip()) return false;
    const QString user = QString::fromUtf8(sip::percentDecode(uri->user));
    const bool local = !domains.userOf(*uri).isEmpty();
    const qsizetype at = pattern.indexOf(QLatin1Char('@'));
    if (at < 0) return local && user == pattern;  // a user of this server
    const QString patternUser = pattern.left(at);
    const QByteArray patternDomain = pattern.mid(at + 1).toUtf8();
    // Our own domains are one namespace: "201@127.0.0.1" also names sip:201@switchboard.local.
    const bool sameDomain = local ? domains.isLocalHost(patternDomain)
                                  : uri->host.compare(patternDomain, Qt::CaseInsensitive) == 0;
    return sameDomain && (patternUser == QLatin1String("*") || patternUser == user);
}

CallPublishPlan planCall(const PublishRules& rules, const LocalDomains& domains,
                         const sip::Message& invite, const QString& callerUser,
                         const QString& calleeUser) {
    CallPublishPlan plan;
    if (rules.whichCalls == PublishRules::WhichCalls::Marked &&
        (rules.markHeader.isEmpty() || !invite.has(rules.markHeader.toUtf8())))
        return plan;

    QString caller =
        callerUser.isEmpty() ? entityOfHeader(invite.from(), domains) : domains.aorUri(callerUser);
    QString callee;
    if (rules.calleeEntityFromRequestUri) {
        if (!calleeUser.isEmpty()) {
            callee = domains.aorUri(calleeUser);
        } else if (const Result<sip::Uri> uri = sip::Uri::parse(invite.requestUri())) {
            callee = entityOf(*uri, domains);
        }
    } else {
        callee = entityOfHeader(invite.to(), domains);
    }
    if (rules.whichCalls == PublishRules::WhichCalls::Local) {
        if (!isLocalEntity(caller, domains)) caller.clear();
        if (!isLocalEntity(callee, domains)) callee.clear();
    }

    const auto skipped = [&](const QStringList& patterns, const QString& entity) {
        for (const QString& pattern : patterns)
            if (matchesSidePattern(pattern, entity, invite, domains)) return true;
        return false;
    };
    if (!caller.isEmpty() && skipped(rules.skipCaller, caller)) {
        caller.clear();
        if (!rules.callerEntityWhenSkipped.isEmpty())
            plan.shownAs[kCaller] = rules.callerEntityWhenSkipped;
    }
    if (!callee.isEmpty() && skipped(rules.skipCallee, callee)) {
        callee.clear();
        if (!rules.calleeEntityWhenSkipped.isEmpty())
            plan.shownAs[kCallee] = rules.calleeEntityWhenSkipped;
    }
    plan.entity[kCaller] = std::move(caller);
    plan.entity[kCallee] = std::move(callee);
    return plan;
}

}  // namespace sb::server
