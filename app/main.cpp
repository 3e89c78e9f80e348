// switchboard: the attendant console. GUI by default, JSON lines with --headless.

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QProcessEnvironment>
#include <QSettings>
#include <QStandardPaths>
#include <QTextStream>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

#include "app/account_session.h"
#include "app/async_output.h"
#include "app/config.h"
#include "app/display_check.h"
#include "app/headless_front_end.h"
#include "app/monitor_section.h"
#include "app/server_session.h"
#include "app/signal_watcher.h"
#include "app/sip_trace_tee.h"
#include "app/stdin_reader.h"
#include "app/user_admin.h"
#include "app/window_front_end.h"
#include "base/clock.h"
#include "base/sip_trace.h"
#include "board/console.h"
#include "dialoginfo/dialog_info.h"
#include "ui/main_window.h"
#include "ui/sip_trace_feed.h"

namespace {

// Exit statuses (README, docs/headless.md).
constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;  // the SIP core could not start (listen address taken...)
constexpr int kExitUsage = 2;        // bad command line or configuration, no display

struct Options {
    bool headless = false;
    bool verbose = false;
    QString configPath;
    QString sipTracePath;
    QString addUser;     // --add-user NAME: provision a user of the built-in server
    QString removeUser;  // --remove-user NAME
};

void printError(const QString& message) {
    std::fprintf(stderr, "switchboard: %s\n", qPrintable(message));
}

// Parsed before any QCoreApplication exists: which kind of application object to make
// depends on --headless.
std::optional<int> parseCommandLine(const QStringList& arguments, Options& options) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Switchboard, an attendant console for SIP telephony.\n"
        "Shows a window by default; with --headless it runs without one and speaks JSON\n"
        "lines on stdin/stdout (see docs/headless.md)."));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help and exit."));
    const QCommandLineOption version(QStringLiteral("version"),
                                     QStringLiteral("Print the version and exit."));
    const QCommandLineOption headless(
        QStringLiteral("headless"),
        QStringLiteral("Run without a window: JSON events on stdout, commands on stdin. "
                       "Needs --config."));
    const QCommandLineOption config(QStringLiteral("config"),
                                    QStringLiteral("Read the account and SIP settings from the "
                                                   "INI file <file>."),
                                    QStringLiteral("file"));
    const QCommandLineOption verbose({QStringLiteral("v"), QStringLiteral("verbose")},
                                     QStringLiteral("Log every message, debug and info "
                                                    "included, of every switchboard.* "
                                                    "category to stderr."));
    const QCommandLineOption sipTrace(QStringLiteral("sip-trace"),
                                      QStringLiteral("Append every SIP message sent or received "
                                                     "to <file>, credentials redacted."),
                                      QStringLiteral("file"));
    const QCommandLineOption addUser(
        QStringLiteral("add-user"),
        QStringLiteral("Add (or replace) user <name> of the built-in server in the --config "
                       "file: reads the password as one line from stdin and stores only its "
                       "HA1 hashes; then exit."),
        QStringLiteral("name"));
    const QCommandLineOption removeUser(
        QStringLiteral("remove-user"),
        QStringLiteral("Remove user <name> from the --config file; then exit."),
        QStringLiteral("name"));
    parser.addOptions({help, version, headless, config, verbose, sipTrace, addUser, removeUser});

    if (!parser.parse(arguments)) {
        printError(parser.errorText() + QStringLiteral("\nTry 'switchboard --help'."));
        return kExitUsage;
    }
    if (!parser.positionalArguments().isEmpty()) {
        printError(QStringLiteral("unexpected argument '%1'\nTry 'switchboard --help'.")
                       .arg(parser.positionalArguments().constFirst()));
        return kExitUsage;
    }
    if (parser.isSet(help)) {
        // No QCoreApplication exists yet to tell the parser our name.
        QString text = parser.helpText();
        text.replace(QStringLiteral("<executable_name>"), QStringLiteral("switchboard"));
        std::fputs(qPrintable(text), stdout);
        std::fputs(
            "\nWithout --headless a display is needed; on a machine without one, run\n"
            "  switchboard --headless --config FILE\n"
            "(resources/switchboard.sample.ini documents every key).\n",
            stdout);
        return kExitOk;
    }
    if (parser.isSet(version)) {
        std::printf("switchboard %s\n", SB_VERSION);
        return kExitOk;
    }
    options.headless = parser.isSet(headless);
    options.verbose = parser.isSet(verbose);
    options.configPath = parser.value(config);
    options.sipTracePath = parser.value(sipTrace);
    options.addUser = parser.value(addUser);
    options.removeUser = parser.value(removeUser);
    if ((parser.isSet(addUser) || parser.isSet(removeUser)) && options.configPath.isEmpty()) {
        printError(
            QStringLiteral("--add-user and --remove-user need --config FILE (the file "
                           "is created when missing)"));
        return kExitUsage;
    }
    return std::nullopt;
}

