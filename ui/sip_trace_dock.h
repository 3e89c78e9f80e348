#pragma once

#include <QDockWidget>
#include <QPlainTextEdit>

namespace sb::ui {

class SipTraceFeed;

// For administrators: the redacted SIP messages as they pass, newest at the bottom, at
// most kMaxLines lines (the oldest go first). Hidden by default; the feed records only
// while the dock is visible.
class SipTraceDock final : public QDockWidget {
    Q_OBJECT
public:
    static constexpr int kMaxLines = 20000;

    explicit SipTraceDock(SipTraceFeed& feed, QWidget* parent = nullptr);

    QPlainTextEdit* textEdit() const { return m_text; }
    void clear();

private:
    void append(const QStringList& messages, int dropped);

    SipTraceFeed& m_feed;
    QPlainTextEdit* m_text;
};

}  // namespace sb::ui
