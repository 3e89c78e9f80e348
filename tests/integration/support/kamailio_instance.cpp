#include "kamailio_instance.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QThread>

#include <csignal>

#include <sys/types.h>
#include <unistd.h>

#include "free_port.h"
#include "process_tools.h"

namespace sb::itest {

namespace {

using namespace std::chrono_literals;

// Tables copied from the kamailio package: the `version` table must hold the schema
// versions this Kamailio expects, so the package's own copy is used. presence and pua
// check theirs at start-up even when they keep everything in memory (presence.cfg).
const QStringList kTables = {
    QStringLiteral("version"),    QStringLiteral("subscriber"),      QStringLiteral("location"),
    QStringLiteral("presentity"), QStringLiteral("active_watchers"), QStringLiteral("watchers"),
    QStringLiteral("pua")};
const QString kPackageTables = QStringLiteral("/usr/share/kamailio/dbtext/kamailio");

QByteArray md5Hex(const QString& text) {
    return QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Md5).toHex();
}

}  // namespace

KamailioInstance::KamailioInstance() = default;

KamailioInstance::~KamailioInstance() {
    stop();
}

QString KamailioInstance::runDir() const {
    return m_dir ? m_dir->path() : QString();
}

bool KamailioInstance::isRunning() const {
    return m_process.state() != QProcess::NotRunning;
}

qint64 KamailioInstance::pid() const {
    return m_process.processId();
}

