#include "osip_adapter.h"

#include <osipparser2/osip_parser.h>

#include <memory>

#include "read_fields.h"

namespace sb::bench {
namespace {

struct OsipMessageFree {
    void operator()(osip_message_t* message) const { osip_message_free(message); }
};

// osip's lookup functions take `char*` names; string literals are const in C++.
char kBranch[] = "branch";
char kTag[] = "tag";

template <class Sink>
void readUri(Sink& sink, const osip_uri_t* uri, Field user, Field host) {
    if (!uri) return;
    sink.cstr(user, uri->username);
    sink.cstr(host, uri->host);
}

template <class Sink>
void readTag(Sink& sink, osip_list_t* params, Field field) {
    osip_generic_param_t* tag = nullptr;
    if (osip_uri_param_get_byname(params, kTag, &tag) == 0 && tag) sink.cstr(field, tag->gvalue);
}

}  // namespace

void OsipAdapter::initialize() {
    parser_init();
}

template <class Sink>
bool OsipAdapter::parseAndRead(Sink& sink) const {
    osip_message_t* raw = nullptr;
    if (osip_message_init(&raw) != 0) return false;
    const std::unique_ptr<osip_message_t, OsipMessageFree> sip(raw);
    if (osip_message_parse(raw, m_wire.data(), m_wire.size()) != 0) return false;

    if (MSG_IS_REQUEST(raw)) {
        sink.cstr(Field::Method, raw->sip_method);
    } else {
        sink.number(Field::Status, static_cast<std::uint64_t>(raw->status_code));
    }

    osip_via_t* via = nullptr;
    if (osip_message_get_via(raw, 0, &via) < 0 || !via) return false;
    osip_generic_param_t* branch = nullptr;
    if (osip_uri_param_get_byname(&via->via_params, kBranch, &branch) == 0 && branch) {
        sink.cstr(Field::ViaBranch, branch->gvalue);
    }
    sink.cstr(Field::ViaHost, via->host);
    if (via->port) sink.number(Field::ViaPort, static_cast<std::uint64_t>(osip_atoi(via->port)));

    if (!raw->from || !raw->to || !raw->call_id || !raw->cseq) return false;
    readTag(sink, &raw->from->gen_params, Field::FromTag);
    readUri(sink, raw->from->url, Field::FromUser, Field::FromHost);
    readTag(sink, &raw->to->gen_params, Field::ToTag);
    readUri(sink, raw->to->url, Field::ToUser, Field::ToHost);

    sink.cstr(Field::CallId, raw->call_id->number);
    sink.cstr(Field::CallIdHost, raw->call_id->host);
    sink.number(Field::CSeqNumber, static_cast<std::uint64_t>(osip_atoi(raw->cseq->number)));
    sink.cstr(Field::CSeqMethod, raw->cseq->method);

    osip_contact_t* contact = nullptr;
    if (osip_message_get_contact(raw, 0, &contact) >= 0 && contact) {
        readUri(sink, contact->url, Field::ContactUser, Field::ContactHost);
    }

    osip_header_t* maxForwards = nullptr;
    if (osip_message_get_max_forwards(raw, 0, &maxForwards) >= 0 && maxForwards) {
        sink.number(Field::MaxForwards, static_cast<std::uint64_t>(osip_atoi(maxForwards->hvalue)));
    }
    if (raw->content_length) {
        sink.number(Field::ContentLength,
                    static_cast<std::uint64_t>(osip_atoi(raw->content_length->value)));
    }
    osip_body_t* body = nullptr;
    if (osip_message_get_body(raw, 0, &body) >= 0 && body) {
        sink.text(Field::Body, body->body, body->length);
    } else {
        sink.text(Field::Body, "", 0);
    }
    return true;
}

template bool OsipAdapter::parseAndRead<TouchSink>(TouchSink&) const;
template bool OsipAdapter::parseAndRead<RecordSink>(RecordSink&) const;

}  // namespace sb::bench
