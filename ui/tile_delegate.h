#pragma once

#include <QFont>
#include <QFontMetricsF>
#include <QHash>
#include <QPixmap>
#include <QStaticText>
#include <QStyledItemDelegate>

#include <utility>

#include "ui/lamp_style.h"

namespace sb::ui {

// Paints one extension tile: the lamp as a side bar, a glyph and a word (never colour
// alone), the name, the number, the other party while a call is up, and how long the
// lamp has been on. Only paints: no widget per tile, so a board of 2,000 is one view.
// Fonts, metrics and glyph pixmaps are computed once per size and palette, not per tile.
class TileDelegate final : public QStyledItemDelegate {
    Q_OBJECT
public:
    static constexpr int kMinScaleStep = -3;
    static constexpr int kMaxScaleStep = 6;

    explicit TileDelegate(QObject* parent = nullptr);

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    // The tile's size: 0 is the default, each step ~15 % larger or smaller.
    void setScaleStep(int step);
    int scaleStep() const { return m_scaleStep; }
    void setScheme(LampStyle::Scheme scheme);
    LampStyle::Scheme scheme() const { return m_scheme; }
    // The font tiles are derived from (the view's).
    void setBaseFont(const QFont& font);
    QSize tileSize() const;
    // The narrowest a tile may be at this size (room for a name of ~20 characters).
    int minimumTileWidth() const { return m_m.tile.width(); }
    // Widens tiles so that whole columns fill the view's width (0: the minimum width).
    void setTileWidth(int width);

signals:
    // The tile size changed: the view lays out again.
    void tileSizeChanged();

private:
    struct Metrics {
        QFont nameFont, stateFont, smallFont;
        QFontMetricsF name{QFont()}, state{QFont()}, small{QFont()};
        qreal pad = 0, bar = 0, glyph = 0, radius = 0, lead = 0;
        QSize tile;
    };
    void rebuild();
    const QPixmap& glyphFor(dialoginfo::Lamp lamp, qreal devicePixelRatio) const;
    QString elided(const QString& text, const QFontMetricsF& metrics, qreal width, int font) const;
    // Draws `text` in font `font` (0 name, 1 state, 2 small) with its top-left at `at`,
    // shaped once and kept: shaping, not painting, is what text costs.
    void drawText(QPainter* painter, QPointF at, const QString& text, int font) const;

    int m_tileWidth = 0;
    int m_scaleStep = 0;
    LampStyle::Scheme m_scheme = LampStyle::Scheme::Light;
    QFont m_baseFont;
    Metrics m_m;
    mutable QHash<int, QPixmap> m_glyphs;  // lamp × device pixel ratio
    // Elided texts by (font, width, text): tiles repaint every second with the same words.
    mutable QHash<std::pair<int, QString>, QString> m_elided;
    mutable QHash<std::pair<int, QString>, QStaticText> m_texts;
};

}  // namespace sb::ui
