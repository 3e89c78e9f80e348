#pragma once

#include <QHostAddress>
#include <QSettings>
#include <QString>
#include <QStringList>

#include <vector>

#include "base/result.h"
#include "base/timer_queue.h"
#include "board/directory.h"
#include "dialoginfo/publish_profile.h"
#include "server/attendant.h"
#include "sip/digest.h"
#include "transport/transport.h"

namespace sb::app {

// Where the SIP core listens: "udp:127.0.0.1:0", "tcp:[::1]:5060" ([sip] listen).
struct ListenAddress {
    transport::Protocol protocol = transport::Protocol::Udp;
    QHostAddress address;
    quint16 port = 0;  // 0: any free port

    QString toString() const;
};

// [account]: the identity the console registers (RFC 3261 §10).
struct AccountConfig {
    QString aor;       // sip:alice@example.com
    QString authUser;  // digest user name; defaults to the AOR's user part
    QString password;
    QString proxyHost;      // outbound proxy; empty: the AOR's domain
    quint16 proxyPort = 0;  // 0: default port of the transport
    transport::Protocol transport = transport::Protocol::Udp;
    quint32 expires = 3600;  // requested registration lifetime in seconds
};

// [sip]: the SIP core itself.
struct SipConfig {
    std::vector<ListenAddress> listen;
    // RFC 3261 §17.1.1.1, Table 4: T1, T2, T4.
    base::Duration t1{500};
    base::Duration t2{4000};
    base::Duration t4{5000};
};

// [subscriptions]: how the board watches the monitored extensions (RFC 6665, RFC 4235).
struct SubscriptionsConfig {
    double rate = 50.0;      // initial SUBSCRIBEs per second (pacing)
    quint32 expires = 3600;  // requested subscription duration, seconds
    // RFC 4662: one subscription to this list URI instead of one per extension.
    QString resourceList;
    // Domain of extensions monitored by number ("sip:201@<domain>"); the AOR's when empty.
    QString domain;
};

// [server]: the built-in SIP server (the default when no [account] is configured):
// registrar, proxy, dialog tracker, notifier. Users and their HA1 hashes are in [users]
// (app/users_section.h); the listen addresses are [sip] listen.
struct ServerConfig {
    bool enabled = true;
    QStringList domains{QStringLiteral("switchboard.local")};  // the first is primary
    QString realm;  // digest realm; the primary domain when empty
    // The digest challenges offered, in order (RFC 7616 §3.7: most preferred first). MD5
    // leads by default: many phones (and sipp) answer only the first challenge and know
    // no SHA-256; phones that do can be given "SHA-256, MD5".
    std::vector<sip::DigestAlgorithm> digestAlgorithms{sip::DigestAlgorithm::Md5,
                                                       sip::DigestAlgorithm::Sha256};
    // Requests from loopback addresses are served without authentication.
    bool trustLoopback = true;
    // Addresses served without authentication too (a Kamailio that PUBLISHes to us).
    std::vector<QHostAddress> trustedPeers;
    QString bindingsFile;  // empty: bindings.json beside the configuration file
    quint32 minExpires = 60;
    quint32 maxExpires = 86400;
    quint32 defaultExpires = 3600;
    bool recordRoute = true;
    // The address written into Record-Route (and the notifier's Contact) when listening
    // on a wildcard address; empty: the address each peer can reach, found per peer.
    QString recordRouteHost;
    quint32 timerC = 181;  // seconds, RFC 3261 §16.6 step 11 (more than 3 minutes)
    // Requests for other domains go here; refused (403) when unset.
    QString upstreamHost;
    quint16 upstreamPort = 0;
    transport::Protocol upstreamTransport = transport::Protocol::Udp;
    quint32 dialogLifetime = 43200;  // seconds; a confirmed call without BYE ends then
    // The callee's side shows "trying" before its phone answers anything
    // (server::DialogTrackerOptions::calleeTrying).
    bool calleeTrying = false;
    // Watchers (phones subscribing to the dialog package) that need a compatibility
    // switch, by user name or by a substring of their User-Agent.
    QStringList singleDialogWatchers;
    QStringList dummyDialogWatchers;
};

// [publish]: dialog-info published to a presence server (RFC 3903; issue 6), the
// options of Kamailio's pua_dialoginfo (and pua's) under names of Switchboard's own.
// The seed parameter each key replaces is named in the sample configuration.
struct PublishConfig {
    enum class DialogIdStyle { Uuid, Counter, CallId };  // use_uuid
    enum class CalleeEntity { To, RequestUri };          // include_req_uri
    enum class WhichCalls { Local, All, Marked };        // send_publish_flag
    bool enabled = false;
    QString serverHost;  // an IP address; pua's outbound_proxy
    quint16 serverPort = 5060;
    transport::Protocol transport = transport::Protocol::Udp;
    dialoginfo::PublishProfile profile;  // compat, include_*, caller_confirmed, display, version
    DialogIdStyle dialogId = DialogIdStyle::Uuid;
    quint32 lifetime = 0;  // seconds, override_lifetime; 0: the call's own lifetime
    CalleeEntity calleeEntity = CalleeEntity::To;
    bool calleeTrying = false;     // callee_trying
    bool publishInDialog = false;  // publish_dialog_req_within
    WhichCalls whichCalls = WhichCalls::Local;
    QString markHeader;  // which_calls = marked: the INVITE header that marks a call
    // skip_caller / skip_callee: user, user@domain, *@domain or header:NAME.
    QStringList skipCaller;
    QStringList skipCallee;
    QString callerEntityWhenSkipped;  // a SIP URI, checked at start-up
    QString calleeEntityWhenSkipped;
    quint32 expires = 3600;  // pua's default_expires: asked for, the server decides
    // Calls before presence: the longest a state waits while the server's thread is busy
    // (base::LoadPacer); 0: states never wait.
    quint32 holdWhenBusy = 4;
};

// [attendant] and [diversion]: the operator's queue, pickup and forward (issue 7). The
// [diversion] keys are those of Kamailio's diversion module (suffix) and beyond it.
struct AttendantConfig {
    server::AttendantOptions options;  // number, phone, ring_phone, recall_after, ...
    // Client mode: the PBX's directed-pickup code, dialled by the operator's phone when a
    // pickup by REFER with Replaces cannot be tried or fails ("**ext", "*8"; "ext" stands
    // for the extension). Empty ("none"): no such fallback.
    QString pickupCode;
};

struct Config {
    AccountConfig account;
    ServerConfig server;
    PublishConfig publish;
    AttendantConfig attendant;
    SipConfig sip;
    SubscriptionsConfig subscriptions;
    // [monitor]: the directory, in the order of the file (see app/monitor_section.h).
    std::vector<board::Extension> monitor;
    // Keys we do not know (typos, keys of a newer version): reported, not fatal.
    QStringList warnings;
};

// Limits of the keys, shared with the documentation and the tests.
constexpr quint32 kMinExpires = 1;
constexpr quint32 kMaxExpires = 604800;   // one week
constexpr quint32 kMaxHoldWhenBusy = 60;  // seconds
constexpr int kMinTimerMs = 10;
constexpr int kMaxTimerMs = 600000;
constexpr double kMinSubscribeRate = 0.1;
constexpr double kMaxSubscribeRate = 1000.0;
constexpr quint32 kMinSubscriptionExpires = 10;
constexpr quint32 kMaxSubscriptionExpires = 86400;

// The built-in server's listen addresses when [sip] listen is not set.
constexpr quint16 kDefaultServerPort = 5060;

// Reads and validates an INI file (QSettings::IniFormat). On failure the Error
// (ErrorKind::Config) lists every problem, one per line, as "[section] key: what is wrong".
Result<Config> loadConfig(const QString& path);
// The configuration of a first run without a file: the built-in server on 127.0.0.1.
Config defaultConfig();

// The same on already opened settings (tests build them from a string). The [monitor]
// section is read from the settings' file, in file order, when it has one.
Result<Config> parseConfig(QSettings& settings);

// "udp:HOST:PORT" / "tcp:[V6]:PORT" → ListenAddress, or a message saying what is wrong.
Result<ListenAddress> parseListenAddress(const QString& text);

}  // namespace sb::app
