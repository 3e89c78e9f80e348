#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QFrame>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTabBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/board_filter_proxy.h"
#include "ui/board_model.h"
#include "ui/board_view.h"
#include "ui/directory_dialog.h"
#include "ui/forward_dialog.h"
#include "ui/publish_settings_dialog.h"
#include "ui/queue_model.h"
#include "ui/queue_panel.h"
#include "ui/server_panel.h"
#include "ui/sip_trace_dock.h"
#include "ui/sip_trace_feed.h"
#include "ui/tile_delegate.h"

namespace sb::ui {

namespace {

// Some platforms (the offscreen one, minimal window managers) bind no key to a
// standard action; keyboard-first means there is one anyway.
QList<QKeySequence> standardOr(QKeySequence::StandardKey key, const QKeySequence& fallback) {
    QList<QKeySequence> keys = QKeySequence::keyBindings(key);
    if (keys.isEmpty()) keys << fallback;
    return keys;
}

// A calm dark palette for long shifts in dim rooms: not pure black, text not pure white.
QPalette darkPalette() {
    QPalette p;
    const QColor window(0x1E, 0x21, 0x24), base(0x17, 0x19, 0x1C), text(0xE3, 0xE6, 0xE8);
    const QColor button(0x2B, 0x2F, 0x33), disabled(0x6B, 0x73, 0x78);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, button);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, button);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, QColor(0x4C, 0x9A, 0xEE));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, button);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x8A, 0x93, 0x99));
    p.setColor(QPalette::Link, QColor(0x7F, 0xB8, 0xF5));
    p.setColor(QPalette::Light, QColor(0x3A, 0x3F, 0x44));
    p.setColor(QPalette::Midlight, QColor(0x33, 0x37, 0x3B));
    p.setColor(QPalette::Mid, QColor(0x2A, 0x2D, 0x31));
    p.setColor(QPalette::Dark, QColor(0x12, 0x14, 0x16));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

// The board's own background, a shade away from the window so that quiet idle tiles
// still stand out as tiles.
QColor boardBackground(bool dark) {
    return dark ? QColor(0x17, 0x19, 0x1C) : QColor(0xE9, 0xEC, 0xEF);
}

// How long a notice that needs nothing from the operator stays.
constexpr int kNoticeMs = 15000;

// "202 Bob Martin", or the number alone.
QString tileLabel(const QModelIndex& index) {
    const QString number = index.data(BoardModel::NumberRole).toString();
    const QString name = index.data(BoardModel::NameRole).toString();
    return name.isEmpty() ? number : MainWindow::tr("%1 %2").arg(number, name);
}

}  // namespace

