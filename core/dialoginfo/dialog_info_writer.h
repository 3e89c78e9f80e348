#pragma once

#include <QByteArray>

#include "dialoginfo/dialog_info.h"

namespace sb::dialoginfo {

// How a document is written. The defaults give RFC 4235 §4.4 schema-valid documents;
// the switches reproduce what some servers write for the phones that expect it.
struct WriteOptions {
    // `<?xml version="1.0" encoding="UTF-8"?>`; off, `<?xml version="1.0"?>` as Kamailio's
    // pua_dialoginfo writes it (libxml2's xmlDocDumpFormatMemory of a document without an
    // encoding). Both are UTF-8 (XML 1.0 §4.3.3).
    bool declareEncoding = true;
    // <remote> before <local> inside <dialog>, as Kamailio's pua_dialoginfo writes them.
    // The RFC 4235 schema orders <local> first, so this leaves the schema behind.
    bool remoteBeforeLocal = false;
    // <state>Trying</state> as Kamailio's pua_dialoginfo writes it; the other states stay
    // in lower case. RFC 4235 §4.1.2 names it "trying".
    bool capitalisedTrying = false;
    // The event and code attributes of <state> (RFC 4235 §4.1.2). Off, <state> carries
    // only the state name.
    bool includeEventAndCode = true;
    // The display name as an attribute of <target> instead of <identity>, before its uri
    // attribute, as Kamailio's pua_dialoginfo writes it with attribute_display. Outside
    // the RFC 4235 schema.
    bool displayOnTarget = false;
};

// Writes an application/dialog-info+xml body (RFC 4235 §4.1) with libxml2's text
// writer, which escapes every attribute value and element text: an identity
// `sip:a&b"c'<d>@x` or a call-id with quotes reads back from parseDocument unchanged.
//
//   <?xml version="1.0" encoding="UTF-8"?>
//   <dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="N"
//                state="full|partial" entity="...">
//     <dialog id call-id local-tag remote-tag direction>   (empty attributes left out)
//       <state event=".." code="..">name</state>
//       <duration>s</duration>                             (when set)
//       <local>  <identity display="..">uri</identity>
//                <target uri=".."><param pname=".." pval=".."/></target> </local>
//                (with displayOnTarget: <identity>uri</identity> <target display=".." uri="..">)
//       <remote> the same </remote>
//     </dialog>
//   </dialog-info>
//
// A missing version is written as 0 (the attribute is required). Children follow the
// schema's sequence (state, duration, local, remote); a participant with neither
// identity nor target is left out. Only what the schema allows is written: the event
// attribute only with one of RFC 4235's seven values, the code only within 100-699, a
// negative duration as 0. Characters XML 1.0 cannot carry (C0 controls other than tab,
// line feed and carriage return, U+FFFE, U+FFFF) are dropped from every value.
// Returns an empty array only when libxml2 runs out of memory.
QByteArray writeDocument(const Document& document, const WriteOptions& options = {});

}  // namespace sb::dialoginfo
