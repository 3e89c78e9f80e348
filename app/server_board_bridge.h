#pragma once

#include <QHash>
#include <QObject>
#include <QString>

namespace sb::board {
class Console;
}
namespace sb::server {
class BindingStore;
class DialogStateStore;
class LocalDomains;
}  // namespace sb::server

namespace sb::app {

// Feeds the board from the built-in server exactly as SubscriptionBridge does from
// client-mode subscriptions (issue 4: the board and headless mode cannot tell the source
// apart): each monitored user's dialogs (tracker and PUBLISH) become a full dialog-info
// document with a rising version, and its registration becomes the "subscription"
// status: usable while it has a binding (or published state), otherwise offline with
// the reason "not registered".
class ServerBoardBridge final : public QObject {
    Q_OBJECT
public:
    ServerBoardBridge(board::Console& console, server::DialogStateStore& dialogs,
                      server::BindingStore& bindings, const server::LocalDomains& domains,
                      QObject* parent = nullptr);
    ~ServerBoardBridge() override;

    // Brings every monitored extension up to date (after the bindings were loaded).
    void refreshAll();

private:
    // The server user an extension stands for: its number, unless it has a URI of
    // another domain (then none: shown offline, "not a user of this server").
    QString userOf(const QString& number) const;
    void refresh(const QString& user);
    void refreshExtension(const QString& number);
    // `user` is userOf(number), when the caller has it already (a URI parse saved).
    void refreshExtension(const QString& number, const QString& user);

    board::Console& m_console;
    server::DialogStateStore& m_dialogs;
    server::BindingStore& m_bindings;
    const server::LocalDomains& m_domains;
    int m_dialogListener = 0;
    int m_bindingListener = 0;
    // Per user: the version of the last document given to the board. Versions rise for
    // the whole run (one "subscription" per registration period would reset them; the
    // board's merge accepts any higher version).
    QHash<QString, quint64> m_versions;
    // Per extension: the dialog store's sequence() when its last document was built.
    QHash<QString, quint64> m_shownUpTo;
    QHash<QString, bool> m_usable;  // last status given, so that only changes are passed
};

}  // namespace sb::app