MainWindow::MainWindow(board::Console& console, QWidget* parent)
    : QMainWindow(parent),
      m_console(console),
      m_model(new BoardModel(console, this)),
      m_proxy(new BoardFilterProxy(this)),
      m_tabs(new QTabBar(this)),
      m_filter(new QLineEdit(this)),
      m_stack(new QStackedWidget(this)),
      m_placeholder(new QLabel(this)),
      m_view(new BoardView(this)),
      m_subscribed(new QLabel(this)),
      m_listen(new QLabel(this)),
      m_registration(new RegistrationIndicator(this)),
      m_traceFeed(new SipTraceFeed(this)),
      m_traceDock(nullptr),
      m_serverPanel(nullptr),
      m_lightPalette(QApplication::palette()) {
    setWindowTitle(tr("Switchboard"));
    setAttribute(Qt::WA_WindowPropagation);  // dialogs and menus follow the dark palette
    m_proxy->setSourceModel(m_model);

    m_tabs->setObjectName(QStringLiteral("groupTabs"));
    m_tabs->setDrawBase(false);
    m_tabs->setExpanding(false);
    m_tabs->setAccessibleName(tr("Groups"));
    m_filter->setObjectName(QStringLiteral("boardFilter"));
    m_filter->setPlaceholderText(tr("Find name or number (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Find extension"));
    m_filter->setMinimumWidth(m_filter->fontMetrics().averageCharWidth() * 36);
    m_filter->setMaximumWidth(m_filter->fontMetrics().averageCharWidth() * 48);
    m_filter->installEventFilter(this);

    m_placeholder->setText(tr("No extensions monitored yet"));
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setObjectName(QStringLiteral("boardPlaceholder"));
    m_placeholder->setWordWrap(true);
    m_view->setObjectName(QStringLiteral("board"));
    m_view->setModel(m_proxy);
    m_stack->addWidget(m_placeholder);
    m_stack->addWidget(m_view);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(6, 6, 6, 0);
    layout->setSpacing(4);
    auto* top = new QHBoxLayout;
    top->addWidget(m_tabs, 1);
    top->addStretch(0);
    top->addWidget(m_filter);
    layout->addLayout(top);
    // What the last action did, right above the board where the operator looks.
    m_notice = new QFrame(central);
    m_notice->setObjectName(QStringLiteral("actionNotice"));
    m_notice->setFrameShape(QFrame::StyledPanel);
    m_notice->setAutoFillBackground(true);
    m_noticeIcon = new QLabel(m_notice);
    m_noticeText = new QLabel(m_notice);
    m_noticeText->setWordWrap(true);
    m_noticeText->setTextFormat(Qt::PlainText);  // callers' names are not markup
    m_noticeText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_noticeText->setAccessibleName(tr("Last action"));
    auto* dismiss = new QToolButton(m_notice);
    dismiss->setText(tr("Dismiss"));
    dismiss->setToolTip(tr("Dismiss (Esc on the board)"));
    dismiss->setAutoRaise(true);
    dismiss->setFocusPolicy(Qt::NoFocus);
    connect(dismiss, &QToolButton::clicked, this, &MainWindow::dismissNotice);
    auto* noticeLayout = new QHBoxLayout(m_notice);
    noticeLayout->setContentsMargins(8, 4, 4, 4);
    noticeLayout->addWidget(m_noticeIcon, 0, Qt::AlignTop);
    noticeLayout->addWidget(m_noticeText, 1);
    noticeLayout->addWidget(dismiss, 0, Qt::AlignTop);
    m_notice->hide();
    m_noticeTimer.setSingleShot(true);
    connect(&m_noticeTimer, &QTimer::timeout, this, &MainWindow::dismissNotice);
    layout->addWidget(m_notice);
    layout->addWidget(m_stack, 1);
    setCentralWidget(central);

    m_traceDock = new SipTraceDock(*m_traceFeed, this);
    addDockWidget(Qt::BottomDockWidgetArea, m_traceDock);
    m_traceDock->hide();
    // Both docks are for administrators and share the bottom area as tabs when both are
    // open, so that neither squeezes the other (nor the board) into a strip.
    m_serverPanel = new ServerPanel(this);
    addDockWidget(Qt::BottomDockWidgetArea, m_serverPanel);
    tabifyDockWidget(m_traceDock, m_serverPanel);
    m_serverPanel->hide();
    // The queue is the operator's, not an administrator's: beside the board, where it is
    // seen all day; shown once there is a queue to show (showServerMode).
    m_queuePanel = new QueuePanel(this);
    addDockWidget(Qt::RightDockWidgetArea, m_queuePanel);
    m_queuePanel->hide();
    connect(m_queuePanel, &QueuePanel::forwardRequested, this, &MainWindow::forwardQueued);
    connect(m_queuePanel, &QueuePanel::notice, this, &MainWindow::showNotice);

    m_registration->setObjectName(QStringLiteral("registrationIndicator"));
    m_subscribed->setObjectName(QStringLiteral("subscribedCount"));
    statusBar()->addWidget(m_registration, 1);
    statusBar()->addPermanentWidget(m_subscribed);
    statusBar()->addPermanentWidget(m_listen);

    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString& text) {
        m_proxy->setFilterText(text);
        updateBoardState();
    });
    connect(m_tabs, &QTabBar::currentChanged, this, [this](int tab) {
        const QVariant group = m_tabs->tabData(tab);
        m_proxy->setGroup(group.isValid() ? std::optional<QString>(group.toString())
                                          : std::nullopt);
        updateBoardState();
    });
    connect(m_view, &BoardView::typedText, this, [this](const QString& text) {
        m_filter->setFocus(Qt::ShortcutFocusReason);
        m_filter->insert(text);
    });
    connect(m_view, &BoardView::escapePressed, this, [this] {
        clearFilter();
        dismissNotice();
    });
    connect(m_model, &BoardModel::changesFlushed, this, &MainWindow::updateSubscribedCount);
    connect(&m_console, &board::Console::directoryChanged, this, [this] {
        rebuildGroupTabs();
        updateBoardState();
    });
    // Keep a current tile for the keyboard whenever the board has any.
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateBoardState);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateBoardState);

    createCallActions();
    createMenus();
    rebuildGroupTabs();
    updateBoardState();
    updateSubscribedCount();
    setDarkPalette(false);
    resize(960, 600);
}

