#include "dialoginfo/dialog_info.h"

#include "dialoginfo/xml_reader.h"

namespace sb::dialoginfo {

namespace {

constexpr QByteArrayView kDialogInfoNs = "urn:ietf:params:xml:ns:dialog-info";

bool equalsNoCase(QByteArrayView text, QByteArrayView lowerCase) {
    if (text.size() != lowerCase.size()) return false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        char ch = text[i];
        if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
        if (ch != lowerCase[i]) return false;
    }
    return true;
}

QString text(QByteArrayView utf8) {
    return QString::fromUtf8(utf8.data(), utf8.size());
}

std::optional<quint64> unsignedNumber(QByteArrayView digits) {
    digits = digits.trimmed();
    if (digits.isEmpty() || digits.size() > 19) return std::nullopt;
    quint64 value = 0;
    for (char ch : digits) {
        if (ch < '0' || ch > '9') return std::nullopt;
        value = value * 10 + quint64(ch - '0');
    }
    return value;
}

std::optional<DialogState> dialogState(QByteArrayView name) {
    // RFC 4235 §4.1.2 names the states in lower case; Kamailio's pua_dialoginfo writes
    // "Trying", so letter case is ignored.
    name = name.trimmed();
    if (equalsNoCase(name, "trying")) return DialogState::Trying;
    if (equalsNoCase(name, "proceeding")) return DialogState::Proceeding;
    if (equalsNoCase(name, "early")) return DialogState::Early;
    if (equalsNoCase(name, "confirmed")) return DialogState::Confirmed;
    if (equalsNoCase(name, "terminated")) return DialogState::Terminated;
    return std::nullopt;
}

QString quoted(QByteArrayView value) {
    constexpr qsizetype kShown = 40;
    QString shown = text(value.first(std::min(value.size(), kShown)));
    if (value.size() > kShown) shown += QStringLiteral("...");
    return QLatin1Char('"') + shown + QLatin1Char('"');
}

// What an open element is, as far as RFC 4235 §4.1 cares. Anything else (extension
// elements, foreign namespaces, <route-set>, <replaces>, ...) is Ignored with its subtree.
enum class Node { Root, Dialog, State, Duration, Local, Remote, Identity, Target, Param, Ignored };

// SAX handler building one Document. Elements are matched by namespace and local name;
// elements in no namespace are taken as dialog-info too (some servers drop the xmlns).
class DialogInfoHandler final : public XmlContentHandler {
public:
    explicit DialogInfoHandler(const ParseLimits& limits) : m_limits(limits) { m_stack.reserve(8); }

    Document document;

    void startElement(const XmlElement& element, int depth) override {
        const QByteArrayView ns = element.nsUri();
        const QByteArrayView name = element.localName();
        if (depth == 1) {
            startRoot(element, ns, name);
            m_stack.push_back(Node::Root);
            return;
        }
        const Node parent = m_stack.back();
        const bool ours = ns.isEmpty() || ns == kDialogInfoNs;
        Node node = Node::Ignored;
        if (ours && parent != Node::Ignored) node = childOf(parent, name);
        m_stack.push_back(node);
        switch (node) {
            case Node::Dialog:
                startDialog(element);
                break;
            case Node::State:
                m_dialog.stateEvent = element.attributeText("event");
                if (auto code = element.attribute("code")) {
                    m_dialog.stateCode = int(unsignedNumber(*code).value_or(0) % 1000);
                }
                m_hasState = true;
                m_text.clear();
                break;
            case Node::Local:
                m_participant = &m_dialog.local;
                break;
            case Node::Remote:
                m_participant = &m_dialog.remote;
                break;
            case Node::Identity:
                m_text.clear();
                if (m_identitySeen[m_participant == &m_dialog.remote]) break;
                // The identity's display name wins over a target's (Kamailio's
                // attribute_display writes it on <target>).
                if (QString display = element.attributeText("display"); !display.isEmpty()) {
                    m_participant->display = std::move(display);
                }
                break;
            case Node::Duration:
                m_text.clear();
                break;
            case Node::Target:
                m_participant->target.emplace();
                m_participant->target->uri = element.attributeText("uri").trimmed();
                if (m_participant->display.isEmpty()) {
                    m_participant->display = element.attributeText("display");
                }
                break;
            case Node::Param:
                if (element.attribute("pname")) {
                    m_participant->target->params.emplace_back(element.attributeText("pname"),
                                                               element.attributeText("pval"));
                }
                break;
            default:
                break;
        }
    }

    void endElement(int) override {
        const Node node = m_stack.back();
        m_stack.pop_back();
        switch (node) {
            case Node::Dialog:
                endDialog();
                break;
            case Node::State:
                if (auto state = dialogState(m_text)) {
                    m_dialog.state = *state;
                } else {
                    fail(ErrorKind::Parse, QStringLiteral("dialog \"%1\": unknown state %2")
                                               .arg(m_dialog.id, quoted(m_text)));
                }
                break;
            case Node::Duration:
                if (auto seconds = unsignedNumber(m_text))
                    m_dialog.durationSeconds = qint64(*seconds);
                break;
            case Node::Identity:
                // The first <identity> counts; RFC 4235 §4.1.6.1 allows only one.
                if (bool& seen = m_identitySeen[m_participant == &m_dialog.remote]; !seen) {
                    m_participant->identity = text(QByteArrayView(m_text).trimmed());
                    seen = true;
                }
                break;
            default:
                break;
        }
    }

