#include "dialog/dialog.h"

#include <algorithm>

#include "base/log.h"

namespace sb::dialog {

namespace {

QByteArray copy(QByteArrayView view) {
    return view.toByteArray();
}

bool isSips(QByteArrayView uri) {
    auto parsed = sip::Uri::parse(uri);
    return parsed && parsed->scheme == sip::UriScheme::Sips;
}

// Record-Route values of a message, in message order.
std::vector<QByteArray> recordRoutes(const sip::Message& message) {
    std::vector<QByteArray> routes;
    for (QByteArrayView value : message.values(sip::HeaderId::RecordRoute))
        routes.push_back(copy(value));
    return routes;
}

std::optional<QByteArray> firstContactUri(const sip::Message& message) {
    auto contacts = message.contacts();
    if (!contacts || contacts->star || contacts->entries.empty()) return std::nullopt;
    return copy(contacts->entries.front().uriText);
}

// §12.2.1.1 strict routing: the first route becomes the Request-URI, "stripping any
// parameters that are not allowed in a Request-URI" (§19.1.1 Table 1: the method
// parameter and the headers component).
QByteArray requestUriFromRoute(const sip::NameAddr& route) {
    const sip::Uri& uri = route.uri;
    QByteArrayView text = route.uriText;
    if (const qsizetype question = text.indexOf('?'); question >= 0) text = text.first(question);
    if (uri.params.isEmpty()) return copy(text);
    const qsizetype paramsStart = uri.params.raw().data() - route.uriText.data();
    QByteArray out = copy(route.uriText.first(paramsStart));
    uri.params.forEach([&](QByteArrayView name, QByteArrayView value, bool hasValue) {
        if (name.compare("method", Qt::CaseInsensitive) == 0) return true;
        out += ';' + copy(name);
        if (hasValue) out += '=' + copy(value);
        return true;
    });
    return out;
}

}  // namespace

Result<Dialog> Dialog::createUac(const sip::Message& request, const sip::Message& response) {
    const int status = response.statusCode();
    if (status <= 100 || status >= 300)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("only a 101-299 response creates a dialog"));
    auto from = request.from();
    auto to = response.to();
    auto cseq = request.cseq();
    if (!from || !to || !cseq)
        return fail(ErrorKind::Parse, QStringLiteral("From, To or CSeq unusable"));
    // §12.1.2: a 2xx without a To tag has a null tag (RFC 2543); a 1xx needs one.
    if (status < 200 && to->tag().isEmpty())
        return fail(ErrorKind::Protocol,
                    QStringLiteral("a provisional response without To tag creates no dialog"));

    Dialog d;
    d.m_role = Role::Uac;
    d.m_state = status < 200 ? State::Early : State::Confirmed;
    d.m_id = {copy(request.callId()), copy(from->tag()), copy(to->tag())};
    d.m_secure = isSips(request.requestUri());
    d.m_localParty = copy(request.header(sip::HeaderId::From));
    d.m_remoteParty = copy(response.header(sip::HeaderId::To));
    d.m_localUri = copy(from->uriText);
    d.m_remoteUri = copy(to->uriText);
    // A Contact is mandatory in a dialog-creating response; without one the request
    // target is the best guess left.
    d.m_remoteTarget = firstContactUri(response).value_or(copy(request.requestUri()));
    d.m_localContact = copy(request.header(sip::HeaderId::Contact));
    // §12.1.2: the route set is the Record-Route of the response, in reverse order.
    d.m_routeSet = recordRoutes(response);
    std::reverse(d.m_routeSet.begin(), d.m_routeSet.end());
    d.m_localSeq = cseq->number;
    d.m_initialSeq = cseq->number;
    d.m_initialMethod = request.method();
    return d;
}

Result<Dialog> Dialog::createUas(const sip::Message& request, const sip::Message& response) {
    const int status = response.statusCode();
    if (status <= 100 || status >= 300)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("only a 101-299 response creates a dialog"));
    auto from = request.from();
    auto to = response.to();
    auto cseq = request.cseq();
    if (!from || !to || !cseq)
        return fail(ErrorKind::Parse, QStringLiteral("From, To or CSeq unusable"));
    if (to->tag().isEmpty())
        return fail(ErrorKind::Protocol,
                    QStringLiteral("the response that creates a dialog needs a To tag"));

    Dialog d;
    d.m_role = Role::Uas;
    d.m_state = status < 200 ? State::Early : State::Confirmed;
    d.m_id = {copy(request.callId()), copy(to->tag()), copy(from->tag())};
    d.m_secure = isSips(request.requestUri());
    d.m_localParty = copy(response.header(sip::HeaderId::To));
    d.m_remoteParty = copy(request.header(sip::HeaderId::From));
    d.m_localUri = copy(to->uriText);
    d.m_remoteUri = copy(from->uriText);
    d.m_remoteTarget = firstContactUri(request).value_or(copy(from->uriText));
    d.m_localContact = copy(response.header(sip::HeaderId::Contact));
    // §12.1.1: the route set is the Record-Route of the request, in order.
    d.m_routeSet = recordRoutes(request);
    d.m_remoteSeq = cseq->number;
    d.m_initialSeq = cseq->number;
    d.m_initialMethod = request.method();
    return d;
}

bool Dialog::isTargetRefresh(sip::Method method) {
    switch (method) {
        case sip::Method::Invite:
        case sip::Method::Update:
        case sip::Method::Subscribe:
        case sip::Method::Notify:
        case sip::Method::Refer:
            return true;
        default:
            return false;
    }
}

