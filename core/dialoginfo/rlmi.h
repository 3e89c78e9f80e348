#pragma once

#include <QByteArrayView>
#include <QString>

#include <optional>
#include <vector>

#include "base/result.h"
#include "dialoginfo/dialog_info.h"

namespace sb::dialoginfo {

// RFC 4662 §5: the Resource List Meta-Information document (application/rlmi+xml) at
// the root of a list NOTIFY's multipart/related body.
struct RlmiInstance {
    QString id;
    QString state;   // "active", "pending", "terminated" (lower-cased)
    QString reason;  // for terminated: an RFC 6665 reason
    QString cid;     // Content-ID of the body part that holds this instance's state
};

struct RlmiResource {
    QString uri;
    QString name;  // first <name>, may be empty
    std::vector<RlmiInstance> instances;
};

struct RlmiList {
    QString uri;
    std::optional<quint64> version;
    bool fullState = true;
    std::vector<RlmiResource> resources;
};

// Parsed with the same libxml2 settings and limits as dialog-info (no network, no
// entities, no DTD, DOCTYPE refused, size checked first).
Result<RlmiList> parseRlmi(QByteArrayView body, const ParseLimits& limits = {});

}  // namespace sb::dialoginfo
