#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sb::itest {

// One registration as `kamcmd ul.dump` lists it.
struct Binding {
    QString aor;      // user part (use_domain is off)
    QString address;  // the Contact URI
    QString callId;
    int cseq = 0;
    int expires = 0;  // seconds left
};

// One publication stored by Kamailio's presence module, as `kamcmd
// presence.presentity_list` lists it.
struct Presentity {
    QString user;
    QString domain;
    QString event;
    QString etag;
    qint64 expires = 0;  // when it runs out, seconds since the epoch
    QString body;        // only with the bodies asked for
};

// A private Kamailio for one test: tests/integration/kamailio/registrar.cfg (or another
// config of that folder, e.g. presence.cfg) on 127.0.0.1 (UDP and TCP on one free port),
// its own runtime directory with a fresh copy of the db_text tables, started in the
// foreground and stopped by PID.
class KamailioInstance {
public:
    struct Subscriber {
        QString user;
        QString password;
    };
    struct Options {
        bool auth = true;  // challenge REGISTER (digest, qop=auth)
        QString domain = QStringLiteral("switchboard.test");
        quint32 minExpires = 1;
        quint32 maxExpires = 3600;
        std::vector<Subscriber> subscribers;
        // A file name under tests/integration/kamailio/, or a path.
        QString config = QStringLiteral("registrar.cfg");
        // More `--substdef=!NAME!value!` for the config, beside the harness's own SB*
        // names (e.g. where kamailio_pua.cfg's pua sends its PUBLISHes).
        std::vector<std::pair<QString, QString>> substitutions;
    };

    KamailioInstance();
    ~KamailioInstance();
    KamailioInstance(const KamailioInstance&) = delete;
    KamailioInstance& operator=(const KamailioInstance&) = delete;

    // Starts it and waits (bounded) until its UDP and TCP ports and its control socket
    // are there. On failure the error carries the end of Kamailio's log.
    Result<void> start(const Options& options);
    // SIGTERM, then SIGKILL after a bound. Also done by the destructor.
    void stop();
    // Stops it (SIGTERM by PID) and starts it again with the same options on the same
    // port, from a fresh copy of the tables: everything it held in memory is gone, as
    // after a crash and restart of a PBX.
    Result<void> restart();

    bool isRunning() const;
    qint64 pid() const;
    quint16 port() const { return m_port; }
    const QString& domain() const { return m_options.domain; }
    QString runDir() const;
    QString logText() const;

    // `kamcmd -s unix:RUNDIR/kamailio_ctl ARGUMENTS...`: an RPC through the ctl module's
    // binrpc socket, its reply as kamcmd prints it.
    QString rpc(const QStringList& arguments, QString* error = nullptr) const;

    // `kamcmd ul.dump` as text, and parsed.
    QString ulDump(QString* error = nullptr) const;
    std::vector<Binding> bindings(QString* error = nullptr) const;

    // Every presentity the presence module holds (`presence.presentity_list`, with
    // `full` when `withBodies`). kamcmd refuses a reply that is too big ("reply too big",
    // an error here): 150 presentities of dialog-info with their bodies came through,
    // 220 did not; about a thousand without bodies.
    std::vector<Presentity> presentities(bool withBodies, QString* error = nullptr) const;

private:
    Result<void> writeTables();
    Result<void> launch(quint16 port);

    Options m_options;
    std::unique_ptr<QTemporaryDir> m_dir;
    QProcess m_process;
    quint16 m_port = 0;
};

}  // namespace sb::itest