void Dialog::takeRemoteTarget(const sip::Message& message) {
    if (auto contact = firstContactUri(message)) m_remoteTarget = std::move(*contact);
}

void Dialog::onResponse(const sip::Message& response) {
    if (m_state == State::Terminated) return;
    auto cseq = response.cseq();
    if (!cseq) return;
    const int status = response.statusCode();
    const bool toCreatingRequest = cseq->number == m_initialSeq && cseq->method == m_initialMethod;

    if (m_role == Role::Uas) {
        // Responses we send to the request that created the dialog decide its fate.
        if (!toCreatingRequest || m_state != State::Early || status < 200) return;
        m_state = status < 300 ? State::Confirmed : State::Terminated;
        return;
    }

    if (status < 200) {
        if (toCreatingRequest && m_state == State::Early) takeRemoteTarget(response);
        return;
    }
    if (status < 300) {
        if (toCreatingRequest && m_state == State::Early) {
            // §13.2.2.4: confirmed, route set recomputed from the 2xx.
            m_state = State::Confirmed;
            m_routeSet = recordRoutes(response);
            std::reverse(m_routeSet.begin(), m_routeSet.end());
            takeRemoteTarget(response);
        } else if (isTargetRefresh(cseq->method)) {
            takeRemoteTarget(response);  // §12.2.1.2
        }
        return;
    }
    // §12.2.1.2: 481 and 408 end the dialog; §12.3: a non-2xx final answer to the
    // creating request ends an early dialog.
    if (status == 481 || status == 408 || (toCreatingRequest && m_state == State::Early)) {
        qCDebug(lcDialog) << "dialog" << m_id.callId << "ends with" << status;
        m_state = State::Terminated;
    }
}

Result<void> Dialog::onRequest(const sip::Message& request) {
    auto cseq = request.cseq();
    if (!cseq) return fail(ErrorKind::Parse, QStringLiteral("Missing or malformed CSeq"), -1, 400);
    const sip::Method method = request.method();
    // ACK and CANCEL carry the INVITE's number; they are not new requests in sequence.
    if (method == sip::Method::Ack || method == sip::Method::Cancel) return {};
    if (m_remoteSeq && cseq->number < *m_remoteSeq) {
        // §12.2.2: out of order.
        return fail(ErrorKind::Protocol,
                    QStringLiteral("CSeq %1 is lower than the dialog's %2")
                        .arg(cseq->number)
                        .arg(*m_remoteSeq),
                    -1, 500);
    }
    m_remoteSeq = cseq->number;
    if (isTargetRefresh(method)) takeRemoteTarget(request);  // §12.2.2
    return {};
}

sip::Message Dialog::createRequest(sip::Method method) {
    // §12.2.1.1: the local sequence number goes up by one per request; §8.1.1.5 allows
    // any start below 2^31 when none was used yet.
    const quint32 sequence = m_localSeq ? *m_localSeq + 1 : 1;
    m_localSeq = sequence;
    return buildRequest(method, sequence);
}

sip::Message Dialog::createAck(quint32 inviteSequence, const sip::Message* invite) {
    sip::Message ack = buildRequest(sip::Method::Ack, inviteSequence);
    if (invite) {
        for (const sip::HeaderField& field : invite->headers()) {
            if (field.id == sip::HeaderId::Authorization ||
                field.id == sip::HeaderId::ProxyAuthorization)
                ack.addHeader(field.id, copy(field.value));
        }
    }
    m_ack = ack;
    m_ackSeq = inviteSequence;
    return ack;
}

const sip::Message* Dialog::ackFor(quint32 inviteSequence) const {
    return m_ack && m_ackSeq == inviteSequence ? &*m_ack : nullptr;
}

sip::Message Dialog::buildRequest(sip::Method method, quint32 sequence) const {
    // §12.2.1.1: Request-URI and Route header fields.
    QByteArray requestUri = m_remoteTarget;
    std::vector<QByteArray> routes;
    if (!m_routeSet.empty()) {
        auto first = sip::NameAddr::parse(m_routeSet.front());
        if (first && !first->uri.params.has("lr")) {
            // Strict routing: the first route is the Request-URI, the remote target the
            // last Route.
            requestUri = requestUriFromRoute(*first);
            routes.assign(m_routeSet.begin() + 1, m_routeSet.end());
            routes.push_back('<' + m_remoteTarget + '>');
        } else {
            routes = m_routeSet;
        }
    }
    sip::Message request = sip::Message::request(method, requestUri);
    for (QByteArray& route : routes)
        request.addHeader(sip::HeaderId::Route, std::move(route));
    request.addHeader(sip::HeaderId::From, m_localParty);
    request.addHeader(sip::HeaderId::To, m_remoteParty);
    request.addHeader(sip::HeaderId::CallId, m_id.callId);
    request.addHeader(sip::HeaderId::CSeq,
                      QByteArray::number(sequence) + ' ' + sip::methodName(method).toByteArray());
    if (isTargetRefresh(method) && !m_localContact.isEmpty())
        request.addHeader(sip::HeaderId::Contact, m_localContact);
    return request;
}

QByteArray Dialog::nextHopUri() const {
    if (m_routeSet.empty()) return m_remoteTarget;
    auto first = sip::NameAddr::parse(m_routeSet.front());
    return first ? copy(first->uriText) : m_remoteTarget;
}

}  // namespace sb::dialog
