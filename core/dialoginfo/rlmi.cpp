#include "dialoginfo/rlmi.h"

#include "dialoginfo/xml_reader.h"

namespace sb::dialoginfo {

namespace {

constexpr QByteArrayView kRlmiNs = "urn:ietf:params:xml:ns:rlmi";

QString text(QByteArrayView utf8) {
    return QString::fromUtf8(utf8.data(), utf8.size());
}

enum class Node { List, ListName, Resource, ResourceName, Instance, Ignored };

class RlmiHandler final : public XmlContentHandler {
public:
    explicit RlmiHandler(const ParseLimits& limits) : m_limits(limits) {}

    RlmiList list;

    void startElement(const XmlElement& element, int depth) override {
        const QByteArrayView name = element.localName();
        const QByteArrayView ns = element.nsUri();
        if (depth == 1) {
            startList(element, ns, name);
            m_stack.push_back(Node::List);
            return;
        }
        const Node parent = m_stack.back();
        Node node = Node::Ignored;
        if ((ns.isEmpty() || ns == kRlmiNs) && parent != Node::Ignored) {
            if (parent == Node::List && name == "resource") node = Node::Resource;
            if (parent == Node::List && name == "name") node = Node::ListName;
            if (parent == Node::Resource && name == "name") node = Node::ResourceName;
            if (parent == Node::Resource && name == "instance") node = Node::Instance;
        }
        m_stack.push_back(node);
        switch (node) {
            case Node::Resource:
                if (list.resources.size() >= m_limits.maxResources) {
                    fail(ErrorKind::Limit, QStringLiteral("more than %1 resources in one list")
                                               .arg(m_limits.maxResources));
                    return;
                }
                list.resources.emplace_back();
                list.resources.back().uri = element.attributeText("uri").trimmed();
                m_nameSeen = false;
                break;
            case Node::ResourceName:
                m_text.clear();
                break;
            case Node::Instance: {
                // RFC 4662 §5.2: id and state are required; state is one of the RFC 6665
                // subscription states, reason only with terminated, cid names the body part.
                RlmiInstance instance;
                instance.id = element.attributeText("id");
                instance.state = element.attributeText("state").trimmed().toLower();
                instance.reason = element.attributeText("reason").trimmed().toLower();
                instance.cid = element.attributeText("cid").trimmed();
                list.resources.back().instances.push_back(std::move(instance));
                break;
            }
            default:
                break;
        }
    }

    void endElement(int) override {
        if (m_stack.back() == Node::ResourceName && !m_nameSeen) {
            list.resources.back().name = text(QByteArrayView(m_text).trimmed());
            m_nameSeen = true;
        }
        m_stack.pop_back();
    }

    void characters(QByteArrayView chunk) override {
        if (m_stack.back() == Node::ResourceName) m_text.append(chunk);
    }

private:
    void startList(const XmlElement& element, QByteArrayView ns, QByteArrayView name) {
        if (name != "list") {
            fail(ErrorKind::Parse,
                 QStringLiteral("root element is <%1>, not <list>").arg(text(name)));
            return;
        }
        if (!ns.isEmpty() && ns != kRlmiNs) {
            fail(ErrorKind::Parse, QStringLiteral("<list> is in namespace \"%1\", not %2")
                                       .arg(text(ns), text(kRlmiNs)));
            return;
        }
        list.uri = element.attributeText("uri").trimmed();
        if (auto version = element.attribute("version")) {
            bool ok = false;
            const quint64 value = version->trimmed().toULongLong(&ok);
            if (!ok) {
                fail(
                    ErrorKind::Parse,
                    QStringLiteral("version \"%1\" is not an unsigned number").arg(text(*version)));
                return;
            }
            list.version = value;
        }
        // RFC 4662 §5.2: fullState is an xs:boolean ("true"/"false"/"1"/"0").
        if (auto full = element.attribute("fullState")) {
            const QByteArrayView value = full->trimmed();
            if (value == "false" || value == "0") {
                list.fullState = false;
            } else if (value != "true" && value != "1") {
                fail(ErrorKind::Parse,
                     QStringLiteral("fullState \"%1\" is not a boolean").arg(text(*full)));
            }
        }
    }

    const ParseLimits& m_limits;
    std::vector<Node> m_stack;
    QByteArray m_text;
    bool m_nameSeen = false;
};

}  // namespace

Result<RlmiList> parseRlmi(QByteArrayView body, const ParseLimits& limits) {
    RlmiHandler handler(limits);
    if (auto read = readXml(body, limits, handler); !read) return fail(read.error());
    return std::move(handler.list);
}

}  // namespace sb::dialoginfo