MainWindow::~MainWindow() {
    // Transports may outlive the window: stop recording before the feed goes.
    m_traceFeed->setEnabled(false);
}

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* directory = file->addAction(tr("Monitored &extensions…"));
    directory->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(directory, &QAction::triggered, this, &MainWindow::editDirectory);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"));
    quit->setShortcuts(standardOr(QKeySequence::Quit, QKeySequence(Qt::CTRL | Qt::Key_Q)));
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &MainWindow::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* find = view->addAction(tr("&Find extension"));
    find->setShortcuts(standardOr(QKeySequence::Find, QKeySequence(Qt::CTRL | Qt::Key_F)));
    connect(find, &QAction::triggered, this, [this] {
        m_filter->setFocus(Qt::ShortcutFocusReason);
        m_filter->selectAll();
    });
    view->addSeparator();
    QAction* larger = view->addAction(tr("&Larger tiles"));
    larger->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::Key_Plus), QKeySequence(Qt::CTRL | Qt::Key_Equal)});
    connect(larger, &QAction::triggered, this, [this] { setTileScaleStep(tileScaleStep() + 1); });
    QAction* smaller = view->addAction(tr("&Smaller tiles"));
    smaller->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Minus));
    connect(smaller, &QAction::triggered, this, [this] { setTileScaleStep(tileScaleStep() - 1); });
    QAction* normal = view->addAction(tr("&Default tile size"));
    normal->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    connect(normal, &QAction::triggered, this, [this] { setTileScaleStep(0); });
    view->addSeparator();
    QAction* next = view->addAction(tr("&Next group"));
    next->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_PageDown));
    connect(next, &QAction::triggered, this, [this] {
        if (m_tabs->count() > 0)
            m_tabs->setCurrentIndex((m_tabs->currentIndex() + 1) % m_tabs->count());
    });
    QAction* previous = view->addAction(tr("&Previous group"));
    previous->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_PageUp));
    connect(previous, &QAction::triggered, this, [this] {
        if (m_tabs->count() > 0)
            m_tabs->setCurrentIndex((m_tabs->currentIndex() + m_tabs->count() - 1) %
                                    m_tabs->count());
    });
    view->addSeparator();
    QAction* dark = view->addAction(tr("Dar&k palette"));
    dark->setObjectName(QStringLiteral("darkPaletteAction"));
    dark->setCheckable(true);
    dark->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    connect(dark, &QAction::toggled, this, &MainWindow::setDarkPalette);
    connect(this, &MainWindow::darkPaletteChanged, dark, &QAction::setChecked);
    QAction* trace = m_traceDock->toggleViewAction();
    trace->setText(tr("SIP &trace"));
    trace->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
    view->addAction(trace);
    m_serverPanelAction = m_serverPanel->toggleViewAction();
    m_serverPanelAction->setObjectName(QStringLiteral("serverPanelAction"));
    m_serverPanelAction->setText(tr("Server &panel"));
    m_serverPanelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    // Client mode has no server to show.
    m_serverPanelAction->setEnabled(m_serverMode);
    view->addAction(m_serverPanelAction);
    m_queuePanelAction = m_queuePanel->toggleViewAction();
    m_queuePanelAction->setObjectName(QStringLiteral("queuePanelAction"));
    m_queuePanelAction->setText(tr("Call &queue"));
    m_queuePanelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Q));
    view->addAction(m_queuePanelAction);

    // Every action on calls with its key, where keyboard users look for them.
    QMenu* calls = menuBar()->addMenu(tr("&Calls"));
    calls->setToolTipsVisible(true);
    calls->addSection(tr("Ringing extension"));
    calls->addAction(m_pickupAction);
    calls->addAction(m_forwardAction);
    calls->addSection(tr("Queue"));
    calls->addAction(m_queuePanel->forwardAction());
    calls->addAction(m_queuePanel->sendToPhoneAction());
    calls->addAction(m_queuePanel->rejectAction());
    calls->addSeparator();
    QAction* toBoard = calls->addAction(tr("Go to the &board"));
    toBoard->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    connect(toBoard, &QAction::triggered, this,
            [this] { m_view->setFocus(Qt::ShortcutFocusReason); });
    QAction* toQueue = calls->addAction(tr("Go to the &queue"));
    toQueue->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
    connect(toQueue, &QAction::triggered, this, [this] {
        m_queuePanel->show();
        m_queuePanel->raise();
        m_queuePanel->view()->setFocus(Qt::ShortcutFocusReason);
    });

    QMenu* settings = menuBar()->addMenu(tr("&Settings"));
    m_publishSettingsAction = settings->addAction(tr("&Publishing…"));
    m_publishSettingsAction->setObjectName(QStringLiteral("publishSettingsAction"));
    m_publishSettingsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
    m_publishSettingsAction->setStatusTip(
        tr("Dialog state published to a presence server ([publish])"));
    // Nothing to save to until the application says where (a configuration file).
    m_publishSettingsAction->setEnabled(false);
    connect(m_publishSettingsAction, &QAction::triggered, this, &MainWindow::editPublishSettings);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("&About Switchboard"));
    about->setShortcuts(standardOr(QKeySequence::HelpContents, QKeySequence(Qt::Key_F1)));
    about->setMenuRole(QAction::AboutRole);
    connect(about, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::showRegistration(const RegistrationIndicator::Status& status) {
    using State = RegistrationIndicator::State;
    // The built-in server registers nowhere: "no account" is its normal state, not news.
    if (m_serverMode &&
        (status.state == State::NotConfigured || status.state == State::Unregistered))
        return;
    m_registration->setStatus(status);
}

void MainWindow::showServerMode(const QString& domain, const QStringList& listenAddresses) {
    m_serverMode = true;
    RegistrationIndicator::Status server;
    server.state = RegistrationIndicator::State::Server;
    server.domain = domain;
    m_registration->setStatus(server);
    showListenAddresses(listenAddresses);
    m_serverPanel->setServerInfo(domain, listenAddresses);
    m_serverPanelAction->setEnabled(true);
    m_serverPanel->show();
    // The built-in server holds the calls to the reception number: the queue is live,
    // wide enough for a caller's name and number.
    m_queuePanel->show();
    resizeDocks({m_queuePanel}, {fontMetrics().averageCharWidth() * 52}, Qt::Horizontal);
    updateSubscribedCount();
}

void MainWindow::showListenAddresses(const QStringList& addresses) {
    m_listen->setText(addresses.isEmpty() ? QString()
                                          : tr("Listening on %1").arg(addresses.join(tr(", "))));
}

int MainWindow::tileScaleStep() const {
    return m_view->scaleStep();
}

void MainWindow::setTileScaleStep(int step) {
    const int before = m_view->scaleStep();
    m_view->setScaleStep(step);
    if (m_view->scaleStep() != before) emit tileScaleStepChanged(m_view->scaleStep());
}

void MainWindow::setDarkPalette(bool dark) {
    const bool changed = dark != m_dark;
    m_dark = dark;
    setPalette(dark ? darkPalette() : m_lightPalette);
    QPalette board = m_view->palette();
    board.setColor(QPalette::Base, boardBackground(dark));
    board.setColor(QPalette::Window, boardBackground(dark));
    m_view->setPalette(board);
    m_view->setScheme(dark ? LampStyle::Scheme::Dark : LampStyle::Scheme::Light);
    m_queuePanel->setScheme(dark ? LampStyle::Scheme::Dark : LampStyle::Scheme::Light);
    if (changed) emit darkPaletteChanged(dark);
}

void MainWindow::rebuildGroupTabs() {
    // Tabs: "All", then each group in the order the directory first names it, then the
    // extensions without a group (only when there are groups at all).
    const QVariant current =
        m_tabs->count() > 0 ? m_tabs->tabData(m_tabs->currentIndex()) : QVariant();
    QStringList groups;
    bool ungrouped = false;
    for (const QString& group : m_console.directory().groups()) {
        if (group.isEmpty())
            ungrouped = true;
        else if (!groups.contains(group))
            groups << group;
    }
    for (const board::Extension& extension : m_console.directory().extensions())
        ungrouped |= extension.group.isEmpty();

    const QSignalBlocker blocker(m_tabs);
    while (m_tabs->count() > 0)
        m_tabs->removeTab(0);
    m_tabs->addTab(tr("All"));
    m_tabs->setTabData(0, QVariant());
    for (const QString& group : groups)
        m_tabs->setTabData(m_tabs->addTab(group), group);
    if (ungrouped && !groups.isEmpty())
        m_tabs->setTabData(m_tabs->addTab(tr("Ungrouped")), QString());
    int select = 0;
    for (int tab = 0; tab < m_tabs->count(); ++tab)
        if (m_tabs->tabData(tab) == current) select = tab;
    m_tabs->setCurrentIndex(select);
    const QVariant group = m_tabs->tabData(select);
    m_proxy->setGroup(group.isValid() ? std::optional<QString>(group.toString()) : std::nullopt);
    m_tabs->setVisible(m_tabs->count() > 1);
}

void MainWindow::updateBoardState() {
    if (m_model->rowCount() == 0) {
        m_placeholder->setText(tr("No extensions monitored yet"));
        m_stack->setCurrentWidget(m_placeholder);
    } else if (m_proxy->rowCount() == 0) {
        m_placeholder->setText(m_proxy->filterText().isEmpty()
                                   ? tr("No extensions in this group")
                                   : tr("No extension matches “%1”").arg(m_filter->text()));
        m_stack->setCurrentWidget(m_placeholder);
    } else {
        m_stack->setCurrentWidget(m_view);
        if (!m_view->currentIndex().isValid())
            m_view->selectionModel()->setCurrentIndex(m_proxy->index(0, 0),
                                                      QItemSelectionModel::ClearAndSelect);
    }
    updateSubscribedCount();
}

void MainWindow::updateSubscribedCount() {
    const int total = m_console.monitoredCount();
    // In server mode an extension's "subscription" is its registration (a binding).
    const QString text = m_serverMode ? tr("%1 of %2 registered") : tr("%1 of %2 subscribed");
    m_subscribed->setText(total == 0 ? QString()
                                     : text.arg(m_console.subscribedCount()).arg(total));
}

void MainWindow::clearFilter() {
    m_filter->clear();
    m_view->setFocus(Qt::OtherFocusReason);
}

void MainWindow::editDirectory() {
    DirectoryDialog dialog(m_console.directory().extensions(), this);
    if (dialog.exec() != QDialog::Accepted) return;
    const std::vector<board::Extension> extensions = dialog.extensions();
    if (Result<void> ok = m_console.setDirectory(extensions); !ok) {
        QMessageBox::warning(this, tr("Monitored extensions"), ok.error().reason);
        return;
    }
    emit directoryEdited(extensions);
}

void MainWindow::setPublishSettings(const PublishSettingsDialog::Values& values,
                                    const QString& fileName, PublishSettingsDialog::Apply apply) {
    m_publishValues = values;
    m_publishFile = fileName;
    m_publishApply = std::move(apply);
    m_publishSettingsAction->setEnabled(true);
}

void MainWindow::editPublishSettings() {
    if (!m_publishApply) return;
    PublishSettingsDialog dialog(m_publishValues, m_publishApply, this);
    dialog.setFileName(m_publishFile);
    if (dialog.exec() != QDialog::Accepted) return;
    m_publishValues = dialog.values();
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_filter && event->type() == QEvent::KeyPress) {
        const auto* key = static_cast<QKeyEvent*>(event);
        switch (key->key()) {
            case Qt::Key_Escape:
                // Esc empties the filter; a second Esc (or an empty one) returns to the board.
                if (!m_filter->text().isEmpty())
                    m_filter->clear();
                else
                    m_view->setFocus(Qt::OtherFocusReason);
                return true;
            case Qt::Key_Down:
            case Qt::Key_Return:
            case Qt::Key_Enter:
                m_view->setFocus(Qt::OtherFocusReason);
                return true;
            default:
                break;
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    // The first close asks the application to unregister; it closes us again when done.
    if (!m_quitting) {
        m_quitting = true;
        emit quitRequested();
    }
    event->accept();
}

// ---- operator actions -------------------------------------------------------------

void MainWindow::createCallActions() {
    // On the board only (the queue has its own Enter and F), and for the current tile.
    m_pickupAction = new QAction(tr("&Pick up"), this);
    m_pickupAction->setObjectName(QStringLiteral("pickupAction"));
    m_pickupAction->setShortcuts({QKeySequence(Qt::Key_Enter), QKeySequence(Qt::Key_Return)});
    m_forwardAction = new QAction(tr("&Forward…"), this);
    m_forwardAction->setObjectName(QStringLiteral("forwardAction"));
    m_forwardAction->setShortcut(QKeySequence(Qt::Key_F));
    for (QAction* action : {m_pickupAction, m_forwardAction}) {
        action->setShortcutContext(Qt::WidgetShortcut);
        m_view->addAction(action);
    }
    connect(m_pickupAction, &QAction::triggered, this, &MainWindow::pickUpCurrent);
    connect(m_forwardAction, &QAction::triggered, this, &MainWindow::forwardCurrent);
    connect(m_view, &QAbstractItemView::doubleClicked, this, [this] {
        if (m_pickupAction->isEnabled()) pickUpCurrent();
    });

    m_tileMenu = new QMenu(this);
    m_tileMenu->setObjectName(QStringLiteral("tileMenu"));
    m_tileMenu->setToolTipsVisible(true);
    m_tileMenuNote = m_tileMenu->addAction(QString());
    m_tileMenuNote->setEnabled(false);
    m_tileMenu->addAction(m_pickupAction);
    m_tileMenu->addAction(m_forwardAction);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &MainWindow::showTileMenu);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &MainWindow::updateTileActions);
    connect(m_proxy, &QAbstractItemModel::dataChanged, this, &MainWindow::updateTileActions);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateTileActions);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &MainWindow::updateTileActions);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateTileActions);
    connect(m_model, &BoardModel::changesFlushed, this, &MainWindow::checkForwardedTile);
    connect(&m_console, &board::Console::directoryChanged, this, &MainWindow::checkForwardedTile);
    updateTileActions();
}

