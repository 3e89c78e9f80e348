#include "server/publication_store.h"

#include <algorithm>

#include "base/log.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"
#include "sip/uri.h"

namespace sb::server {

namespace {

using sip::HeaderId;

constexpr QByteArrayView kEventPackage = "dialog";
constexpr QByteArrayView kContentType = "application/dialog-info+xml";
// RFC 3903 §6 step 5: 423 only for intervals shorter than one hour.
constexpr quint32 kOneHour = 3600;
constexpr int kEtagWords = 2;  // 128 random bits per entity-tag
constexpr int kToTagLength = 10;
constexpr qsizetype kMaxReasonChars = 160;

// A reason phrase from free text (a parser's error): one line of printable characters
// (RFC 3261 §25.1 Reason-Phrase), short enough for a status line.
QByteArray reasonPhrase(const QString& text) {
    QString line = text.left(kMaxReasonChars);
    for (QChar& ch : line)
        if (ch.unicode() < 0x20 || ch.unicode() == 0x7f) ch = QLatin1Char(' ');
    return line.simplified().toUtf8();
}

// The media type of a Content-Type value, without parameters, in lower case.
QByteArray mediaType(QByteArrayView value) {
    const qsizetype semicolon = value.indexOf(';');
    return (semicolon < 0 ? value : value.first(semicolon)).trimmed().toByteArray().toLower();
}

// RFC 4235 §4.1: a partial document carries, for each dialog it names, that dialog's
// whole state; the id is the key. Later entries replace earlier ones with the same id.
void mergeById(std::vector<dialoginfo::DialogInfo>& into,
               const std::vector<dialoginfo::DialogInfo>& dialogs) {
    for (const auto& dialog : dialogs) {
        auto same = std::find_if(into.begin(), into.end(), [&](const dialoginfo::DialogInfo& d) {
            return d.id == dialog.id;
        });
        if (same == into.end())
            into.push_back(dialog);
        else
            *same = dialog;
    }
}

}  // namespace

PublicationStore::PublicationStore(DialogStateStore& store, const LocalDomains& domains,
                                   base::TimerQueue& timers, base::Random& random,
                                   PublicationOptions options)
    : m_store(store),
      m_domains(domains),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)) {}

PublicationStore::~PublicationStore() {
    clear();
}

std::size_t PublicationStore::publicationCount(const QString& user) const {
    return m_countByUser.value(user, 0);
}

void PublicationStore::clear() {
    while (!m_byId.empty())
        remove(m_byId.begin()->first);
}