std::optional<sb::app::Config> readConfig(const QString& path) {
    const sb::Result<sb::app::Config> config = sb::app::loadConfig(path);
    if (!config) {
        printError(config.error().reason);
        return std::nullopt;
    }
    for (const QString& warning : config->warnings)
        printError(QStringLiteral("%1: warning: %2").arg(path, warning));
    return *config;
}

std::unique_ptr<sb::base::FileSipTrace> openSipTrace(const QString& path, bool& ok) {
    ok = true;
    if (path.isEmpty()) return nullptr;
    auto trace = std::make_unique<sb::base::FileSipTrace>(path);
    if (!trace->isOpen()) {
        printError(QStringLiteral("cannot open the SIP trace file %1: %2")
                       .arg(path, trace->errorString()));
        ok = false;
        return nullptr;
    }
    return trace;
}

void setUpApplication() {
    QCoreApplication::setApplicationName(QStringLiteral("switchboard"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SB_VERSION));
}

// The board's directory and domain from the configuration.
sb::Result<void> setUpBoard(sb::board::Console& console, const sb::app::Config& config) {
    console.setDomain(config.subscriptions.domain);
    return console.setDirectory(config.monitor);
}

// The session the configuration asks for: the built-in server (the default) or a client
// of a PBX.
std::unique_ptr<sb::app::Session> makeSession(const sb::app::Config& config,
                                              const QString& configPath) {
    if (config.server.enabled) return std::make_unique<sb::app::ServerSession>(config, configPath);
    auto session = std::make_unique<sb::app::AccountSession>(config);
    // State kept across restarts lives beside the configuration, as the server's does.
    session->setStateDirectory(
        configPath.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
                             : QFileInfo(configPath).absolutePath());
    return session;
}

int runUserAdmin(int argc, char** argv, const Options& options) {
    QCoreApplication app(argc, argv);
    setUpApplication();
    QTextStream out(stdout);
    QTextStream err(stderr);
    if (!options.removeUser.isEmpty())
        return sb::app::runRemoveUser(options.configPath, options.removeUser, out, err);
    QFile input;
    if (!input.open(stdin, QIODevice::ReadOnly)) {
        printError(QStringLiteral("cannot read the password from stdin"));
        return kExitUsage;
    }
    return sb::app::runAddUser(options.configPath, options.addUser, input, out, err);
}