void MainWindow::setOperatorActions(OperatorActions* actions) {
    if (m_actions) disconnect(m_actions, nullptr, this, nullptr);
    m_actions = actions;
    if (m_actions)
        connect(m_actions, &OperatorActions::callChanged, this, &MainWindow::onCallChanged);
    m_queuePanel->setActions(actions);
    updateTileActions();
}

void MainWindow::updateTileActions() {
    const QModelIndex index = m_view->currentIndex();
    const bool ringing = index.isValid() &&
                         index.data(BoardModel::LampRole).toInt() == int(dialoginfo::Lamp::Ringing);
    // Disabled, never missing: the reason is in the tooltip, the status tip and the menu.
    QString why;
    if (!m_actions)
        why = tr("Picking up and forwarding need a running session");
    else if (const QString unavailable = m_actions->extensionActionsUnavailable();
             !unavailable.isEmpty())
        why = unavailable;
    else if (!index.isValid())
        why = tr("Choose a ringing extension first");
    else if (!ringing)
        why = tr("%1 is not ringing (%2)")
                  .arg(tileLabel(index), index.data(BoardModel::LampTextRole).toString());
    const bool can = why.isEmpty();
    // Forwarding may be impossible where a pickup is not (client mode).
    const QString whyNoForward = can && m_actions ? m_actions->extensionForwardUnavailable() : why;
    const bool canForward = whyNoForward.isEmpty();
    m_pickupAction->setEnabled(can);
    m_forwardAction->setEnabled(canForward);
    const QString label = index.isValid() ? tileLabel(index) : QString();
    m_pickupAction->setToolTip(
        can ? tr("Pick up the call ringing at %1 on your phone (Enter)").arg(label) : why);
    m_forwardAction->setToolTip(
        canForward ? tr("Forward the call ringing at %1 with a reason (F)").arg(label)
                   : whyNoForward);
    m_pickupAction->setStatusTip(m_pickupAction->toolTip());
    m_forwardAction->setStatusTip(m_forwardAction->toolTip());
    m_tileMenuNote->setText(can ? whyNoForward : why);
    m_tileMenuNote->setVisible(!canForward);
}

