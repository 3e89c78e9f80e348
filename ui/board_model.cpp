#include "ui/board_model.h"

#include <algorithm>

#include "ui/lamp_style.h"
#include "ui/plain_text.h"

namespace sb::ui {

using dialoginfo::Lamp;

namespace {

// The reason the built-in server gives an extension's status while it has no binding.
constexpr char kNotRegisteredReason[] = "not registered";

// The user part of a SIP/tel URI ("sip:202@pbx;x=y" → "202"), or the text as it is when
// it has none: the tile shows numbers the way a receptionist dials them.
QString userPartOf(const QString& uri) {
    QStringView view(uri);
    const qsizetype colon = view.indexOf(u':');
    if (colon > 0 && colon < 6) view = view.mid(colon + 1);
    const qsizetype at = view.indexOf(u'@');
    if (at > 0) view = view.left(at);
    const qsizetype semi = view.indexOf(u';');
    if (semi > 0) view = view.left(semi);
    return view.toString();
}

QString otherParty(const dialoginfo::LampView& lamp) {
    const QString user = userPartOf(lamp.otherUri);
    const QString display = lamp.otherDisplay.trimmed();
    if (display.isEmpty() || display == user) return user;
    if (user.isEmpty()) return display;
    return BoardModel::tr("%1 · %2").arg(display, user);
}

}  // namespace

BoardModel::BoardModel(board::Console& console, QObject* parent)
    : QAbstractListModel(parent), m_console(console) {
    m_batchTimer.setSingleShot(true);
    m_batchTimer.setInterval(kBatchIntervalMs);
    m_batchTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_batchTimer, &QTimer::timeout, this, &BoardModel::flushPendingChanges);
    connect(&m_console, &board::Console::extensionsChanged, this, &BoardModel::onExtensionsChanged);
    connect(&m_console, &board::Console::directoryChanged, this, &BoardModel::onDirectoryChanged);
    for (const board::Extension& extension : m_console.directory().extensions())
        m_numbers << extension.number;
    rebuildIndex();
}

int BoardModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_numbers.size());
}

QString BoardModel::numberAt(int row) const {
    return row >= 0 && row < m_numbers.size() ? m_numbers.at(row) : QString();
}

const board::ExtensionState* BoardModel::stateAt(int row) const {
    if (row < 0 || row >= m_numbers.size()) return nullptr;
    return m_console.state(m_numbers.at(row));
}

bool BoardModel::isLive(Lamp lamp) {
    return lamp == Lamp::Ringing || lamp == Lamp::Calling || lamp == Lamp::Busy ||
           lamp == Lamp::Held;
}

QString BoardModel::durationText(qint64 seconds) {
    seconds = std::max<qint64>(seconds, 0);
    const qint64 h = seconds / 3600;
    const qint64 m = (seconds / 60) % 60;
    const qint64 s = seconds % 60;
    const QChar zero(u'0');
    if (h > 0) return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, zero).arg(s, 2, 10, zero);
    return QStringLiteral("%1:%2").arg(m, 2, 10, zero).arg(s, 2, 10, zero);
}

QVariant BoardModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const board::ExtensionState* state = stateAt(index.row());
    if (!state) return {};
    const board::Extension& extension = state->extension;
    const Lamp lamp = state->lamp.lamp;
    auto elapsed = [&]() -> qint64 {
        const auto ms = (m_console.clock().now() - state->since).count();
        return std::max<qint64>(ms / 1000, 0);
    };
    switch (role) {
        case Qt::DisplayRole:
            return extension.name.isEmpty() ? extension.number : extension.name;
        case NumberRole:
            return extension.number;
        case NameRole:
            return extension.name;
        case GroupRole:
            return extension.group;
        case LampRole:
            return int(lamp);
        case LampTextRole:
            return LampStyle::text(lamp);
        case OtherDisplayRole:
            return state->lamp.otherDisplay;
        case OtherUriRole:
            return state->lamp.otherUri;
        case OtherPartyRole:
            return isLive(lamp) ? otherParty(state->lamp) : QString();
        case DetailRole:
            if (lamp == Lamp::Offline) return offlineDetail(*state);
            return LampStyle::otherPartyText(lamp, otherParty(state->lamp));
        case SinceRole:
            return qint64(state->since.time_since_epoch().count());
        case ElapsedSecondsRole:
            return isLive(lamp) ? QVariant(elapsed()) : QVariant();
        case DurationTextRole:
            return isLive(lamp) ? durationText(elapsed()) : QString();
        case SubscriptionStateRole:
            return QString::fromLatin1(ua::subscriptionStateName(state->subscription.state));
        case FilterKeyRole:
            return (extension.name + u' ' + extension.number).toLower();
        case Qt::ToolTipRole:
            return plainToolTip(accessibleText(*state));
        case Qt::AccessibleTextRole:
            return accessibleText(*state);
        default:
            return {};
    }
}

