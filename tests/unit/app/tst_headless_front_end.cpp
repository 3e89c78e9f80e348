// Tests app/headless_front_end.*: commands change the board and are acknowledged before
// their events; only real changes are written; events lost to a reader that fell
// behind are announced and followed by a snapshot.

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "app/account_session.h"
#include "app/headless_front_end.h"
#include "base/manual_clock.h"
#include "board/console.h"
#include "dialoginfo/dialog_info.h"

using namespace sb;

namespace {

// Collects written lines; refuses writes while `refuse` is set (a full output buffer).
class RecordingDevice final : public QIODevice {
public:
    RecordingDevice() { open(QIODevice::WriteOnly); }
    bool refuse = false;
    std::vector<QJsonObject> events;

protected:
    qint64 readData(char*, qint64) override { return -1; }
    qint64 writeData(const char* data, qint64 size) override {
        if (refuse) return -1;
        for (const QByteArray& line : QByteArray(data, size).split('\n'))
            if (!line.isEmpty()) events.push_back(QJsonDocument::fromJson(line).object());
        return size;
    }
};

app::Config accountConfig() {
    app::Config config;
    config.account.aor = QStringLiteral("sip:200@example.com");
    return config;
}

const QByteArray kRinging =
    R"(<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:201@example.com"><dialog id="d1" direction="recipient"><state>early</state><remote><identity display="Bob">sip:202@example.com</identity></remote></dialog></dialog-info>)";

struct World {
    World() : session(accountConfig()), console(clock), frontEnd(session, console, out) {
        dialoginfo::initialiseXml();
        console.setDomain(QStringLiteral("example.com"));
    }
    std::vector<QJsonObject> named(const QString& event) const {
        std::vector<QJsonObject> out;
        for (const QJsonObject& object : this->out.events)
            if (object.value("event").toString() == event) out.push_back(object);
        return out;
    }
    void settle() {
        QCoreApplication::processEvents();
        QCoreApplication::processEvents();
    }
    void activate(const QString& number) {
        ua::SubscriptionStatus active;
        active.state = ua::SubscriptionStatus::State::Active;
        console.setSubscriptionStatus(number, active);
    }

    base::ManualClock clock;
    app::AccountSession session;
    board::Console console;
    RecordingDevice out;
    app::HeadlessFrontEnd frontEnd;
};

}  // namespace

class TstHeadlessFrontEnd : public QObject {
    Q_OBJECT

private slots:
    void monitorIsAcknowledgedThenAnnounced() {
        World world;
        world.frontEnd.handleLine(R"({"cmd":"monitor","id":"m","extension":"201","name":"Ann"})");
        world.settle();
        QVERIFY(world.out.events.size() >= 3);
        QCOMPARE(world.out.events[0].value("event").toString(), QStringLiteral("ack"));
        QCOMPARE(world.out.events[0].value("id").toString(), QStringLiteral("m"));
        const auto lamps = world.named(QStringLiteral("lamp"));
        QCOMPARE(lamps.size(), std::size_t(1));
        QCOMPARE(lamps[0].value("extension").toString(), QStringLiteral("201"));
        QCOMPARE(lamps[0].value("name").toString(), QStringLiteral("Ann"));
        QCOMPARE(lamps[0].value("lamp").toString(), QStringLiteral("offline"));
        QCOMPARE(world.named(QStringLiteral("subscription")).size(), std::size_t(1));
    }

    void onlyRealChangesAreWritten() {
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), {}, {}, {}}));
        world.activate(QStringLiteral("201"));
        world.settle();
        const std::size_t before = world.named(QStringLiteral("lamp")).size();
        QCOMPARE(world.console.applyDialogInfo(kRinging, QStringLiteral("201")),
                 board::ApplyResult::Applied);
        world.settle();
        QByteArray again = kRinging;
        again.replace("version=\"1\"", "version=\"2\"");  // Kamailio: new version, no change
        QCOMPARE(world.console.applyDialogInfo(again, QStringLiteral("201")),
                 board::ApplyResult::Applied);
        world.settle();
        const auto lamps = world.named(QStringLiteral("lamp"));
        QCOMPARE(lamps.size(), before + 1);
        QCOMPARE(lamps.back().value("lamp").toString(), QStringLiteral("ringing"));
        QCOMPARE(lamps.back().value("other").toObject().value("display").toString(),
                 QStringLiteral("Bob"));
    }

    void lostEventsAreAnnouncedAndFollowedByASnapshot() {
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), {}, {}, {}}));
        QVERIFY(world.console.monitor({QStringLiteral("202"), {}, {}, {}}));
        world.activate(QStringLiteral("201"));
        world.settle();
        world.out.refuse = true;  // the reader fell behind
        QCOMPARE(world.console.applyDialogInfo(kRinging, QStringLiteral("201")),
                 board::ApplyResult::Applied);
        world.settle();
        world.out.refuse = false;
        world.out.events.clear();
        world.activate(QStringLiteral("202"));  // any later event
        world.settle();
        const auto errors = world.named(QStringLiteral("error"));
        QCOMPARE(errors.size(), std::size_t(1));
        QVERIFY(errors[0].value("message").toString().contains(QStringLiteral("lost")));
        const auto snapshots = world.named(QStringLiteral("snapshot"));
        QCOMPARE(snapshots.size(), std::size_t(1));
        const QJsonArray extensions = snapshots[0].value("extensions").toArray();
        QCOMPARE(extensions.size(), 2);
        QCOMPARE(extensions.at(0).toObject().value("lamp").toString(), QStringLiteral("ringing"));
    }

    void unknownUnmonitorIsAnError() {
        World world;
        world.frontEnd.handleLine(R"({"cmd":"unmonitor","id":4,"extension":"299"})");
        const auto errors = world.named(QStringLiteral("error"));
        QCOMPARE(errors.size(), std::size_t(1));
        QCOMPARE(errors[0].value("id").toInt(), 4);
        QVERIFY(errors[0].value("message").toString().contains(QStringLiteral("299")));
    }

    void aBadNumberIsRefusedWithTheReason() {
        World world;
        world.frontEnd.handleLine(R"({"cmd":"monitor","id":5,"extension":"2 01"})");
        const auto errors = world.named(QStringLiteral("error"));
        QCOMPARE(errors.size(), std::size_t(1));
        QVERIFY2(errors[0].value("message").toString().contains(QStringLiteral("2 01")),
                 qPrintable(errors[0].value("message").toString()));
        QCOMPARE(world.console.monitoredCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TstHeadlessFrontEnd)
#include "tst_headless_front_end.moc"
