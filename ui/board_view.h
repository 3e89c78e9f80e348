#pragma once

#include <QListView>
#include <QTimer>

#include "ui/lamp_style.h"

namespace sb::ui {

class TileDelegate;

// The board: a wrapping grid of tiles drawn by TileDelegate. Uniform item sizes and
// batched layout keep 2,000 tiles cheap; arrow keys move between tiles; typing a
// printable character asks for the filter (typedText), Esc asks to clear it.
// Once a second it repaints the tiles that show a running duration — only those in view.
class BoardView final : public QListView {
    Q_OBJECT
public:
    explicit BoardView(QWidget* parent = nullptr);

    TileDelegate* tileDelegate() const { return m_delegate; }
    void setScaleStep(int step);
    int scaleStep() const;
    void setScheme(LampStyle::Scheme scheme);

    // Repaints the visible tiles with a live duration now (the timer calls it).
    // Returns how many tiles it repainted.
    int repaintLiveDurations();

signals:
    // A printable key went to the board: the window moves it into the filter.
    void typedText(const QString& text);
    void escapePressed();

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void relayout();
    void fitTileWidth();

    TileDelegate* m_delegate;
    QTimer m_durationTimer;
};

}  // namespace sb::ui
