#include "dialoginfo/publish_profile.h"

namespace sb::dialoginfo {

Document publishedDocument(const DialogInfo& side, const QString& entity, quint64 version,
                           const PublishProfile& profile) {
    const bool kamailio = profile.compat == PublishProfile::Compat::Kamailio;
    DialogInfo dialog = side;
    if (profile.callerConfirmed && dialog.direction == Direction::Initiator &&
        (dialog.state == DialogState::Proceeding || dialog.state == DialogState::Early)) {
        dialog.state = DialogState::Confirmed;
    }
    if (kamailio) {
        // pua_dialoginfo knows no "proceeding": any 1xx is early to it.
        if (dialog.state == DialogState::Proceeding) dialog.state = DialogState::Early;
        dialog.stateEvent.clear();
        dialog.stateCode = 0;
    }
    if (!profile.includeCallId) dialog.callId.clear();
    // pua_dialoginfo writes the tags only into early documents.
    if (!profile.includeTags || (kamailio && dialog.state != DialogState::Early)) {
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
    options.remoteBeforeLocal = kamailio;
    options.capitalisedTrying = kamailio;
    options.includeEventAndCode = !kamailio;
    options.displayOnTarget =
        kamailio || profile.displayNames == PublishProfile::DisplayNames::Target;
    return options;
}

}  // namespace sb::dialoginfo
