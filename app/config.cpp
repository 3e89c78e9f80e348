#include "app/config.h"

#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <optional>

#include "app/monitor_section.h"
#include "sip/diversion.h"
#include "sip/uri.h"

namespace sb::app {

namespace {

const QStringList kAccountKeys = {"aor", "auth_user", "password", "proxy", "transport", "expires"};
const QStringList kSipKeys = {"listen", "t1_ms", "t2_ms", "t4_ms"};
const QStringList kSubscriptionsKeys = {"rate", "expires", "resource_list", "domain"};
const QStringList kServerKeys = {
    "enabled", "domain", "realm", "trust_loopback", "trusted_peers", "bindings_file", "min_expires",
    "max_expires", "default_expires", "record_route",
    // An IP address for Record-Route and the notifier's
    // Contact on a wildcard listener (phones must reach it).
    "record_route_host", "timer_c", "upstream", "upstream_transport", "dialog_lifetime",
    "single_dialog_watchers", "dummy_dialog_watchers", "digest_algorithms", "callee_trying"};

const QStringList kPublishKeys = {"enabled",
                                  "server",
                                  "transport",
                                  "compat",
                                  "dialog_id",
                                  "include_callid",
                                  "include_tags",
                                  "include_localremote",
                                  "lifetime",
                                  "callee_entity",
                                  "caller_confirmed",
                                  "callee_trying",
                                  "publish_in_dialog",
                                  "which_calls",
                                  "mark_header",
                                  "skip_caller",
                                  "skip_callee",
                                  "caller_entity_when_skipped",
                                  "callee_entity_when_skipped",
                                  "display_names",
                                  "version",
                                  "expires",
                                  "hold_when_busy"};

const QStringList kAttendantKeys = {"number",         "phone",       "ring_phone", "recall_after",
                                    "default_reason", "auto_answer", "pickup_code"};
const QStringList kDiversionKeys = {"suffix", "counter", "limit",       "privacy",
                                    "screen", "reasons", "history_info"};

std::optional<transport::Protocol> protocolOf(const QString& name) {
    const QString lower = name.trimmed().toLower();
    if (lower == QLatin1String("udp")) return transport::Protocol::Udp;
    if (lower == QLatin1String("tcp")) return transport::Protocol::Tcp;
    return std::nullopt;
}

// "udp", "tcp", "tls" as the configuration writes them.
QString protocolText(transport::Protocol protocol) {
    return QString::fromLatin1(transport::protocolName(protocol)).toLower();
}

// "host", "host:port", "[v6]" or "[v6]:port". Port 0 when absent.
struct HostPort {
    QString host;
    quint16 port = 0;
    bool hasPort = false;
};

Result<HostPort> parseHostPort(const QString& text) {
    HostPort out;
    QString rest;
    if (text.startsWith(QLatin1Char('['))) {
        const qsizetype close = text.indexOf(QLatin1Char(']'));
        if (close < 0) return fail(ErrorKind::Config, QStringLiteral("'[' without ']'"));
        out.host = text.mid(1, close - 1);
        if (QHostAddress(out.host).protocol() != QAbstractSocket::IPv6Protocol)
            return fail(ErrorKind::Config,
                        QStringLiteral("'%1' in brackets is not an IPv6 address").arg(out.host));
        rest = text.mid(close + 1);
        if (!rest.isEmpty() && !rest.startsWith(QLatin1Char(':')))
            return fail(ErrorKind::Config, QStringLiteral("unexpected '%1' after ']'").arg(rest));
        rest = rest.mid(1);
        out.hasPort = close + 1 < text.size();
    } else {
        const qsizetype colon = text.indexOf(QLatin1Char(':'));
        if (colon >= 0 && text.indexOf(QLatin1Char(':'), colon + 1) >= 0)
            return fail(ErrorKind::Config,
                        QStringLiteral("an IPv6 address must be written in brackets, "
                                       "like [::1]:5060"));
        out.host = colon < 0 ? text : text.left(colon);
        out.hasPort = colon >= 0;
        rest = colon < 0 ? QString() : text.mid(colon + 1);
    }
    if (out.host.isEmpty()) return fail(ErrorKind::Config, QStringLiteral("the host is empty"));
    if (out.hasPort) {
        bool ok = false;
        const uint port = rest.toUInt(&ok);
        if (!ok || port > 65535)
            return fail(ErrorKind::Config,
                        QStringLiteral("port '%1' is not a number from 0 to 65535").arg(rest));
        out.port = static_cast<quint16>(port);
    }
    return out;
}

// Collects every problem so that one run of the program shows them all.
class Problems {
public:
    void add(const QString& section, const QString& key, const QString& what) {
        m_lines << QStringLiteral("[%1] %2: %3").arg(section, key, what);
    }
    bool isEmpty() const { return m_lines.isEmpty(); }
    QString text() const { return m_lines.join(QLatin1Char('\n')); }

private:
    QStringList m_lines;
};

// A value that must be one string. QSettings splits unquoted values at commas.
std::optional<QString> readString(QSettings& settings, const QString& section, const QString& key,
                                  Problems& problems) {
    const QString path = section + QLatin1Char('/') + key;
    if (!settings.contains(path)) return std::nullopt;
    const QVariant value = settings.value(path);
    if (value.typeId() == QMetaType::QStringList) {
        problems.add(section, key,
                     QStringLiteral("contains a comma; put the whole value in double quotes"));
        return std::nullopt;
    }
    return value.toString().trimmed();
}

std::optional<qint64> readInteger(QSettings& settings, const QString& section, const QString& key,
                                  qint64 min, qint64 max, const QString& unit, Problems& problems) {
    const std::optional<QString> text = readString(settings, section, key, problems);
    if (!text) return std::nullopt;
    bool ok = false;
    const qint64 value = text->toLongLong(&ok);
    if (!ok || value < min || value > max) {
        problems.add(section, key,
                     QStringLiteral("'%1' is not a whole number of %2 from %3 to %4")
                         .arg(*text, unit)
                         .arg(min)
                         .arg(max));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> readBool(QSettings& settings, const QString& section, const QString& key,
                             Problems& problems) {
    const std::optional<QString> text = readString(settings, section, key, problems);
    if (!text) return std::nullopt;
    const QString lower = text->toLower();
    if (lower == QLatin1String("true") || lower == QLatin1String("yes") ||
        lower == QLatin1String("on") || lower == QLatin1String("1"))
        return true;
    if (lower == QLatin1String("false") || lower == QLatin1String("no") ||
        lower == QLatin1String("off") || lower == QLatin1String("0"))
        return false;
    problems.add(section, key, QStringLiteral("'%1' is not true or false").arg(*text));
    return std::nullopt;
}

// A comma-separated list (QSettings splits unquoted values at commas), trimmed, empty
// entries dropped.
QStringList readList(QSettings& settings, const QString& section, const QString& key) {
    QStringList out;
    for (const QString& entry : settings.value(section + QLatin1Char('/') + key).toStringList()) {
        const QString trimmed = entry.trimmed();
        if (!trimmed.isEmpty()) out << trimmed;
    }
    return out;
}

void checkUnknownKeys(QSettings& settings, Config& config) {
    for (const QString& path : settings.allKeys()) {
        const qsizetype slash = path.indexOf(QLatin1Char('/'));
        const QString section = slash < 0 ? QString() : path.left(slash);
        const QString key = slash < 0 ? path : path.mid(slash + 1);
        const bool known =
            (section == QLatin1String("account") && kAccountKeys.contains(key)) ||
            (section == QLatin1String("sip") && kSipKeys.contains(key)) ||
            (section == QLatin1String("subscriptions") && kSubscriptionsKeys.contains(key)) ||
            (section == QLatin1String("server") && kServerKeys.contains(key)) ||
            (section == QLatin1String("publish") && kPublishKeys.contains(key)) ||
            (section == QLatin1String("attendant") && kAttendantKeys.contains(key)) ||
            (section == QLatin1String("diversion") && kDiversionKeys.contains(key)) ||
            // HA1 hashes, read from the text (app/users_section.h).
            section == QLatin1String("users") ||
            // Read from the text, in file order (app/monitor_section.h).
            section == QLatin1String("monitor");
        if (!known) {
            config.warnings
                << (section.isEmpty()
                        ? QStringLiteral("key '%1' outside any section is ignored").arg(key)
                        : QStringLiteral("[%1] %2: unknown key, ignored").arg(section, key));
        }
    }
}

void readServer(QSettings& settings, Config& config, Problems& problems) {
    const QString s = QStringLiteral("server");
    ServerConfig& server = config.server;
    // The built-in server is the default; an [account] section turns it off unless it is
    // asked for explicitly.
    const QStringList keys = settings.allKeys();
    server.enabled = std::none_of(keys.begin(), keys.end(), [](const QString& key) {
        return key.startsWith(QLatin1String("account/"));
    });
    if (const auto enabled = readBool(settings, s, QStringLiteral("enabled"), problems))
        server.enabled = *enabled;

    if (settings.contains(s + QStringLiteral("/domain"))) {
        QStringList domains;
        for (const QString& domain : readList(settings, s, QStringLiteral("domain"))) {
            const QByteArray uriText = QByteArrayLiteral("sip:") + domain.toUtf8();
            const Result<sip::Uri> uri = sip::Uri::parse(uriText);
            if (!uri || uri->host.isEmpty() || uri->port || !uri->params.isEmpty()) {
                problems.add(s, QStringLiteral("domain"),
                             QStringLiteral("'%1' is not a host name or address").arg(domain));
            } else {
                domains << domain.toLower();
            }
        }
        if (domains.isEmpty()) {
            problems.add(s, QStringLiteral("domain"), QStringLiteral("is empty"));
        } else {
            server.domains = domains;
        }
    }
    if (const auto realm = readString(settings, s, QStringLiteral("realm"), problems))
        server.realm = *realm;
    if (server.realm.isEmpty()) server.realm = server.domains.constFirst();
    if (settings.contains(s + QStringLiteral("/digest_algorithms"))) {
        std::vector<sip::DigestAlgorithm> algorithms;
        for (const QString& name : readList(settings, s, QStringLiteral("digest_algorithms"))) {
            const auto algorithm = sip::digestAlgorithmFromName(name.toUtf8());
            if (!algorithm || (*algorithm != sip::DigestAlgorithm::Md5 &&
                               *algorithm != sip::DigestAlgorithm::Sha256)) {
                problems.add(s, QStringLiteral("digest_algorithms"),
                             QStringLiteral("'%1' is not one of: MD5, SHA-256").arg(name));
            } else if (std::find(algorithms.begin(), algorithms.end(), *algorithm) ==
                       algorithms.end()) {
                algorithms.push_back(*algorithm);
            }
        }
        if (algorithms.empty()) {
            problems.add(s, QStringLiteral("digest_algorithms"), QStringLiteral("is empty"));
        } else {
            server.digestAlgorithms = algorithms;
        }
    }
    if (const auto trust = readBool(settings, s, QStringLiteral("trust_loopback"), problems))
        server.trustLoopback = *trust;
    for (const QString& peer : readList(settings, s, QStringLiteral("trusted_peers"))) {
        const QHostAddress address(peer);
        if (address.isNull()) {
            problems.add(s, QStringLiteral("trusted_peers"),
                         QStringLiteral("'%1' is not an IP address").arg(peer));
        } else {
            server.trustedPeers.push_back(address);
        }
    }
    if (const auto file = readString(settings, s, QStringLiteral("bindings_file"), problems))
        server.bindingsFile = *file;

    const QString sec = QStringLiteral("seconds");
    if (const auto value =
            readInteger(settings, s, QStringLiteral("min_expires"), 1, 86400, sec, problems))
        server.minExpires = static_cast<quint32>(*value);
    if (const auto value =
            readInteger(settings, s, QStringLiteral("max_expires"), 1, 604800, sec, problems))
        server.maxExpires = static_cast<quint32>(*value);
    if (const auto value =
            readInteger(settings, s, QStringLiteral("default_expires"), 1, 604800, sec, problems))
        server.defaultExpires = static_cast<quint32>(*value);
    if (server.minExpires > server.maxExpires) {
        problems.add(s, QStringLiteral("min_expires"),
                     QStringLiteral("%1 is more than max_expires (%2)")
                         .arg(server.minExpires)
                         .arg(server.maxExpires));
    } else if (server.defaultExpires < server.minExpires ||
               server.defaultExpires > server.maxExpires) {
        problems.add(s, QStringLiteral("default_expires"),
                     QStringLiteral("%1 is not between min_expires (%2) and max_expires (%3)")
                         .arg(server.defaultExpires)
                         .arg(server.minExpires)
                         .arg(server.maxExpires));
    }
    if (const auto value = readBool(settings, s, QStringLiteral("record_route"), problems))
        server.recordRoute = *value;
    if (const auto host = readString(settings, s, QStringLiteral("record_route_host"), problems);
        host && !host->trimmed().isEmpty()) {
        // An address, not a name: the phones would have to resolve it (RFC 3263), and
        // switchboard.local resolves nowhere. A wildcard names no interface at all.
        QString text = host->trimmed();
        if (text.startsWith(QLatin1Char('[')) && text.endsWith(QLatin1Char(']')))
            text = text.mid(1, text.size() - 2);
        const QHostAddress address(text);
        if (address.isNull()) {
            problems.add(s, QStringLiteral("record_route_host"),
                         QStringLiteral("'%1' is not an IP address").arg(*host));
        } else if (address == QHostAddress(QHostAddress::AnyIPv4) ||
                   address == QHostAddress(QHostAddress::AnyIPv6)) {
            problems.add(s, QStringLiteral("record_route_host"),
                         QStringLiteral("'%1' is the wildcard address; name one that phones "
                                        "can reach")
                             .arg(*host));
        } else {
            server.recordRouteHost = address.toString();
        }
    }
    // RFC 3261 §16.6 step 11: Timer C must be larger than 3 minutes.
    if (const auto value =
            readInteger(settings, s, QStringLiteral("timer_c"), 181, 3600, sec, problems))
        server.timerC = static_cast<quint32>(*value);
    if (const auto upstream = readString(settings, s, QStringLiteral("upstream"), problems);
        upstream && !upstream->isEmpty()) {
        const Result<HostPort> hostPort = parseHostPort(*upstream);
        if (!hostPort) {
            problems.add(s, QStringLiteral("upstream"),
                         QStringLiteral("'%1': %2").arg(*upstream, hostPort.error().reason));
        } else if (QHostAddress(hostPort->host).isNull()) {
            problems.add(s, QStringLiteral("upstream"),
                         QStringLiteral("'%1': the host must be an IP address").arg(*upstream));
        } else {
            server.upstreamHost = hostPort->host;
            server.upstreamPort = hostPort->hasPort ? hostPort->port : kDefaultServerPort;
        }
    }
    if (const auto transport =
            readString(settings, s, QStringLiteral("upstream_transport"), problems)) {
        if (const auto protocol = protocolOf(*transport)) {
            server.upstreamTransport = *protocol;
        } else {
            problems.add(s, QStringLiteral("upstream_transport"),
                         QStringLiteral("'%1' is not one of: udp, tcp").arg(*transport));
        }
    }
    if (const auto value =
            readInteger(settings, s, QStringLiteral("dialog_lifetime"), 60, 604800, sec, problems))
        server.dialogLifetime = static_cast<quint32>(*value);
    if (const auto value = readBool(settings, s, QStringLiteral("callee_trying"), problems))
        server.calleeTrying = *value;
    server.singleDialogWatchers = readList(settings, s, QStringLiteral("single_dialog_watchers"));
    server.dummyDialogWatchers = readList(settings, s, QStringLiteral("dummy_dialog_watchers"));
}

// One of `names` (any letter case) → its value; otherwise a problem naming the choices.
template <class T>
std::optional<T> readChoice(QSettings& settings, const QString& section, const QString& key,
                            const std::vector<std::pair<QLatin1StringView, T>>& names,
                            Problems& problems) {
    const std::optional<QString> text = readString(settings, section, key, problems);
    if (!text) return std::nullopt;
    QStringList known;
    for (const auto& [name, value] : names) {
        if (text->compare(name, Qt::CaseInsensitive) == 0) return value;
        known << name;
    }
    problems.add(
        section, key,
        QStringLiteral("'%1' is not one of: %2").arg(*text, known.join(QStringLiteral(", "))));
    return std::nullopt;
}

void readPublish(QSettings& settings, Config& config, Problems& problems) {
    using Profile = dialoginfo::PublishProfile;
    const QString s = QStringLiteral("publish");
    PublishConfig& publish = config.publish;
    if (const auto value = readBool(settings, s, QStringLiteral("enabled"), problems))
        publish.enabled = *value;
    const auto server = readString(settings, s, QStringLiteral("server"), problems);
    if (server && !server->isEmpty()) {
        const Result<HostPort> hostPort = parseHostPort(*server);
        if (!hostPort) {
            problems.add(s, QStringLiteral("server"),
                         QStringLiteral("'%1': %2").arg(*server, hostPort.error().reason));
        } else if (QHostAddress(hostPort->host).isNull()) {
            problems.add(s, QStringLiteral("server"),
                         QStringLiteral("'%1': the host must be an IP address").arg(*server));
        } else {
            publish.serverHost = hostPort->host;
            publish.serverPort = hostPort->hasPort ? hostPort->port : kDefaultServerPort;
        }
    }
    if (publish.enabled && (!server || server->isEmpty())) {
        problems.add(s, QStringLiteral("server"),
                     QStringLiteral("is needed with enabled = true (host:port of the presence "
                                    "server)"));
    }
    if (const auto transport = readString(settings, s, QStringLiteral("transport"), problems)) {
        if (const auto protocol = protocolOf(*transport)) {
            publish.transport = *protocol;
        } else {
            problems.add(s, QStringLiteral("transport"),
                         QStringLiteral("'%1' is not one of: udp, tcp").arg(*transport));
        }
    }
    if (const auto compat = readChoice<Profile::Compat>(
            settings, s, QStringLiteral("compat"),
            {{QLatin1StringView("rfc4235"), Profile::Compat::Rfc4235},
             {QLatin1StringView("kamailio"), Profile::Compat::Kamailio}},
            problems))
        publish.profile.compat = *compat;
    if (const auto style = readChoice<PublishConfig::DialogIdStyle>(
            settings, s, QStringLiteral("dialog_id"),
            {{QLatin1StringView("uuid"), PublishConfig::DialogIdStyle::Uuid},
             {QLatin1StringView("counter"), PublishConfig::DialogIdStyle::Counter},
             {QLatin1StringView("call-id"), PublishConfig::DialogIdStyle::CallId}},
            problems))
        publish.dialogId = *style;
    for (const auto& [key, field] :
         {std::pair{QStringLiteral("include_callid"), &publish.profile.includeCallId},
          std::pair{QStringLiteral("include_tags"), &publish.profile.includeTags},
          std::pair{QStringLiteral("include_localremote"), &publish.profile.includeLocalRemote},
          std::pair{QStringLiteral("caller_confirmed"), &publish.profile.callerConfirmed},
          std::pair{QStringLiteral("callee_trying"), &publish.calleeTrying},
          std::pair{QStringLiteral("publish_in_dialog"), &publish.publishInDialog}}) {
        if (const auto value = readBool(settings, s, key, problems)) *field = *value;
    }
    const QString sec = QStringLiteral("seconds");
    if (const auto value =
            readInteger(settings, s, QStringLiteral("lifetime"), 0, kMaxExpires, sec, problems))
        publish.lifetime = static_cast<quint32>(*value);
    if (const auto value = readInteger(settings, s, QStringLiteral("expires"), kMinExpires,
                                       kMaxExpires, sec, problems))
        publish.expires = static_cast<quint32>(*value);
    if (const auto value = readInteger(settings, s, QStringLiteral("hold_when_busy"), 0,
                                       kMaxHoldWhenBusy, sec, problems))
        publish.holdWhenBusy = static_cast<quint32>(*value);
    if (const auto entity = readChoice<PublishConfig::CalleeEntity>(
            settings, s, QStringLiteral("callee_entity"),
            {{QLatin1StringView("to"), PublishConfig::CalleeEntity::To},
             {QLatin1StringView("request-uri"), PublishConfig::CalleeEntity::RequestUri}},
            problems))
        publish.calleeEntity = *entity;
    if (const auto which = readChoice<PublishConfig::WhichCalls>(
            settings, s, QStringLiteral("which_calls"),
            {{QLatin1StringView("local"), PublishConfig::WhichCalls::Local},
             {QLatin1StringView("all"), PublishConfig::WhichCalls::All},
             {QLatin1StringView("marked"), PublishConfig::WhichCalls::Marked}},
            problems))
        publish.whichCalls = *which;
    if (const auto header = readString(settings, s, QStringLiteral("mark_header"), problems))
        publish.markHeader = *header;
    if (publish.whichCalls == PublishConfig::WhichCalls::Marked && publish.markHeader.isEmpty()) {
        problems.add(s, QStringLiteral("mark_header"),
                     QStringLiteral("is needed with which_calls = marked (the INVITE header "
                                    "that marks a call to publish)"));
    }
    publish.skipCaller = readList(settings, s, QStringLiteral("skip_caller"));
    publish.skipCallee = readList(settings, s, QStringLiteral("skip_callee"));
    for (const auto& [key, field] :
         {std::pair{QStringLiteral("caller_entity_when_skipped"), &publish.callerEntityWhenSkipped},
          std::pair{QStringLiteral("callee_entity_when_skipped"),
                    &publish.calleeEntityWhenSkipped}}) {
        const auto uri = readString(settings, s, key, problems);
        if (!uri || uri->isEmpty()) continue;
        const Result<sip::Uri> parsed = sip::Uri::parse(uri->toUtf8());
        if (!parsed || !parsed->isSip()) {
            problems.add(s, key, QStringLiteral("'%1' is not a SIP URI").arg(*uri));
            continue;
        }
        *field = *uri;
    }
    if (const auto display = readChoice<Profile::DisplayNames>(
            settings, s, QStringLiteral("display_names"),
            {{QLatin1StringView("identity"), Profile::DisplayNames::Identity},
             {QLatin1StringView("target"), Profile::DisplayNames::Target},
             {QLatin1StringView("off"), Profile::DisplayNames::Off}},
            problems))
        publish.profile.displayNames = *display;
    if (const auto version =
            readChoice<Profile::Version>(settings, s, QStringLiteral("version"),
                                         {{QLatin1StringView("rising"), Profile::Version::Rising},
                                          {QLatin1StringView("zero"), Profile::Version::Zero}},
                                         problems))
        publish.profile.version = *version;
}

// Client mode republishes the board's documents: the [publish] rules that read the
// INVITE cannot apply there. Set anyway, they are named rather than silently ignored.
void warnServerOnlyPublishKeys(Config& config) {
    const PublishConfig& publish = config.publish;
    const PublishConfig defaults;
    QStringList keys;
    if (publish.whichCalls != defaults.whichCalls) keys << QStringLiteral("which_calls");
    if (!publish.markHeader.isEmpty()) keys << QStringLiteral("mark_header");
    if (publish.calleeEntity != defaults.calleeEntity) keys << QStringLiteral("callee_entity");
    if (!publish.skipCaller.isEmpty()) keys << QStringLiteral("skip_caller");
    if (!publish.skipCallee.isEmpty()) keys << QStringLiteral("skip_callee");
    if (!publish.callerEntityWhenSkipped.isEmpty())
        keys << QStringLiteral("caller_entity_when_skipped");
    if (!publish.calleeEntityWhenSkipped.isEmpty())
        keys << QStringLiteral("callee_entity_when_skipped");
    if (publish.calleeTrying != defaults.calleeTrying) keys << QStringLiteral("callee_trying");
    if (publish.publishInDialog != defaults.publishInDialog)
        keys << QStringLiteral("publish_in_dialog");
    if (publish.dialogId != defaults.dialogId) keys << QStringLiteral("dialog_id");
    for (const QString& key : keys) {
        config.warnings << QStringLiteral(
                               "[publish] %1: applies to the built-in server only (it reads the "
                               "INVITE); not used in client mode")
                               .arg(key);
    }
}

void readAccount(QSettings& settings, Config& config, Problems& problems) {
    const QString s = QStringLiteral("account");
    AccountConfig& account = config.account;

    QString aorUser;
    if (const auto aor = readString(settings, s, QStringLiteral("aor"), problems)) {
        const QByteArray bytes = aor->toUtf8();
        const Result<sip::Uri> uri = sip::Uri::parse(bytes);
        if (aor->isEmpty()) {
            problems.add(s, QStringLiteral("aor"), QStringLiteral("is empty"));
        } else if (!uri) {
            problems.add(s, QStringLiteral("aor"),
                         QStringLiteral("'%1' is not a SIP URI: %2").arg(*aor, uri.error().reason));
        } else if (!uri->isSip()) {
            problems.add(s, QStringLiteral("aor"),
                         QStringLiteral("'%1' must be a sip: or sips: URI").arg(*aor));
        } else if (uri->user.isEmpty()) {
            problems.add(s, QStringLiteral("aor"),
                         QStringLiteral("'%1' has no user part (sip:user@domain)").arg(*aor));
        } else {
            account.aor = *aor;
            aorUser = QString::fromUtf8(sip::percentDecode(uri->user));
        }
    } else if (!settings.contains(s + QStringLiteral("/aor")) && !config.server.enabled) {
        // Only a client needs an account; [account] without aor is a client missing it.
        problems.add(s, QStringLiteral("aor"),
                     QStringLiteral("missing; the address of record to register, "
                                    "like sip:alice@example.com"));
    }

    // Client mode: the console takes calls for the identity it registers only, so the
    // reception identity is the account (issue 7: it registers the reception identity).
    const QString& reception = config.attendant.options.number;
    if (!config.server.enabled && !reception.isEmpty() && !aorUser.isEmpty() &&
        reception != aorUser) {
        problems.add(QStringLiteral("attendant"), QStringLiteral("number"),
                     QStringLiteral("is %1, but in client mode the reception identity is the "
                                    "account the console registers ([account] aor's user %2): "
                                    "set number = %2, or register the reception identity")
                         .arg(reception, aorUser));
    }

    account.authUser =
        readString(settings, s, QStringLiteral("auth_user"), problems).value_or(QString());
    if (account.authUser.isEmpty()) account.authUser = aorUser;
    // The password is used as written: leading or trailing blanks may be part of it.
    if (settings.contains(s + QStringLiteral("/password"))) {
        const QVariant value = settings.value(s + QStringLiteral("/password"));
        if (value.typeId() == QMetaType::QStringList) {
            problems.add(s, QStringLiteral("password"),
                         QStringLiteral("contains a comma; put the whole value in double quotes"));
        } else {
            account.password = value.toString();
        }
    }

    if (const auto proxy = readString(settings, s, QStringLiteral("proxy"), problems);
        proxy && !proxy->isEmpty()) {
        const Result<HostPort> hostPort = parseHostPort(*proxy);
        if (!hostPort) {
            problems.add(s, QStringLiteral("proxy"),
                         QStringLiteral("'%1': %2").arg(*proxy, hostPort.error().reason));
        } else if (hostPort->hasPort && hostPort->port == 0) {
            problems.add(s, QStringLiteral("proxy"),
                         QStringLiteral("'%1': port 0 cannot be reached").arg(*proxy));
        } else {
            account.proxyHost = hostPort->host;
            account.proxyPort = hostPort->port;
        }
    }

    if (const auto transport = readString(settings, s, QStringLiteral("transport"), problems)) {
        if (const auto protocol = protocolOf(*transport)) {
            account.transport = *protocol;
        } else {
            problems.add(s, QStringLiteral("transport"),
                         QStringLiteral("'%1' is not one of: udp, tcp").arg(*transport));
        }
    }

    if (const auto expires = readInteger(settings, s, QStringLiteral("expires"), kMinExpires,
                                         kMaxExpires, QStringLiteral("seconds"), problems)) {
        account.expires = static_cast<quint32>(*expires);
    }
}

void readSip(QSettings& settings, Config& config, Problems& problems) {
    const QString s = QStringLiteral("sip");
    SipConfig& sip = config.sip;

    const QString listenPath = s + QStringLiteral("/listen");
    if (settings.contains(listenPath)) {
        // A comma-separated list: QSettings already split it.
        const QStringList entries = settings.value(listenPath).toStringList();
        for (const QString& entry : entries) {
            const QString trimmed = entry.trimmed();
            if (trimmed.isEmpty()) continue;
            const Result<ListenAddress> address = parseListenAddress(trimmed);
            if (address) {
                sip.listen.push_back(*address);
            } else {
                problems.add(s, QStringLiteral("listen"), address.error().reason);
            }
        }
        if (entries.join(QString()).trimmed().isEmpty())
            problems.add(s, QStringLiteral("listen"), QStringLiteral("is empty"));
    }

    const QString ms = QStringLiteral("milliseconds");
    if (const auto t1 = readInteger(settings, s, QStringLiteral("t1_ms"), kMinTimerMs, kMaxTimerMs,
                                    ms, problems))
        sip.t1 = base::Duration(*t1);
    if (const auto t2 = readInteger(settings, s, QStringLiteral("t2_ms"), kMinTimerMs, kMaxTimerMs,
                                    ms, problems))
        sip.t2 = base::Duration(*t2);
    if (const auto t4 = readInteger(settings, s, QStringLiteral("t4_ms"), kMinTimerMs, kMaxTimerMs,
                                    ms, problems))
        sip.t4 = base::Duration(*t4);
    // RFC 3261 §17.1.2.2: retransmissions double from T1 up to T2.
    if (sip.t2 < sip.t1) {
        problems.add(
            s, QStringLiteral("t2_ms"),
            QStringLiteral("%1 is less than t1_ms (%2)").arg(sip.t2.count()).arg(sip.t1.count()));
    }
}

void readSubscriptions(QSettings& settings, Config& config, Problems& problems) {
    const QString s = QStringLiteral("subscriptions");
    SubscriptionsConfig& subscriptions = config.subscriptions;
    if (const auto rate = readString(settings, s, QStringLiteral("rate"), problems)) {
        bool ok = false;
        const double value = rate->toDouble(&ok);
        if (!ok || value < kMinSubscribeRate || value > kMaxSubscribeRate) {
            problems.add(s, QStringLiteral("rate"),
                         QStringLiteral("'%1' is not a number of SUBSCRIBEs per second from %2 "
                                        "to %3")
                             .arg(*rate)
                             .arg(kMinSubscribeRate)
                             .arg(kMaxSubscribeRate));
        } else {
            subscriptions.rate = value;
        }
    }
    if (const auto expires =
            readInteger(settings, s, QStringLiteral("expires"), kMinSubscriptionExpires,
                        kMaxSubscriptionExpires, QStringLiteral("seconds"), problems)) {
        subscriptions.expires = static_cast<quint32>(*expires);
    }
    if (const auto list = readString(settings, s, QStringLiteral("resource_list"), problems);
        list && !list->isEmpty()) {
        const QByteArray bytes = list->toUtf8();
        const Result<sip::Uri> uri = sip::Uri::parse(bytes);
        if (!uri || !uri->isSip()) {
            problems.add(s, QStringLiteral("resource_list"),
                         QStringLiteral("'%1' is not a sip: or sips: URI").arg(*list));
        } else {
            subscriptions.resourceList = *list;
        }
    }
    if (const auto domain = readString(settings, s, QStringLiteral("domain"), problems))
        subscriptions.domain = *domain;
}

void readMonitor(QSettings& settings, Config& config, Problems& problems) {
    QFile file(settings.fileName());
    if (settings.fileName().isEmpty() || !file.open(QIODevice::ReadOnly)) return;
    const MonitorSection section = parseMonitorSection(file.readAll());
    config.monitor = section.extensions;
    // Each problem already says "[monitor] line N: ...".
    for (const QString& problem : section.problems) {
        const qsizetype colon = problem.indexOf(QStringLiteral(": "));
        const QString where = problem.left(colon);
        problems.add(QStringLiteral("monitor"), where.mid(QStringLiteral("[monitor] ").size()),
                     problem.mid(colon + 2));
    }
}

}  // namespace

QString ListenAddress::toString() const {
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
                             ? QStringLiteral("[%1]").arg(address.toString())
                             : address.toString();
    return QStringLiteral("%1:%2:%3").arg(protocolText(protocol), host).arg(port);
}

Result<ListenAddress> parseListenAddress(const QString& text) {
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    if (colon < 0) {
        return fail(ErrorKind::Config,
                    QStringLiteral("'%1' is not of the form protocol:address:port, "
                                   "like udp:127.0.0.1:5060")
                        .arg(text));
    }
    const std::optional<transport::Protocol> protocol = protocolOf(text.left(colon));
    if (!protocol) {
        return fail(ErrorKind::Config, QStringLiteral("'%1': protocol '%2' is not one of: udp, tcp")
                                           .arg(text, text.left(colon)));
    }
    const Result<HostPort> hostPort = parseHostPort(text.mid(colon + 1));
    if (!hostPort)
        return fail(ErrorKind::Config,
                    QStringLiteral("'%1': %2").arg(text, hostPort.error().reason));
    if (!hostPort->hasPort) {
        return fail(ErrorKind::Config,
                    QStringLiteral("'%1' has no port (use 0 for any free port)").arg(text));
    }
    const QHostAddress address(hostPort->host);
    if (address.isNull()) {
        return fail(ErrorKind::Config,
                    QStringLiteral("'%1': '%2' is not an IP address").arg(text, hostPort->host));
    }
    return ListenAddress{*protocol, address, hostPort->port};
}

// A user part of ours: what an extension number or the reception identity may be.
bool isUserName(const QString& text) {
    return !text.isEmpty() && sip::isSipToken(text.toUtf8()) && !text.contains(QLatin1Char('@'));
}

// A directed-pickup dial code: digits, '*' and '#', with "ext" where the extension goes.
bool isPickupCode(const QString& text) {
    QString rest = text;
    rest.replace(QLatin1String("ext"), QString());
    if (rest.isEmpty() && !text.contains(QLatin1String("ext"))) return false;
    for (const QChar c : rest) {
        if (!c.isDigit() && c != QLatin1Char('*') && c != QLatin1Char('#')) return false;
    }
    return text.size() <= 32;
}

void readAttendant(QSettings& settings, Config& config, Problems& problems) {
    const QString a = QStringLiteral("attendant");
    const QString d = QStringLiteral("diversion");
    server::AttendantOptions& options = config.attendant.options;
    if (const auto number = readString(settings, a, QStringLiteral("number"), problems)) {
        if (!number->isEmpty() && !isUserName(*number)) {
            problems.add(
                a, QStringLiteral("number"),
                QStringLiteral("'%1' is not a user name like 200 or reception").arg(*number));
        } else {
            options.number = *number;
        }
    }
    if (const auto phone = readString(settings, a, QStringLiteral("phone"), problems)) {
        if (!phone->isEmpty() && !isUserName(*phone)) {
            problems.add(a, QStringLiteral("phone"),
                         QStringLiteral("'%1' is not an extension number").arg(*phone));
        } else {
            options.phoneUser = *phone;
        }
    }
    if (!options.number.isEmpty() && options.number == options.phoneUser)
        problems.add(a, QStringLiteral("phone"),
                     QStringLiteral("is the reception number itself; name the operator's own "
                                    "extension"));
    if (const auto ring = readBool(settings, a, QStringLiteral("ring_phone"), problems))
        options.ringPhone = *ring;
    if (const auto code = readString(settings, a, QStringLiteral("pickup_code"), problems)) {
        const QString trimmed = code->trimmed();
        if (trimmed.isEmpty() || trimmed.compare(QLatin1String("none"), Qt::CaseInsensitive) == 0) {
            config.attendant.pickupCode.clear();
        } else if (!isPickupCode(trimmed)) {
            problems.add(a, QStringLiteral("pickup_code"),
                         QStringLiteral("'%1' is not a dial code like **ext, *8 or *97 (digits, "
                                        "* and #, where ext stands for the extension), or none")
                             .arg(trimmed));
        } else {
            config.attendant.pickupCode = trimmed;
        }
    }
    if (const auto seconds = readInteger(settings, a, QStringLiteral("recall_after"), 5, 600,
                                         QStringLiteral("seconds"), problems))
        options.recallAfter = std::chrono::seconds(*seconds);
    if (const auto answer = readString(settings, a, QStringLiteral("auto_answer"), problems)) {
        const QString lower = answer->toLower();
        if (lower == QLatin1String("none")) {
            options.autoAnswer = server::AttendantOptions::AutoAnswer::None;
        } else if (lower == QLatin1String("call-info")) {
            options.autoAnswer = server::AttendantOptions::AutoAnswer::CallInfo;
        } else if (lower == QLatin1String("alert-info")) {
            options.autoAnswer = server::AttendantOptions::AutoAnswer::AlertInfo;
        } else {
            problems.add(
                a, QStringLiteral("auto_answer"),
                QStringLiteral("'%1' is not one of: none, call-info, alert-info").arg(*answer));
        }
    }

    for (const QString& reason : readList(settings, d, QStringLiteral("reasons"))) {
        if (!sip::isSipToken(reason.toUtf8())) {
            problems.add(
                d, QStringLiteral("reasons"),
                QStringLiteral("'%1' is not a token (letters, digits and -.!%*_+`'~)").arg(reason));
        } else {
            options.extraReasons << reason.toUtf8();
        }
    }
    if (const auto reason = readString(settings, a, QStringLiteral("default_reason"), problems)) {
        const QByteArray token = reason->toUtf8();
        const auto registered = sip::registeredDiversionReasons();
        const bool known = std::find(registered.begin(), registered.end(), QByteArrayView(token)) !=
                               registered.end() ||
                           options.extraReasons.contains(token);
        if (!known) {
            problems.add(a, QStringLiteral("default_reason"),
                         QStringLiteral("'%1' is neither an RFC 5806 reason nor one of "
                                        "[diversion] reasons")
                             .arg(*reason));
        } else {
            options.defaultReason = token;
        }
    }
    if (const auto suffix = readString(settings, d, QStringLiteral("suffix"), problems))
        options.suffix = suffix->toUtf8();
    if (const auto counter = readInteger(settings, d, QStringLiteral("counter"), 0, 100,
                                         QStringLiteral("diversions"), problems))
        options.counter = int(*counter);
    if (const auto limit = readInteger(settings, d, QStringLiteral("limit"), 0, 100,
                                       QStringLiteral("diversions"), problems))
        options.limit = int(*limit);
    if (const auto privacy = readString(settings, d, QStringLiteral("privacy"), problems)) {
        if (privacy->isEmpty()) {
            options.privacy = sip::DiversionPrivacy::Unset;
        } else if (const auto parsed = sip::parseDiversionPrivacy(privacy->toUtf8())) {
            options.privacy = *parsed;
        } else {
            problems.add(d, QStringLiteral("privacy"),
                         QStringLiteral("'%1' is not one of: full, name, uri, off").arg(*privacy));
        }
    }
    if (settings.contains(d + QStringLiteral("/screen"))) {
        if (const auto screen = readBool(settings, d, QStringLiteral("screen"), problems))
            options.screen = *screen;
    }
    if (const auto history = readString(settings, d, QStringLiteral("history_info"), problems)) {
        const QString lower = history->toLower();
        using HistoryInfo = server::AttendantOptions::HistoryInfo;
        if (lower == QLatin1String("off")) {
            options.historyInfo = HistoryInfo::Off;
        } else if (lower == QLatin1String("beside")) {
            options.historyInfo = HistoryInfo::Beside;
        } else if (lower == QLatin1String("instead")) {
            options.historyInfo = HistoryInfo::Instead;
        } else {
            problems.add(d, QStringLiteral("history_info"),
                         QStringLiteral("'%1' is not one of: off, beside, instead").arg(*history));
        }
    }
    // The whole entry as a forward would write it: a bad suffix or a suffix that repeats
    // an option is found at start-up, not at the first forward.
    sip::DiversionEntry probe;
    probe.uri = "sip:probe@invalid";
    probe.reason = options.defaultReason;
    probe.counter = options.counter;
    probe.limit = options.limit;
    probe.privacy = options.privacy;
    probe.screen = options.screen;
    probe.suffix = options.suffix;
    if (Result<QByteArray> entry = sip::formatDiversion(probe); !entry)
        problems.add(d, QStringLiteral("suffix"), entry.error().reason);
}

Result<Config> parseConfig(QSettings& settings) {
    if (settings.status() == QSettings::FormatError) {
        return fail(ErrorKind::Config,
                    QStringLiteral("%1: not a valid INI file").arg(settings.fileName()));
    }
    Config config;
    Problems problems;
    checkUnknownKeys(settings, config);
    readServer(settings, config, problems);
    readPublish(settings, config, problems);
    readAttendant(settings, config, problems);
    readAccount(settings, config, problems);
    readSip(settings, config, problems);
    readSubscriptions(settings, config, problems);
    readMonitor(settings, config, problems);
    if (config.subscriptions.domain.isEmpty() && !config.account.aor.isEmpty()) {
        const QByteArray aor = config.account.aor.toUtf8();
        if (const Result<sip::Uri> uri = sip::Uri::parse(aor))
            config.subscriptions.domain = QString::fromUtf8(uri->host);
    }

    if (!config.server.enabled && config.publish.enabled) warnServerOnlyPublishKeys(config);
    // The other way round: keys that only a PBX's client uses, or only the server.
    const QString a = QStringLiteral("attendant");
    const QStringList serverOnly = {QStringLiteral("ring_phone"), QStringLiteral("recall_after"),
                                    QStringLiteral("auto_answer")};
    for (const QString& key :
         config.server.enabled ? QStringList{QStringLiteral("pickup_code")} : serverOnly) {
        if (!settings.contains(a + u'/' + key)) continue;
        config.warnings << (config.server.enabled
                                ? QStringLiteral("[attendant] %1: applies at a PBX (client mode) "
                                                 "only; the built-in server picks up by itself")
                                : QStringLiteral("[attendant] %1: applies to the built-in server "
                                                 "only; at a PBX the PBX rings and recalls"))
                               .arg(key);
    }
    if (problems.isEmpty() && config.server.enabled) {
        if (config.sip.listen.empty()) config.sip.listen = defaultConfig().sip.listen;
        // The board's extensions are the server's users: sip:<number>@<primary domain>.
        config.subscriptions.domain = config.server.domains.constFirst();
    } else if (problems.isEmpty()) {
        const transport::Protocol wanted = config.account.transport;
        if (config.sip.listen.empty()) {
            // Without [sip] listen: any address, any free port, on the account's transport.
            config.sip.listen.push_back(
                ListenAddress{wanted, QHostAddress(QHostAddress::AnyIPv4), 0});
        } else if (std::none_of(config.sip.listen.begin(), config.sip.listen.end(),
                                [&](const ListenAddress& a) { return a.protocol == wanted; })) {
            problems.add(QStringLiteral("sip"), QStringLiteral("listen"),
                         QStringLiteral("no %1 address, but [account] transport is %1")
                             .arg(protocolText(wanted)));
        }
    }
    if (!problems.isEmpty()) {
        const QString prefix =
            settings.fileName().isEmpty() ? QString() : settings.fileName() + QStringLiteral(": ");
        return fail(ErrorKind::Config,
                    prefix + QStringLiteral("invalid configuration\n") + problems.text());
    }
    return config;
}

Config defaultConfig() {
    Config config;
    const QHostAddress loopback(QHostAddress::LocalHost);
    config.sip.listen = {ListenAddress{transport::Protocol::Udp, loopback, kDefaultServerPort},
                         ListenAddress{transport::Protocol::Tcp, loopback, kDefaultServerPort}};
    config.server.realm = config.server.domains.constFirst();
    config.subscriptions.domain = config.server.domains.constFirst();
    return config;
}

Result<Config> loadConfig(const QString& path) {
    const QFileInfo info(path);
    if (!info.exists())
        return fail(ErrorKind::Config, QStringLiteral("%1: no such file").arg(path));
    if (!info.isFile() || !info.isReadable())
        return fail(ErrorKind::Config, QStringLiteral("%1: not a readable file").arg(path));
    QSettings settings(path, QSettings::IniFormat);
    return parseConfig(settings);
}

}  // namespace sb::app