int runHeadless(int argc, char** argv, const Options& options) {
    QCoreApplication app(argc, argv);
    setUpApplication();
    // Without --config: the first-run profile, the built-in server on 127.0.0.1.
    std::optional<sb::app::Config> config = options.configPath.isEmpty()
                                                ? std::optional(sb::app::defaultConfig())
                                                : readConfig(options.configPath);
    if (!config) return kExitUsage;
    bool traceOk = false;
    const auto trace = openSipTrace(options.sipTracePath, traceOk);
    if (!traceOk) return kExitUsage;

    // A reader that goes away must not kill us with SIGPIPE before we unregister.
    std::signal(SIGPIPE, SIG_IGN);
    // By descriptor, not FILE*: stdio would buffer a pipe and hold events back; and from
    // a thread of its own, so a slow reader never stalls the SIP core.
    sb::app::AsyncOutput out(STDOUT_FILENO);

    sb::dialoginfo::initialiseXml();
    sb::base::SteadyClock clock;
    sb::board::Console console(clock);
    if (const sb::Result<void> board = setUpBoard(console, *config); !board) {
        printError(board.error().reason);
        return kExitUsage;
    }
    const std::unique_ptr<sb::app::Session> session = makeSession(*config, options.configPath);
    session->setBoard(&console);
    session->setSipTrace(trace.get());
    if (const sb::Result<void> opened = session->open(); !opened) {
        printError(opened.error().reason);
        return kExitStartFailed;
    }

    sb::app::HeadlessFrontEnd frontEnd(*session, console, out);
    QObject::connect(&frontEnd, &sb::app::HeadlessFrontEnd::finished, &app,
                     [&app](int code) { app.exit(code); });
    sb::app::StdinReader input;
    QObject::connect(&input, &sb::app::StdinReader::lineReceived, &frontEnd,
                     &sb::app::HeadlessFrontEnd::handleLine);
    QObject::connect(&input, &sb::app::StdinReader::endOfInput, &frontEnd,
                     &sb::app::HeadlessFrontEnd::requestQuit);
    sb::app::SignalWatcher termination;
    if (termination.install()) {
        QObject::connect(&termination, &sb::app::SignalWatcher::terminationRequested, &frontEnd,
                         &sb::app::HeadlessFrontEnd::requestQuit);
    }

    frontEnd.announceStart(QStringLiteral(SB_VERSION));
    session->start();
    input.start();
    const int status = app.exec();
    out.drain(std::chrono::seconds(2));
    return status;
}

// The window's palette and tile size are the user's, not the configuration's: kept in
// ~/.config/switchboard/appearance.ini and restored at the next start.
QString appearancePath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) +
           QStringLiteral("/appearance.ini");
}

void restoreAppearance(sb::ui::MainWindow& window) {
    QSettings settings(appearancePath(), QSettings::IniFormat);
    window.setDarkPalette(settings.value(QStringLiteral("appearance/dark"), false).toBool());
    window.setTileScaleStep(settings.value(QStringLiteral("appearance/tile_step"), 0).toInt());
    QObject::connect(&window, &sb::ui::MainWindow::darkPaletteChanged, [](bool dark) {
        QSettings(appearancePath(), QSettings::IniFormat)
            .setValue(QStringLiteral("appearance/dark"), dark);
    });
    QObject::connect(&window, &sb::ui::MainWindow::tileScaleStepChanged, [](int step) {
        QSettings(appearancePath(), QSettings::IniFormat)
            .setValue(QStringLiteral("appearance/tile_step"), step);
    });
}

// Without --config the window looks for ~/.config/switchboard/switchboard.ini.
QString defaultConfigPath() {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation);
    const QString path = dir + QStringLiteral("/switchboard.ini");
    return QFileInfo::exists(path) ? path : QString();
}

