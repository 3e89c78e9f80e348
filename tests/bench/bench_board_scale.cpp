// bench_board_scale: the real ui::MainWindow over a board::Console of 2,000 extensions
// (groups of 50), shown on the offscreen platform (which paints into its backing store
// like a real one), while a QTimer on the GUI thread drives 1,000 lamp changes per second
// through Console::applyDocument for 10 s: random extensions cycling idle → ringing →
// busy → idle, each call with another party (RFC 4235 documents, version rising per
// extension).
//
// Measured on the GUI thread, by timing every top-level event dispatch
// (QApplication::notify at nesting depth 0, which includes the driver's own timer, the
// console's coalesced batch, the model/view updates and every paint):
// - per 16 ms frame, how long the thread was busy (blocked for input and painting):
//   p50/p99/max; and the longest single dispatch;
// - the lag of a 1 ms probe timer (how late the event loop got round to it): p50/p99/max;
// - paint events of the board's viewport, and the time spent in them;
// - VmHWM/VmRSS from /proc/self/status.
// Not a test: prints figures, asserts nothing about time. See README.md.

#include <QAbstractItemView>
#include <QApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/clock.h"
#include "board/console.h"
#include "dialoginfo/dialog_info.h"
#include "ui/board_view.h"
#include "ui/main_window.h"

namespace {

constexpr qint64 kFrameNs = 16'000'000;

long procStatusKb(const char* key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    const std::string prefix = std::string(key) + ":";
    while (std::getline(status, line))
        if (line.rfind(prefix, 0) == 0)
            return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
    return -1;
}

// Times every top-level dispatch and books it to the 16 ms frames it overlaps.
class TimedApplication final : public QApplication {
public:
    using QApplication::QApplication;

    bool notify(QObject* receiver, QEvent* event) override {
        if (!m_recording || m_depth > 0) {
            ++m_depth;
            const bool isPaint =
                m_recording && event->type() == QEvent::Paint && receiver == m_paintTarget;
            const qint64 start = isPaint ? m_clock.nsecsElapsed() : 0;
            const bool handled = QApplication::notify(receiver, event);
            if (isPaint) {
                ++m_paints;
                m_paintNs += m_clock.nsecsElapsed() - start;
            }
            --m_depth;
            return handled;
        }
        ++m_depth;
        // Read before the dispatch: a DeferredDelete destroys the receiver.
        const char* receiverClass = receiver->metaObject()->className();
        const int type = int(event->type());
        const qint64 start = m_clock.nsecsElapsed();
        const bool isPaint = event->type() == QEvent::Paint && receiver == m_paintTarget;
        const bool handled = QApplication::notify(receiver, event);
        const qint64 end = m_clock.nsecsElapsed();
        --m_depth;
        if (isPaint) {
            ++m_paints;
            m_paintNs += end - start;
        }
        book(start, end);
        auto& [count, total] = m_byType[{type, receiverClass}];
        ++count;
        total += end - start;
        return handled;
    }

    // Top-level dispatch time by event type and receiver class, largest first.
    void printTopDispatches(int n) const {
        std::vector<std::pair<qint64, std::string>> rows;
        for (const auto& [key, value] : m_byType)
            rows.emplace_back(value.second, "type " + std::to_string(key.first) + " to " +
                                                key.second + ": " + std::to_string(value.first) +
                                                " dispatches");
        std::sort(rows.rbegin(), rows.rend());
        for (int i = 0; i < n && i < int(rows.size()); ++i)
            std::printf("  %8.1f ms  %s\n", double(rows[std::size_t(i)].first) / 1e6,
                        rows[std::size_t(i)].second.c_str());
    }

    void startRecording(QObject* paintTarget, qint64 durationNs) {
        m_paintTarget = paintTarget;
        m_clock.start();
        m_frames.assign(std::size_t(durationNs / kFrameNs + 64), 0);
        m_blocked.assign(m_frames.size(), 0);
        m_recording = true;
    }
    void stopRecording() {
        m_recording = false;
        m_elapsedNs = m_clock.nsecsElapsed();
    }

    std::vector<qint64> frames() const { return firstFrames(m_frames); }
    std::vector<qint64> blocked() const { return firstFrames(m_blocked); }
    qint64 longestDispatchNs() const { return m_longest; }
    long paints() const { return m_paints; }
    qint64 paintNs() const { return m_paintNs; }
    qint64 now() const { return m_clock.nsecsElapsed(); }

private:
    void book(qint64 start, qint64 end) {
        m_longest = std::max(m_longest, end - start);
        // Blocked: the longest dispatch that ended in the frame, whole (a dispatch of
        // 40 ms delays input by 40 ms, however many frames it spans).
        const std::size_t endFrame = std::size_t(end / kFrameNs);
        if (endFrame >= m_blocked.size()) m_blocked.resize(endFrame + 64, 0);
        m_blocked[endFrame] = std::max(m_blocked[endFrame], end - start);
        while (start < end) {
            const std::size_t frame = std::size_t(start / kFrameNs);
            const qint64 frameEnd = qint64(frame + 1) * kFrameNs;
            const qint64 slice = std::min(end, frameEnd) - start;
            if (frame >= m_frames.size()) m_frames.resize(frame + 64, 0);
            m_frames[frame] += slice;
            start += slice;
        }
    }

