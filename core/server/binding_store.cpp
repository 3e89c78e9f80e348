#include "server/binding_store.h"

#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>
#include <cmath>

#include "base/log.h"
#include "sip/name_addr.h"
#include "sip/uri.h"

namespace sb::server {

namespace {

const QString kFormat = QStringLiteral("switchboard-bindings");
constexpr int kVersion = 1;
// A file this large is not ours (100,000 bindings take about 60 MB): refuse to read it
// rather than hold it all in memory.
constexpr qint64 kMaxFileSize = 256LL * 1024 * 1024;
constexpr base::Duration kAutosaveDelay = std::chrono::seconds(1);

QString text(const QByteArray& bytes) {
    return QString::fromUtf8(bytes);
}

QByteArray bytes(const QJsonValue& value) {
    return value.toString().toUtf8();
}

// The key of lookupByContact(): scheme, decoded user, host and port as written. Empty for
// a URI that is no SIP URI.
QByteArray contactKey(const sip::Uri& uri) {
    if (!uri.isSip()) return {};
    QByteArray host = uri.host.toByteArray().toLower();
    // One IPv6 address has many spellings (::1, 0:0::1): compare the address.
    if (const QHostAddress address(QString::fromLatin1(host)); !address.isNull())
        host = address.toString().toLatin1();
    QByteArray key = uri.scheme == sip::UriScheme::Sips ? "sips:" : "sip:";
    key += sip::percentDecode(uri.user) + '@' + host;
    if (uri.port) key += ':' + QByteArray::number(*uri.port);
    return key;
}

QByteArray contactKey(const QByteArray& contactUri) {
    const Result<sip::Uri> uri = sip::Uri::parse(contactUri);
    return uri ? contactKey(*uri) : QByteArray();
}

}  // namespace

bool sameContact(const Binding& a, const Binding& b) {
    // RFC 5626 §6: with an instance id on both, the instance names the device whatever
    // Contact it registers now (its address changes with every NAT rebinding).
    if (!a.instanceId.isEmpty() && !b.instanceId.isEmpty()) return a.instanceId == b.instanceId;
    if (a.contactUri == b.contactUri) return true;
    const auto uriA = sip::Uri::parse(a.contactUri);
    const auto uriB = sip::Uri::parse(b.contactUri);
    return uriA && uriB && sip::uriEquivalent(*uriA, *uriB);
}

BindingStore::BindingStore(base::TimerQueue& timers, BindingStoreOptions options)
    : m_timers(timers), m_options(std::move(options)) {}

BindingStore::~BindingStore() {
    if (auto saved = flush(); !saved)
        qCWarning(lcServer) << "bindings not saved:" << saved.error().toString();
    m_timers.cancel(m_autosaveTimer);
    m_timers.cancel(m_expiryTimer);
}

QDateTime BindingStore::wallClockNow() const {
    return (m_options.wallClock ? m_options.wallClock() : QDateTime::currentDateTimeUtc()).toUTC();
}

std::vector<Binding> BindingStore::sortedLive(const Entries& entries) const {
    const base::TimePoint now = m_timers.now();
    std::vector<const Entry*> live;
    live.reserve(entries.size());
    for (const Entry& entry : entries)
        if (entry.binding.expiresAt > now) live.push_back(&entry);
    // RFC 3261 §16.6 / §10.3: the proxy tries the highest q first; among equals, the
    // contact refreshed last is the one most likely to be reachable.
    std::sort(live.begin(), live.end(), [](const Entry* a, const Entry* b) {
        if (a->binding.qValue != b->binding.qValue) return a->binding.qValue > b->binding.qValue;
        return a->serial > b->serial;
    });
    std::vector<Binding> out;
    out.reserve(live.size());
    for (const Entry* entry : live)
        out.push_back(entry->binding);
    return out;
}

std::vector<Binding> BindingStore::lookup(const QString& user) const {
    const auto it = m_byUser.constFind(user);
    if (it == m_byUser.constEnd()) return {};
    return sortedLive(*it);
}

std::optional<Binding> BindingStore::lookupByContact(const sip::Uri& uri) const {
    const QByteArray key = contactKey(uri);
    if (key.isEmpty()) return std::nullopt;
    const auto serials = m_byContact.constFind(key);
    if (serials == m_byContact.constEnd()) return std::nullopt;
    const base::TimePoint now = m_timers.now();
    const Entry* best = nullptr;
    for (quint64 serial : *serials) {
        const auto owner = m_userOfSerial.find(serial);
        if (owner == m_userOfSerial.end()) continue;
        const auto entries = m_byUser.constFind(owner->second);
        if (entries == m_byUser.constEnd()) continue;
        for (const Entry& entry : *entries) {
            if (entry.serial != serial || entry.binding.expiresAt <= now) continue;
            if (!best || entry.serial > best->serial) best = &entry;
        }
    }
    if (!best) return std::nullopt;
    return best->binding;
}

bool BindingStore::isRegistered(const QString& user) const {
    const auto it = m_byUser.constFind(user);
    if (it == m_byUser.constEnd()) return false;
    const base::TimePoint now = m_timers.now();
    return std::any_of(it->begin(), it->end(),
                       [now](const Entry& entry) { return entry.binding.expiresAt > now; });
}

QStringList BindingStore::registeredUsers() const {
    QStringList users;
    for (auto it = m_byUser.constBegin(); it != m_byUser.constEnd(); ++it)
        if (isRegistered(it.key())) users.append(it.key());
    users.sort();
    return users;
}

Result<void> BindingStore::put(Binding binding) {
    const QString user = binding.user;
    return update(user, {std::move(binding)});
}

std::size_t BindingStore::countOf(const QString& user) const {
    const auto it = m_byUser.constFind(user);
    return it == m_byUser.constEnd() ? 0 : it->size();
}

bool BindingStore::remove(const Binding& like) {
    const std::size_t before = countOf(like.user);
    if (before == 0 || !update(like.user, {}, {like})) return false;
    return countOf(like.user) < before;
}

std::size_t BindingStore::removeUser(const QString& user) {
    const auto it = m_byUser.constFind(user);
    if (it == m_byUser.constEnd()) return 0;
    const std::size_t removed = it->size();
    commit(user, {});
    return removed;
}

Result<void> BindingStore::update(const QString& user, const std::vector<Binding>& updates,
                                  const std::vector<Binding>& removals) {
    if (user.isEmpty()) return fail(ErrorKind::Protocol, QStringLiteral("Binding without a user"));
    auto plan = planned(user, updates, removals);
    if (!plan) return fail(plan.error());
    // Removals that matched nothing change nothing: no listener call, no save.
    if (updates.empty() && plan->size() == countOf(user)) return {};
    commit(user, std::move(*plan));
    return {};
}

Result<BindingStore::Entries> BindingStore::planned(const QString& user,
                                                    const std::vector<Binding>& updates,
                                                    const std::vector<Binding>& removals) {
    Entries entries = m_byUser.value(user);
    const std::size_t before = entries.size();
    for (const Binding& removal : removals) {
        const auto it = std::find_if(entries.begin(), entries.end(), [&removal](const Entry& e) {
            return sameContact(e.binding, removal);
        });
        if (it != entries.end()) entries.erase(it);
    }
    for (const Binding& binding : updates) {
        Entry entry{binding, m_nextSerial++};
        entry.binding.user = user;
        const auto it = std::find_if(entries.begin(), entries.end(), [&binding](const Entry& e) {
            return sameContact(e.binding, binding);
        });
        if (it != entries.end())
            *it = std::move(entry);
        else
            entries.push_back(std::move(entry));
    }
    // A change that does not grow the user's set always passes, so that lowering a limit
    // never blocks refreshes and removals of what is already there.
    if (entries.size() > before) {
        if (entries.size() > m_options.maxContactsPerUser)
            return fail(ErrorKind::Limit,
                        QStringLiteral("Too many contacts for this address (at most %1)")
                            .arg(m_options.maxContactsPerUser),
                        -1, 403);
        if (m_count - before + entries.size() > m_options.maxBindings)
            return fail(ErrorKind::Limit,
                        QStringLiteral("Registrar full (%1 bindings)").arg(m_options.maxBindings),
                        -1, 503);
    }
    return entries;
}

void BindingStore::commit(const QString& user, Entries entries) {
    if (const auto it = m_byUser.find(user); it != m_byUser.end()) {
        for (const Entry& entry : *it)
            untrack(entry);
        m_count -= it->size();
        m_byUser.erase(it);
    }
    if (!entries.empty()) {
        for (const Entry& entry : entries)
            track(entry);
        m_count += entries.size();
        m_byUser.insert(user, std::move(entries));
    }
    armExpiry();
    changed({user});
}

void BindingStore::track(const Entry& entry) {
    m_deadlines.emplace(entry.binding.expiresAt, entry.serial);
    m_userOfSerial.emplace(entry.serial, entry.binding.user);
    if (const QByteArray key = contactKey(entry.binding.contactUri); !key.isEmpty())
        m_byContact[key].push_back(entry.serial);
}

void BindingStore::untrack(const Entry& entry) {
    m_deadlines.erase({entry.binding.expiresAt, entry.serial});
    m_userOfSerial.erase(entry.serial);
    unindexContact(entry.binding, entry.serial);
}

void BindingStore::unindexContact(const Binding& binding, quint64 serial) {
    const QByteArray key = contactKey(binding.contactUri);
    const auto it = m_byContact.find(key);
    if (it == m_byContact.end()) return;
    std::erase(*it, serial);
    if (it->empty()) m_byContact.erase(it);
}

void BindingStore::armExpiry() {
    if (m_deadlines.empty()) {
        m_timers.cancel(m_expiryTimer);
        m_expiryTimer = base::kNoTimer;
        return;
    }
    const base::TimePoint earliest = m_deadlines.begin()->first;
    if (m_expiryTimer != base::kNoTimer && m_expiryDeadline == earliest) return;
    m_timers.cancel(m_expiryTimer);
    const base::Duration delay = std::max(base::Duration(0), earliest - m_timers.now());
    m_expiryDeadline = earliest;
    m_expiryTimer = m_timers.start(delay, [this] {
        m_expiryTimer = base::kNoTimer;
        expireDue();
    });
}

void BindingStore::expireDue() {
    const base::TimePoint now = m_timers.now();
    QStringList users;
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        const quint64 serial = m_deadlines.begin()->second;
        m_deadlines.erase(m_deadlines.begin());
        const auto owner = m_userOfSerial.find(serial);
        if (owner == m_userOfSerial.end()) continue;
        const QString user = owner->second;
        m_userOfSerial.erase(owner);
        const auto it = m_byUser.find(user);
        if (it == m_byUser.end()) continue;
        const auto entry = std::find_if(it->begin(), it->end(),
                                        [serial](const Entry& e) { return e.serial == serial; });
        if (entry == it->end()) continue;
        qCDebug(lcServer) << "binding expired:" << user << entry->binding.contactUri;
        unindexContact(entry->binding, serial);
        it->erase(entry);
        --m_count;
        if (it->empty()) m_byUser.erase(it);
        if (!users.contains(user)) users.append(user);
    }
    armExpiry();
    changed(users);
}

