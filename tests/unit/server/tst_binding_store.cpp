// Tests server/binding_store.* and Binding::nextHop (server/location_service.*): lookup
// order, refresh matching, expiry on the clock, limits, listeners, and the JSON file that
// carries bindings across a restart (remaining lifetime by the wall clock).

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "base/manual_clock.h"
#include "server/binding_store.h"

using namespace std::chrono_literals;
using sb::base::ManualClock;
using sb::server::Binding;
using sb::server::BindingStore;
using sb::server::BindingStoreOptions;
using sb::transport::Endpoint;
using sb::transport::Protocol;

namespace {

Endpoint endpoint(const char* text) {
    auto parsed = sb::transport::parseEndpoint(QString::fromLatin1(text));
    Q_ASSERT(parsed);
    return *parsed;
}

Binding binding(const ManualClock& clock, const QString& user, const QByteArray& uri,
                std::chrono::seconds lifetime = 3600s, int q = 1000) {
    Binding b;
    b.user = user;
    b.contactUri = uri;
    b.contactValue = "<" + uri + ">";
    b.source = endpoint("udp:127.0.0.1:5062");
    b.qValue = q;
    b.callId = "call-" + uri;
    b.cseq = 1;
    b.expiresAt = clock.now() + lifetime;
    return b;
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

void writeFile(const QString& path, const QByteArray& content) {
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

}  // namespace

class TstBindingStore : public QObject {
    Q_OBJECT

private slots:
    void lookupOrdersByQThenMostRecentRefresh() {
        ManualClock clock;
        BindingStore store(clock);
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001", 3600s, 500)));
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5002")));
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5003")));
        auto found = store.lookup("201");
        QCOMPARE(found.size(), std::size_t(3));
        QCOMPARE(found[0].contactUri, QByteArray("sip:201@127.0.0.1:5003"));
        QCOMPARE(found[1].contactUri, QByteArray("sip:201@127.0.0.1:5002"));
        QCOMPARE(found[2].contactUri, QByteArray("sip:201@127.0.0.1:5001"));

        // Refreshing 5002 makes it the most recent of the q=1 pair.
        clock.advance(10s);
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5002")));
        found = store.lookup("201");
        QCOMPARE(found.size(), std::size_t(3));
        QCOMPARE(found[0].contactUri, QByteArray("sip:201@127.0.0.1:5002"));
        QCOMPARE(found[1].contactUri, QByteArray("sip:201@127.0.0.1:5003"));
        QCOMPARE(store.bindingCount(), std::size_t(3));
        QVERIFY(store.lookup("202").empty());
        QCOMPARE(store.registeredUsers(), QStringList{"201"});
    }

    void refreshMatchesEquivalentUriOrInstance() {
        ManualClock clock;
        BindingStore store(clock);
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5062")));
        // RFC 3261 §19.1.4: a parameter present on one side only does not count.
        Binding refreshed = binding(clock, "201", "sip:201@127.0.0.1:5062;line=abc", 600s);
        refreshed.cseq = 2;
        QVERIFY(store.put(refreshed));
        QCOMPARE(store.bindingCount(), std::size_t(1));
        QCOMPARE(store.lookup("201")[0].cseq, quint32(2));
        QCOMPARE(store.lookup("201")[0].expiresAt, clock.now() + 600s);

        // RFC 5626: the instance id names the device whatever its Contact is now.
        Binding phone = binding(clock, "202", "sip:202@127.0.0.1:5070");
        phone.instanceId = "<urn:uuid:00000000-0000-0000-0000-000000000001>";
        QVERIFY(store.put(phone));
        Binding moved = binding(clock, "202", "sip:202@127.0.0.1:5071");
        moved.instanceId = phone.instanceId;
        QVERIFY(store.put(moved));
        QCOMPARE(store.lookup("202").size(), std::size_t(1));
        QCOMPARE(store.lookup("202")[0].contactUri, QByteArray("sip:202@127.0.0.1:5071"));
        Binding other = binding(clock, "202", "sip:202@127.0.0.1:5071");
        other.instanceId = "<urn:uuid:00000000-0000-0000-0000-000000000002>";
        QVERIFY(store.put(other));
        QCOMPARE(store.lookup("202").size(), std::size_t(2));
    }

    void expiresOnTheClockAndTellsTheListener() {
        ManualClock clock;
        BindingStore store(clock);
        QStringList changes;
        store.addListener([&](const QString& user) { changes.append(user); });
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001", 60s)));
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5002", 120s)));
        QVERIFY(store.put(binding(clock, "202", "sip:202@127.0.0.1:5003", 90s)));
        QCOMPARE(changes, (QStringList{"201", "201", "202"}));
        // One timer for every deadline.
        QCOMPARE(clock.pendingTimers(), std::size_t(1));
        changes.clear();

        clock.advance(59s);
        QCOMPARE(store.lookup("201").size(), std::size_t(2));
        QVERIFY(changes.isEmpty());
        clock.advance(1s);
        QCOMPARE(store.lookup("201").size(), std::size_t(1));
        QCOMPARE(changes, QStringList{"201"});
        clock.advance(30s);
        QVERIFY(store.lookup("202").empty());
        QCOMPARE(store.registeredUsers(), QStringList{"201"});
        clock.advance(30s);
        QVERIFY(store.lookup("201").empty());
        QCOMPARE(changes, (QStringList{"201", "202", "201"}));
        QCOMPARE(store.bindingCount(), std::size_t(0));
        QVERIFY(store.registeredUsers().isEmpty());
        QCOMPARE(clock.pendingTimers(), std::size_t(0));
    }

    void refreshMovesTheDeadline() {
        ManualClock clock;
        BindingStore store(clock);
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001", 60s)));
        clock.advance(50s);
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001", 60s)));
        clock.advance(50s);
        QCOMPARE(store.lookup("201").size(), std::size_t(1));
        clock.advance(10s);
        QVERIFY(store.lookup("201").empty());
        QCOMPARE(clock.pendingTimers(), std::size_t(0));
    }

    void removeAndRemoveUserNotify() {
        ManualClock clock;
        BindingStore store(clock);
        QStringList changes;
        const int handle = store.addListener([&](const QString& user) { changes.append(user); });
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001")));
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5002")));
        QVERIFY(store.remove(binding(clock, "201", "sip:201@127.0.0.1:5001")));
        QVERIFY(!store.remove(binding(clock, "201", "sip:201@127.0.0.1:5009")));
        QCOMPARE(store.lookup("201").size(), std::size_t(1));
        QCOMPARE(store.removeUser("201"), std::size_t(1));
        QCOMPARE(store.removeUser("201"), std::size_t(0));
        QCOMPARE(changes, (QStringList{"201", "201", "201", "201"}));
        store.removeListener(handle);
        QVERIFY(store.put(binding(clock, "202", "sip:202@127.0.0.1:5001")));
        QCOMPARE(changes.size(), 4);
        QCOMPARE(clock.pendingTimers(), std::size_t(1));
    }

    void updateIsAllOrNothingWithinLimits() {
        ManualClock clock;
        BindingStoreOptions options;
        options.maxContactsPerUser = 2;
        options.maxBindings = 3;
        BindingStore store(clock, options);
        int notified = 0;
        store.addListener([&](const QString&) { ++notified; });
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001")));
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5002")));

        auto third = store.put(binding(clock, "201", "sip:201@127.0.0.1:5003"));
        QVERIFY(!third);
        QCOMPARE(third.error().kind, sb::ErrorKind::Limit);
        QCOMPARE(third.error().sipStatus, 403);
        QVERIFY(third.error().reason.contains("at most 2"));
        // A refresh and a swap (remove one, add one) do not grow the set: allowed.
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5002", 100s)));
        QVERIFY(store.update("201", {binding(clock, "201", "sip:201@127.0.0.1:5003")},
                             {binding(clock, "201", "sip:201@127.0.0.1:5001")}));
        QCOMPARE(store.lookup("201").size(), std::size_t(2));
        QCOMPARE(store.lookup("201")[0].contactUri, QByteArray("sip:201@127.0.0.1:5003"));
        QCOMPARE(notified, 4);

        // Two additions at once where only one fits: neither is stored.
        auto two = store.update("202", {binding(clock, "202", "sip:202@127.0.0.1:5001"),
                                        binding(clock, "202", "sip:202@127.0.0.1:5002")});
        QVERIFY(!two);
        QCOMPARE(two.error().sipStatus, 503);
        QVERIFY(store.lookup("202").empty());
        QCOMPARE(store.bindingCount(), std::size_t(2));
        QCOMPARE(notified, 4);
        QVERIFY(store.put(binding(clock, "202", "sip:202@127.0.0.1:5001")));
        auto full = store.put(binding(clock, "203", "sip:203@127.0.0.1:5001"));
        QVERIFY(!full);
        QCOMPARE(full.error().sipStatus, 503);
        QCOMPARE(store.bindingCount(), std::size_t(3));
    }

    void nextHopFollowsTheFlowOrTheContact() {
        ManualClock clock;
        Binding b = binding(clock, "201", "sip:201@127.0.0.2:5070");
        b.source = endpoint("udp:127.0.0.1:40000");
        b.behindNat = true;
        QCOMPARE(b.nextHop(), b.source);
        b.behindNat = false;
        QCOMPARE(b.nextHop(), endpoint("udp:127.0.0.2:5070"));
        b.contactUri = "sip:201@127.0.0.2;transport=tcp";
        QCOMPARE(b.nextHop(), endpoint("tcp:127.0.0.2:5060"));
        b.contactUri = "sips:201@127.0.0.2";
        QCOMPARE(b.nextHop(), endpoint("tls:127.0.0.2:5061"));
        b.contactUri = "sip:201@[::1]:5080";
        QCOMPARE(b.nextHop(), endpoint("udp:[::1]:5080"));
        // A name would need DNS: the source is used instead.
        b.contactUri = "sip:201@phone.example.com:5070";
        QCOMPARE(b.nextHop(), b.source);
        b.contactUri = "sip:201@127.0.0.2:5070;transport=ws";
        QCOMPARE(b.nextHop(), b.source);
        // Over a connection the phone opened, requests go back on it.
        b.contactUri = "sip:201@127.0.0.2:5070;transport=tcp";
        b.source = endpoint("tcp:127.0.0.1:40000");
        b.connection = 7;
        QCOMPARE(b.nextHop(), b.source);
        b.behindNat = true;
        QCOMPARE(b.nextHop(), b.source);
        // Restored from the file, the connection is gone: its source port was the phone's
        // ephemeral one, where nothing listens; the Contact says where the phone does.
        b.connection = 0;
        QCOMPARE(b.nextHop(), endpoint("tcp:127.0.0.2:5070"));
        b.behindNat = false;
        QCOMPARE(b.nextHop(), endpoint("tcp:127.0.0.2:5070"));
        b.contactUri = "sips:201@127.0.0.2:5071";
        QCOMPARE(b.nextHop(), endpoint("tls:127.0.0.2:5071"));
        // ... unless the Contact cannot be used: then the source is all there is.
        b.contactUri = "sip:201@phone.example.com;transport=tcp";
        QCOMPARE(b.nextHop(), b.source);
    }

    void lookupByContactFollowsTheStore() {
        ManualClock clock;
        BindingStore store(clock);
        // The URI views the literal itself, which outlives it.
        auto uri = [](const char* text) {
            auto parsed = sb::sip::Uri::parse(QByteArrayView(text));
            Q_ASSERT(parsed);
            return *parsed;
        };
        QVERIFY(!store.lookupByContact(uri("sip:201@127.0.0.2:5070")));
        QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.2:5070;transport=udp", 100s)));
        Binding noUser = binding(clock, "202", "sip:127.0.0.3:5080", 200s);
        noUser.source = endpoint("udp:127.0.0.9:40000");
        noUser.behindNat = true;
        QVERIFY(store.put(noUser));

        // Found by the URI: user, host in any letter case, port as written; URI
        // parameters do not matter.
        auto found = store.lookupByContact(uri("sip:201@127.0.0.2:5070"));
        QVERIFY(found);
        QCOMPARE(found->user, QStringLiteral("201"));
        QVERIFY(store.lookupByContact(uri("sip:201@127.0.0.2:5070;ob")));
        QVERIFY(!store.lookupByContact(uri("sip:201@127.0.0.2")));       // other port
        QVERIFY(!store.lookupByContact(uri("sip:209@127.0.0.2:5070")));  // other user
        QVERIFY(!store.lookupByContact(uri("sips:201@127.0.0.2:5070")));
        found = store.lookupByContact(uri("sip:127.0.0.3:5080"));
        QVERIFY(found);
        QCOMPARE(found->user, QStringLiteral("202"));
        QCOMPARE(found->nextHop(), endpoint("udp:127.0.0.9:40000"));

        // Two users registered the same contact: the most recent refresh wins.
        QVERIFY(store.put(binding(clock, "203", "sip:127.0.0.3:5080", 300s)));
        QCOMPARE(store.lookupByContact(uri("sip:127.0.0.3:5080"))->user, QStringLiteral("203"));
        // Removal and expiry take it out of the index.
        QVERIFY(store.remove(binding(clock, "203", "sip:127.0.0.3:5080")));
        QCOMPARE(store.lookupByContact(uri("sip:127.0.0.3:5080"))->user, QStringLiteral("202"));
        clock.advance(100s);
        QVERIFY(!store.lookupByContact(uri("sip:201@127.0.0.2:5070")));
        clock.advance(100s);
        QVERIFY(!store.lookupByContact(uri("sip:127.0.0.3:5080")));
        QCOMPARE(store.bindingCount(), std::size_t(0));
        // IPv6 in another spelling is the same address.
        QVERIFY(store.put(binding(clock, "204", "sip:204@[::1]:5090")));
        QVERIFY(store.lookupByContact(uri("sip:204@[0:0::1]:5090")));
        QCOMPARE(store.removeUser("204"), std::size_t(1));
        QVERIFY(!store.lookupByContact(uri("sip:204@[::1]:5090")));
    }

    void saveThenLoadLaterKeepsRemainingLifetime() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath("bindings.json");
        QDateTime wall = QDateTime(QDate(2024, 3, 1), QTime(12, 0), Qt::UTC);
        BindingStoreOptions options;
        options.wallClock = [&wall] { return wall; };
        {
            ManualClock clock;
            BindingStore store(clock, options);
            QVERIFY(store.put(binding(clock, "201", "sip:201@127.0.0.1:5001", 100s)));
            Binding kept = binding(clock, "202", "sip:202@127.0.0.2:5002", 3600s, 700);
            kept.contactValue =
                "\"Bob \\\"B\\\" & Co\" <sip:202@127.0.0.2:5002>;+sip.instance="
                "\"<urn:uuid:00000000-0000-0000-0000-000000000002>\"";
            kept.source = endpoint("tcp:[::1]:40123");
            kept.connection = 77;
            kept.behindNat = true;
            kept.callId = "abc@127.0.0.2";
            kept.cseq = 4000000000u;
            kept.userAgent = "Phone/1.0 (é)";
            kept.instanceId = "<urn:uuid:00000000-0000-0000-0000-000000000002>";
            QVERIFY(store.put(kept));
            QVERIFY(store.put(binding(clock, "202", "sip:202@127.0.0.3:5003", 3600s, 700)));
            auto saved = store.save(path);
            QVERIFY2(saved, qPrintable(saved ? QString() : saved.error().toString()));
        }
        // "Restart" 200 s later: another monotonic clock, the wall clock moved on.
        wall = wall.addSecs(200);
        ManualClock clock(sb::base::TimePoint(sb::base::Duration(5'000)));
        BindingStore store(clock, options);
        QStringList changes;
        store.addListener([&](const QString& user) { changes.append(user); });
        auto loaded = store.load(path);
        QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().toString()));
        QCOMPARE(changes, QStringList{"202"});
        QVERIFY(store.lookup("201").empty());
        QCOMPARE(store.bindingCount(), std::size_t(2));
        const auto found = store.lookup("202");
        QCOMPARE(found.size(), std::size_t(2));
        // The most recent refresh is still first among equal q.
        QCOMPARE(found[0].contactUri, QByteArray("sip:202@127.0.0.3:5003"));
        const Binding& b = found[1];
        QCOMPARE(b.user, QStringLiteral("202"));
        QCOMPARE(b.contactUri, QByteArray("sip:202@127.0.0.2:5002"));
        QCOMPARE(b.contactValue,
                 QByteArray("\"Bob \\\"B\\\" & Co\" <sip:202@127.0.0.2:5002>;+sip.instance="
                            "\"<urn:uuid:00000000-0000-0000-0000-000000000002>\""));
        QCOMPARE(b.source, endpoint("tcp:[::1]:40123"));
        QCOMPARE(b.connection, sb::transport::ConnectionId(0));
        QVERIFY(b.behindNat);
        QCOMPARE(b.qValue, 700);
        QCOMPARE(b.callId, QByteArray("abc@127.0.0.2"));
        QCOMPARE(b.cseq, 4000000000u);
        QCOMPARE(b.userAgent, QByteArray("Phone/1.0 (é)"));
        QCOMPARE(b.instanceId, QByteArray("<urn:uuid:00000000-0000-0000-0000-000000000002>"));
        QCOMPARE(b.expiresAt, clock.now() + 3400s);
        // The TCP flow did not survive: requests go to the Contact, not to the phone's
        // old ephemeral port.
        QCOMPARE(b.nextHop(), endpoint("udp:127.0.0.2:5002"));
        // The contact index is rebuilt from the file.
        const auto byContact =
            store.lookupByContact(*sb::sip::Uri::parse(QByteArray("sip:202@127.0.0.2:5002")));
        QVERIFY(byContact);
        QCOMPARE(byContact->callId, QByteArray("abc@127.0.0.2"));

        clock.advance(3399s);
        QCOMPARE(store.lookup("202").size(), std::size_t(2));
        clock.advance(1s);
        QVERIFY(store.lookup("202").empty());
        QVERIFY(!store.lookupByContact(*sb::sip::Uri::parse(QByteArray("sip:202@127.0.0.2:5002"))));
        QCOMPARE(store.bindingCount(), std::size_t(0));
    }

    void loadCapsTheLifetimeAndKeepsLimits() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath("bindings.json");
        QDateTime wall = QDateTime(QDate(2024, 3, 1), QTime(12, 0), Qt::UTC);
        BindingStoreOptions options;
        options.wallClock = [&wall] { return wall; };
        {
            ManualClock clock;
            BindingStore store(clock, options);
            for (int port = 5001; port <= 5004; ++port)
                QVERIFY(
                    store.put(binding(clock, "201", "sip:201@127.0.0.1:" + QByteArray::number(port),
                                      std::chrono::hours(24 * 30))));
            QVERIFY(store.save(path));
        }
        options.maxLifetime = 1h;
        options.maxContactsPerUser = 3;
        options.maxBindings = 2;
        ManualClock clock;
        BindingStore store(clock, options);
        QVERIFY(store.load(path));
        const auto found = store.lookup("201");
        QCOMPARE(found.size(), std::size_t(2));
        // The most recent ones are kept.
        QCOMPARE(found[0].contactUri, QByteArray("sip:201@127.0.0.1:5004"));
        QCOMPARE(found[1].contactUri, QByteArray("sip:201@127.0.0.1:5003"));
        QCOMPARE(found[0].expiresAt, clock.now() + 1h);
    }

    void corruptFileIsAnErrorAndChangesNothing() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath("bindings.json");
        ManualClock clock;
        BindingStore store(clock);

        writeFile(path, "{\"format\": \"switchboard-bindings\", \"bindings\": [ {\"user\": ");
        auto loaded = store.load(path);
        QVERIFY(!loaded);
        QVERIFY(loaded.error().reason.contains("not valid JSON"));
        QCOMPARE(store.bindingCount(), std::size_t(0));

        writeFile(path, "[1, 2, 3]");
        QVERIFY(!store.load(path));
        QVERIFY(!store.load(dir.filePath("missing.json")));

        // One good binding then a bad one: nothing of the file is taken, and what the
        // store held stays.
        QVERIFY(store.put(binding(clock, "209", "sip:209@127.0.0.1:5009")));
        QJsonObject good{{"user", "201"},
                         {"contact", "<sip:201@127.0.0.1:5001>"},
                         {"uri", "sip:201@127.0.0.1:5001"},
                         {"source", "udp:127.0.0.1:5001"},
                         {"q", 1},
                         {"callId", "x"},
                         {"cseq", 1},
                         {"expires", "2999-01-01T00:00:00.000Z"}};
        QJsonObject bad = good;
        bad.insert("source", "udp:not-an-address:5060");
        QJsonObject root{{"format", "switchboard-bindings"},
                         {"version", 1},
                         {"bindings", QJsonArray{good, bad}}};
        writeFile(path, QJsonDocument(root).toJson());
        loaded = store.load(path);
        QVERIFY(!loaded);
        QVERIFY2(loaded.error().reason.contains("binding 2"), qPrintable(loaded.error().reason));
        QCOMPARE(store.bindingCount(), std::size_t(1));
        QCOMPARE(store.registeredUsers(), QStringList{"209"});

        for (const auto& [field, value] :
             std::vector<std::pair<QString, QJsonValue>>{{"q", 1.5},
                                                         {"cseq", -1},
                                                         {"cseq", 1.5},
                                                         {"expires", "yesterday"},
                                                         {"uri", "mailto:x@example.com"},
                                                         {"contact", "<sip:201@"},
                                                         {"user", ""},
                                                         {"behindNat", "yes"}}) {
            QJsonObject broken = good;
            broken.insert(field, value);
            root.insert("bindings", QJsonArray{broken});
            writeFile(path, QJsonDocument(root).toJson());
            QVERIFY2(!store.load(path), qPrintable(field));
        }
        root.insert("bindings", QJsonArray{good});
        root.insert("version", 2);
        writeFile(path, QJsonDocument(root).toJson());
        QVERIFY(!store.load(path));
        QCOMPARE(store.registeredUsers(), QStringList{"209"});

        // The good file alone replaces the contents.
        root.insert("version", 1);
        writeFile(path, QJsonDocument(root).toJson());
        QVERIFY(store.load(path));
        QCOMPARE(store.registeredUsers(), QStringList{"201"});
    }

