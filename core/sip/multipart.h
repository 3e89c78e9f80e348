#pragma once

#include <QByteArrayView>

#include <vector>

#include "base/result.h"

namespace sb::sip {

// One body part of a multipart body (RFC 2046 §5.1). Every view points into the body
// that was split (the message's buffer): keep the message alive while using them.
struct MultipartPart {
    QByteArrayView headers;  // the part's header block, without the empty line
    QByteArrayView contentType;
    QByteArrayView contentId;  // as written, angle brackets included: "<x@host>"
    QByteArrayView contentTransferEncoding;
    QByteArrayView body;

    // Content-ID without the angle brackets (RFC 2392: a "cid:" URL names it so).
    QByteArrayView contentIdValue() const;
    // Any header of the part by name (case-insensitive), first occurrence; empty if absent.
    QByteArrayView header(QByteArrayView name) const;
};

struct MultipartBody {
    QByteArrayView mediaType;  // "multipart/related", as written
    QByteArrayView boundary;   // without quotes
    QByteArrayView type;       // RFC 2387 type parameter (root's media type), may be empty
    QByteArrayView start;      // RFC 2387 start parameter (root's Content-ID), may be empty
    std::vector<MultipartPart> parts;

    // RFC 2387 §3.2: the part named by `start`, else the first; nullptr without parts.
    const MultipartPart* root() const;
    // The part whose Content-ID is `cid` (with or without angle brackets, and with or
    // without a "cid:" prefix); nullptr when none.
    const MultipartPart* byContentId(QByteArrayView cid) const;
};

struct MultipartLimits {
    std::size_t maxParts = 4096;  // a full-state list of 2,000 resources fits
};

// Whether a Content-Type value names a multipart type ("multipart/related; ...").
bool isMultipart(QByteArrayView contentType);

// Splits `body` by the boundary of `contentType` (RFC 2046 §5.1.1): preamble and
// epilogue are ignored, a delimiter is CRLF "--" boundary at the start of a line
// (optionally followed by transport padding), the close delimiter adds "--". Bare LF
// line ends are accepted too (sloppy servers). Errors carry the byte offset into `body`:
// no boundary parameter, no first delimiter, no close delimiter, too many parts.
Result<MultipartBody> splitMultipart(QByteArrayView contentType, QByteArrayView body,
                                     const MultipartLimits& limits = {});

}  // namespace sb::sip