void BindingStore::changed(const QStringList& users) {
    if (users.isEmpty()) return;
    scheduleAutosave();
    // A copy: a listener may add or remove listeners.
    const auto listeners = m_listeners;
    for (const QString& user : users)
        for (const auto& [handle, listener] : listeners)
            listener(user);
}

int BindingStore::addListener(Listener listener) {
    const int handle = m_nextHandle++;
    m_listeners.emplace_back(handle, std::move(listener));
    return handle;
}

void BindingStore::removeListener(int handle) {
    std::erase_if(m_listeners, [handle](const auto& item) { return item.first == handle; });
}

void BindingStore::setAutosavePath(QString path) {
    m_autosavePath = std::move(path);
    if (m_autosavePath.isEmpty()) {
        m_timers.cancel(m_autosaveTimer);
        m_autosaveTimer = base::kNoTimer;
        m_dirty = false;
        return;
    }
    // What is already held goes to the new file too.
    if (m_count > 0) scheduleAutosave();
}

void BindingStore::scheduleAutosave() {
    if (m_autosavePath.isEmpty()) return;
    m_dirty = true;
    // Debounced: one write per second at most, however many REGISTERs arrive.
    if (m_autosaveTimer != base::kNoTimer) return;
    m_autosaveTimer = m_timers.start(kAutosaveDelay, [this] {
        m_autosaveTimer = base::kNoTimer;
        if (auto saved = flush(); !saved)
            qCWarning(lcServer) << "bindings not saved:" << saved.error().toString();
    });
}