QString KamailioInstance::logText() const {
    QFile file(runDir() + QStringLiteral("/kamailio.log"));
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

Result<void> KamailioInstance::writeTables() {
    const QString db = runDir() + QStringLiteral("/db");
    // A fresh copy every time: db_text writes its tables back.
    QDir(db).removeRecursively();
    if (!QDir().mkpath(db)) return fail(ErrorKind::Io, QStringLiteral("cannot create %1").arg(db));
    for (const QString& table : kTables) {
        const QString from = kPackageTables + QLatin1Char('/') + table;
        if (!QFile::copy(from, db + QLatin1Char('/') + table)) {
            return fail(
                ErrorKind::Io,
                QStringLiteral("cannot copy %1 (is the kamailio package installed?)").arg(from));
        }
        QFile::setPermissions(db + QLatin1Char('/') + table, QFile::ReadOwner | QFile::WriteOwner);
    }
    // Plain passwords for auth_db's calculate_ha1, and the matching ha1/ha1b columns
    // (RFC 2617 §3.2.2.2: MD5(user:realm:password); the realm is the domain).
    QFile subscribers(db + QStringLiteral("/subscriber"));
    if (!subscribers.open(QIODevice::Append))
        return fail(ErrorKind::Io, QStringLiteral("cannot write %1").arg(subscribers.fileName()));
    int id = 1;
    for (const Subscriber& s : m_options.subscribers) {
        const QString realm = m_options.domain;
        const QByteArray row =
            QStringLiteral("%1:%2:%3:%4:").arg(id++).arg(s.user, realm, s.password).toUtf8() +
            md5Hex(s.user + QLatin1Char(':') + realm + QLatin1Char(':') + s.password) + ':' +
            md5Hex(s.user + QLatin1Char('@') + realm + QLatin1Char(':') + realm + QLatin1Char(':') +
                   s.password) +
            '\n';
        subscribers.write(row);
    }
    return {};
}

Result<void> KamailioInstance::start(const Options& options) {
    stop();
    m_options = options;
    if (findProgram(QStringLiteral("kamailio")).isEmpty()) {
        return fail(ErrorKind::Io, QStringLiteral("kamailio not found: install the Debian "
                                                  "package kamailio (scripts/test.sh does)"));
    }
    // A short path: the control socket's path must fit in sun_path (108 bytes).
    m_dir = std::make_unique<QTemporaryDir>(QStringLiteral("/tmp/sb-kam-XXXXXX"));
    if (!m_dir->isValid()) return fail(ErrorKind::Io, QStringLiteral("no temporary directory"));
    if (Result<void> tables = writeTables(); !tables) return tables;

    // A free port may be taken between our probe and Kamailio's bind: try a few.
    for (int attempt = 0; attempt < 3; ++attempt) {
        Result<void> launched = launch(freePort());
        if (launched) return launched;
        // Exited during start-up: retry only when the port was taken under us.
        if (!logText().contains(QStringLiteral("Address already in use"))) return launched;
    }
    return fail(ErrorKind::Io, QStringLiteral("kamailio found no free port"));
}

Result<void> KamailioInstance::restart() {
    if (!m_dir) return fail(ErrorKind::Io, QStringLiteral("restart() before start()"));
    stop();
    if (Result<void> tables = writeTables(); !tables) return tables;
    return launch(m_port);
}

Result<void> KamailioInstance::launch(quint16 port) {
    m_port = port;
    const QString kamailio = findProgram(QStringLiteral("kamailio"));
    const QString config =
        QDir::isAbsolutePath(m_options.config)
            ? m_options.config
            : QStringLiteral(SB_INTEGRATION_SOURCE_DIR "/kamailio/") + m_options.config;
    const QString run = runDir();
    const QString log = run + QStringLiteral("/kamailio.log");

    QStringList args = {QStringLiteral("-DD"), QStringLiteral("-E"),
                        QStringLiteral("-f"),  config,
                        QStringLiteral("-Y"),  run,
                        QStringLiteral("-P"),  run + QStringLiteral("/kamailio.pid"),
                        QStringLiteral("-w"),  run,
                        QStringLiteral("-m"),  QStringLiteral("64"),
                        QStringLiteral("-M"),  QStringLiteral("8")};
    const auto subst = [&args](const QString& name, const QString& value) {
        args << QStringLiteral("--substdef=!%1!%2!").arg(name, value);
    };
    subst(QStringLiteral("SBPORT"), QString::number(m_port));
    subst(QStringLiteral("SBRUNDIR"), run);
    subst(QStringLiteral("SBDBURL"), QStringLiteral("text://") + run + QStringLiteral("/db"));
    subst(QStringLiteral("SBDOMAIN"), m_options.domain);
    subst(QStringLiteral("SBMINEXP"), QString::number(m_options.minExpires));
    subst(QStringLiteral("SBMAXEXP"), QString::number(m_options.maxExpires));
    for (const auto& [name, value] : m_options.substitutions)
        subst(name, value);
    if (m_options.auth) args << QStringLiteral("-A") << QStringLiteral("WITH_AUTH");

    // The control socket of an earlier run would make it look ready too early.
    const QString control = run + QStringLiteral("/kamailio_ctl");
    QFile::remove(control);
    m_process.setWorkingDirectory(run);
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.setStandardOutputFile(log, QIODevice::Append);
    m_process.setStandardInputFile(QProcess::nullDevice());
    // Its own process group (id = its PID): stop() can then reach every process it
    // forked, even those its main process left behind when it ended.
    m_process.setChildProcessModifier([] { ::setpgid(0, 0); });
    m_process.start(kamailio, args);
    if (!m_process.waitForStarted(5000))
        return fail(ErrorKind::Io,
                    QStringLiteral("kamailio did not start: %1").arg(m_process.errorString()));

    // Ready when both sockets listen and the control socket exists: poll, bounded.
    const QDeadlineTimer deadline(10s);
    while (!deadline.hasExpired() && isRunning()) {
        if (udpListening(m_port) && tcpListening(m_port) && QFileInfo::exists(control)) return {};
        m_process.waitForFinished(20);
    }
    const bool exited = !isRunning();
    stop();
    if (!exited) {
        return fail(ErrorKind::Timeout,
                    QStringLiteral("kamailio on port %1 not ready after 10 s:\n%2")
                        .arg(m_port)
                        .arg(tailOfFile(log)));
    }
    return fail(ErrorKind::Io,
                QStringLiteral("kamailio exited during start-up:\n%1").arg(tailOfFile(log)));
}

void KamailioInstance::stop() {
    const qint64 group = m_process.state() == QProcess::NotRunning ? 0 : m_process.processId();
    stopProcess(m_process, 5s);
    if (group <= 0) return;
    // Children that outlived the main process still hold its ports: the whole process
    // group goes, SIGTERM first, then SIGKILL after a bounded wait.
    const pid_t pgid = static_cast<pid_t>(group);
    if (::kill(-pgid, 0) != 0) return;
    ::kill(-pgid, SIGTERM);
    const QDeadlineTimer deadline(2s);
    while (::kill(-pgid, 0) == 0 && !deadline.hasExpired())
        QThread::msleep(10);
    if (::kill(-pgid, 0) == 0) ::kill(-pgid, SIGKILL);
}

QString KamailioInstance::rpc(const QStringList& arguments, QString* error) const {
    const QString kamcmd = findProgram(QStringLiteral("kamcmd"));
    if (kamcmd.isEmpty()) {
        if (error) *error = QStringLiteral("kamcmd not found (package kamailio)");
        return {};
    }
    return runCommand(kamcmd,
                      QStringList{QStringLiteral("-s"), QStringLiteral("unix:") + runDir() +
                                                            QStringLiteral("/kamailio_ctl")} +
                          arguments,
                      10s, error);
}

QString KamailioInstance::ulDump(QString* error) const {
    return rpc({QStringLiteral("ul.dump")}, error);
}

std::vector<Binding> KamailioInstance::bindings(QString* error) const {
    // ul.dump prints "Key: value" lines; a Contact block follows its AoR.
    std::vector<Binding> out;
    QString aor;
    const QString text = ulDump(error);
    static const QRegularExpression kLine(QStringLiteral("^\\s*([A-Za-z-]+): (.*)$"));
    for (const QString& line : text.split(QLatin1Char('\n'))) {
        const QRegularExpressionMatch m = kLine.match(line);
        if (!m.hasMatch()) continue;
        const QString key = m.captured(1);
        const QString value = m.captured(2).trimmed();
        if (key == QLatin1String("AoR")) {
            aor = value;
        } else if (key == QLatin1String("Address")) {
            out.push_back(Binding{aor, value, {}, 0, 0});
        } else if (!out.empty() && key == QLatin1String("Call-ID")) {
            out.back().callId = value;
        } else if (!out.empty() && key == QLatin1String("CSeq")) {
            out.back().cseq = value.toInt();
        } else if (!out.empty() && key == QLatin1String("Expires")) {
            out.back().expires = value.toInt();
        }
    }
    return out;
}

std::vector<Presentity> KamailioInstance::presentities(bool withBodies, QString* error) const {
    // kamcmd prints one "{ ... }" block per presentity, a "\tkey: value" line per field;
    // the body runs over several lines, up to the next field.
    QStringList arguments = {QStringLiteral("presence.presentity_list")};
    if (withBodies) arguments << QStringLiteral("full");
    QString failure;
    const QString text = rpc(arguments, &failure);
    if (error) *error = failure;
    std::vector<Presentity> out;
    if (!failure.isEmpty()) return out;
    static const QRegularExpression kField(QStringLiteral("^\\t([a-z_]+): ?(.*)$"));
    bool inBody = false;
    for (const QString& line : text.split(QLatin1Char('\n'))) {
        if (line == QLatin1String("{")) {
            out.emplace_back();
            inBody = false;
            continue;
        }
        if (out.empty()) continue;
        if (line == QLatin1String("}")) {
            out.back().body = out.back().body.trimmed();
            inBody = false;
            continue;
        }
        const QRegularExpressionMatch m = kField.match(line);
        if (!m.hasMatch()) {
            if (inBody) out.back().body += QLatin1Char('\n') + line;
            continue;
        }
        const QString key = m.captured(1);
        const QString value = m.captured(2);
        Presentity& p = out.back();
        inBody = key == QLatin1String("body");
        if (key == QLatin1String("user")) {
            p.user = value;
        } else if (key == QLatin1String("domain")) {
            p.domain = value;
        } else if (key == QLatin1String("event")) {
            p.event = value;
        } else if (key == QLatin1String("etag")) {
            p.etag = value;
        } else if (key == QLatin1String("expires")) {
            p.expires = value.toLongLong();
        } else if (inBody) {
            p.body = value;
        }
    }
    return out;
}

}  // namespace sb::itest
