// The `switchboard` executable's command line: --help, --version, refusals with exit
// status 2 and a message that says what to do, a listen address in use (status 1), and
// logging: quiet by default, every level of switchboard.* with --verbose.

#include <QDeadlineTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

#include <algorithm>

#include "switchboard_process.h"

using sb::itest::SwitchboardProcess;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

}  // namespace

class TstCommandLine : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    static Run run(const QStringList& arguments, const QProcessEnvironment& environment,
                   const QByteArray& input = {}) {
        QProcess process;
        process.setProcessEnvironment(environment);
        process.start(SwitchboardProcess::binary(), arguments);
        Run result;
        if (!process.waitForStarted(5000)) return result;
        process.write(input);
        process.closeWriteChannel();
        if (!process.waitForFinished(15000)) {
            process.kill();
            process.waitForFinished(5000);
            return result;
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = QString::fromUtf8(process.readAllStandardOutput());
        result.err = QString::fromUtf8(process.readAllStandardError());
        return result;
    }

    static QProcessEnvironment withoutDisplay() {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("DISPLAY"));
        environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
        environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
        return environment;
    }

    QString writeConfig(const QString& name, const QString& text) {
        const QString path = m_dir.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
        file.write(text.toUtf8());
        return path;
    }

    // Headless against a registrar that never answers (T1 = 10 ms, so timer F fires
    // after 640 ms): waits for the "failed" registration event, then ends stdin.
    Run runUntilRegistrationFails(const QString& name, const QStringList& extraArguments) {
        Run result;
        QUdpSocket silent;
        if (!silent.bind(QHostAddress::LocalHost, 0)) return result;
        const QString path =
            writeConfig(name, QStringLiteral("[account]\naor = sip:a@127.0.0.1:%1\n"
                                             "[sip]\nlisten = udp:127.0.0.1:0\nt1_ms = 10\n")
                                  .arg(silent.localPort()));
        QProcess process;
        process.setProcessEnvironment(withoutDisplay());
        process.start(SwitchboardProcess::binary(),
                      QStringList{QStringLiteral("--headless"), QStringLiteral("--config"), path} +
                          extraArguments);
        if (!process.waitForStarted(5000)) return result;
        QByteArray out;
        QDeadlineTimer deadline(15000);
        while (!out.contains("\"state\":\"failed\"") && !deadline.hasExpired() &&
               process.state() == QProcess::Running) {
            process.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
            out += process.readAllStandardOutput();
        }
        process.closeWriteChannel();
        if (!process.waitForFinished(15000)) {
            process.kill();
            process.waitForFinished(5000);
            return result;
        }
        result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        result.out = QString::fromUtf8(out + process.readAllStandardOutput());
        result.err = QString::fromUtf8(process.readAllStandardError());
        return result;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void version() {
        const Run r = run({QStringLiteral("--version")}, withoutDisplay());
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QStringLiteral("switchboard " SB_VERSION "\n"));
    }

    void help() {
        const Run r = run({QStringLiteral("--help")}, withoutDisplay());
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith(QStringLiteral("Usage: switchboard [options]")));
        for (const char* option : {"--headless", "--config <file>", "--verbose",
                                   "--sip-trace <file>", "--version", "--help"})
            QVERIFY2(r.out.contains(QLatin1String(option)), option);
    }

    void unknownOption() {
        const Run r = run({QStringLiteral("--frobnicate")}, withoutDisplay());
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("Unknown option 'frobnicate'")));
        QVERIFY(r.err.contains(QStringLiteral("switchboard --help")));
    }

    void noDisplayExplainsHeadless() {
        // Without a display the window is not attempted: no hang, no crash, advice.
        const Run r = run({}, withoutDisplay());
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QStringLiteral("cannot show a window")), qPrintable(r.err));
        QVERIFY(r.err.contains(QStringLiteral("switchboard --headless --config FILE")));
        QVERIFY(r.out.isEmpty());
    }

    void headlessWithoutConfigIsTheBuiltInServerOnPort5060() {
        // The first-run profile listens on 127.0.0.1:5060. Holding that port here makes
        // the outcome certain: the error names the port and the setting to change.
        QUdpSocket holder;
        holder.bind(QHostAddress::LocalHost, 5060);  // fails when someone else holds it
        const Run r = run({QStringLiteral("--headless")}, withoutDisplay());
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.contains(QStringLiteral("cannot listen on udp:127.0.0.1:5060 (port 5060, "
                                               "set by [sip] listen)")),
                 qPrintable(r.err));
    }

    void serverModeStartsAndEndsAtEndOfInput() {
        const QString path =
            writeConfig(QStringLiteral("server.ini"),
                        QStringLiteral("[sip]\nlisten = udp:127.0.0.1:0, tcp:127.0.0.1:0\n"
                                       "[monitor]\n201 = Alice\n"));
        const Run r =
            run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, withoutDisplay());
        QCOMPARE(r.exitCode, 0);
        const QStringList lines = r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY2(!lines.isEmpty(), qPrintable(r.err));
        QVERIFY(lines.first().contains(QStringLiteral("\"mode\":\"server\"")));
        QVERIFY(lines.first().contains(QStringLiteral("\"domain\":\"switchboard.local\"")));
        // Nobody registered: the extension is shown as not registered.
        QVERIFY2(r.out.contains(QStringLiteral("\"reason\":\"not registered\"")),
                 qPrintable(r.out));
    }

    void addUserStoresOnlyHashes() {
        const QString path = m_dir.filePath(QStringLiteral("users.ini"));
        const Run added = run(
            {QStringLiteral("--config"), path, QStringLiteral("--add-user"), QStringLiteral("201")},
            withoutDisplay(), "pa55word\n");
        QCOMPARE(added.exitCode, 0);
        QVERIFY2(added.out.contains(QStringLiteral("user 201 added")), qPrintable(added.out));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY(text.contains("[users]"));
        QVERIFY(text.contains("201 = md5:"));
        QVERIFY(text.contains("sha-256:"));
        QVERIFY(!text.contains("pa55word"));

        const Run empty = run(
            {QStringLiteral("--config"), path, QStringLiteral("--add-user"), QStringLiteral("202")},
            withoutDisplay(), "\n");
        QCOMPARE(empty.exitCode, 1);
        const Run noConfig =
            run({QStringLiteral("--add-user"), QStringLiteral("203")}, withoutDisplay(), "x\n");
        QCOMPARE(noConfig.exitCode, 2);
        QVERIFY(noConfig.err.contains(QStringLiteral("need --config FILE")));
    }

    void invalidConfigNamesTheKeys() {
        const QString path = writeConfig(
            QStringLiteral("bad.ini"),
            QStringLiteral("[account]\naor = sip:a@b.c\ntransport = sctp\nexpires = soon\n"));
        const Run r =
            run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, withoutDisplay());
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.isEmpty());  // no events before the configuration is valid
        QVERIFY(
            r.err.contains(QStringLiteral("[account] transport: 'sctp' is not one of: udp, tcp")));
        QVERIFY(r.err.contains(QStringLiteral("[account] expires: 'soon'")));
    }

    void missingConfigFile() {
        const Run r = run({QStringLiteral("--headless"), QStringLiteral("--config"),
                           m_dir.filePath(QStringLiteral("absent.ini"))},
                          withoutDisplay());
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("absent.ini: no such file")));
    }

    void listenAddressInUse() {
        QUdpSocket taken;
        QVERIFY(taken.bind(QHostAddress::LocalHost, 0));
        const QString path = writeConfig(
            QStringLiteral("taken.ini"),
            QStringLiteral("[account]\naor = sip:a@127.0.0.1\n[sip]\nlisten = udp:127.0.0.1:%1\n")
                .arg(taken.localPort()));
        const Run r =
            run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, withoutDisplay());
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(
                     QStringLiteral("cannot listen on udp:127.0.0.1:%1").arg(taken.localPort())),
                 qPrintable(r.err));
    }

    void endOfInputAtOnceQuits() {
        // stdin at EOF from the start: started, then an orderly end with status 0. The
        // registrar port has nobody behind it, so nothing is registered to remove.
        QUdpSocket nobody;
        QVERIFY(nobody.bind(QHostAddress::LocalHost, 0));
        const QString path = writeConfig(
            QStringLiteral("eof.ini"),
            QStringLiteral("[account]\naor = sip:a@127.0.0.1:%1\n[sip]\nlisten = udp:127.0.0.1:0\n")
                .arg(nobody.localPort()));
        const Run r =
            run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, withoutDisplay());
        QCOMPARE(r.exitCode, 0);
        const QStringList lines = r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY2(lines.size() >= 2, qPrintable(r.out));
        QVERIFY(lines.first().contains(QStringLiteral("\"event\":\"started\"")));
        QVERIFY(lines.last().contains(QStringLiteral("\"state\":\"unregistered\"")));
    }

    void verboseLogsEveryLevel() {
        // --verbose opens debug and info of every switchboard.* category: the info line
        // that says why the registration failed and when it is retried is on stderr.
        const Run r =
            runUntilRegistrationFails(QStringLiteral("verbose.ini"), {QStringLiteral("--verbose")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(QStringLiteral("\"state\":\"failed\"")), qPrintable(r.out));
        const QStringList lines = r.err.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        const auto failureLine = std::find_if(lines.begin(), lines.end(), [](const QString& l) {
            return l.startsWith(QStringLiteral("switchboard.ua: registration of")) &&
                   l.contains(QStringLiteral("failed:")) &&
                   l.contains(QStringLiteral("408 Request Timeout")) &&
                   l.contains(QStringLiteral("retry in"));
        });
        QVERIFY2(failureLine != lines.end(), qPrintable(r.err));
        // Debug lines too (server location of the registrar).
        QVERIFY2(r.err.contains(QStringLiteral("switchboard.app: locating")), qPrintable(r.err));
    }

    void quietByDefault() {
        // The same run without --verbose: warnings only, and there is nothing to warn
        // about, so stderr stays empty — no debug or info line.
        const Run r = runUntilRegistrationFails(QStringLiteral("quiet.ini"), {});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(QStringLiteral("\"state\":\"failed\"")), qPrintable(r.out));
        QVERIFY2(!r.err.contains(QStringLiteral("switchboard.")), qPrintable(r.err));
        QVERIFY2(r.err.trimmed().isEmpty(), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TstCommandLine)
#include "tst_command_line.moc"
