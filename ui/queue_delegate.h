#pragma once

#include <QFont>
#include <QStringList>
#include <QStyledItemDelegate>

#include "ui/lamp_style.h"

namespace sb::ui {

// Paints one queued call as a card: who calls, how long it waits (large, right), the
// caller's number and the number called, what it is doing now (a glyph and a word, never
// colour alone), how it came here (a line per diversion: "from 203, no-answer"), and —
// highlighted, with the word "Back:" — what the last action came to ("203 busy").
// Only paints.
class QueueDelegate final : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit QueueDelegate(QObject* parent = nullptr);

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    void setScheme(LampStyle::Scheme scheme) { m_scheme = scheme; }

private:
    struct Fonts {
        QFont caller, time, small, state, outcome;
    };
    // The lines a card has besides the caller and the state.
    struct Lines {
        QString number;       // "+442071234567 · called 200"
        QStringList history;  // at most a few, the last says how many more
        QString outcome;
    };
    Fonts fontsFor(const QFont& base) const;
    static Lines linesOf(const QModelIndex& index);

    LampStyle::Scheme m_scheme = LampStyle::Scheme::Light;
};

}  // namespace sb::ui
