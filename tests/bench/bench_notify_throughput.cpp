// bench_notify_throughput: how many dialog-event NOTIFYs per second the console side
// handles on ONE thread, wired as in production (app/account_session.cpp):
// transport::SipTransport (UDP, 127.0.0.1) → transaction::TransactionLayer →
// ua::SubscriptionSet → app::SubscriptionBridge → board::Console (parse, RFC 4235 §4.1
// merge, lamp) → 200 OK back through the transaction layer.
//
// The notifier is a load generator on its own thread (plain POSIX sockets, no Qt, so it
// takes nothing from the console's thread): it answers the console's SUBSCRIBEs 200,
// sends the first NOTIFY of each dialog (RFC 6665 §4.1.2), then NOTIFYs with a
// one-dialog dialog-info body shaped like Kamailio's pua_dialoginfo (version rising per
// dialog; the dialog cycles early → confirmed → terminated, a new call each cycle) as
// fast as the window of unanswered NOTIFYs allows, and counts the 200 OKs.
//
// Not a test: prints figures, asserts nothing about time. See README.md.

#include <QCoreApplication>
#include <QHostAddress>
#include <QTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app/subscription_bridge.h"
#include "base/clock.h"
#include "base/event_loop_timers.h"
#include "base/random.h"
#include "board/console.h"
#include "transaction/transaction_layer.h"
#include "transport/sip_transport.h"
#include "ua/subscription_set.h"