    void characters(QByteArrayView chunk) override {
        switch (m_stack.back()) {
            case Node::State:
            case Node::Duration:
            case Node::Identity:
                m_text.append(chunk);
                break;
            default:
                break;
        }
    }

private:
    static Node childOf(Node parent, QByteArrayView name) {
        switch (parent) {
            case Node::Root:
                if (name == "dialog") return Node::Dialog;
                break;
            case Node::Dialog:
                if (name == "state") return Node::State;
                if (name == "duration") return Node::Duration;
                if (name == "local") return Node::Local;
                if (name == "remote") return Node::Remote;
                break;
            case Node::Local:
            case Node::Remote:
                if (name == "identity") return Node::Identity;
                if (name == "target") return Node::Target;
                break;
            case Node::Target:
                if (name == "param") return Node::Param;
                break;
            default:
                break;
        }
        return Node::Ignored;
    }

    void startRoot(const XmlElement& element, QByteArrayView ns, QByteArrayView name) {
        if (name != "dialog-info") {
            fail(ErrorKind::Parse,
                 QStringLiteral("root element is <%1>, not <dialog-info>").arg(text(name)));
            return;
        }
        if (!ns.isEmpty() && ns != kDialogInfoNs) {
            fail(ErrorKind::Parse, QStringLiteral("<dialog-info> is in namespace %1, not %2")
                                       .arg(quoted(ns), text(kDialogInfoNs)));
            return;
        }
        // RFC 4235 §4.1: version and state are required, but some servers omit the
        // version; a missing version only means no ordering is possible.
        if (auto version = element.attribute("version")) {
            document.version = unsignedNumber(*version);
            if (!document.version) {
                fail(ErrorKind::Parse,
                     QStringLiteral("version %1 is not an unsigned number").arg(quoted(*version)));
                return;
            }
        }
        if (auto state = element.attribute("state")) {
            if (equalsNoCase(state->trimmed(), "partial")) {
                document.state = DocumentState::Partial;
            } else if (!equalsNoCase(state->trimmed(), "full")) {
                fail(ErrorKind::Parse,
                     QStringLiteral("document state %1 is neither full nor partial")
                         .arg(quoted(*state)));
                return;
            }
        }
        document.entity = element.attributeText("entity").trimmed();
    }

    void startDialog(const XmlElement& element) {
        if (document.dialogs.size() >= m_limits.maxDialogs) {
            fail(ErrorKind::Limit,
                 QStringLiteral("more than %1 dialogs in one document").arg(m_limits.maxDialogs));
            return;
        }
        m_dialog = DialogInfo();
        m_hasState = false;
        m_identitySeen[0] = m_identitySeen[1] = false;
        m_participant = &m_dialog.local;
        m_dialog.id = element.attributeText("id");
        m_dialog.callId = element.attributeText("call-id");
        // RFC 4235 §4.1.1: id is required. Be liberal: a dialog that carries a call-id
        // can still be keyed by it; one with neither cannot be merged, so it is refused.
        if (m_dialog.id.isEmpty()) m_dialog.id = m_dialog.callId;
        if (m_dialog.id.isEmpty()) {
            fail(ErrorKind::Parse, QStringLiteral("dialog %1 has neither an id nor a call-id")
                                       .arg(document.dialogs.size() + 1));
            return;
        }
        m_dialog.localTag = element.attributeText("local-tag");
        m_dialog.remoteTag = element.attributeText("remote-tag");
        if (auto direction = element.attribute("direction")) {
            if (equalsNoCase(direction->trimmed(), "initiator")) {
                m_dialog.direction = Direction::Initiator;
            } else if (equalsNoCase(direction->trimmed(), "recipient")) {
                m_dialog.direction = Direction::Recipient;
            }
        }
    }

    void endDialog() {
        // RFC 4235 §4.1.2: <state> is required; without it the dialog says nothing.
        if (!m_hasState) {
            fail(ErrorKind::Parse, QStringLiteral("dialog \"%1\" has no <state>").arg(m_dialog.id));
            return;
        }
        document.dialogs.push_back(std::move(m_dialog));
    }

    const ParseLimits& m_limits;
    std::vector<Node> m_stack;
    DialogInfo m_dialog;
    bool m_hasState = false;
    bool m_identitySeen[2] = {false, false};  // [local, remote]
    Participant* m_participant = nullptr;
    QByteArray m_text;
};

}  // namespace

bool Target::rendersMedia() const {
    for (const auto& [name, value] : params) {
        if (name.compare(QLatin1String("+sip.rendering"), Qt::CaseInsensitive) != 0) continue;
        QStringView v = QStringView(value).trimmed();
        if (v.size() >= 2 && v.front() == u'"' && v.back() == u'"') v = v.sliced(1, v.size() - 2);
        if (v.compare(QLatin1String("no"), Qt::CaseInsensitive) == 0) return false;
    }
    return true;
}