    QElapsedTimer m_clock;
    std::vector<qint64> firstFrames(const std::vector<qint64>& all) const {
        const std::size_t n =
            std::min(all.size(), std::size_t((m_elapsedNs + kFrameNs - 1) / kFrameNs));
        return {all.begin(), all.begin() + qsizetype(n)};
    }

    std::vector<qint64> m_frames;   // busy ns per 16 ms frame
    std::vector<qint64> m_blocked;  // per frame: the longest dispatch that ended in it
    std::map<std::pair<int, std::string>, std::pair<long, qint64>> m_byType;
    QObject* m_paintTarget = nullptr;
    qint64 m_longest = 0;
    qint64 m_paintNs = 0;
    qint64 m_elapsedNs = 0;
    long m_paints = 0;
    int m_depth = 0;
    bool m_recording = false;
};

double percentileMs(std::vector<qint64> values, double q) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return double(values[std::size_t(q * double(values.size() - 1))]) / 1e6;
}

struct Line {
    int step = 0;  // 0 idle, 1 ringing, 2 busy
    quint64 version = 0;
    int call = 0;
    QString other;
    QString otherName;
};

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    TimedApplication app(argc, argv);
    int extensionsCount = 2000, groupSize = 50, changesPerSecond = 1000, seconds = 10;
    int width = 1920, height = 1080;
    for (const QString& arg : app.arguments().mid(1)) {
        const int value = arg.section('=', 1).toInt();
        if (arg.startsWith("--extensions="))
            extensionsCount = value;
        else if (arg.startsWith("--group-size="))
            groupSize = std::max(1, value);
        else if (arg.startsWith("--rate="))
            changesPerSecond = value;
        else if (arg.startsWith("--seconds="))
            seconds = value;
        else if (arg.startsWith("--width="))
            width = value;
        else if (arg.startsWith("--height="))
            height = value;
        else {
            std::fprintf(stderr,
                         "usage: bench_board_scale [--extensions=2000] [--group-size=50] "
                         "[--rate=1000] [--seconds=10] [--width=1920] [--height=1080]\n");
            return 2;
        }
    }
    const long rssAtStart = procStatusKb("VmRSS");
    const QString domain = QStringLiteral("bench.test");

    sb::base::SteadyClock clock;
    sb::board::Console console(clock);
    console.setDomain(domain);
    std::vector<sb::board::Extension> extensions;
    extensions.reserve(std::size_t(extensionsCount));
    for (int i = 0; i < extensionsCount; ++i) {
        sb::board::Extension e;
        e.number = QString::number(10000 + i);
        e.name = QStringLiteral("Person %1 Example").arg(10000 + i);
        e.group = QStringLiteral("Team %1").arg(i / groupSize + 1);
        extensions.push_back(e);
    }
    if (const auto set = console.setDirectory(extensions); !set) {
        std::fprintf(stderr, "directory: %s\n", qPrintable(set.error().reason));
        return 1;
    }
    sb::ua::SubscriptionStatus active;
    active.state = sb::ua::SubscriptionStatus::State::Active;
    for (const auto& e : extensions)
        console.setSubscriptionStatus(e.number, active);

    QElapsedTimer setup;
    setup.start();
    sb::ui::MainWindow window(console);
    window.resize(width, height);
    window.show();
    // Let the window lay out and paint its first frame before anything is measured.
    for (int i = 0; i < 20; ++i)
        app.processEvents();
    const QImage first = window.grab().toImage();
    const qint64 setupMs = setup.elapsed();
    QAbstractItemView* view = window.boardView();
    std::printf(
        "board: %d extensions in groups of %d, window %dx%d on \"%s\", \"All\" tab with "
        "%d tiles; first frame %lld ms (grab %dx%d)\n",
        extensionsCount, groupSize, width, height, qPrintable(app.platformName()),
        view->model() ? view->model()->rowCount() : -1, setupMs, first.width(), first.height());
    std::fflush(stdout);

    // The driver: changesPerSecond on average, from a 4 ms timer on the GUI thread, each
    // tick catching up to elapsed × rate (a late tick applies more).
    std::vector<Line> lines(static_cast<std::size_t>(extensionsCount));
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> pick(0, extensionsCount - 1);
    long applied = 0, appliedOk = 0;
    const qint64 durationNs = qint64(seconds) * 1'000'000'000;
    auto change = [&] {
        const int index = pick(rng);
        Line& line = lines[std::size_t(index)];
        line.step = (line.step + 1) % 3;
        if (line.step == 1) {
            ++line.call;
            const int other = 20000 + int(rng() % 9000);
            line.other = QStringLiteral("sip:%1@%2").arg(other).arg(domain);
            line.otherName = QStringLiteral("Caller %1").arg(other);
        }
        const QString number = extensions[std::size_t(index)].number;
        sb::dialoginfo::Document doc;
        doc.version = line.version++;
        doc.state = sb::dialoginfo::DocumentState::Full;
        doc.entity = QStringLiteral("sip:%1@%2").arg(number, domain);
        sb::dialoginfo::DialogInfo dialog;
        dialog.id = QStringLiteral("%1-%2").arg(number).arg(line.call);
        dialog.callId = dialog.id + QStringLiteral("@127.0.0.1");
        dialog.localTag = QStringLiteral("l%1").arg(line.call);
        dialog.remoteTag = QStringLiteral("r%1").arg(line.call);
        dialog.direction = sb::dialoginfo::Direction::Recipient;
        dialog.state = line.step == 1   ? sb::dialoginfo::DialogState::Early
                       : line.step == 2 ? sb::dialoginfo::DialogState::Confirmed
                                        : sb::dialoginfo::DialogState::Terminated;
        dialog.local.identity = doc.entity;
        dialog.remote.identity = line.other;
        dialog.remote.display = line.otherName;
        doc.dialogs.push_back(std::move(dialog));
        ++applied;
        if (console.applyDocument(doc, number) == sb::board::ApplyResult::Applied) ++appliedOk;
    };

    std::vector<qint64> probeLag;
    probeLag.reserve(std::size_t(seconds) * 1100);
    qint64 lastProbe = -1;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = app.now();
        if (lastProbe >= 0) probeLag.push_back(std::max<qint64>(0, now - lastProbe - 1'000'000));
        lastProbe = now;
    });

    long batches = 0, changedInBatches = 0;
    QObject::connect(&console, &sb::board::Console::extensionsChanged,
                     [&](const QStringList& numbers) {
                         ++batches;
                         changedInBatches += numbers.size();
                     });

    QTimer driver;
    driver.setTimerType(Qt::PreciseTimer);
    driver.setInterval(4);
    QObject::connect(&driver, &QTimer::timeout, [&] {
        const qint64 now = app.now();
        if (now >= durationNs) {
            driver.stop();
            probe.stop();
            app.stopRecording();
            app.quit();
            return;
        }
        const long target = long(double(now) * changesPerSecond / 1e9);
        while (applied < target)
            change();
    });

    app.startRecording(view->viewport(), durationNs);
    driver.start();
    probe.start();
    app.exec();

    const std::vector<qint64> frames = app.frames();
    std::printf(
        "window: %d s, lamp changes applied: %ld (%ld changed state), %.0f/s; console "
        "batches %ld (%ld extension updates)\n",
        seconds, applied, appliedOk, double(applied) / seconds, batches, changedInBatches);
    const std::vector<qint64> blocked = app.blocked();
    const long saturated = long(std::count_if(
        frames.begin(), frames.end(), [](qint64 busy) { return busy > kFrameNs * 9 / 10; }));
    std::printf(
        "GUI thread blocked per 16 ms frame (longest dispatch ending in it, %zu frames): "
        "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
        blocked.size(), percentileMs(blocked, 0.5), percentileMs(blocked, 0.99),
        percentileMs(blocked, 1.0));
    std::printf(
        "GUI thread busy per 16 ms frame (sum of dispatches): p50 %.2f ms, p99 %.2f ms; "
        "frames more than 90%% busy: %ld of %zu\n",
        percentileMs(frames, 0.5), percentileMs(frames, 0.99), saturated, frames.size());
    std::printf("1 ms probe timer lag (%zu ticks): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                probeLag.size(), percentileMs(probeLag, 0.5), percentileMs(probeLag, 0.99),
                percentileMs(probeLag, 1.0));
    std::printf("board viewport repaints: %ld (%.1f/s), %.2f ms each on average\n", app.paints(),
                double(app.paints()) / seconds,
                app.paints() ? double(app.paintNs()) / 1e6 / double(app.paints()) : 0.0);
    std::printf("GUI thread time by top-level event (QEvent::Type, receiver class):\n");
    app.printTopDispatches(6);
    std::printf("memory: VmRSS at start %ld kB, now %ld kB, VmHWM %ld kB\n", rssAtStart,
                procStatusKb("VmRSS"), procStatusKb("VmHWM"));
    std::printf("board_blocked_p99_ms=%.2f\n", percentileMs(blocked, 0.99));
    std::printf("board_busy_p50_ms=%.2f\n", percentileMs(frames, 0.5));
    std::printf("board_vmhwm_kb=%ld\n", procStatusKb("VmHWM"));
    return 0;
}