namespace {

using namespace std::chrono_literals;

const char* const kDomain = "bench.test";

struct Options {
    int extensions = 200;
    int window = 50;  // below the ~90 datagrams the default 208 KB receive buffer holds
    double seconds = 10.0;
    long count = 200000;
    std::size_t serverLimit = 2000000;  // 0: keep the layer's default
    bool pin = false;
    int t1Ms = 500;  // diagnostic only: a small T1 shortens Timer J (64*T1)
    // A NOTIFY unanswered this long is taken for lost (dropped by a full receive buffer)
    // and frees its window slot; too long a wait lets dropped NOTIFYs fill the window.
    int lossMs = 200;
};

std::int64_t nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::int64_t cpuNs(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The kernel's UDP counters (/proc/net/snmp): datagrams dropped for a full receive buffer.
long udpRcvbufErrors() {
    std::ifstream snmp("/proc/net/snmp");
    std::string names, values, line;
    while (std::getline(snmp, line)) {
        if (line.rfind("Udp:", 0) != 0) continue;
        if (names.empty())
            names = line;
        else
            values = line;
    }
    std::vector<std::string> n, v;
    for (auto* out : {&n, &v}) {
        const std::string& text = out == &n ? names : values;
        std::size_t at = 0;
        while (at < text.size()) {
            const std::size_t space = text.find(' ', at);
            out->push_back(
                text.substr(at, space == std::string::npos ? std::string::npos : space - at));
            at = space == std::string::npos ? text.size() : space + 1;
        }
    }
    for (std::size_t i = 0; i < n.size() && i < v.size(); ++i)
        if (n[i] == "RcvbufErrors") return std::strtol(v[i].c_str(), nullptr, 10);
    return -1;
}

long vmHwmKb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

// --- a minimal SIP reader for the generator (it only reads what the console sends) ----

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

struct Parsed {
    std::string_view startLine;
    std::vector<std::pair<std::string_view, std::string_view>> headers;  // name, value

    std::string_view header(std::string_view name, std::string_view compact) const {
        for (const auto& [n, v] : headers)
            if (iequals(n, name) || (!compact.empty() && iequals(n, compact))) return v;
        return {};
    }
};

Parsed parse(std::string_view msg) {
    Parsed p;
    const std::size_t end = msg.find("\r\n\r\n");
    std::string_view head = msg.substr(0, end == std::string_view::npos ? msg.size() : end);
    std::size_t pos = head.find("\r\n");
    p.startLine = head.substr(0, pos);
    while (pos != std::string_view::npos) {
        const std::size_t next = head.find("\r\n", pos + 2);
        std::string_view line = head.substr(
            pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
        pos = next;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        p.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    return p;
}

std::string_view paramValue(std::string_view header, std::string_view name) {
    // e.g. ";tag=abc" → "abc" (only parameters after the URI's closing '>' or the value)
    const std::size_t gt = header.rfind('>');
    std::string_view params = gt == std::string_view::npos ? header : header.substr(gt);
    const std::string key = ";" + std::string(name) + "=";
    const std::size_t at = params.find(key);
    if (at == std::string_view::npos) return {};
    std::string_view value = params.substr(at + key.size());
    return value.substr(0, value.find_first_of(";,> "));
}

std::string_view uriOf(std::string_view nameAddr) {
    const std::size_t lt = nameAddr.find('<');
    const std::size_t gt = nameAddr.find('>');
    if (lt == std::string_view::npos || gt == std::string_view::npos) return nameAddr;
    return nameAddr.substr(lt + 1, gt - lt - 1);
}

// --- the generator ---------------------------------------------------------------------

struct Results {
    long sent = 0;
    long ok = 0;
    long lost = 0;  // no answer within --loss-ms (UDP drop); the window slot is freed
    long late = 0;  // of those, answered later after all
    std::map<int, long> otherCodes;
    long refreshSubscribes = 0;
    double seconds = 0;
    std::int64_t consoleCpuNs = 0;
    std::vector<std::int64_t> rttNs;
    bool setupFailed = false;
    std::string failure;
};

class Generator {
public:
    Generator(const Options& options, pthread_t consoleThread)
        : m_options(options), m_consoleThread(consoleThread) {
        m_socket = socket(AF_INET, SOCK_DGRAM, 0);
        int size = 8 * 1024 * 1024;
        setsockopt(m_socket, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        setsockopt(m_socket, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(m_socket, reinterpret_cast<sockaddr*>(&local), sizeof local);
        socklen_t length = sizeof local;
        getsockname(m_socket, reinterpret_cast<sockaddr*>(&local), &length);
        m_port = ntohs(local.sin_port);
    }
    ~Generator() { close(m_socket); }

    quint16 port() const { return m_port; }
    void stop() { m_stop = true; }

    Results run() {
        if (m_options.pin) pinTo(1);
        Results results;
        // Phase 1: every subscription established (its first NOTIFY answered 200).
        const std::int64_t setupDeadline = nowNs() + 60'000'000'000;
        while (m_initialOk < m_options.extensions && nowNs() < setupDeadline && !m_stop)
            receive(50, results, false);
        if (m_initialOk < m_options.extensions) {
            results.setupFailed = true;
            results.failure = "only " + std::to_string(m_initialOk) + " of " +
                              std::to_string(m_options.extensions) + " subscriptions established";
            return results;
        }
        std::printf(
            "setup: %d subscriptions active (SUBSCRIBE answered 200, first NOTIFY "
            "answered 200)\n",
            m_initialOk);
        std::fflush(stdout);
        // Let the console's thread go idle before the window opens.
        const std::int64_t settle = nowNs() + 300'000'000;
        while (nowNs() < settle)
            receive(10, results, false);
        results.sent = 0;

        // Phase 2: NOTIFYs round-robin over the dialogs, at most `window` unanswered.
        clockid_t consoleClock{};
        pthread_getcpuclockid(m_consoleThread, &consoleClock);
        const std::int64_t cpu0 = cpuNs(consoleClock);
        const std::int64_t t0 = nowNs();
        const std::int64_t stopAt = t0 + std::int64_t(m_options.seconds * 1e9);
        std::int64_t lastAnswer = t0;
        std::size_t next = 0;
        m_measuring = true;
        for (;;) {
            const std::int64_t now = nowNs();
            const bool sending = now < stopAt && results.sent < m_options.count && !m_stop;
            // Free the slots of NOTIFYs unanswered for --loss-ms (lost datagrams).
            while (!m_inFlight.empty()) {
                const long seq = m_inFlight.front();
                if (m_answered[seq]) {
                    m_inFlight.pop_front();
                } else if (now - m_sentAt[seq] > std::int64_t(m_options.lossMs) * 1'000'000) {
                    m_answered[seq] = 2;
                    ++results.lost;
                    --m_outstanding;
                    m_inFlight.pop_front();
                } else {
                    break;
                }
            }
            if (!sending && m_outstanding == 0) break;
            if (!sending && now - lastAnswer > 1'000'000'000) break;
            int burst = 0;
            while (sending && m_outstanding < m_options.window && burst < 64 &&
                   results.sent < m_options.count) {
                sendNotify(m_dialogs[next]);
                next = (next + 1) % m_dialogs.size();
                ++results.sent;
                ++burst;
            }
            const long before = results.ok;
            receive(m_outstanding >= m_options.window || !sending ? 5 : 0, results, true);
            if (results.ok != before) lastAnswer = nowNs();
        }
        const std::int64_t t1 = lastAnswer;
        results.consoleCpuNs = cpuNs(consoleClock) - cpu0;
        results.seconds = double(t1 - t0) / 1e9;
        results.rttNs = std::move(m_rtt);
        return results;
    }

    static void pinTo(int cpu) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }

private:
    struct Dialog {
        int index = 0;
        std::string callId;
        std::string remoteTarget;  // the subscriber's Contact URI (Request-URI)
        std::string toHeader;      // the subscriber's From, with its tag
        std::string fromHeader;    // the entity, with our tag
        std::string entity;
        std::string entityUser;
        sockaddr_in destination{};
        long cseq = 0;
        long version = 0;
        long cycle = 0;
    };

    void sendTo(const std::string& text, const sockaddr_in& to) {
        sendto(m_socket, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to);
    }

    // A body as Kamailio's pua_dialoginfo writes it (include_callid, include_tags,
    // include_localremote; see tests/integration/kamailio/presence.cfg).
    std::string body(Dialog& dialog) {
        static const char* const states[] = {"early", "confirmed", "terminated"};
        const long step = dialog.version % 3;
        if (step == 0 && dialog.version > 0) ++dialog.cycle;
        const std::string call =
            "c" + std::to_string(dialog.index) + "-" + std::to_string(dialog.cycle) + "@127.0.0.1";
        std::string b;
        b.reserve(900);
        b += "<?xml version=\"1.0\"?>\n"
             "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"";
        b += std::to_string(dialog.version);
        b += "\" state=\"full\" entity=\"" + dialog.entity + "\">\n";
        b += "  <dialog id=\"" + call + "\" call-id=\"" + call + "\" local-tag=\"lt" +
             std::to_string(dialog.cycle) + "\" remote-tag=\"rt" + std::to_string(dialog.cycle) +
             "\" direction=\"recipient\">\n";
        b += "    <state>";
        b += states[step];
        b += "</state>\n";
        b += "    <remote>\n      <identity display=\"Bob\">sip:202@";
        b += kDomain;
        b += "</identity>\n      <target uri=\"sip:202@127.0.0.1:5072\">\n"
             "        <param pname=\"+sip.rendering\" pval=\"yes\"/>\n"
             "      </target>\n    </remote>\n";
        b += "    <local>\n      <identity display=\"" + dialog.entityUser + "\">" + dialog.entity +
             "</identity>\n      <target uri=\"sip:" + dialog.entityUser +
             "@127.0.0.1:5071\"/>\n    </local>\n";
        b += "  </dialog>\n</dialog-info>\n";
        return b;
    }

    void sendNotify(Dialog& dialog) {
        const long seq = long(m_sentAt.size());
        m_sentAt.push_back(nowNs());
        m_answered.push_back(0);
        m_inFlight.push_back(seq);
        ++m_outstanding;
        const std::string content = body(dialog);
        ++dialog.version;
        ++dialog.cseq;
        std::string m;
        m.reserve(1500);
        m += "NOTIFY " + dialog.remoteTarget + " SIP/2.0\r\n";
        m += "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(m_port) + ";branch=z9hG4bKsbn" +
             std::to_string(seq) + ";rport\r\n";
        m += "Max-Forwards: 70\r\n";
        m += "From: " + dialog.fromHeader + "\r\n";
        m += "To: " + dialog.toHeader + "\r\n";
        m += "Call-ID: " + dialog.callId + "\r\n";
        m += "CSeq: " + std::to_string(dialog.cseq) + " NOTIFY\r\n";
        m +=
            "Contact: <sip:" + dialog.entityUser + "@127.0.0.1:" + std::to_string(m_port) + ">\r\n";
        m += "Event: dialog\r\n";
        m += "Subscription-State: active;expires=3600\r\n";
        m += "Content-Type: application/dialog-info+xml\r\n";
        m += "Content-Length: " + std::to_string(content.size()) + "\r\n\r\n";
        m += content;
        sendTo(m, dialog.destination);
    }

    void answerSubscribe(const Parsed& p, const sockaddr_in& from, Results& results) {
        const std::string callId(p.header("Call-ID", "i"));
        const std::string_view to = p.header("To", "t");
        auto it = m_byCallId.find(callId);
        Dialog* dialog = nullptr;
        bool fresh = false;
        if (it == m_byCallId.end()) {
            if (!paramValue(to, "tag").empty()) return;  // not ours
            Dialog d;
            d.index = int(m_dialogs.size());
            d.callId = callId;
            d.remoteTarget = std::string(uriOf(p.header("Contact", "m")));
            d.toHeader = std::string(p.header("From", "f"));
            d.fromHeader = std::string(to) + ";tag=nt" + std::to_string(d.index);
            std::string_view requestUri = p.startLine.substr(10);
            requestUri = requestUri.substr(0, requestUri.find(' '));
            d.entity = std::string(requestUri);
            const std::size_t colon = d.entity.find(':');
            const std::size_t at = d.entity.find('@');
            d.entityUser = d.entity.substr(colon + 1, at - colon - 1);
            d.destination = from;
            d.cseq = 0;
            m_dialogs.push_back(d);
            m_byCallId.emplace(callId, d.index);
            dialog = &m_dialogs.back();
            fresh = true;
        } else {
            dialog = &m_dialogs[std::size_t(it->second)];
            if (!paramValue(to, "tag").empty()) ++results.refreshSubscribes;
        }
        std::string r = "SIP/2.0 200 OK\r\n";
        for (const auto& [n, v] : p.headers)
            if (iequals(n, "Via") || iequals(n, "v")) r += "Via: " + std::string(v) + "\r\n";
        r += "From: " + std::string(p.header("From", "f")) + "\r\n";
        r += "To: " + dialog->fromHeader + "\r\n";
        r += "Call-ID: " + callId + "\r\n";
        r += "CSeq: " + std::string(p.header("CSeq", "")) + "\r\n";
        r += "Contact: <sip:" + dialog->entityUser + "@127.0.0.1:" + std::to_string(m_port) +
             ">\r\n";
        std::string expires(p.header("Expires", ""));
        if (expires.empty()) expires = "3600";
        r += "Expires: " + expires + "\r\n";
        r += "Content-Length: 0\r\n\r\n";
        sendTo(r, from);
        // RFC 6665 §4.2.1: the notifier NOTIFYs right after accepting the SUBSCRIBE.
        if (fresh) {
            m_initialSeqs.push_back(long(m_sentAt.size()));
            sendNotify(*dialog);
        }
    }

    void onResponse(const Parsed& p, Results& results) {
        const std::string_view cseq = p.header("CSeq", "");
        if (cseq.find("NOTIFY") == std::string_view::npos) return;
        const std::string_view via = p.header("Via", "v");
        const std::size_t at = via.find("branch=z9hG4bKsbn");
        if (at == std::string_view::npos) return;
        const long seq = std::strtol(via.data() + at + 17, nullptr, 10);
        if (seq < 0 || seq >= long(m_answered.size()) || m_answered[seq] == 1) return;
        if (m_answered[seq] == 2) {  // answered after the slot was given up
            ++results.late;
            return;
        }
        const int code = std::atoi(std::string(p.startLine.substr(8, 3)).c_str());
        if (m_answered[seq] == 0) --m_outstanding;
        m_answered[seq] = 1;
        if (!m_measuring) {
            if (code == 200) ++m_initialOk;
            return;
        }
        if (code == 200) {
            ++results.ok;
            m_rtt.push_back(nowNs() - m_sentAt[seq]);
        } else {
            ++results.otherCodes[code];
        }
    }

    void receive(int timeoutMs, Results& results, bool measuring) {
        (void)measuring;
        pollfd pfd{m_socket, POLLIN, 0};
        if (poll(&pfd, 1, timeoutMs) <= 0) return;
        char buffer[65536];
        for (int i = 0; i < 256; ++i) {
            sockaddr_in from{};
            socklen_t length = sizeof from;
            const ssize_t n = recvfrom(m_socket, buffer, sizeof buffer, MSG_DONTWAIT,
                                       reinterpret_cast<sockaddr*>(&from), &length);
            if (n <= 0) return;
            const std::string_view text(buffer, std::size_t(n));
            const Parsed p = parse(text);
            if (p.startLine.rfind("SIP/2.0 ", 0) == 0) {
                onResponse(p, results);
            } else if (p.startLine.rfind("SUBSCRIBE ", 0) == 0) {
                answerSubscribe(p, from, results);
            }
        }
    }

    const Options& m_options;
    pthread_t m_consoleThread;
    int m_socket = -1;
    quint16 m_port = 0;
    std::atomic<bool> m_stop{false};
    bool m_measuring = false;
    std::vector<Dialog> m_dialogs;
    std::unordered_map<std::string, int> m_byCallId;
    std::vector<std::int64_t> m_sentAt;
    std::vector<std::uint8_t> m_answered;  // 0 waiting, 1 answered, 2 given up
    std::deque<long> m_inFlight;
    std::vector<long> m_initialSeqs;
    std::vector<std::int64_t> m_rtt;
    int m_outstanding = 0;
    int m_initialOk = 0;
};

Options parseOptions(const QStringList& args) {
    Options o;
    for (const QString& arg : args.mid(1)) {
        const QString value = arg.section('=', 1);
        if (arg.startsWith("--extensions="))
            o.extensions = value.toInt();
        else if (arg.startsWith("--window="))
            o.window = value.toInt();
        else if (arg.startsWith("--seconds="))
            o.seconds = value.toDouble();
        else if (arg.startsWith("--count="))
            o.count = value.toLong();
        else if (arg.startsWith("--server-limit="))
            o.serverLimit = value.toULongLong();
        else if (arg == "--pin")
            o.pin = true;
        else if (arg.startsWith("--t1-ms="))
            o.t1Ms = std::max(1, value.toInt());
        else if (arg.startsWith("--loss-ms="))
            o.lossMs = std::max(1, value.toInt());
        else {
            std::fprintf(stderr,
                         "usage: bench_notify_throughput [--extensions=200] [--window=50] "
                         "[--seconds=10] [--count=200000] [--server-limit=2000000|0] [--pin] "
                         "[--t1-ms=500] [--loss-ms=200]\n");
            std::exit(2);
        }
    }
    return o;
}

// The server user of the production wiring (AccountSession::Core::onRequest): NOTIFYs
// to the subscriptions, anything else answered 405.
struct ServerUser final : sb::transaction::ServerTransactionUser {
    sb::transaction::TransactionLayer* transactions = nullptr;
    sb::ua::SubscriptionSet* subscriptions = nullptr;
    void onRequest(sb::transaction::TransactionId id,
                   const sb::transport::IncomingMessage& incoming) override {
        if (subscriptions && subscriptions->handleRequest(id, incoming)) return;
        (void)transactions->sendResponse(id, sb::sip::makeResponse(incoming.message, 405));
    }
};

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const Options options = parseOptions(app.arguments());
    if (options.pin) Generator::pinTo(0);

    sb::base::EventLoopTimers timers;
    sb::base::SystemRandom random;
    sb::base::SteadyClock clock;
    sb::transport::SipTransport transport(timers);
    const auto bound = transport.listen(QStringView(u"udp:127.0.0.1:0"));
    if (!bound) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(bound.error().reason));
        return 1;
    }
    sb::transaction::TimerValues timerValues;
    timerValues.t1 = sb::base::Duration(options.t1Ms);
    if (options.t1Ms != 500) {
        timerValues.t2 = std::max(timerValues.t2, timerValues.t1);
        std::printf(
            "DIAGNOSTIC: T1 = %d ms, so Timer J keeps each NOTIFY's transaction only "
            "%d ms (production: T1 = 500 ms, 32 s)\n",
            options.t1Ms, 64 * options.t1Ms);
    }
    sb::transaction::TransactionLayer transactions(transport, timers, random, timerValues);
    const std::size_t defaultLimit =
        sb::transaction::ServerTransactionLimits{}.maxServerTransactions;
    if (options.serverLimit != 0) {
        sb::transaction::ServerTransactionLimits limits;
        limits.maxServerTransactions = options.serverLimit;
        transactions.setServerLimits(limits);
        std::printf(
            "NOTE: ServerTransactionLimits::maxServerTransactions raised from %zu to %zu "
            "for this bench: each answered NOTIFY keeps its server transaction for "
            "Timer J (64*T1 = 32 s over UDP)\n",
            defaultLimit, options.serverLimit);
    } else {
        std::printf(
            "NOTE: default ServerTransactionLimits::maxServerTransactions = %zu kept "
            "(Timer J keeps each NOTIFY's transaction 32 s; beyond the limit new "
            "NOTIFYs get 503)\n",
            defaultLimit);
    }
    ServerUser serverUser;
    serverUser.transactions = &transactions;
    transactions.setServerUser(&serverUser);

    Generator generator(options, pthread_self());
    const sb::transport::Endpoint notifier{sb::transport::Protocol::Udp,
                                           QHostAddress(QHostAddress::LocalHost), generator.port()};

    sb::board::Console console(clock);
    console.setDomain(QString::fromLatin1(kDomain));
    std::vector<sb::board::Extension> extensions;
    for (int i = 0; i < options.extensions; ++i) {
        sb::board::Extension e;
        e.number = QString::number(2000 + i);
        e.name = QStringLiteral("Extension %1").arg(2000 + i);
        e.group = QStringLiteral("Group %1").arg(i / 50);
        extensions.push_back(e);
    }
    if (const auto set = console.setDirectory(extensions); !set) {
        std::fprintf(stderr, "directory: %s\n", qPrintable(set.error().reason));
        return 1;
    }
    // What a front end does on every coalesced batch: read each changed extension's lamp.
    long batches = 0, lampReads = 0;
    QObject::connect(&console, &sb::board::Console::extensionsChanged,
                     [&](const QStringList& numbers) {
                         ++batches;
                         for (const QString& number : numbers)
                             if (const auto* s = console.state(number)) {
                                 (void)s->lamp;
                                 ++lampReads;
                             }
                     });

    sb::ua::SubscriptionOptions subscriptionOptions;
    subscriptionOptions.aor = QByteArray("sip:operator@") + kDomain;
    subscriptionOptions.expires = 3600;
    subscriptionOptions.subscribeRate = 1000;  // setup only; pacing is not measured here
    subscriptionOptions.userAgent = "Switchboard-bench";
    subscriptionOptions.nextHop = [notifier]() -> std::optional<sb::transport::Endpoint> {
        return notifier;
    };
    const sb::transport::Endpoint local = *bound;
    subscriptionOptions.localEndpointFor =
        [local](const sb::transport::Endpoint&) -> std::optional<sb::transport::Endpoint> {
        return local;
    };
    sb::app::SubscriptionBridge bridge(console);
    sb::ua::SubscriptionSet subscriptions(transactions, timers, random, subscriptionOptions,
                                          bridge);
    serverUser.subscriptions = &subscriptions;

    std::printf(
        "console: %s, %d extensions, one thread; generator on its own thread, window "
        "%d unanswered NOTIFYs, %.0f s or %ld NOTIFYs%s\n",
        qPrintable(local.toString()), options.extensions, options.window, options.seconds,
        options.count, options.pin ? ", pinned to CPUs 0/1" : "");
    std::fflush(stdout);

    const long rcvbufErrorsBefore = udpRcvbufErrors();
    Results results;
    std::atomic<bool> done{false};
    std::thread worker([&] {
        pthread_setname_np(pthread_self(), "sb-generator");  // perf/top tell the threads apart
        results = generator.run();
        done = true;
    });
    bridge.attach(subscriptions);

    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (done) app.quit();
    });
    poll.start(20);
    app.exec();
    worker.join();

    if (results.setupFailed) {
        std::printf("SETUP FAILED: %s (console: %zu active)\n", results.failure.c_str(),
                    subscriptions.activeCount());
        return 1;
    }
    std::sort(results.rttNs.begin(), results.rttNs.end());
    auto pct = [&](double q) {
        if (results.rttNs.empty()) return 0.0;
        return double(results.rttNs[std::size_t(q * double(results.rttNs.size() - 1))]) / 1e6;
    };
    const double rate = results.seconds > 0 ? double(results.ok) / results.seconds : 0;
    const double cpuPerNotifyUs =
        results.ok > 0 ? double(results.consoleCpuNs) / 1e3 / double(results.ok) : 0;
    std::printf(
        "NOTIFYs sent: %ld, answered 200: %ld, lost (no answer in %d ms): %ld, of "
        "which answered later: %ld\n",
        results.sent, results.ok, options.lossMs, results.lost, results.late);
    for (const auto& [code, n] : results.otherCodes)
        std::printf("  answered %d: %ld\n", code, n);
    const auto& counters = transport.counters();
    std::printf(
        "console transport: received %llu, sent %llu, parse errors %llu, dropped %llu, "
        "refusals %llu; kernel UDP RcvbufErrors during the run (whole host): %ld\n",
        (unsigned long long)counters.messagesReceived, (unsigned long long)counters.messagesSent,
        (unsigned long long)counters.parseErrors, (unsigned long long)counters.dropped,
        (unsigned long long)counters.refusalsSent, udpRcvbufErrors() - rcvbufErrorsBefore);
    std::printf("refresh SUBSCRIBEs during the window (NeedFullState after a gap): %ld\n",
                results.refreshSubscribes);
    std::printf("window: %.3f s; round trip NOTIFY→200 p50 %.2f ms, p99 %.2f ms\n", results.seconds,
                pct(0.5), pct(0.99));
    std::printf(
        "console thread CPU: %.3f s = %.0f%% of one core; %.2f us per NOTIFY → "
        "%.0f NOTIFY/s per core at 100%%\n",
        double(results.consoleCpuNs) / 1e9,
        100.0 * double(results.consoleCpuNs) / 1e9 / std::max(results.seconds, 1e-9),
        cpuPerNotifyUs, cpuPerNotifyUs > 0 ? 1e6 / cpuPerNotifyUs : 0.0);
    std::printf("board batches: %ld (lamp reads %ld); VmHWM %ld kB\n", batches, lampReads,
                vmHwmKb());
    std::printf("console_notify_per_s=%.0f\n", rate);
    std::printf("console_cpu_us_per_notify=%.2f\n", cpuPerNotifyUs);
    return 0;
}
