#pragma once

#include <QString>
#include <QStringList>

#include <array>
#include <optional>

#include "sip/message.h"

namespace sb::server {

class LocalDomains;

// The [publish] rules that replace pua_dialoginfo's script flags, AVPs and dialog
// variables (issue 6): which calls and which of their sides are published, under which
// entity, and how a side that is not published appears in the other side's documents.
struct PublishRules {
    enum class WhichCalls {
        Local,   // only sides whose entity is in one of the server's domains (the default)
        All,     // every side, remote parties too
        Marked,  // only calls whose INVITE carries markHeader, in any domain
    };
    WhichCalls whichCalls = WhichCalls::Local;
    QString markHeader;
    // The callee's entity: its To URI (pua_dialoginfo's default), or the Request-URI the
    // call was routed to as it arrived — the AoR, never a Contact the location gave.
    bool calleeEntityFromRequestUri = false;
    // Sides not to publish. A pattern is a user ("201": that user in any of the server's
    // domains), "user@domain", "*@domain", or "header:NAME" (the INVITE carries NAME).
    QStringList skipCaller;
    QStringList skipCallee;
    // Shown instead of a skipped side's identity in the other side's documents.
    QString callerEntityWhenSkipped;
    QString calleeEntityWhenSkipped;
};

// What the rules decide for one call, from its INVITE; index by int(dialoginfo::Direction)
// (initiator 0: the caller, recipient 1: the callee).
struct CallPublishPlan {
    // The entity each side is published for; empty when that side is not published.
    std::array<QString, 2> entity;
    // The identity a skipped side shows in the other side's documents, when configured.
    std::array<std::optional<QString>, 2> shownAs;
};

// The local users of the call come from the proxy (callerUser from the From URI,
// calleeUser from the Request-URI as received), so that an entity in a local domain is
// always written as sip:<user>@<primary domain>.
CallPublishPlan planCall(const PublishRules& rules, const LocalDomains& domains,
                         const sip::Message& invite, const QString& callerUser,
                         const QString& calleeUser);

// Whether `pattern` (see PublishRules::skipCaller) matches the side published as
// `entity` in a call started by `invite`.
bool matchesSidePattern(const QString& pattern, const QString& entity, const sip::Message& invite,
                        const LocalDomains& domains);

}  // namespace sb::server