QString BoardModel::offlineDetail(const board::ExtensionState& state) const {
    using State = ua::SubscriptionStatus::State;
    const ua::SubscriptionStatus& s = state.subscription;
    QString why = QString::fromUtf8(s.reason);
    if (why.isEmpty() && s.statusCode != 0) why = QString::number(s.statusCode);
    switch (s.state) {
        case State::Queued:
            return tr("Waiting to subscribe");
        case State::Subscribing:
            return tr("Subscribing…");
        case State::Retrying:
            return why.isEmpty() ? tr("Retrying") : tr("Retrying: %1").arg(why);
        case State::Unavailable:
            // Built-in server mode: a known user without a binding (app/server_board_bridge)
            // is simply not there now, which is not a failure to monitor it.
            if (s.reason == kNotRegisteredReason) return tr("Not registered");
            return why.isEmpty() ? tr("Cannot be monitored")
                                 : tr("Cannot be monitored: %1").arg(why);
        case State::Terminated:
            return tr("Not monitored");
        case State::Pending:
            // RFC 6665 §4.1.2: the server has not yet allowed us to see this extension.
            return tr("Waiting for permission");
        case State::Active:
            // Subscribed, but the first NOTIFY has not come yet.
            return tr("Waiting for the first state");
    }
    return {};
}

QString BoardModel::accessibleText(const board::ExtensionState& state) const {
    const board::Extension& extension = state.extension;
    const Lamp lamp = state.lamp.lamp;
    QString text = extension.name.isEmpty()
                       ? tr("Extension %1: %2").arg(extension.number, LampStyle::text(lamp))
                       : tr("%1, extension %2: %3")
                             .arg(extension.name, extension.number, LampStyle::text(lamp));
    const QString detail = lamp == Lamp::Offline
                               ? offlineDetail(state)
                               : LampStyle::otherPartyText(lamp, otherParty(state.lamp));
    if (!detail.isEmpty()) text += tr(", %1").arg(detail);
    if (isLive(lamp)) {
        const auto ms = (m_console.clock().now() - state.since).count();
        text += tr(", for %1").arg(durationText(ms / 1000));
    }
    return text;
}

QHash<int, QByteArray> BoardModel::roleNames() const {
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(NumberRole, "number");
    names.insert(NameRole, "name");
    names.insert(GroupRole, "group");
    names.insert(LampRole, "lamp");
    names.insert(LampTextRole, "lampText");
    names.insert(OtherDisplayRole, "otherDisplay");
    names.insert(OtherUriRole, "otherUri");
    names.insert(OtherPartyRole, "otherParty");
    names.insert(DetailRole, "detail");
    names.insert(SinceRole, "since");
    names.insert(ElapsedSecondsRole, "elapsedSeconds");
    names.insert(DurationTextRole, "durationText");
    names.insert(SubscriptionStateRole, "subscriptionState");
    names.insert(FilterKeyRole, "filterKey");
    return names;
}

void BoardModel::onExtensionsChanged(const QStringList& numbers) {
    for (const QString& number : numbers) {
        const int row = m_rowOf.value(number, -1);
        if (row >= 0) m_pendingRows.insert(row);
    }
    if (!m_pendingRows.isEmpty() && !m_batchTimer.isActive()) m_batchTimer.start();
}