Result<void> BindingStore::flush() {
    m_timers.cancel(m_autosaveTimer);
    m_autosaveTimer = base::kNoTimer;
    if (!m_dirty || m_autosavePath.isEmpty()) return {};
    m_dirty = false;
    return save(m_autosavePath);
}

Result<void> BindingStore::save(const QString& path) const {
    const base::TimePoint now = m_timers.now();
    const QDateTime wallNow = wallClockNow();
    std::vector<const Entry*> all;
    all.reserve(m_count);
    for (const Entries& entries : m_byUser)
        for (const Entry& entry : entries)
            if (entry.binding.expiresAt > now) all.push_back(&entry);
    // Oldest refresh first, so that load() restores the same "most recent" order.
    std::sort(all.begin(), all.end(),
              [](const Entry* a, const Entry* b) { return a->serial < b->serial; });

    QJsonArray bindings;
    for (const Entry* entry : all) {
        const Binding& b = entry->binding;
        const qint64 remainingMs = (b.expiresAt - now).count();
        QJsonObject object;
        object.insert(QStringLiteral("user"), b.user);
        object.insert(QStringLiteral("contact"), text(b.contactValue));
        object.insert(QStringLiteral("uri"), text(b.contactUri));
        object.insert(QStringLiteral("source"), b.source.toString());
        object.insert(QStringLiteral("behindNat"), b.behindNat);
        object.insert(QStringLiteral("q"), b.qValue / 1000.0);
        object.insert(QStringLiteral("callId"), text(b.callId));
        object.insert(QStringLiteral("cseq"), qint64(b.cseq));
        object.insert(QStringLiteral("userAgent"), text(b.userAgent));
        object.insert(QStringLiteral("instance"), text(b.instanceId));
        object.insert(QStringLiteral("expires"),
                      wallNow.addMSecs(remainingMs).toString(Qt::ISODateWithMs));
        bindings.append(object);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), kFormat);
    root.insert(QStringLiteral("version"), kVersion);
    root.insert(QStringLiteral("saved"), wallNow.toString(Qt::ISODateWithMs));
    root.insert(QStringLiteral("bindings"), bindings);

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorKind::Io,
                    QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    file.write(QJsonDocument(root).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return fail(ErrorKind::Io,
                    QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

namespace {

struct Restored {
    Binding binding;
    QDateTime expires;
};

Result<Restored> restoreBinding(const QJsonValue& value) {
    if (!value.isObject()) return fail(ErrorKind::Parse, QStringLiteral("not an object"));
    const QJsonObject object = value.toObject();
    auto stringField = [&object](const char* name, bool required) -> Result<QString> {
        const QJsonValue field = object.value(QLatin1String(name));
        if (field.isUndefined() && !required) return QString();
        if (!field.isString() || (required && field.toString().isEmpty()))
            return fail(ErrorKind::Parse,
                        QStringLiteral("\"%1\" missing or not a string").arg(QLatin1String(name)));
        return field.toString();
    };

    Restored out;
    Binding& b = out.binding;
    for (const char* name : {"user", "contact", "uri", "source", "callId", "expires"})
        if (auto field = stringField(name, true); !field) return fail(field.error());
    for (const char* name : {"userAgent", "instance"})
        if (auto field = stringField(name, false); !field) return fail(field.error());
    b.user = object.value(QLatin1String("user")).toString();
    b.contactValue = bytes(object.value(QLatin1String("contact")));
    b.contactUri = bytes(object.value(QLatin1String("uri")));
    b.callId = bytes(object.value(QLatin1String("callId")));
    b.userAgent = bytes(object.value(QLatin1String("userAgent")));
    b.instanceId = bytes(object.value(QLatin1String("instance")));

    if (!sip::NameAddr::parse(b.contactValue))
        return fail(ErrorKind::Parse, QStringLiteral("malformed contact"));
    const auto uri = sip::Uri::parse(b.contactUri);
    if (!uri || !uri->isSip()) return fail(ErrorKind::Parse, QStringLiteral("malformed uri"));
    auto source = transport::parseEndpoint(object.value(QLatin1String("source")).toString());
    if (!source) return fail(ErrorKind::Parse, QStringLiteral("malformed source"));
    b.source = *source;

    const QJsonValue nat = object.value(QLatin1String("behindNat"));
    if (!nat.isUndefined() && !nat.isBool())
        return fail(ErrorKind::Parse, QStringLiteral("\"behindNat\" is not a boolean"));
    b.behindNat = nat.toBool(false);

    const QJsonValue q = object.value(QLatin1String("q"));
    if (!q.isDouble() || !(q.toDouble() >= 0.0 && q.toDouble() <= 1.0))
        return fail(ErrorKind::Parse, QStringLiteral("\"q\" is not a number from 0 to 1"));
    b.qValue = int(std::lround(q.toDouble() * 1000.0));

    const QJsonValue cseq = object.value(QLatin1String("cseq"));
    const double number = cseq.toDouble(-1.0);
    if (!cseq.isDouble() || number < 0.0 || number > 4294967295.0 || number != std::floor(number))
        return fail(ErrorKind::Parse, QStringLiteral("\"cseq\" is not a CSeq number"));
    b.cseq = quint32(number);

    out.expires =
        QDateTime::fromString(object.value(QLatin1String("expires")).toString(), Qt::ISODateWithMs);
    if (!out.expires.isValid())
        return fail(ErrorKind::Parse, QStringLiteral("\"expires\" is not an ISO 8601 time"));
    return out;
}

}  // namespace

Result<void> BindingStore::load(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::Io,
                    QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    if (file.size() > kMaxFileSize)
        return fail(ErrorKind::Limit,
                    QStringLiteral("%1 is too large for a bindings file (%2 bytes)")
                        .arg(path)
                        .arg(file.size()));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.read(kMaxFileSize), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return fail(ErrorKind::Parse,
                    QStringLiteral("%1 is not valid JSON: %2").arg(path, parseError.errorString()),
                    parseError.offset);
    const QJsonObject root = document.object();
    if (!document.isObject() || root.value(QLatin1String("format")).toString() != kFormat)
        return fail(ErrorKind::Parse, QStringLiteral("%1 is not a bindings file").arg(path));
    if (root.value(QLatin1String("version")).toInt() != kVersion)
        return fail(ErrorKind::Parse, QStringLiteral("%1: unsupported bindings file version %2")
                                          .arg(path)
                                          .arg(root.value(QLatin1String("version")).toInt()));
    const QJsonValue list = root.value(QLatin1String("bindings"));
    if (!list.isArray())
        return fail(ErrorKind::Parse, QStringLiteral("%1: \"bindings\" is not a list").arg(path));

    // Everything is read and checked before the store changes: a bad file changes nothing.
    const base::TimePoint now = m_timers.now();
    const QDateTime wallNow = wallClockNow();
    QHash<QString, Entries> restored;
    std::size_t total = 0;
    std::size_t dropped = 0;
    const QJsonArray array = list.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        auto item = restoreBinding(array.at(i));
        if (!item)
            return fail(
                ErrorKind::Parse,
                QStringLiteral("%1: binding %2: %3").arg(path).arg(i + 1).arg(item.error().reason));
        const qint64 remainingMs = wallNow.msecsTo(item->expires);
        if (remainingMs <= 0) continue;  // expired while the server was down
        Entry entry{std::move(item->binding), m_nextSerial++};
        entry.binding.connection = 0;  // no connection survives a restart
        entry.binding.expiresAt =
            now + std::min(base::Duration(remainingMs), m_options.maxLifetime);
        Entries& entries = restored[entry.binding.user];
        const auto same = std::find_if(entries.begin(), entries.end(), [&entry](const Entry& e) {
            return sameContact(e.binding, entry.binding);
        });
        if (same != entries.end()) {
            *same = std::move(entry);
            continue;
        }
        entries.push_back(std::move(entry));
        ++total;
        // The file lists the oldest refresh first: over the limit, the oldest goes.
        if (entries.size() > m_options.maxContactsPerUser) {
            entries.erase(std::min_element(
                entries.begin(), entries.end(),
                [](const Entry& a, const Entry& b) { return a.serial < b.serial; }));
            --total;
            ++dropped;
        }
    }
    if (total > m_options.maxBindings) {
        std::vector<quint64> serials;
        serials.reserve(total);
        for (const Entries& entries : restored)
            for (const Entry& entry : entries)
                serials.push_back(entry.serial);
        std::sort(serials.begin(), serials.end());
        const quint64 keepFrom = serials[total - m_options.maxBindings];
        for (auto it = restored.begin(); it != restored.end();) {
            std::erase_if(*it, [keepFrom](const Entry& e) { return e.serial < keepFrom; });
            it = it->empty() ? restored.erase(it) : std::next(it);
        }
        dropped += total - m_options.maxBindings;
        total = m_options.maxBindings;
    }
    if (dropped > 0)
        qCWarning(lcServer) << "bindings file" << path << ":" << dropped
                            << "bindings over the limits were dropped";

    QStringList users = m_byUser.keys();
    for (auto it = restored.constBegin(); it != restored.constEnd(); ++it)
        if (!users.contains(it.key())) users.append(it.key());
    m_deadlines.clear();
    m_userOfSerial.clear();
    m_byContact.clear();
    m_byUser = std::move(restored);
    m_count = total;
    for (const Entries& entries : m_byUser)
        for (const Entry& entry : entries)
            track(entry);
    armExpiry();
    users.sort();
    changed(users);
    return {};
}

}  // namespace sb::server
