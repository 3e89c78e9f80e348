#include "base/log.h"

Q_LOGGING_CATEGORY(lcBase, "switchboard.base", QtWarningMsg)
Q_LOGGING_CATEGORY(lcSip, "switchboard.sip", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTransport, "switchboard.sip.transport", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTransaction, "switchboard.sip.transaction", QtWarningMsg)
Q_LOGGING_CATEGORY(lcDialog, "switchboard.sip.dialog", QtWarningMsg)
Q_LOGGING_CATEGORY(lcUa, "switchboard.ua", QtWarningMsg)
Q_LOGGING_CATEGORY(lcServer, "switchboard.server", QtWarningMsg)
Q_LOGGING_CATEGORY(lcApp, "switchboard.app", QtWarningMsg)