void BoardModel::flushPendingChanges() {
    m_batchTimer.stop();
    if (m_pendingRows.isEmpty()) return;
    std::vector<int> rows(m_pendingRows.cbegin(), m_pendingRows.cend());
    m_pendingRows.clear();
    std::sort(rows.begin(), rows.end());
    // Name, number and group are not among them: a lamp change never refilters.
    static const QList<int> kLampRoles = {LampRole,         LampTextRole,
                                          OtherDisplayRole, OtherUriRole,
                                          OtherPartyRole,   DetailRole,
                                          SinceRole,        ElapsedSecondsRole,
                                          DurationTextRole, SubscriptionStateRole,
                                          Qt::ToolTipRole,  Qt::AccessibleTextRole};
    // One signal per run of adjacent rows; when the changes are scattered all over a big
    // board, one signal for their span is cheaper for the proxy and the view than many.
    constexpr std::size_t kMaxRanges = 32;
    std::vector<std::pair<int, int>> ranges;
    for (int row : rows) {
        if (!ranges.empty() && ranges.back().second + 1 == row)
            ranges.back().second = row;
        else
            ranges.emplace_back(row, row);
    }
    if (ranges.size() > kMaxRanges) ranges = {{rows.front(), rows.back()}};
    for (const auto& [first, last] : ranges)
        emit dataChanged(index(first), index(last), kLampRoles);
    emit changesFlushed();
}

void BoardModel::rebuildIndex() {
    m_rowOf.clear();
    m_rowOf.reserve(m_numbers.size());
    for (int row = 0; row < m_numbers.size(); ++row)
        m_rowOf.insert(m_numbers.at(row), row);
}

void BoardModel::onDirectoryChanged() {
    QStringList wanted;
    wanted.reserve(m_console.directory().size());
    for (const board::Extension& extension : m_console.directory().extensions())
        wanted << extension.number;
    // Rows are about to move: the pending batch is superseded by the refresh below.
    m_pendingRows.clear();
    m_batchTimer.stop();

    // Removals first, last run first, so that rows keep their meaning while we go.
    const QSet<QString> wantedSet(wanted.cbegin(), wanted.cend());
    for (int row = int(m_numbers.size()) - 1; row >= 0;) {
        if (wantedSet.contains(m_numbers.at(row))) {
            --row;
            continue;
        }
        int first = row;
        while (first > 0 && !wantedSet.contains(m_numbers.at(first - 1)))
            --first;
        beginRemoveRows({}, first, row);
        m_numbers.remove(first, row - first + 1);
        endRemoveRows();
        row = first - 1;
    }
    rebuildIndex();

    // The kept extensions must still be in the same order; a reordered directory is
    // rare (an edit in the settings dialog) and simply resets the board.
    QStringList kept;
    for (const QString& number : wanted)
        if (m_rowOf.contains(number)) kept << number;
    if (kept != m_numbers) {
        beginResetModel();
        m_numbers = wanted;
        rebuildIndex();
        endResetModel();
        emit changesFlushed();
        return;
    }
    // Insert each run of new extensions where the directory has it: every row before
    // `row` already matches the directory.
    const QSet<QString> keptSet(kept.cbegin(), kept.cend());
    for (int row = 0; row < wanted.size();) {
        if (keptSet.contains(wanted.at(row))) {
            ++row;
            continue;
        }
        int last = row;
        while (last + 1 < wanted.size() && !keptSet.contains(wanted.at(last + 1)))
            ++last;
        beginInsertRows({}, row, last);
        for (int i = row; i <= last; ++i)
            m_numbers.insert(i, wanted.at(i));
        endInsertRows();
        row = last + 1;
    }
    rebuildIndex();
    // Names and groups may have changed in place.
    if (!m_numbers.isEmpty()) emit dataChanged(index(0), index(int(m_numbers.size()) - 1));
    emit changesFlushed();
}

}  // namespace sb::ui