sip::Message PublicationStore::handle(const transport::IncomingMessage& incoming,
                                      const QString& publisherUser) {
    const sip::Message& request = incoming.message;
    if (request.method() != sip::Method::Publish) {
        sip::Message response = respond(request, 405);
        response.addHeader(HeaderId::Allow, "PUBLISH");
        return response;
    }

    // RFC 3903 §6 step 1: the Request-URI names the resource whose state is published.
    auto requestUri = sip::Uri::parse(request.requestUri());
    if (!requestUri) return respond(request, 400, "Malformed Request-URI");
    const QString user = m_domains.userOf(*requestUri);
    if (user.isEmpty() || (m_options.userExists && !m_options.userExists(user)))
        return respond(request, 404, "Unknown entity");
    // Authorization (step 1): an authenticated user publishes only its own state.
    if (!publisherUser.isEmpty() && publisherUser != user && !m_options.allowAnyEntity)
        return respond(request, 403, "Publishing is allowed only for your own AoR");

    // Step 2: the event package.
    if (request.has(HeaderId::Event)) {
        auto event = request.event();
        if (!event) return respond(request, 400, "Malformed Event header");
        if (event->package.compare(kEventPackage, Qt::CaseInsensitive) != 0) {
            sip::Message response = respond(request, 489);
            response.addHeader(HeaderId::AllowEvents, kEventPackage.toByteArray());
            return response;
        }
    } else {
        sip::Message response = respond(request, 489, "Missing Event header");
        response.addHeader(HeaderId::AllowEvents, kEventPackage.toByteArray());
        return response;
    }

    // Step 3: SIP-If-Match names the publication a refresh, modify or remove is for.
    Publication* existing = nullptr;
    if (request.has(HeaderId::SipIfMatch)) {
        existing = find(request.sipIfMatch().trimmed().toByteArray(), user);
        if (!existing) return respond(request, 412);
    }
    // Step 4: an initial publication carries state.
    const bool hasBody = !request.body().isEmpty();
    if (!existing && !hasBody)
        return respond(request, 400, "PUBLISH without a body or SIP-If-Match");

    // Step 5: the expiration interval.
    if (request.has(HeaderId::Expires) && !request.expires())
        return respond(request, 400, "Malformed Expires header");
    const quint32 requested = request.expires().value_or(m_options.defaultExpires);
    if (requested != 0 && requested < m_options.minExpires && requested < kOneHour) {
        sip::Message response = respond(request, 423);
        response.addHeader(HeaderId::MinExpires, QByteArray::number(m_options.minExpires));
        return response;
    }
    const quint32 granted = std::min(requested, m_options.maxExpires);

    if (existing && granted == 0) {
        // Step 6: removal (RFC 3903 §4.5); a body sent along is ignored.
        const QByteArray etag = existing->etag;
        remove(existing->id);
        sip::Message response = respond(request, 200);
        response.addHeader(HeaderId::SipETag, etag);
        response.addHeader(HeaderId::Expires, "0");
        return response;
    }
    if (existing && !hasBody) {
        // Refresh: the state stays, the entity-tag is new (step 7).
        rekey(*existing);
        schedule(*existing, granted);
        sip::Message response = respond(request, 200);
        response.addHeader(HeaderId::SipETag, existing->etag);
        response.addHeader(HeaderId::Expires, QByteArray::number(granted));
        return response;
    }

    // Step 6: the published state, in the package's format only.
    if (mediaType(request.header(HeaderId::ContentType)) != kContentType) {
        sip::Message response = respond(request, 415);
        response.addHeader(HeaderId::Accept, kContentType.toByteArray());
        return response;
    }
    auto document = dialoginfo::parseDocument(request.body(), m_options.documentLimits);
    if (!document) {
        const int status = document.error().kind == ErrorKind::Limit ? 413 : 400;
        return respond(request, status, reasonPhrase(document.error().toString()));
    }
    std::vector<dialoginfo::DialogInfo> dialogs;
    const Reply composed =
        compose(*document, user, existing ? &existing->dialogs : nullptr, dialogs);
    if (composed.status != 200) return respond(request, composed.status, composed.reason);

    if (!existing && granted == 0) {
        // An initial publication that asks for no time is created and gone at once.
        sip::Message response = respond(request, 200);
        response.addHeader(HeaderId::SipETag, newEtag());
        response.addHeader(HeaderId::Expires, "0");
        return response;
    }

    Publication* publication = existing;
    if (!publication) {
        if (m_byId.size() >= m_options.maxPublications) {
            sip::Message response = respond(request, 503, "Too many publications");
            response.addHeader(HeaderId::RetryAfter,
                               QByteArray::number(m_options.retryAfterSeconds));
            return response;
        }
        if (publicationCount(user) >= m_options.maxPerEntity)
            return respond(request, 403, "Too many publications for this entity");
        const quint64 id = m_nextId++;
        auto created = std::make_unique<Publication>();
        created->id = id;
        created->user = user;
        publication = created.get();
        m_byId.emplace(id, std::move(created));
        ++m_countByUser[user];
    }
    publication->dialogs = std::move(dialogs);
    rekey(*publication);
    schedule(*publication, granted);
    sip::Message response = respond(request, 200);
    response.addHeader(HeaderId::SipETag, publication->etag);
    response.addHeader(HeaderId::Expires, QByteArray::number(granted));

    // Last: store listeners (the notifier) run synchronously and see this state complete.
    m_store.setDialogs(user, sourceKey(*publication), publication->dialogs);
    return response;
}