void MainWindow::showTileMenu(const QPoint& at) {
    const QModelIndex index = m_view->indexAt(at);
    if (index.isValid()) m_view->setCurrentIndex(index);
    updateTileActions();
    m_tileMenu->popup(m_view->viewport()->mapToGlobal(at));
}

void MainWindow::pickUpCurrent() {
    updateTileActions();
    if (!m_pickupAction->isEnabled() || !m_actions) return;
    const QModelIndex index = m_view->currentIndex();
    const Result<QString> done = m_actions->pickup(index.data(BoardModel::NumberRole).toString());
    if (done)
        showNotice(*done, false);
    else
        showNotice(tr("Not picked up at %1: %2").arg(tileLabel(index), done.error().reason), true);
}

void MainWindow::forwardCurrent() {
    updateTileActions();
    if (!m_forwardAction->isEnabled()) return;
    const QModelIndex index = m_view->currentIndex();
    ForwardCall call;
    call.extension = index.data(BoardModel::NumberRole).toString();
    call.caller = index.data(BoardModel::OtherPartyRole).toString();
    call.where = tr("Ringing at %1").arg(tileLabel(index));
    call.ringingSeconds = [model = QPointer<BoardModel>(m_model), number = call.extension] {
        const int row = model ? model->rowOf(number) : -1;
        return row < 0 ? 0 : model->index(row).data(BoardModel::ElapsedSecondsRole).toLongLong();
    };
    openForwardDialog(std::move(call));
}

