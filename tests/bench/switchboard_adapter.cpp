#include "switchboard_adapter.h"

#include <utility>

#include "read_fields.h"
#include "sip/parser.h"

namespace sb::bench {
namespace {

template <class Sink>
void readView(Sink& sink, Field field, QByteArrayView value) {
    if (!value.isEmpty()) sink.text(field, value.data(), static_cast<std::size_t>(value.size()));
}

template <class Sink>
void readUri(Sink& sink, const sip::Uri& uri, Field user, Field host) {
    readView(sink, user, uri.user);
    readView(sink, host, uri.host);
}

}  // namespace

SwitchboardAdapter::SwitchboardAdapter(std::string_view wire, Input input)
    : m_bytes(wire.data(), static_cast<qsizetype>(wire.size())), m_input(input) {}

template <class Sink>
bool SwitchboardAdapter::parseAndRead(Sink& sink) const {
    QByteArray input =
        m_input == Input::Shared ? m_bytes : QByteArray(m_bytes.constData(), m_bytes.size());
    const Result<sip::Message> parsed = sip::Parser::parse(std::move(input));
    if (!parsed) return false;
    const sip::Message& msg = *parsed;

    if (msg.isRequest()) {
        readView(sink, Field::Method, msg.methodName());
    } else {
        sink.number(Field::Status, static_cast<std::uint64_t>(msg.statusCode()));
    }

    const Result<sip::Via> via = msg.topVia();
    const Result<sip::NameAddr> from = msg.from();
    const Result<sip::NameAddr> to = msg.to();
    const Result<sip::CSeq> cseq = msg.cseq();
    if (!via || !from || !to || !cseq) return false;

    readView(sink, Field::ViaBranch, via->branch());
    readView(sink, Field::ViaHost, via->host);
    if (via->port) sink.number(Field::ViaPort, *via->port);

    readView(sink, Field::FromTag, from->tag());
    readUri(sink, from->uri, Field::FromUser, Field::FromHost);
    readView(sink, Field::ToTag, to->tag());
    readUri(sink, to->uri, Field::ToUser, Field::ToHost);

    readView(sink, Field::CallId, msg.callId());
    sink.number(Field::CSeqNumber, cseq->number);
    readView(sink, Field::CSeqMethod, cseq->methodName);

    if (const Result<sip::Message::Contacts> contacts = msg.contacts();
        contacts && !contacts->entries.empty()) {
        readUri(sink, contacts->entries.front().uri, Field::ContactUser, Field::ContactHost);
    }
    if (const std::optional<quint32> maxForwards = msg.maxForwards()) {
        sink.number(Field::MaxForwards, *maxForwards);
    }
    if (const std::optional<quint32> length =
            sip::parseUnsigned(msg.header(sip::HeaderId::ContentLength))) {
        sink.number(Field::ContentLength, *length);
    }
    const QByteArrayView body = msg.body();
    sink.text(Field::Body, body.data(), static_cast<std::size_t>(body.size()));
    return true;
}

template bool SwitchboardAdapter::parseAndRead<TouchSink>(TouchSink&) const;
template bool SwitchboardAdapter::parseAndRead<RecordSink>(RecordSink&) const;

}  // namespace sb::bench
