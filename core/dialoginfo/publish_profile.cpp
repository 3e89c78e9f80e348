#include "dialoginfo/publish_profile.h"

namespace sb::dialoginfo {

namespace {

// The user part of a SIP or tel URI, as Kamailio's parse_uri() finds it for
// pua_dialoginfo's attribute_display: "sip:201@host" → "201", "tel:+4930123;x=y" →
// "+4930123"; empty when there is none ("sip:host").
QString userPart(const QString& uri) {
    const qsizetype colon = uri.indexOf(QLatin1Char(':'));
    if (colon < 0) return {};
    const QStringView scheme = QStringView(uri).left(colon);
    const QStringView rest = QStringView(uri).mid(colon + 1);
    if (scheme.compare(QLatin1String("tel"), Qt::CaseInsensitive) == 0)
        return rest.left(rest.indexOf(QLatin1Char(';'))).toString();
    const qsizetype at = rest.indexOf(QLatin1Char('@'));
    if (at < 0) return {};
    const QStringView userInfo = rest.left(at);
    return userInfo.left(userInfo.indexOf(QLatin1Char(':'))).toString();  // no password
}

// A participant's target as pua_dialoginfo writes it: the URI only (no params), and the
// participant's identity when it has no Contact or when `identityOnly`.
void kamailioTarget(Participant& participant, bool identityOnly) {
    const bool known = participant.target && !participant.target->uri.isEmpty();
    if (identityOnly || !known) {
        if (participant.identity.isEmpty()) {
            participant.target.reset();
        } else {
            participant.target = Target{participant.identity, {}};
        }
        return;
    }
    participant.target->params.clear();
}

// The targets of pua_dialoginfo's dialog callbacks (see PublishProfile::Compat).
void kamailioTargets(DialogInfo& dialog, DialogState original, bool ringing) {
    if (original == DialogState::Trying) {
        kamailioTarget(dialog.local, true);
        kamailioTarget(dialog.remote, true);
        return;
    }
    if (ringing) {
        kamailioTarget(dialog.local, false);
        kamailioTarget(dialog.remote, false);
        return;
    }
    // Confirmed and terminated: the dialog module kept the caller's Contact, and
    // pua_dialoginfo passes no callee Contact, so the callee's target is its identity.
    const bool localIsCallee = dialog.direction == Direction::Recipient;
    const bool remoteIsCallee = dialog.direction == Direction::Initiator;
    kamailioTarget(dialog.local, localIsCallee);
    kamailioTarget(dialog.remote, remoteIsCallee);
}

void kamailioDisplay(Participant& participant, PublishProfile::DisplayNames names) {
    const bool onTarget = names == PublishProfile::DisplayNames::Target && participant.target;
    participant.display = onTarget ? userPart(participant.target->uri) : QString();
}

}  // namespace

Document publishedDocument(const DialogInfo& side, const QString& entity, quint64 version,
                           const PublishProfile& profile) {
    const bool kamailio = profile.compat == PublishProfile::Compat::Kamailio;
    // Ringing as pua_dialoginfo's early callback sees it, before caller_confirmed names it.
    const bool ringing = side.state == DialogState::Proceeding || side.state == DialogState::Early;
    DialogInfo dialog = side;
    if (profile.callerConfirmed && dialog.direction == Direction::Initiator && ringing)
        dialog.state = DialogState::Confirmed;
    if (kamailio) {
        // pua_dialoginfo knows no "proceeding": any 1xx is early to it.
        if (dialog.state == DialogState::Proceeding) dialog.state = DialogState::Early;
        dialog.stateEvent.clear();
        dialog.stateCode = 0;
        kamailioTargets(dialog, side.state, ringing);
        kamailioDisplay(dialog.local, profile.displayNames);
        kamailioDisplay(dialog.remote, profile.displayNames);
    }
    if (!profile.includeCallId) dialog.callId.clear();
    // pua_dialoginfo writes the tags only from its early callback (the ringing dialog;
    // with caller_confirmed the caller's "confirmed" then too).
    if (!profile.includeTags || (kamailio && !ringing)) {
        dialog.localTag.clear();
        dialog.remoteTag.clear();
    }
    if (!profile.includeLocalRemote) {
        dialog.local = {};
        dialog.remote = {};
    }
    if (profile.displayNames == PublishProfile::DisplayNames::Off) {
        dialog.local.display.clear();
        dialog.remote.display.clear();
    }

    Document document;
    const bool zero = kamailio || profile.version == PublishProfile::Version::Zero;
    document.version = zero ? 0 : version;
    document.state = DocumentState::Full;
    document.entity = entity;
    document.dialogs.push_back(std::move(dialog));
    return document;
}

WriteOptions writeOptionsFor(const PublishProfile& profile) {
    const bool kamailio = profile.compat == PublishProfile::Compat::Kamailio;
    WriteOptions options;
    options.declareEncoding = !kamailio;
    options.remoteBeforeLocal = kamailio;
    options.capitalisedTrying = kamailio;
    options.includeEventAndCode = !kamailio;
    options.displayOnTarget =
        kamailio || profile.displayNames == PublishProfile::DisplayNames::Target;
    return options;
}

}  // namespace sb::dialoginfo
