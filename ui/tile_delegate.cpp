#include "ui/tile_delegate.h"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>

#include <cmath>

#include "ui/board_model.h"

namespace sb::ui {

using dialoginfo::Lamp;

namespace {

constexpr qreal kStepFactor = 1.15;
constexpr int kMaxElidedCache = 8192;

}  // namespace

TileDelegate::TileDelegate(QObject* parent)
    : QStyledItemDelegate(parent), m_baseFont(QApplication::font()) {
    rebuild();
}

void TileDelegate::setScaleStep(int step) {
    step = std::clamp(step, kMinScaleStep, kMaxScaleStep);
    if (step == m_scaleStep) return;
    m_scaleStep = step;
    rebuild();
    emit tileSizeChanged();
}

void TileDelegate::setScheme(LampStyle::Scheme scheme) {
    if (scheme == m_scheme) return;
    m_scheme = scheme;
    m_glyphs.clear();
}

void TileDelegate::setBaseFont(const QFont& font) {
    if (font == m_baseFont) return;
    m_baseFont = font;
    rebuild();
    emit tileSizeChanged();
}

QSize TileDelegate::tileSize() const {
    return QSize(std::max(m_tileWidth, m_m.tile.width()), m_m.tile.height());
}

void TileDelegate::setTileWidth(int width) {
    if (width == m_tileWidth) return;
    const QSize before = tileSize();
    m_tileWidth = width;
    if (tileSize() != before) {
        m_elided.clear();
        emit tileSizeChanged();
    }
}

void TileDelegate::rebuild() {
    const qreal factor = std::pow(kStepFactor, m_scaleStep);
    const qreal base = m_baseFont.pointSizeF() > 0 ? m_baseFont.pointSizeF() : 10.0;
    Metrics m;
    m.nameFont = m_baseFont;
    m.nameFont.setPointSizeF(base * factor * 1.15);
    m.nameFont.setWeight(QFont::DemiBold);
    m.stateFont = m_baseFont;
    m.stateFont.setPointSizeF(base * factor);
    m.stateFont.setWeight(QFont::DemiBold);
    m.smallFont = m_baseFont;
    m.smallFont.setPointSizeF(base * factor * 0.95);
    m.name = QFontMetricsF(m.nameFont);
    m.state = QFontMetricsF(m.stateFont);
    m.small = QFontMetricsF(m.smallFont);
    m.pad = std::round(m.small.height() * 0.45);
    m.bar = std::max<qreal>(4, std::round(m.small.height() * 0.3));
    m.glyph = std::round(m.name.height() * 1.05);
    m.radius = std::round(m.small.height() * 0.35);
    m.lead = std::round(m.small.height() * 0.15);
    // Room for a name of ~20 characters beside the glyph and a number of 3-4 digits.
    const qreal width = m.bar + m.pad * 3 + m.glyph + m.name.averageCharWidth() * 24;
    const qreal height = m.pad * 2 + m.name.height() + m.state.height() + m.small.height() +
                         m.lead * 2 + m.pad * 0.25;
    m.tile = QSize(int(std::ceil(width)), int(std::ceil(height)));
    m_m = m;
    m_glyphs.clear();
    m_elided.clear();
    m_texts.clear();
}

QSize TileDelegate::sizeHint(const QStyleOptionViewItem&, const QModelIndex&) const {
    return tileSize();
}

const QPixmap& TileDelegate::glyphFor(Lamp lamp, qreal devicePixelRatio) const {
    const int key = int(lamp) * 1000 + int(devicePixelRatio * 100);
    auto it = m_glyphs.find(key);
    if (it == m_glyphs.end())
        it = m_glyphs.insert(
            key, LampStyle::glyphPixmap(lamp, m_scheme, int(m_m.glyph), devicePixelRatio));
    return *it;
}

QString TileDelegate::elided(const QString& text, const QFontMetricsF& metrics, qreal width,
                             int font) const {
    if (text.isEmpty()) return text;
    const std::pair<int, QString> key(font * 100000 + int(width), text);
    auto it = m_elided.constFind(key);
    if (it != m_elided.constEnd()) return *it;
    if (m_elided.size() > kMaxElidedCache) m_elided.clear();
    return *m_elided.insert(key, metrics.elidedText(text, Qt::ElideRight, width));
}

void TileDelegate::drawText(QPainter* painter, QPointF at, const QString& text, int font) const {
    if (text.isEmpty()) return;
    const std::pair<int, QString> key(font, text);
    auto it = m_texts.constFind(key);
    if (it == m_texts.constEnd()) {
        if (m_texts.size() > kMaxElidedCache) m_texts.clear();
        QStaticText staticText(text);
        staticText.setTextFormat(Qt::PlainText);
        staticText.setPerformanceHint(QStaticText::AggressiveCaching);
        staticText.prepare(QTransform(), font == 0   ? m_m.nameFont
                                         : font == 1 ? m_m.stateFont
                                                     : m_m.smallFont);
        it = m_texts.insert(key, staticText);
    }
    painter->drawStaticText(at, *it);
}

void TileDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                         const QModelIndex& index) const {
    const Metrics& m = m_m;
    const auto lamp = Lamp(index.data(BoardModel::LampRole).toInt());
    const LampStyle::Look look = LampStyle::look(lamp, m_scheme);
    const QRectF r = QRectF(option.rect).adjusted(2, 2, -2, -2);

    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);

    // The tile and its lamp bar on the left edge.
    painter->setPen(Qt::NoPen);
    painter->setBrush(look.background);
    painter->drawRoundedRect(r, m.radius, m.radius);
    painter->save();
    painter->setClipRect(QRectF(r.left(), r.top(), m.bar, r.height()));
    painter->setBrush(look.accent);
    painter->drawRoundedRect(QRectF(r.left(), r.top(), m.bar + m.radius * 2, r.height()), m.radius,
                             m.radius);
    painter->restore();

    const bool current = option.state & (QStyle::State_Selected | QStyle::State_HasFocus);
    const qreal outline = look.emphasised ? 2.0 : 1.0;
    painter->setBrush(Qt::NoBrush);
    painter->setPen(QPen(look.emphasised ? look.accent : look.border, outline));
    painter->drawRoundedRect(r.adjusted(outline / 2, outline / 2, -outline / 2, -outline / 2),
                             m.radius, m.radius);
    if (current) {
        // The keyboard's place on the board: an outline in the palette's highlight,
        // outside the lamp's own border so both stay visible.
        painter->setPen(QPen(option.palette.color(QPalette::Highlight), 2.5));
        painter->drawRoundedRect(QRectF(option.rect).adjusted(1.25, 1.25, -1.25, -1.25),
                                 m.radius + 1, m.radius + 1);
    }

    // Line 1: glyph, name, number.
    const qreal left = r.left() + m.bar + m.pad;
    const qreal right = r.right() - m.pad;
    const qreal top = r.top() + m.pad;
    const QPixmap& glyph = glyphFor(lamp, painter->device()->devicePixelRatioF());
    painter->drawPixmap(QPointF(left, top + (m.name.height() - m.glyph) / 2), glyph);
    const qreal textLeft = left + m.glyph + m.pad * 0.75;

    const QString number = index.data(BoardModel::NumberRole).toString();
    const QString name = index.data(BoardModel::NameRole).toString();
    const qreal numberWidth = name.isEmpty() ? 0 : m.small.horizontalAdvance(number);
    qreal baseline = top + m.name.ascent();
    painter->setFont(m.nameFont);
    painter->setPen(look.text);
    const qreal nameWidth = right - textLeft - (numberWidth > 0 ? numberWidth + m.pad : 0);
    drawText(painter, QPointF(textLeft, top),
             elided(name.isEmpty() ? number : name, m.name, nameWidth, 0), 0);
    if (numberWidth > 0) {
        painter->setFont(m.smallFont);
        painter->setPen(look.secondaryText);
        drawText(painter, QPointF(right - numberWidth, baseline - m.small.ascent()), number, 2);
    }

    // Line 2: the lamp's word and how long it has been on.
    baseline = top + m.name.height() + m.lead + m.state.ascent();
    const QString duration = index.data(BoardModel::DurationTextRole).toString();
    const qreal durationWidth = duration.isEmpty() ? 0 : m.small.horizontalAdvance(duration);
    painter->setFont(m.stateFont);
    painter->setPen(look.stateText);
    drawText(painter, QPointF(textLeft, baseline - m.state.ascent()),
             elided(index.data(BoardModel::LampTextRole).toString(), m.state,
                    right - textLeft - durationWidth - m.pad, 1),
             1);
    if (durationWidth > 0) {
        painter->setFont(m.smallFont);
        painter->setPen(look.secondaryText);
        drawText(painter, QPointF(right - durationWidth, baseline - m.small.ascent()), duration, 2);
    }

    // Line 3: the other party ("from Bob · 202"), or why the extension is offline.
    const QString detail = index.data(BoardModel::DetailRole).toString();
    if (!detail.isEmpty()) {
        baseline = top + m.name.height() + m.state.height() + m.lead * 2 + m.small.ascent();
        painter->setFont(m.smallFont);
        painter->setPen(look.emphasised ? look.text : look.secondaryText);
        drawText(painter, QPointF(textLeft, baseline - m.small.ascent()),
                 elided(detail, m.small, right - textLeft, 2), 2);
    }
    painter->restore();
}

}  // namespace sb::ui
