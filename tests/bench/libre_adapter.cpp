#include "libre_adapter.h"

#include <stdexcept>

#include "read_fields.h"

// re_types.h otherwise turns `bool`, `true` and `false` into macros for C compilers
// without <stdbool.h>; libre.pc does not say that C++ has them. After the C++ headers,
// since it also defines MIN and MAX.
#define HAVE_STDBOOL_H 1
#include <re.h>

namespace sb::bench {
namespace {

template <class Sink>
void readPl(Sink& sink, Field field, const pl& value) {
    if (pl_isset(&value)) sink.text(field, value.p, value.l);
}

// libre keeps the top Via's sent-by as "host[:port]" and the port only inside a
// struct sa (an IP address); the host text is what is left before the port.
pl sentByHost(const pl& sentBy) {
    pl host = sentBy;
    if (host.l > 0 && host.p[0] == '[') {
        size_t end = 1;
        while (end < host.l && host.p[end] != ']')
            ++end;
        host.p += 1;
        host.l = end - 1;
        return host;
    }
    for (size_t i = 0; i < host.l; ++i) {
        if (host.p[i] == ':') {
            host.l = i;
            break;
        }
    }
    return host;
}

}  // namespace

void LibreAdapter::initialize() {
    if (libre_init() != 0) throw std::runtime_error("libre_init failed");
}

LibreAdapter::LibreAdapter(std::string_view wire) : m_buffer(mbuf_alloc(wire.size())) {
    if (!m_buffer ||
        mbuf_write_mem(m_buffer, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()) != 0) {
        throw std::runtime_error("mbuf_alloc failed");
    }
}

LibreAdapter::~LibreAdapter() {
    mem_deref(m_buffer);
}

template <class Sink>
bool LibreAdapter::parseAndRead(Sink& sink) const {
    // sip_msg_decode() leaves mb->pos at the body; every run starts at the message.
    mbuf_set_pos(m_buffer, 0);
    sip_msg* msg = nullptr;
    if (sip_msg_decode(&msg, m_buffer) != 0) return false;

    if (msg->req) {
        readPl(sink, Field::Method, msg->met);
    } else {
        sink.number(Field::Status, msg->scode);
    }

    bool complete = pl_isset(&msg->via.sentby) && pl_isset(&msg->callid) &&
                    pl_isset(&msg->from.auri) && pl_isset(&msg->to.auri) &&
                    pl_isset(&msg->cseq.met);
    if (complete) {
        readPl(sink, Field::ViaBranch, msg->via.branch);
        readPl(sink, Field::ViaHost, sentByHost(msg->via.sentby));
        if (const uint16_t port = sa_port(&msg->via.addr); port != 0) {
            sink.number(Field::ViaPort, port);
        }

        readPl(sink, Field::FromTag, msg->from.tag);
        readPl(sink, Field::FromUser, msg->from.uri.user);
        readPl(sink, Field::FromHost, msg->from.uri.host);
        readPl(sink, Field::ToTag, msg->to.tag);
        readPl(sink, Field::ToUser, msg->to.uri.user);
        readPl(sink, Field::ToHost, msg->to.uri.host);

        readPl(sink, Field::CallId, msg->callid);
        sink.number(Field::CSeqNumber, msg->cseq.num);
        readPl(sink, Field::CSeqMethod, msg->cseq.met);

        if (const sip_hdr* contact = sip_msg_hdr(msg, SIP_HDR_CONTACT)) {
            sip_addr addr;
            if (sip_addr_decode(&addr, &contact->val) == 0) {
                readPl(sink, Field::ContactUser, addr.uri.user);
                readPl(sink, Field::ContactHost, addr.uri.host);
            }
        }
        if (pl_isset(&msg->maxfwd)) sink.number(Field::MaxForwards, pl_u32(&msg->maxfwd));
        if (pl_isset(&msg->clen)) sink.number(Field::ContentLength, pl_u32(&msg->clen));
        sink.text(Field::Body, reinterpret_cast<const char*>(mbuf_buf(msg->mb)),
                  mbuf_get_left(msg->mb));
    }
    mem_deref(msg);
    return complete;
}

template bool LibreAdapter::parseAndRead<TouchSink>(TouchSink&) const;
template bool LibreAdapter::parseAndRead<RecordSink>(RecordSink&) const;

}  // namespace sb::bench