PublicationStore::Reply PublicationStore::compose(
    const dialoginfo::Document& document, const QString& user,
    const std::vector<dialoginfo::DialogInfo>* previous,
    std::vector<dialoginfo::DialogInfo>& out) const {
    // The document must describe the resource it is published to. The same user at
    // another host (the publisher's own domain, as a Kamailio writes it) is an alias.
    if (!document.entity.isEmpty()) {
        const QByteArray entityText = document.entity.toUtf8();
        auto entity = sip::Uri::parse(entityText);
        if (!entity || !entity->isSip() || entity->user.isEmpty())
            return {400, reasonPhrase(QStringLiteral("Document entity is not a user's SIP URI"))};
        if (QString::fromUtf8(sip::percentDecode(entity->user)) != user)
            return {400, "Document entity names another user"};
        if (!m_domains.isLocal(*entity) && !previous)
            qCWarning(lcServer).noquote()
                << "PUBLISH for" << user << "has entity" << document.entity
                << "outside the local domains; accepted as an alias of" << m_domains.aorUri(user);
    }

    // RFC 4235 §4.1: a full document replaces the state, a partial one changes only the
    // dialogs it names. Terminated dialogs stay, as published, until replaced.
    if (document.state == dialoginfo::DocumentState::Partial && previous) out = *previous;
    mergeById(out, document.dialogs);
    // Partial documents could grow a publication without end: old terminated dialogs
    // make room first.
    for (auto it = out.begin();
         out.size() > m_options.maxDialogsPerPublication && it != out.end();) {
        if (it->state == dialoginfo::DialogState::Terminated)
            it = out.erase(it);
        else
            ++it;
    }
    if (out.size() > m_options.maxDialogsPerPublication)
        return {413, reasonPhrase(QStringLiteral("Publication would hold more than %1 dialogs")
                                      .arg(m_options.maxDialogsPerPublication))};
    return {};
}

sip::Message PublicationStore::respond(const sip::Message& request, int status, QByteArray reason) {
    // PUBLISH creates no dialog, but a final response carries a To tag (RFC 3261 §8.2.6.2).
    return sip::makeResponse(request, status, std::move(reason), m_random.token(kToTagLength));
}

QByteArray PublicationStore::newEtag() {
    // RFC 3903 §6 step 4: locally unique; unguessable so that nobody can refresh or
    // remove someone else's publication by trying tags.
    QByteArray etag;
    do {
        QByteArray bits;
        for (int i = 0; i < kEtagWords; ++i) {
            const quint64 word = m_random.next();
            for (int b = 0; b < 8; ++b)
                bits.append(char((word >> (8 * b)) & 0xff));
        }
        etag = bits.toHex();
    } while (m_byEtag.contains(etag));
    return etag;
}

QString PublicationStore::sourceKey(const Publication& publication) const {
    return QStringLiteral("publish:%1").arg(publication.id);
}

PublicationStore::Publication* PublicationStore::find(const QByteArray& etag, const QString& user) {
    const auto id = m_byEtag.constFind(etag);
    if (id == m_byEtag.constEnd()) return nullptr;
    const auto found = m_byId.find(*id);
    if (found == m_byId.end()) return nullptr;
    Publication& publication = *found->second;
    // An entity-tag is scoped to its resource (RFC 3903 §4.1).
    if (publication.user != user) return nullptr;
    // A timer that has not run yet (a busy loop) does not keep an expired tag alive.
    if (publication.expiresAt <= m_timers.now()) {
        remove(publication.id);
        return nullptr;
    }
    return &publication;
}

void PublicationStore::schedule(Publication& publication, quint32 seconds) {
    if (publication.timer != base::kNoTimer) m_timers.cancel(publication.timer);
    const base::Duration after = std::chrono::seconds(seconds);
    publication.expiresAt = m_timers.now() + after;
    const quint64 id = publication.id;
    publication.timer = m_timers.start(after, [this, id] { expire(id); });
}

void PublicationStore::rekey(Publication& publication) {
    if (!publication.etag.isEmpty()) m_byEtag.remove(publication.etag);
    publication.etag = newEtag();
    m_byEtag.insert(publication.etag, publication.id);
}

void PublicationStore::expire(quint64 id) {
    const auto found = m_byId.find(id);
    if (found == m_byId.end()) return;
    found->second->timer = base::kNoTimer;  // this one has fired
    qCDebug(lcServer) << "publication" << id << "for" << found->second->user << "expired";
    remove(id);
}

void PublicationStore::remove(quint64 id) {
    const auto found = m_byId.find(id);
    if (found == m_byId.end()) return;
    std::unique_ptr<Publication> publication = std::move(found->second);
    m_byId.erase(found);
    m_byEtag.remove(publication->etag);
    if (publication->timer != base::kNoTimer) m_timers.cancel(publication->timer);
    auto count = m_countByUser.find(publication->user);
    if (count != m_countByUser.end() && --*count == 0) m_countByUser.erase(count);
    // Last, so that store listeners see this store without the publication.
    m_store.removeSource(publication->user, sourceKey(*publication));
}

}  // namespace sb::server
