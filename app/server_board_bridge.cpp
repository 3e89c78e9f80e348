#include "app/server_board_bridge.h"

#include "board/console.h"
#include "dialoginfo/dialog_info.h"
#include "server/binding_store.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"
#include "sip/uri.h"

namespace sb::app {

ServerBoardBridge::ServerBoardBridge(board::Console& console, server::DialogStateStore& dialogs,
                                     server::BindingStore& bindings,
                                     const server::LocalDomains& domains, QObject* parent)
    : QObject(parent),
      m_console(console),
      m_dialogs(dialogs),
      m_bindings(bindings),
      m_domains(domains) {
    m_dialogListener = m_dialogs.addListener(
        [this](const QString& user, server::DialogStateStore::Change) { refresh(user); });
    m_bindingListener = m_bindings.addListener([this](const QString& user) { refresh(user); });
    connect(&m_console, &board::Console::monitored, this,
            [this](const QString& number, const QString&) { refreshExtension(number); });
}

ServerBoardBridge::~ServerBoardBridge() {
    m_dialogs.removeListener(m_dialogListener);
    m_bindings.removeListener(m_bindingListener);
}

void ServerBoardBridge::refreshAll() {
    for (const board::Extension& extension : m_console.directory().extensions())
        refreshExtension(extension.number);
}

QString ServerBoardBridge::userOf(const QString& number) const {
    const QString uri = m_console.uriOf(number);
    const QByteArray text = uri.toUtf8();
    const Result<sip::Uri> parsed = sip::Uri::parse(text);
    if (!parsed) return {};
    return m_domains.userOf(*parsed);
}

void ServerBoardBridge::refresh(const QString& user) {
    // Extension numbers are user names in server mode; an extension with a URI of its own
    // maps back through userOf().
    if (m_console.state(user) && userOf(user) == user) {
        refreshExtension(user, user);
        return;
    }
    for (const board::Extension& extension : m_console.directory().extensions()) {
        if (extension.number != user && userOf(extension.number) == user)
            refreshExtension(extension.number, user);
    }
}

void ServerBoardBridge::refreshExtension(const QString& number) {
    refreshExtension(number, userOf(number));
}

void ServerBoardBridge::refreshExtension(const QString& number, const QString& user) {
    ua::SubscriptionStatus status;
    if (user.isEmpty()) {
        status.state = ua::SubscriptionStatus::State::Unavailable;
        status.reason = QByteArrayLiteral("not a user of this server");
    } else if (m_bindings.isRegistered(user) || m_dialogs.hasDialogs(user)) {
        status.state = ua::SubscriptionStatus::State::Active;
        status.reason = m_bindings.isRegistered(user) ? QByteArrayLiteral("registered")
                                                      : QByteArrayLiteral("published");
    } else {
        status.state = ua::SubscriptionStatus::State::Unavailable;
        status.reason = QByteArrayLiteral("not registered");
    }
    const bool usable = status.usable();
    const auto last = m_usable.constFind(number);
    if (last == m_usable.cend() || *last != usable) {
        m_usable.insert(number, usable);
        m_console.setSubscriptionStatus(number, status);
    }
    if (!usable) return;

    dialoginfo::Document document;
    document.version = ++m_versions[number];
    document.state = dialoginfo::DocumentState::Full;
    document.entity = m_domains.aorUri(user);
    // A dialog whose end the board was shown is left out from then on: the board
    // drops it (full state), as the notifier's watchers do.
    quint64& shownUpTo = m_shownUpTo[number];
    document.dialogs = m_dialogs.dialogs(user, shownUpTo);
    shownUpTo = m_dialogs.sequence();
    m_console.applyDocument(document, number);
}

}  // namespace sb::app
