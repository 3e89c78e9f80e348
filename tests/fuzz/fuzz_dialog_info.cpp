// libFuzzer target for core/dialoginfo: whatever the bytes, the dialog-info and RLMI
// parsers must neither crash nor trip a sanitizer nor break their limits, an error must
// say why, and whatever parsed must survive the merge, the lamp and the entity key.

#include <QByteArray>
#include <QString>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_state_merge.h"
#include "dialoginfo/lamp.h"
#include "dialoginfo/rlmi.h"

namespace {

using namespace sb::dialoginfo;

template <class T>
void keep(const T& value) {
    asm volatile("" : : "r"(&value) : "memory");
}

[[noreturn]] void failCheck(const char* what) {
    std::fprintf(stderr, "fuzz_dialog_info: %s\n", what);
    std::abort();
}

template <class T>
void checkError(const sb::Result<T>& result, qsizetype size) {
    if (result) return;
    if (result.error().reason.isEmpty()) failCheck("parse error without a reason");
    if (result.error().offset < -1 || result.error().offset > size) {
        failCheck("parse error offset outside the input");
    }
}

void exerciseParticipant(const Participant& participant) {
    keep(normalisedEntity(participant.identity));
    if (participant.target) {
        keep(participant.target->rendersMedia());
        keep(normalisedEntity(participant.target->uri));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    ParseLimits limits;
    limits.maxDialogs = 50;
    limits.maxResources = 50;

    const auto document = parseDocument(bytes, limits);
    checkError(document, bytes.size());
    if (document) {
        if (document->dialogs.size() > limits.maxDialogs) failCheck("dialog limit broken");
        keep(normalisedEntity(document->entity));
        for (const DialogInfo& dialog : document->dialogs) {
            if (dialog.id.isEmpty()) failCheck("a dialog without an id was accepted");
            keep(stateName(dialog.state));
            keep(directionName(dialog.direction));
            exerciseParticipant(dialog.local);
            exerciseParticipant(dialog.remote);
        }
        DialogStateMerge merge;
        Document first = *document;
        first.state = DocumentState::Full;
        keep(merge.apply(first));
        keep(merge.apply(*document));
        for (bool usable : {true, false}) {
            const LampView view = deriveLamp(merge.dialogs(), usable);
            if (view.decidingDialog >= int(merge.dialogs().size())) {
                failCheck("deciding dialog outside the list");
            }
            keep(lampName(view.lamp));
        }
    }

    const auto list = parseRlmi(bytes, limits);
    checkError(list, bytes.size());
    if (list && list->resources.size() > limits.maxResources) failCheck("resource limit broken");

    keep(normalisedEntity(QString::fromUtf8(bytes)));
    return 0;
}