Result<Document> parseDocument(QByteArrayView body, const ParseLimits& limits) {
    DialogInfoHandler handler(limits);
    if (auto read = readXml(body, limits, handler); !read) return fail(read.error());
    return std::move(handler.document);
}

namespace {

bool isVisualSeparator(QChar ch) {
    // RFC 3966 §3: visual-separator = "-" / "." / "(" / ")"
    return ch == u'-' || ch == u'.' || ch == u'(' || ch == u')';
}

int hexValue(QChar ch) {
    if (ch >= u'0' && ch <= u'9') return ch.unicode() - '0';
    if (ch >= u'a' && ch <= u'f') return ch.unicode() - 'a' + 10;
    if (ch >= u'A' && ch <= u'F') return ch.unicode() - 'A' + 10;
    return -1;
}

// RFC 3261 §19.1.4: an escaped unreserved character equals the character itself.
QString decodeUnreserved(QStringView user) {
    QString out;
    out.reserve(user.size());
    for (qsizetype i = 0; i < user.size(); ++i) {
        if (user[i] == u'%' && i + 2 < user.size()) {
            const int high = hexValue(user[i + 1]);
            const int low = hexValue(user[i + 2]);
            if (high >= 0 && low >= 0) {
                const QChar decoded(char16_t(high * 16 + low));
                if (decoded.isLetterOrNumber() && decoded.unicode() < 0x80) {
                    out += decoded;
                    i += 2;
                    continue;
                }
                if (QStringView(u"-_.!~*'()").contains(decoded)) {
                    out += decoded;
                    i += 2;
                    continue;
                }
            }
        }
        out += user[i];
    }
    return out;
}

}  // namespace

QString normalisedEntity(QStringView uri) {
    uri = uri.trimmed();
    // A name-addr ("Alice" <sip:201@host>;tag=x): only what is inside the brackets.
    if (const qsizetype open = uri.indexOf(u'<'); open >= 0) {
        const qsizetype close = uri.indexOf(u'>', open + 1);
        uri = uri.sliced(open + 1, (close < 0 ? uri.size() : close) - open - 1).trimmed();
    }
    if (uri.isEmpty()) return {};
    for (QChar ch : uri) {
        if (ch.isSpace()) return {};
    }

    if (uri.startsWith(u"tel:", Qt::CaseInsensitive)) {
        // RFC 3966: the number without parameters and visual separators.
        QStringView number = uri.sliced(4);
        if (const qsizetype semicolon = number.indexOf(u';'); semicolon >= 0) {
            number = number.first(semicolon);
        }
        QString out;
        for (QChar ch : number) {
            if (!isVisualSeparator(ch)) out += ch;
        }
        return out;
    }
    for (QStringView scheme :
         {QStringView(u"sip:"), QStringView(u"sips:"), QStringView(u"pres:")}) {
        if (uri.startsWith(scheme, Qt::CaseInsensitive)) {
            uri = uri.sliced(scheme.size());
            break;
        }
    }

    // RFC 3261 §19.1.1: no unescaped "@" outside the userinfo, so the first one splits it.
    QStringView user;
    QStringView hostPart = uri;
    if (const qsizetype at = uri.indexOf(u'@'); at >= 0) {
        user = uri.first(at);
        hostPart = uri.sliced(at + 1);
        // userinfo = user [":" password]
        if (const qsizetype colon = user.indexOf(u':'); colon >= 0) user = user.first(colon);
    }
    qsizetype hostEnd = 0;
    if (hostPart.startsWith(u'[')) {  // IPv6 reference
        const qsizetype close = hostPart.indexOf(u']');
        hostEnd = close < 0 ? hostPart.size() : close + 1;
    } else {
        while (hostEnd < hostPart.size() && hostPart[hostEnd] != u':' &&
               hostPart[hostEnd] != u';' && hostPart[hostEnd] != u'?' &&
               hostPart[hostEnd] != u'>') {
            ++hostEnd;
        }
    }
    const QString host = hostPart.first(hostEnd).toString().toLower();
    if (host.isEmpty()) return {};
    if (user.isEmpty()) return host;
    return decodeUnreserved(user) + u'@' + host;
}

QString stateName(DialogState state) {
    switch (state) {
        case DialogState::Trying:
            return QStringLiteral("trying");
        case DialogState::Proceeding:
            return QStringLiteral("proceeding");
        case DialogState::Early:
            return QStringLiteral("early");
        case DialogState::Confirmed:
            return QStringLiteral("confirmed");
        case DialogState::Terminated:
            return QStringLiteral("terminated");
    }
    return {};
}

QString directionName(Direction direction) {
    switch (direction) {
        case Direction::Initiator:
            return QStringLiteral("initiator");
        case Direction::Recipient:
            return QStringLiteral("recipient");
        case Direction::Unknown:
            return QStringLiteral("unknown");
    }
    return {};
}

}  // namespace sb::dialoginfo
