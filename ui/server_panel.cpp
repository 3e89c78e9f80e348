#include "ui/server_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace sb::ui {

namespace {

// A table the way an administrator reads one: whole rows, no editing, Tab leaves the
// table (instead of walking its cells) so that the panel is reachable by keyboard.
QTableView* makeTable(QSortFilterProxyModel* proxy, const QString& name, QWidget* parent) {
    auto* view = new QTableView(parent);
    view->setModel(proxy);
    view->setAccessibleName(name);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setTabKeyNavigation(false);
    view->setFocusPolicy(Qt::StrongFocus);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->setCornerButtonEnabled(false);
    view->verticalHeader()->hide();
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 8);
    view->horizontalHeader()->setHighlightSections(false);
    view->setSortingEnabled(true);
    return view;
}

void fitColumns(QTableView* view, const QList<QHeaderView::ResizeMode>& modes) {
    QHeaderView* header = view->horizontalHeader();
    header->setStretchLastSection(false);
    for (int column = 0; column < modes.size(); ++column)
        header->setSectionResizeMode(column, modes.at(column));
    view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
}

QSortFilterProxyModel* makeProxy(QAbstractItemModel* source, QObject* parent) {
    auto* proxy = new QSortFilterProxyModel(parent);
    proxy->setSourceModel(source);
    proxy->setSortRole(kServerSortRole);
    proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    proxy->setDynamicSortFilter(true);
    return proxy;
}

// A caption above a table; its mnemonic (Alt+letter) moves the focus into the table.
QWidget* captioned(const QString& caption, QTableView* table, QWidget* parent) {
    auto* box = new QWidget(parent);
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto* label = new QLabel(caption, box);
    QFont bold = label->font();
    bold.setWeight(QFont::DemiBold);
    label->setFont(bold);
    label->setBuddy(table);
    layout->addWidget(label);
    layout->addWidget(table, 1);
    table->setParent(box);
    return box;
}

}  // namespace

