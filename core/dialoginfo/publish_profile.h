#pragma once

#include <QString>

#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_info_writer.h"

namespace sb::dialoginfo {

// How one side of a dialog becomes the document a publisher sends (RFC 3903 PUBLISH of
// RFC 4235 dialog-info): the document options of Kamailio's pua_dialoginfo, under names
// of Switchboard's own ([publish] in the configuration). The same for the built-in
// server and for client mode; the options that need the INVITE itself (callee_trying,
// which_calls, callee_entity, ...) act before this, where the call is seen.
struct PublishProfile {
    // rfc4235: the RFC's document. kamailio: what pua_dialoginfo (Kamailio 5.6) writes,
    // byte for byte, as tests/integration/publish_equivalence checks against a real one:
    // `<?xml version="1.0"?>` (no encoding), "Trying" capitalised, no "proceeding" (early
    // instead), no event or code, <remote> before <local>, version 0, tags only while
    // the dialog rings, and the targets of pua_dialoginfo's callbacks:
    //   Trying               both targets are the identities (no Contact is used)
    //   early (ringing)      the Contacts: the caller's INVITE's, the callee's 1xx's
    //   confirmed/terminated the caller's Contact; the callee's target is its identity
    // (a missing Contact is the identity too; target params are not written). With
    // caller_confirmed, the caller's "confirmed" while ringing is the ringing document.
    enum class Compat { Rfc4235, Kamailio };
    // Where a display name goes: on <identity> (RFC 4235 §4.1.6.1), on <target> (as
    // pua_dialoginfo's attribute_display), or nowhere. Under compat = kamailio only
    // `target` writes one, and as attribute_display = 1 does: display="<user part of the
    // target URI>" before uri; `identity` (the default, as attribute_display's default 0)
    // and `off` write none, since pua_dialoginfo never puts a display on <identity>.
    enum class DisplayNames { Identity, Target, Off };
    // rising: the version counts up per publication (RFC 4235 §4.1); zero: always 0
    // (pua's dlginfo_increase_version off).
    enum class Version { Rising, Zero };

    Compat compat = Compat::Rfc4235;
    bool includeCallId = true;       // include_callid
    bool includeTags = true;         // include_tags
    bool includeLocalRemote = true;  // include_localremote
    // caller_confirmed: the caller's side shows "confirmed" while it rings (phones
    // whose key blinks on any early dialog).
    bool callerConfirmed = false;
    DisplayNames displayNames = DisplayNames::Identity;
    Version version = Version::Rising;
};

// `side` (one party's view of one dialog) as the full document published for `entity`,
// with `version` unless the profile says 0. Tags and targets are kept while confirmed
// too (a pickup or an attended transfer needs them), except under compat = kamailio.
Document publishedDocument(const DialogInfo& side, const QString& entity, quint64 version,
                           const PublishProfile& profile);

// How to write what publishedDocument() gives.
WriteOptions writeOptionsFor(const PublishProfile& profile);

}  // namespace sb::dialoginfo
