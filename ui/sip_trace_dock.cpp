#include "ui/sip_trace_dock.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollBar>
#include <QVBoxLayout>

#include "ui/sip_trace_feed.h"

namespace sb::ui {

SipTraceDock::SipTraceDock(SipTraceFeed& feed, QWidget* parent)
    : QDockWidget(tr("SIP trace"), parent), m_feed(feed), m_text(new QPlainTextEdit) {
    setObjectName(QStringLiteral("sipTraceDock"));
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* bar = new QHBoxLayout;
    auto* note = new QLabel(tr("Credentials are redacted."), body);
    auto* clearButton = new QPushButton(tr("C&lear"), body);
    bar->addWidget(note, 1);
    bar->addWidget(clearButton);
    layout->addLayout(bar);
    layout->addWidget(m_text, 1);
    setWidget(body);

    m_text->setParent(body);
    m_text->setReadOnly(true);
    m_text->setUndoRedoEnabled(false);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setMaximumBlockCount(kMaxLines);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setAccessibleName(tr("SIP trace"));
    connect(clearButton, &QPushButton::clicked, this, &SipTraceDock::clear);

    connect(&m_feed, &SipTraceFeed::messagesRecorded, this, &SipTraceDock::append);
    // Record only while someone can read it.
    connect(this, &QDockWidget::visibilityChanged, this,
            [this](bool visible) { m_feed.setEnabled(visible || !isHidden()); });
    hide();
    m_feed.setEnabled(false);
}

void SipTraceDock::clear() {
    m_text->clear();
}

void SipTraceDock::append(const QStringList& messages, int dropped) {
    QScrollBar* scroll = m_text->verticalScrollBar();
    const bool atEnd = scroll->value() == scroll->maximum();
    QString text;
    if (dropped > 0)
        text += tr("… %n message(s) not shown (trace too fast)", nullptr, dropped) + u'\n';
    text += messages.join(QStringLiteral("\n\n"));
    text += u'\n';
    m_text->appendPlainText(text);
    // Follow the newest unless the reader scrolled back to study something.
    if (atEnd) scroll->setValue(scroll->maximum());
}

}  // namespace sb::ui
