#pragma once

#include <QByteArrayView>
#include <QString>

#include <optional>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sb::dialoginfo {

// RFC 4235 §4.1.2: the dialog state machine's states, as the document names them.
enum class DialogState { Trying, Proceeding, Early, Confirmed, Terminated };
// RFC 4235 §4.1.2: which side of the dialog the observed extension is.
enum class Direction { Unknown, Initiator, Recipient };
// RFC 4235 §4.1: the document carries the whole state or only what changed.
enum class DocumentState { Full, Partial };

// <target uri="..."><param pname="+sip.rendering" pval="no"/></target>
struct Target {
    QString uri;  // as written: "sip:202@host", or without a scheme ("**202@host")
    std::vector<std::pair<QString, QString>> params;  // pname → pval, in document order

    // RFC 4235 §4.1.6.2 / RFC 3840: +sip.rendering="no" means the media is not rendered
    // at that side (the call is on hold there). Name compared case-insensitively.
    bool rendersMedia() const;

    bool operator==(const Target&) const = default;
};

// <local> or <remote>: identity (with its display attribute) and target.
struct Participant {
    QString identity;  // URI text of <identity>
    QString display;   // its display attribute, may be empty
    std::optional<Target> target;

    bool operator==(const Participant&) const = default;
};

// One <dialog> element. call-id and tags are opaque tokens (RFC 4235 §4.1.1): kept as
// received, compared byte for byte, never parsed.
struct DialogInfo {
    QString id;  // required: the dialog's key in partial merges
    QString callId;
    QString localTag;
    QString remoteTag;
    Direction direction = Direction::Unknown;
    DialogState state = DialogState::Trying;
    QString stateEvent;  // <state event="..."> (cancelled, rejected, replaced, ...)
    int stateCode = 0;   // <state code="...">, 0 when absent
    std::optional<qint64> durationSeconds;  // <duration>
    Participant local;
    Participant remote;

    bool operator==(const DialogInfo&) const = default;
};

// One dialog-info document (RFC 4235 §4.1).
struct Document {
    std::optional<quint64> version;  // missing in sloppy documents
    DocumentState state = DocumentState::Full;
    QString entity;  // the observed resource's URI as written
    std::vector<DialogInfo> dialogs;
};

// Bounds the parser keeps to (bad input never wins).
struct ParseLimits {
    qsizetype maxBytes = 256 * 1024;  // a larger body is refused before libxml2 sees it
    std::size_t maxDialogs = 1000;
    // RLMI (RFC 4662): <resource> elements in one list. A list of 2,000 extensions
    // needs maxBytes raised too (about 130 bytes per resource).
    std::size_t maxResources = 10000;
    int maxDepth = 32;  // element nesting
};

// Calls xmlInitParser() once for the process (thread-safe; idempotent).
void initialiseXml();

// Parses an application/dialog-info+xml body with libxml2: no network, no entity
// substitution, no DTD loading, any DOCTYPE refused, the size limit checked first.
// Liberal where real servers are sloppy: state names in any letter case ("Trying"),
// elements without the urn:ietf:params:xml:ns:dialog-info namespace, a missing version.
// An empty body is not a document: callers treat it per RFC 6665 (no state change).
// Errors: ErrorKind::Parse (or Limit) with a reason that names what is wrong.
Result<Document> parseDocument(QByteArrayView body, const ParseLimits& limits = {});

// The key that matches a document's entity to an extension: "user@host" with the host
// in lower case; scheme, port, parameters and headers dropped ("sip:201@Host:5060;x=y"
// → "201@host"). A URI without a user part gives "host". Empty for text that is no URI.
QString normalisedEntity(QStringView uri);

// Lower-case RFC 4235 names ("trying", "initiator", "full"), for JSON and logs.
QString stateName(DialogState state);
QString directionName(Direction direction);

}  // namespace sb::dialoginfo
