#include "ui/board_view.h"

#include <QEvent>
#include <QKeyEvent>
#include <QResizeEvent>
#include <QScrollBar>

#include "ui/board_model.h"
#include "ui/tile_delegate.h"

namespace sb::ui {

BoardView::BoardView(QWidget* parent) : QListView(parent), m_delegate(new TileDelegate(this)) {
    // ListMode with left-to-right flow and wrapping lays tiles out as a grid; with
    // uniform sizes Qt computes positions arithmetically instead of asking every tile.
    setViewMode(QListView::ListMode);
    setFlow(QListView::LeftToRight);
    setWrapping(true);
    setResizeMode(QListView::Adjust);
    setMovement(QListView::Static);
    setUniformItemSizes(true);
    setLayoutMode(QListView::Batched);
    setBatchSize(500);
    setSpacing(3);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setSelectionBehavior(QAbstractItemView::SelectItems);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    setMouseTracking(false);
    setFrameShape(QFrame::NoFrame);
    setItemDelegate(m_delegate);
    m_delegate->setBaseFont(font());
    connect(m_delegate, &TileDelegate::tileSizeChanged, this, &BoardView::relayout);
    setAccessibleName(tr("Extension board"));

    m_durationTimer.setInterval(1000);
    connect(&m_durationTimer, &QTimer::timeout, this, &BoardView::repaintLiveDurations);
    m_durationTimer.start();
}

void BoardView::setScaleStep(int step) {
    m_delegate->setScaleStep(step);
    fitTileWidth();
}

int BoardView::scaleStep() const {
    return m_delegate->scaleStep();
}

void BoardView::setScheme(LampStyle::Scheme scheme) {
    m_delegate->setScheme(scheme);
    viewport()->update();
}

void BoardView::resizeEvent(QResizeEvent* event) {
    fitTileWidth();
    QListView::resizeEvent(event);
}

void BoardView::fitTileWidth() {
    // Whole columns across the width, no ragged empty strip on the right. The scroll
    // bar's width is always set aside, so its coming and going cannot flip the layout.
    const int available = width() - 2 * frameWidth() - verticalScrollBar()->sizeHint().width();
    const int s = spacing();
    const int minimum = m_delegate->minimumTileWidth();
    const int columns = std::max(1, (available - s) / (minimum + 2 * s));
    m_delegate->setTileWidth(std::max(minimum, (available - s) / columns - 2 * s));
}

void BoardView::relayout() {
    // Uniform item sizes are cached by the view; a new layout asks the delegate again.
    doItemsLayout();
    viewport()->update();
    if (currentIndex().isValid()) scrollTo(currentIndex());
}

int BoardView::repaintLiveDurations() {
    if (!model() || !isVisible()) return 0;
    const QRect visible = viewport()->rect();
    // Tiles run in model order left to right, top to bottom: start at the first tile in
    // view and stop after the last, so the cost follows the screen, not the board.
    QModelIndex first = indexAt(QPoint(spacing() + 1, spacing() + 1));
    int row = first.isValid() ? first.row() : 0;
    const int rows = model()->rowCount(rootIndex());
    int repainted = 0;
    QRegion region;
    for (; row < rows; ++row) {
        const QModelIndex index = model()->index(row, 0, rootIndex());
        const QRect rect = visualRect(index);
        if (rect.top() > visible.bottom()) break;
        if (!rect.intersects(visible)) continue;
        if (!index.data(BoardModel::ElapsedSecondsRole).isValid()) continue;
        region += rect;
        ++repainted;
    }
    if (!region.isEmpty()) viewport()->update(region);
    return repainted;
}

void BoardView::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Escape) {
        emit escapePressed();
        event->accept();
        return;
    }
    const QString text = event->text();
    const bool plain = !(event->modifiers() & ~(Qt::ShiftModifier | Qt::KeypadModifier));
    if (plain && !text.isEmpty() && text.at(0).isPrint() && !text.at(0).isSpace()) {
        emit typedText(text);
        event->accept();
        return;
    }
    QListView::keyPressEvent(event);
}

void BoardView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::FontChange) {
        m_delegate->setBaseFont(font());
        fitTileWidth();
    }
    QListView::changeEvent(event);
}

}  // namespace sb::ui
