#include "ui/queue_delegate.h"

#include <QApplication>
#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>

#include <cmath>

#include "ui/queue_model.h"

namespace sb::ui {

using dialoginfo::Lamp;

namespace {

constexpr qreal kPad = 8;
constexpr qreal kGap = 3;
constexpr qreal kBar = 5;
constexpr int kHistoryLines = 3;

// A queued call that waits rings (the operator must see it); one she has sent on is
// on its way out, like an outgoing call.
Lamp lampOf(const QString& state) {
    return state == u"waiting" ? Lamp::Ringing : Lamp::Calling;
}

}  // namespace

QueueDelegate::QueueDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QueueDelegate::Fonts QueueDelegate::fontsFor(const QFont& base) const {
    const qreal size = base.pointSizeF() > 0 ? base.pointSizeF() : 10.0;
    Fonts f;
    f.caller = base;
    f.caller.setPointSizeF(size * 1.1);
    f.caller.setWeight(QFont::DemiBold);
    f.time = base;
    f.time.setPointSizeF(size * 1.3);
    f.time.setWeight(QFont::Bold);
    f.small = base;
    f.state = base;
    f.state.setWeight(QFont::DemiBold);
    f.outcome = base;
    f.outcome.setWeight(QFont::DemiBold);
    return f;
}

QueueDelegate::Lines QueueDelegate::linesOf(const QModelIndex& index) {
    Lines lines;
    const QString number = index.data(QueueModel::CallerNumberRole).toString();
    const QString called = index.data(QueueModel::CalledRole).toString();
    if (!number.isEmpty() && !called.isEmpty())
        lines.number = QueueModel::tr("%1 · called %2").arg(number, called);
    else if (!called.isEmpty())
        lines.number = QueueModel::tr("called %1").arg(called);
    else
        lines.number = number;
    // One line per diversion, so "from 204, user-busy" reads whole in a narrow dock.
    const QStringList history = index.data(QueueModel::HistoryRole).toStringList();
    lines.history = history.mid(0, kHistoryLines);
    if (history.size() > kHistoryLines)
        lines.history.last() =
            QueueModel::tr("… and %1 more").arg(history.size() - kHistoryLines + 1);
    lines.outcome = index.data(QueueModel::OutcomeRole).toString();
    return lines;
}

QSize QueueDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
    const Fonts f = fontsFor(option.font);
    const QFontMetricsF caller(f.caller), time(f.time), small(f.small), outcome(f.outcome);
    const Lines lines = linesOf(index);
    qreal height = kPad + std::max(caller.height(), time.height());
    if (!lines.number.isEmpty()) height += kGap + small.height();
    height += kGap + small.height();  // the state
    height += lines.history.size() * (kGap + small.height());
    if (!lines.outcome.isEmpty()) height += 2 * kGap + outcome.height() + 2 * kGap;
    height += kPad;
    const int width = int(std::ceil(time.horizontalAdvance(QStringLiteral("0:00:00")) +
                                    caller.averageCharWidth() * 18 + 3 * kPad + kBar));
    return QSize(width, int(std::ceil(height)) + 2);
}

void QueueDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const {
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const Fonts f = fontsFor(option.font);
    const QFontMetricsF caller(f.caller), time(f.time), small(f.small), outcome(f.outcome);
    const Lines lines = linesOf(index);
    const bool selected = option.state & QStyle::State_Selected;
    const LampStyle::Look look =
        LampStyle::look(lampOf(index.data(QueueModel::StateRole).toString()), m_scheme);

    // The card, a pixel in from the row so neighbours stay apart. The tile colours of the
    // lamp it is like (contrast checked there), so the queue and the board read alike in
    // both palettes; the current call gets the highlight outline.
    const QRectF card = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5);
    QPainterPath shape;
    shape.addRoundedRect(card, 5, 5);
    painter->fillPath(shape, look.background);
    painter->setPen(QPen(selected ? option.palette.color(QPalette::Highlight) : look.border,
                         selected ? 2.5 : 1.0));
    painter->drawPath(shape);
    // The state's colour as a bar on the left, like a tile's lamp.
    QPainterPath bar;
    bar.addRoundedRect(QRectF(card.left(), card.top(), kBar + 4, card.height()), 5, 5);
    painter->save();
    painter->setClipRect(QRectF(card.left(), card.top(), kBar, card.height()));
    painter->fillPath(bar, look.accent);
    painter->restore();

    const qreal left = card.left() + kBar + kPad;
    const qreal right = card.right() - kPad;
    const qreal width = right - left;
    qreal y = card.top() + kPad;
    auto line = [&](const QString& text, const QFont& font, const QFontMetricsF& metrics,
                    const QColor& colour, qreal indent = 0) {
        painter->setFont(font);
        painter->setPen(colour);
        painter->drawText(QRectF(left + indent, y, width - indent, metrics.height()),
                          Qt::AlignLeft | Qt::AlignVCenter,
                          metrics.elidedText(text, Qt::ElideRight, width - indent));
        y += metrics.height();
    };

    // Who calls, and how long the call waits, large on the right.
    const QString waiting = index.data(QueueModel::WaitingTextRole).toString();
    const qreal timeWidth = time.horizontalAdvance(waiting);
    const qreal first = std::max(caller.height(), time.height());
    painter->setFont(f.time);
    painter->setPen(look.text);
    painter->drawText(QRectF(right - timeWidth, y, timeWidth + 1, first),
                      Qt::AlignRight | Qt::AlignVCenter, waiting);
    painter->setFont(f.caller);
    const qreal nameWidth = width - timeWidth - kPad;
    painter->drawText(QRectF(left, y, nameWidth, first), Qt::AlignLeft | Qt::AlignVCenter,
                      caller.elidedText(index.data(QueueModel::CallerNameRole).toString(),
                                        Qt::ElideRight, nameWidth));
    y += first;

    // The caller's number and the number called.
    if (!lines.number.isEmpty()) {
        y += kGap;
        line(lines.number, f.small, small, look.secondaryText);
    }

    // What it is doing now: the state's glyph and words.
    y += kGap;
    const qreal glyph = std::round(small.height() * 0.9);
    LampStyle::paintGlyph(*painter, QRectF(left, y + (small.height() - glyph) / 2, glyph, glyph),
                          look.glyph, look.accent);
    line(index.data(QueueModel::StateTextRole).toString(), f.state, small, look.stateText,
         glyph + 5);

    // How it came here: the diversions it arrived with, topmost first.
    for (const QString& entry : lines.history) {
        y += kGap;
        line(entry, f.small, small, look.secondaryText);
    }

    // What the last action came to, highlighted: the call is back and needs her.
    if (!lines.outcome.isEmpty()) {
        y += 2 * kGap;
        // In the busy lamp's colours: it stands out from a waiting (amber) card.
        const LampStyle::Look chip = LampStyle::look(Lamp::Busy, m_scheme);
        const QString words = QueueModel::tr("Back: %1").arg(lines.outcome);
        const qreal chipWidth = std::min(width, outcome.horizontalAdvance(words) + 2 * kPad);
        const QRectF box(left, y, chipWidth, outcome.height() + 2 * kGap);
        QPainterPath chipShape;
        chipShape.addRoundedRect(box, 4, 4);
        painter->fillPath(chipShape, chip.background);
        painter->setPen(QPen(chip.accent, 1));
        painter->drawPath(chipShape);
        painter->setFont(f.outcome);
        painter->setPen(chip.stateText);
        painter->drawText(box.adjusted(kPad, 0, -kPad, 0), Qt::AlignLeft | Qt::AlignVCenter,
                          outcome.elidedText(words, Qt::ElideRight, box.width() - 2 * kPad));
    }
    painter->restore();
}

}  // namespace sb::ui
