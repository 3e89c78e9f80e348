#include "sofia_adapter.h"

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <cstdlib>
#include <memory>

#include "read_fields.h"

namespace sb::bench {
namespace {

struct MsgDestroy {
    void operator()(msg_t* msg) const { msg_destroy(msg); }
};

template <class Sink>
void readUrl(Sink& sink, const url_t* url, Field user, Field host) {
    sink.cstr(user, url->url_user);
    sink.cstr(host, url->url_host);
}

}  // namespace

template <class Sink>
bool SofiaAdapter::parseAndRead(Sink& sink) const {
    const std::unique_ptr<msg_t, MsgDestroy> msg(
        msg_make(sip_default_mclass(), 0, m_wire.data(), static_cast<ssize_t>(m_wire.size())));
    if (!msg || msg_has_error(msg.get())) return false;
    const sip_t* sip = sip_object(msg.get());
    if (!sip) return false;

    if (sip->sip_request) {
        sink.cstr(Field::Method, sip->sip_request->rq_method_name);
    } else if (sip->sip_status) {
        sink.number(Field::Status, static_cast<std::uint64_t>(sip->sip_status->st_status));
    } else {
        return false;
    }

    const sip_via_t* via = sip->sip_via;
    if (!via || !sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq) {
        return false;
    }
    sink.cstr(Field::ViaBranch, via->v_branch);
    sink.cstr(Field::ViaHost, via->v_host);
    if (via->v_port) {
        sink.number(Field::ViaPort, std::strtoul(via->v_port, nullptr, 10));
    }

    sink.cstr(Field::FromTag, sip->sip_from->a_tag);
    readUrl(sink, sip->sip_from->a_url, Field::FromUser, Field::FromHost);
    sink.cstr(Field::ToTag, sip->sip_to->a_tag);
    readUrl(sink, sip->sip_to->a_url, Field::ToUser, Field::ToHost);

    sink.cstr(Field::CallId, sip->sip_call_id->i_id);
    sink.number(Field::CSeqNumber, sip->sip_cseq->cs_seq);
    sink.cstr(Field::CSeqMethod, sip->sip_cseq->cs_method_name);

    if (sip->sip_contact) {
        readUrl(sink, sip->sip_contact->m_url, Field::ContactUser, Field::ContactHost);
    }
    if (sip->sip_max_forwards) sink.number(Field::MaxForwards, sip->sip_max_forwards->mf_count);
    if (sip->sip_content_length) {
        sink.number(Field::ContentLength, sip->sip_content_length->l_length);
    }
    if (sip->sip_payload) {
        sink.text(Field::Body, sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    } else {
        sink.text(Field::Body, "", 0);
    }
    return true;
}

template bool SofiaAdapter::parseAndRead<TouchSink>(TouchSink&) const;
template bool SofiaAdapter::parseAndRead<RecordSink>(RecordSink&) const;

}  // namespace sb::bench