    void autosaveIsDebouncedAndFlushedOnDestruction() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath("bindings.json");
        ManualClock clock;
        auto store = std::make_unique<BindingStore>(clock);
        store->setAutosavePath(path);
        QVERIFY(store->put(binding(clock, "201", "sip:201@127.0.0.1:5001")));
        QVERIFY(!QFile::exists(path));
        clock.advance(500ms);
        QVERIFY(store->put(binding(clock, "202", "sip:202@127.0.0.1:5002")));
        QVERIFY(!QFile::exists(path));
        // One write, a second after the first change, with both changes.
        clock.advance(500ms);
        QByteArray saved = readFile(path);
        QVERIFY(saved.contains("sip:201@127.0.0.1:5001"));
        QVERIFY(saved.contains("sip:202@127.0.0.1:5002"));

        clock.advance(200ms);
        QVERIFY(store->put(binding(clock, "203", "sip:203@127.0.0.1:5003")));
        clock.advance(999ms);
        QVERIFY(!readFile(path).contains("sip:203@127.0.0.1:5003"));
        clock.advance(1ms);
        QVERIFY(readFile(path).contains("sip:203@127.0.0.1:5003"));

        // Expiry is a change too; no change, no write.
        QVERIFY(store->put(binding(clock, "204", "sip:204@127.0.0.1:5004", 60s)));
        QVERIFY(store->flush());
        QVERIFY(readFile(path).contains("sip:204@127.0.0.1:5004"));
        clock.advance(61s);
        QVERIFY(!readFile(path).contains("sip:204@127.0.0.1:5004"));
        QFile::remove(path);
        clock.advance(10s);
        QVERIFY(!QFile::exists(path));

        // A change not yet written is written when the store goes away.
        QVERIFY(store->removeUser("201"));
        store.reset();
        saved = readFile(path);
        QVERIFY(!saved.contains("sip:201@127.0.0.1:5001"));
        QVERIFY(saved.contains("sip:203@127.0.0.1:5003"));
        QCOMPARE(clock.pendingTimers(), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TstBindingStore)
#include "tst_binding_store.moc"
