#pragma once

#include <QLabel>
#include <QMainWindow>
#include <QPalette>
#include <QPointer>
#include <QStringList>
#include <QTimer>

#include <vector>

#include "board/console.h"
#include "ui/operator_actions.h"
#include "ui/publish_settings_dialog.h"
#include "ui/registration_indicator.h"
#include "ui/sip_trace_feed.h"

class QAction;
class QFrame;
class QLineEdit;
class QMenu;
class QStackedWidget;
class QTabBar;

namespace sb::ui {

class BoardFilterProxy;
class BoardModel;
class BoardView;
class ForwardDialog;
class QueuePanel;
class ServerPanel;
struct ForwardCall;
class SipTraceDock;

// The console's window: the board of extension tiles (groups as tabs, type-to-filter),
// the registration state and "N of M subscribed" in the status bar, and the SIP trace
// dock for administrators; in built-in server mode also the server panel (bindings and
// live calls). Everything on the board comes from board::Console through BoardModel; the
// window never talks SIP.
//
// The operator acts through OperatorActions (issue 7): a ringing tile offers Pick up
// (Enter, double-click) and Forward… (F), other tiles show those actions disabled with
// the reason; the call queue lists the calls waiting for her; the forward dialog sends a
// call on with a reason. What an action did, or why not, shows in a notice above the
// board and in the status bar.
class MainWindow final : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(board::Console& console, QWidget* parent = nullptr);
    ~MainWindow() override;

    RegistrationIndicator* registrationIndicator() const { return m_registration; }
    QString boardPlaceholderText() const { return m_placeholder->text(); }

    // The SIP trace sink for the transports (redacts; records while the dock is open).
    SipTraceFeed* sipTrace() const { return m_traceFeed; }
    SipTraceDock* sipTraceDock() const { return m_traceDock; }

    // The built-in server's panel: hidden, and its View-menu action disabled, until
    // showServerMode(). The application pushes its rows.
    ServerPanel* serverPanel() const { return m_serverPanel; }
    QAction* serverPanelAction() const { return m_serverPanelAction; }
    bool isServerMode() const { return m_serverMode; }

    // Settings → Publishing…: the [publish] values the dialog starts from, the file they
    // are saved in (named in the dialog) and what checks and saves them. Until this is
    // called the action is disabled: there is no configuration file to save to.
    void setPublishSettings(const PublishSettingsDialog::Values& values, const QString& fileName,
                            PublishSettingsDialog::Apply apply);
    QAction* publishSettingsAction() const { return m_publishSettingsAction; }

    // The operator's actions (not owned; null: none, the actions show disabled). The
    // queue panel lists the actions' calls.
    void setOperatorActions(OperatorActions* actions);
    OperatorActions* operatorActions() const { return m_actions; }
    QueuePanel* queuePanel() const { return m_queuePanel; }
    QAction* queuePanelAction() const { return m_queuePanelAction; }
    // The current tile's actions and the tiles' context menu.
    QAction* pickupAction() const { return m_pickupAction; }
    QAction* forwardAction() const { return m_forwardAction; }
    QMenu* tileMenu() const { return m_tileMenu; }
    // The forward dialog while it is open, else null.
    ForwardDialog* forwardDialog() const;
    // The notice above the board: what the last action did or why not; empty when none.
    QString noticeText() const;
    bool noticeIsProblem() const { return m_noticeProblem; }

    BoardModel* boardModel() const { return m_model; }
    BoardFilterProxy* boardProxy() const { return m_proxy; }
    BoardView* boardView() const { return m_view; }
    QLineEdit* filterEdit() const { return m_filter; }
    QTabBar* groupTabs() const { return m_tabs; }
    QString subscribedText() const { return m_subscribed->text(); }

    bool isDarkPalette() const { return m_dark; }
    int tileScaleStep() const;

public slots:
    void showRegistration(const sb::ui::RegistrationIndicator::Status& status);
    void showListenAddresses(const QStringList& addresses);
    // The console runs its own SIP server for `domain`: the status bar says so instead
    // of a registration, the board counts registered extensions, and the server panel
    // is shown (Ctrl+Shift+S toggles it). Registration statuses that only say "no
    // account" (NotConfigured, Unregistered) are ignored from then on.
    void showServerMode(const QString& domain, const QStringList& listenAddresses);
    void setDarkPalette(bool dark);
    void setTileScaleStep(int step);
    // Opens the directory settings dialog; on OK the new list goes to the console and
    // directoryEdited() tells the application to save it.
    void editDirectory();
    // Opens the publishing settings dialog (see setPublishSettings); what it saves is
    // what it starts from next time.
    void editPublishSettings();
    // Picks up the call ringing at the current tile; opens the forward dialog for it.
    void pickUpCurrent();
    void forwardCurrent();
    // Opens the forward dialog for a queued call.
    void forwardQueued(const sb::ui::QueuedCall& call);
    // Shows what an action did (or, `problem`, why not) above the board and in the status
    // bar; a problem stays until dismissed or replaced, the rest fades after a while.
    void showNotice(const QString& text, bool problem);
    void dismissNotice();

signals:
    // The user asked to quit (menu, shortcut, or closing the window); the application
    // unregisters before it exits.
    void quitRequested();
    // The settings dialog produced a new directory, already applied to the console:
    // the application saves it (config [monitor], atomically).
    void directoryEdited(const std::vector<sb::board::Extension>& extensions);
    // Appearance the application may keep in its settings.
    void darkPaletteChanged(bool dark);
    void tileScaleStepChanged(int step);

protected:
    void closeEvent(QCloseEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void createMenus();
    void showAbout();
    void rebuildGroupTabs();
    void updateBoardState();
    void updateSubscribedCount();
    void clearFilter();
    void createCallActions();
    void updateTileActions();
    void showTileMenu(const QPoint& at);
    void openForwardDialog(ForwardCall call);
    // The forward dialog learns when its call stops ringing: from the board (a tile's
    // call) or from the actions (a queued call).
    void checkForwardedTile();
    void onCallChanged(const QueuedCall& call);

    board::Console& m_console;
    BoardModel* m_model;
    BoardFilterProxy* m_proxy;
    QTabBar* m_tabs;
    QLineEdit* m_filter;
    QStackedWidget* m_stack;
    QLabel* m_placeholder;
    BoardView* m_view;
    QLabel* m_subscribed;
    QLabel* m_listen;
    RegistrationIndicator* m_registration;
    SipTraceFeed* m_traceFeed;
    SipTraceDock* m_traceDock;
    ServerPanel* m_serverPanel;
    QAction* m_serverPanelAction = nullptr;
    QueuePanel* m_queuePanel = nullptr;
    QAction* m_queuePanelAction = nullptr;
    QPointer<OperatorActions> m_actions;
    QAction* m_pickupAction = nullptr;
    QAction* m_forwardAction = nullptr;
    QMenu* m_tileMenu = nullptr;
    QAction* m_tileMenuNote = nullptr;  // why the tile's actions are disabled
    QPointer<ForwardDialog> m_forwardDialog;
    QFrame* m_notice = nullptr;
    QLabel* m_noticeIcon = nullptr;
    QLabel* m_noticeText = nullptr;
    QTimer m_noticeTimer;
    bool m_noticeProblem = false;
    QAction* m_publishSettingsAction = nullptr;
    PublishSettingsDialog::Values m_publishValues;
    QString m_publishFile;
    PublishSettingsDialog::Apply m_publishApply;
    QPalette m_lightPalette;
    bool m_dark = false;
    bool m_quitting = false;
    bool m_serverMode = false;
};

}  // namespace sb::ui