void MainWindow::forwardQueued(const QueuedCall& queued) {
    if (!m_actions) return;
    ForwardCall call;
    call.call = queued.call;
    call.caller = QueueModel::callerText(queued);
    const QString called = QueueModel::userPartOf(queued.calledUri);
    call.where = called.isEmpty() ? tr("Waiting in the queue")
                                  : tr("Waiting in the queue (called %1)").arg(called);
    call.ringingSeconds = [panel = QPointer<QueuePanel>(m_queuePanel), id = queued.call] {
        return panel ? panel->waitingSeconds(id).value_or(0) : 0;
    };
    openForwardDialog(std::move(call));
}

void MainWindow::openForwardDialog(ForwardCall call) {
    if (!m_actions) return;
    if (m_forwardDialog) {  // one forward at a time
        m_forwardDialog->raise();
        m_forwardDialog->activateWindow();
        return;
    }
    auto* dialog =
        new ForwardDialog(std::move(call), *m_actions, m_console.directory().extensions(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ForwardDialog::forwarded, this,
            [this](const QString& message) { showNotice(message, false); });
    m_forwardDialog = dialog;
    dialog->open();
    checkForwardedTile();  // it may have stopped ringing on the way here
}

void MainWindow::checkForwardedTile() {
    if (!m_forwardDialog || m_forwardDialog->hasStopped()) return;
    const QString number = m_forwardDialog->call().extension;
    if (number.isEmpty()) return;
    const int row = m_model->rowOf(number);
    if (row < 0) {
        m_forwardDialog->callStopped(tr("%1 left the board").arg(number));
        return;
    }
    const QModelIndex index = m_model->index(row);
    if (index.data(BoardModel::LampRole).toInt() != int(dialoginfo::Lamp::Ringing))
        m_forwardDialog->callStopped(
            tr("%1 is %2 now")
                .arg(tileLabel(index), index.data(BoardModel::LampTextRole).toString()));
}

void MainWindow::onCallChanged(const QueuedCall& call) {
    // A call waiting for her brings the queue into view, even one she closed: a waiting
    // call must not go unseen (client mode shows the queue only then).
    if (call.queued && !call.hasEnded() && m_queuePanel->isHidden()) {
        m_queuePanel->show();
        resizeDocks({m_queuePanel}, {fontMetrics().averageCharWidth() * 52}, Qt::Horizontal);
    }
    if (!m_forwardDialog || m_forwardDialog->call().call != call.call || !call.hasEnded()) return;
    m_forwardDialog->callStopped(call.outcome.isEmpty() ? QueueModel::stateText(call).toLower()
                                                        : call.outcome);
}

void MainWindow::showNotice(const QString& text, bool problem) {
    m_noticeProblem = problem;
    m_noticeText->setText(text);
    // Tinted, with an icon and words: a problem reads as one without its colour.
    QPalette tinted = m_notice->palette();
    tinted.setColor(QPalette::Window,
                    problem ? QColor(0xFD, 0xEC, 0xEA) : QColor(0xE6, 0xF4, 0xEA));
    tinted.setColor(QPalette::WindowText,
                    problem ? QColor(0x5F, 0x12, 0x0C) : QColor(0x1E, 0x46, 0x20));
    tinted.setColor(QPalette::ButtonText, tinted.color(QPalette::WindowText));
    m_notice->setPalette(tinted);
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    m_noticeIcon->setPixmap(style()
                                ->standardIcon(problem ? QStyle::SP_MessageBoxWarning
                                                       : QStyle::SP_MessageBoxInformation)
                                .pixmap(size, size));
    m_notice->show();
    statusBar()->showMessage(text, kNoticeMs);
    if (problem)
        m_noticeTimer.stop();
    else
        m_noticeTimer.start(kNoticeMs);
}

void MainWindow::dismissNotice() {
    m_noticeTimer.stop();
    m_notice->hide();
    m_noticeText->clear();
    m_noticeProblem = false;
}

ForwardDialog* MainWindow::forwardDialog() const {
    return m_forwardDialog;
}

QString MainWindow::noticeText() const {
    return m_notice->isHidden() ? QString() : m_noticeText->text();
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About Switchboard"),
                       tr("<p><b>Switchboard</b> %1</p><p>An attendant console for SIP "
                          "telephony.</p>")
                           .arg(QCoreApplication::applicationVersion().toHtmlEscaped()));
}

}  // namespace sb::ui