int runWindow(int argc, char** argv, const Options& options) {
    const sb::app::DisplayCheck display =
        sb::app::checkDisplay(QProcessEnvironment::systemEnvironment());
    if (!display.available) {
        printError(QStringLiteral("cannot show a window: %1.\n"
                                  "To run without a window, use headless mode:\n"
                                  "  switchboard --headless --config FILE\n"
                                  "It prints JSON events on stdout and reads commands on stdin "
                                  "(docs/headless.md);\n"
                                  "resources/switchboard.sample.ini documents the configuration.")
                       .arg(display.reason));
        return kExitUsage;
    }
    QApplication app(argc, argv);
    setUpApplication();
    // Closing the window first unregisters; the front end ends the loop afterwards.
    QApplication::setQuitOnLastWindowClosed(false);

    const QString configPath =
        options.configPath.isEmpty() ? defaultConfigPath() : options.configPath;
    bool traceOk = false;
    const auto trace = openSipTrace(options.sipTracePath, traceOk);
    if (!traceOk) return kExitUsage;

    sb::dialoginfo::initialiseXml();
    sb::base::SteadyClock clock;
    sb::board::Console console(clock);
    sb::ui::MainWindow window(console);
    sb::app::SipTraceTee traceSinks({trace.get(), window.sipTrace()});
    // Declared after the window and the trace sinks: destroyed before them, so nothing
    // the session's transport traces while it shuts down reaches a dead sink.
    std::unique_ptr<sb::app::Session> session;
    restoreAppearance(window);

    // Without a configuration file: the first-run profile, the built-in server on
    // 127.0.0.1 (README "First run").
    sb::app::Config config = sb::app::defaultConfig();
    if (!configPath.isEmpty()) {
        // Started from a desktop menu nobody reads stderr: say it in a window too.
        const sb::Result<sb::app::Config> loaded = sb::app::loadConfig(configPath);
        if (!loaded) {
            printError(loaded.error().reason);
            QMessageBox::critical(nullptr, QObject::tr("Switchboard"), loaded.error().reason);
            return kExitUsage;
        }
        for (const QString& warning : loaded->warnings)
            printError(QStringLiteral("%1: warning: %2").arg(configPath, warning));
        config = *loaded;
    }
    if (const sb::Result<void> board = setUpBoard(console, config); !board) {
        printError(board.error().reason);
        QMessageBox::critical(nullptr, QObject::tr("Switchboard"), board.error().reason);
        return kExitUsage;
    }
    session = makeSession(config, configPath);
    session->setSipTrace(&traceSinks);
    session->setBoard(&console);
    if (const sb::Result<void> opened = session->open(); !opened) {
        printError(opened.error().reason);
        QMessageBox::critical(nullptr, QObject::tr("Switchboard"), opened.error().reason);
        return kExitStartFailed;
    }
    // The settings dialog's directory goes back into the configuration file, atomically.
    QObject::connect(&window, &sb::ui::MainWindow::directoryEdited, &window,
                     [&window, configPath](const std::vector<sb::board::Extension>& extensions) {
                         const QString why = configPath.isEmpty()
                                                 ? QObject::tr(
                                                       "there is no configuration file (start with "
                                                       "--config FILE)")
                                                 : QString();
                         if (why.isEmpty()) {
                             const sb::Result<void> saved =
                                 sb::app::saveMonitorSection(configPath, extensions);
                             if (saved) return;
                             QMessageBox::warning(&window, QObject::tr("Switchboard"),
                                                  QObject::tr("The directory is in use but was "
                                                              "not saved: %1")
                                                      .arg(saved.error().reason));
                             return;
                         }
                         QMessageBox::warning(
                             &window, QObject::tr("Switchboard"),
                             QObject::tr("The directory is in use but was not saved: %1").arg(why));
                     });

    sb::app::WindowFrontEnd frontEnd(session.get(), window);
    frontEnd.offerPublishSettings(config.publish, configPath);
    frontEnd.offerForwardDefaults(config.attendant);
    QObject::connect(&frontEnd, &sb::app::WindowFrontEnd::finished, &app,
                     [&app](int code) { app.exit(code); });
    sb::app::SignalWatcher termination;
    if (termination.install()) {
        QObject::connect(&termination, &sb::app::SignalWatcher::terminationRequested, &frontEnd,
                         &sb::app::WindowFrontEnd::requestQuit);
    }
    window.show();
    session->start();
    return app.exec();
}

}  // namespace

int main(int argc, char** argv) {
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    Options options;
    if (const std::optional<int> exitCode = parseCommandLine(arguments, options)) return *exitCode;

    // Quiet by default (warnings only, see base/log.cpp); --verbose opens every level
    // (debug and info) of every switchboard.* category.
    if (options.verbose) QLoggingCategory::setFilterRules(QStringLiteral("switchboard.*=true"));

    if (!options.addUser.isEmpty() || !options.removeUser.isEmpty())
        return runUserAdmin(argc, argv, options);
    return options.headless ? runHeadless(argc, argv, options) : runWindow(argc, argv, options);
}