ServerPanel::ServerPanel(QWidget* parent)
    : QDockWidget(tr("Server"), parent),
      m_now([] { return QDateTime::currentDateTimeUtc(); }),
      m_bindings(new BindingTableModel(this)),
      m_calls(new CallTableModel(this)),
      m_bindingsProxy(makeProxy(m_bindings, this)),
      m_callsProxy(makeProxy(m_calls, this)),
      m_publications(new PublicationTableModel(this)),
      m_publicationsProxy(makeProxy(m_publications, this)),
      m_summary(nullptr),
      m_bindingsView(nullptr),
      m_callsView(nullptr),
      m_publicationsView(nullptr),
      m_publicationsBox(nullptr) {
    setObjectName(QStringLiteral("serverPanel"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    layout->setContentsMargins(6, 4, 6, 6);
    layout->setSpacing(4);

    m_summary = new QLabel(body);
    m_summary->setObjectName(QStringLiteral("serverSummary"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);

    m_bindingsView = makeTable(m_bindingsProxy, tr("Bindings"), body);
    m_bindingsView->setObjectName(QStringLiteral("serverBindings"));
    m_callsView = makeTable(m_callsProxy, tr("Calls"), body);
    m_callsView->setObjectName(QStringLiteral("serverCalls"));
    m_publicationsView = makeTable(m_publicationsProxy, tr("Publishing"), body);
    m_publicationsView->setObjectName(QStringLiteral("serverPublications"));

    auto* split = new QSplitter(Qt::Horizontal, body);
    split->setChildrenCollapsible(false);
    split->addWidget(captioned(tr("&Bindings"), m_bindingsView, split));
    split->addWidget(captioned(tr("Live &calls"), m_callsView, split));
    m_publicationsBox = captioned(tr("&Publishing"), m_publicationsView, split);
    m_publicationsBox->setObjectName(QStringLiteral("serverPublishing"));
    split->addWidget(m_publicationsBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 3);
    layout->addWidget(split, 1);
    setWidget(body);
    // Nothing to show until publishing is configured (or reports come).
    m_publicationsBox->hide();
    // Tab order follows reading order: the bindings, the calls, the publications.
    setTabOrder(m_bindingsView, m_callsView);
    setTabOrder(m_callsView, m_publicationsView);

    // Addresses and names take the room there is (elided, in full in the tooltip); the
    // short columns fit their contents; no table scrolls sideways.
    using Mode = QHeaderView::ResizeMode;
    fitColumns(m_bindingsView, {Mode::ResizeToContents, Mode::Stretch, Mode::ResizeToContents,
                                Mode::ResizeToContents, Mode::Stretch});
    fitColumns(m_callsView,
               {Mode::Stretch, Mode::Stretch, Mode::ResizeToContents, Mode::ResizeToContents});
    fitColumns(m_publicationsView,
               {Mode::Stretch, Mode::ResizeToContents, Mode::Stretch, Mode::ResizeToContents});
    m_bindingsView->sortByColumn(BindingTableModel::UserColumn, Qt::AscendingOrder);
    // The longest-waiting call first: it is the one that needs a look.
    m_callsView->sortByColumn(CallTableModel::SinceColumn, Qt::DescendingOrder);
    // Failures first (then removals, then the rest), in the order they came.
    m_publicationsView->sortByColumn(PublicationTableModel::ResultColumn, Qt::AscendingOrder);

    m_tick.setInterval(kTickMs);
    connect(&m_tick, &QTimer::timeout, this, &ServerPanel::refreshTimes);
    // Durations change every second, but nobody needs them while the panel is hidden.
    connect(this, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) {
            refreshTimes();
            m_tick.start();
        } else {
            m_tick.stop();
        }
    });
    updateSummary();
}

void ServerPanel::setServerInfo(const QString& domain, const QStringList& listenAddresses) {
    m_domain = domain;
    m_listen = listenAddresses;
    m_publications->setLocalDomain(domain);
    updateSummary();
}

void ServerPanel::setPublishing(const QString& target) {
    m_publishTarget = target;
    m_publicationsBox->setVisible(!target.isEmpty() || m_publications->rowCount() > 0);
    updateSummary();
}

void ServerPanel::updatePublication(const PublicationUpdate& update) {
    const int failingBefore = m_publications->failingEntities();
    m_publications->update(update, m_now());
    if (m_publicationsBox->isHidden()) m_publicationsBox->show();
    // The summary counts failures; it needs no new text for every accepted state.
    if (m_publications->failingEntities() != failingBefore || m_publications->rowCount() == 1)
        updateSummary();
}

void ServerPanel::setBindings(const QList<BindingRow>& rows) {
    m_bindings->setRows(rows, m_now());
    updateSummary();
}

void ServerPanel::setCalls(const QList<CallRow>& rows) {
    m_calls->setRows(rows, m_now());
    updateSummary();
}

void ServerPanel::setClock(std::function<QDateTime()> now) {
    m_now = std::move(now);
    refreshTimes();
}

void ServerPanel::refreshTimes() {
    const QDateTime now = m_now();
    m_bindings->setNow(now);
    m_calls->setNow(now);
}

QString ServerPanel::summaryText() const {
    return m_summary->text();
}

void ServerPanel::updateSummary() {
    const int calls = m_calls->liveCalls();
    const QString counts = tr("%n registered", nullptr, m_bindings->registeredUsers()) + tr(", ") +
                           (calls == 1 ? tr("1 call") : tr("%n calls", nullptr, calls));
    QStringList parts;
    if (!m_domain.isEmpty()) parts << m_domain;
    if (!m_listen.isEmpty()) parts << m_listen.join(tr(", "));
    parts << counts;
    if (!m_publishTarget.isEmpty() || m_publications->rowCount() > 0) {
        QString publishing = m_publishTarget.isEmpty()
                                 ? tr("publishing")
                                 : tr("publishing to %1").arg(m_publishTarget);
        if (const int failing = m_publications->failingEntities(); failing > 0)
            publishing += tr(", ") + tr("%n failing", nullptr, failing);
        parts << publishing;
    }
    m_summary->setText(parts.join(tr(" — ")));
    m_summary->setAccessibleName(m_summary->text());
}

}  // namespace sb::ui
