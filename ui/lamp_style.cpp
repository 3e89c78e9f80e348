#include "ui/lamp_style.h"

#include <QPainter>
#include <QPainterPath>

namespace sb::ui {

using dialoginfo::Lamp;

namespace {

// Colours chosen so that the lamp's word reaches WCAG AA contrast (4.5:1) on its own
// tile, idle tiles stay quiet (the board is mostly idle, all day), and only the states
// that ask for the receptionist's attention get a tinted tile.
LampStyle::Look lightLook(Lamp lamp) {
    using G = LampStyle::Glyph;
    switch (lamp) {
        case Lamp::Offline:
            return {QColor(0xEC, 0xEF, 0xF1), QColor(0xB8, 0xC2, 0xC8),
                    QColor(0x78, 0x86, 0x8F), QColor(0x4E, 0x5B, 0x63),
                    QColor(0x4E, 0x5B, 0x63), QColor(0x5F, 0x6B, 0x73),
                    G::SlashedCircle,         false};
        case Lamp::Idle:
            return {QColor(0xFF, 0xFF, 0xFF),
                    QColor(0xC8, 0xD0, 0xD4),
                    QColor(0x2E, 0x7D, 0x32),
                    QColor(0x3F, 0x6B, 0x42),
                    QColor(0x1F, 0x23, 0x28),
                    QColor(0x5A, 0x65, 0x6D),
                    G::Ring,
                    false};
        case Lamp::Ringing:
            return {QColor(0xFF, 0xEC, 0xC7),
                    QColor(0xD9, 0x82, 0x00),
                    QColor(0xD0, 0x7A, 0x00),
                    QColor(0x7A, 0x41, 0x00),
                    QColor(0x1F, 0x23, 0x28),
                    QColor(0x5C, 0x4A, 0x2E),
                    G::Bell,
                    true};
        case Lamp::Calling:
            return {QColor(0xE3, 0xF0, 0xFD),
                    QColor(0x6B, 0xA3, 0xD9),
                    QColor(0x1E, 0x6B, 0xB8),
                    QColor(0x0F, 0x4C, 0x8A),
                    QColor(0x1F, 0x23, 0x28),
                    QColor(0x3D, 0x52, 0x66),
                    G::Arrow,
                    false};
        case Lamp::Busy:
            return {QColor(0xFD, 0xE7, 0xE7),
                    QColor(0xDB, 0x7A, 0x77),
                    QColor(0xC6, 0x28, 0x28),
                    QColor(0x9E, 0x1C, 0x1C),
                    QColor(0x1F, 0x23, 0x28),
                    QColor(0x66, 0x42, 0x42),
                    G::Disc,
                    false};
        case Lamp::Held:
            return {QColor(0xF1, 0xE6, 0xF7),
                    QColor(0xB0, 0x8C, 0xC8),
                    QColor(0x7B, 0x3F, 0xA0),
                    QColor(0x5E, 0x2A, 0x80),
                    QColor(0x1F, 0x23, 0x28),
                    QColor(0x5A, 0x47, 0x66),
                    G::Pause,
                    false};
    }
    return {};
}

LampStyle::Look darkLook(Lamp lamp) {
    using G = LampStyle::Glyph;
    switch (lamp) {
        case Lamp::Offline:
            return {QColor(0x24, 0x27, 0x2A), QColor(0x3A, 0x3F, 0x44),
                    QColor(0x7D, 0x86, 0x8C), QColor(0xA3, 0xAC, 0xB2),
                    QColor(0xA3, 0xAC, 0xB2), QColor(0x8A, 0x93, 0x99),
                    G::SlashedCircle,         false};
        case Lamp::Idle:
            return {QColor(0x2B, 0x2F, 0x33),
                    QColor(0x40, 0x46, 0x4C),
                    QColor(0x66, 0xBB, 0x6A),
                    QColor(0x8F, 0xBA, 0x92),
                    QColor(0xE6, 0xE8, 0xEA),
                    QColor(0xA9, 0xB1, 0xB7),
                    G::Ring,
                    false};
        case Lamp::Ringing:
            return {QColor(0x4A, 0x35, 0x12),
                    QColor(0xF0, 0xA0, 0x30),
                    QColor(0xF5, 0xA6, 0x23),
                    QColor(0xFF, 0xD0, 0x80),
                    QColor(0xFF, 0xFF, 0xFF),
                    QColor(0xE8, 0xD6, 0xB5),
                    G::Bell,
                    true};
        case Lamp::Calling:
            return {QColor(0x1A, 0x33, 0x50),
                    QColor(0x4A, 0x80, 0xC0),
                    QColor(0x64, 0xA8, 0xF0),
                    QColor(0xA6, 0xD0, 0xFF),
                    QColor(0xFF, 0xFF, 0xFF),
                    QColor(0xC4, 0xD6, 0xEA),
                    G::Arrow,
                    false};
        case Lamp::Busy:
            return {QColor(0x4A, 0x1F, 0x1F),
                    QColor(0xB8, 0x4A, 0x47),
                    QColor(0xEF, 0x53, 0x50),
                    QColor(0xFF, 0xA8, 0xA6),
                    QColor(0xFF, 0xFF, 0xFF),
                    QColor(0xE6, 0xC4, 0xC4),
                    G::Disc,
                    false};
        case Lamp::Held:
            return {QColor(0x3A, 0x24, 0x48),
                    QColor(0x8E, 0x62, 0xB0),
                    QColor(0xC0, 0x8A, 0xE6),
                    QColor(0xDE, 0xBD, 0xF5),
                    QColor(0xFF, 0xFF, 0xFF),
                    QColor(0xD8, 0xC8, 0xE4),
                    G::Pause,
                    false};
    }
    return {};
}

}  // namespace

LampStyle::Look LampStyle::look(Lamp lamp, Scheme scheme) {
    return scheme == Scheme::Dark ? darkLook(lamp) : lightLook(lamp);
}

QString LampStyle::text(Lamp lamp) {
    switch (lamp) {
        case Lamp::Offline:
            return tr("Offline");
        case Lamp::Idle:
            return tr("Idle");
        case Lamp::Ringing:
            return tr("Ringing");
        case Lamp::Calling:
            return tr("Calling");
        case Lamp::Busy:
            return tr("Busy");
        case Lamp::Held:
            return tr("On hold");
    }
    return {};
}

QString LampStyle::otherPartyText(Lamp lamp, const QString& party) {
    if (party.isEmpty()) return {};
    switch (lamp) {
        case Lamp::Ringing:
            return tr("from %1").arg(party);
        case Lamp::Calling:
            return tr("to %1").arg(party);
        case Lamp::Busy:
        case Lamp::Held:
            return tr("with %1").arg(party);
        case Lamp::Offline:
        case Lamp::Idle:
            break;
    }
    return {};
}

void LampStyle::paintGlyph(QPainter& painter, const QRectF& box, Glyph glyph,
                           const QColor& colour) {
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing);
    // Draw in a unit square so each shape is written once, in proportions.
    const qreal s = qMin(box.width(), box.height());
    painter.translate(box.center().x() - s / 2, box.center().y() - s / 2);
    painter.scale(s, s);
    QPen pen(colour, 0.13, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    switch (glyph) {
        case Glyph::Ring:
            painter.setPen(pen);
            painter.setBrush(Qt::NoBrush);
            painter.drawEllipse(QPointF(0.5, 0.5), 0.33, 0.33);
            break;
        case Glyph::SlashedCircle:
            painter.setPen(pen);
            painter.setBrush(Qt::NoBrush);
            painter.drawEllipse(QPointF(0.5, 0.5), 0.33, 0.33);
            painter.drawLine(QPointF(0.27, 0.73), QPointF(0.73, 0.27));
            break;
        case Glyph::Disc:
            painter.setPen(Qt::NoPen);
            painter.setBrush(colour);
            painter.drawEllipse(QPointF(0.5, 0.5), 0.4, 0.4);
            break;
        case Glyph::Pause:
            painter.setPen(Qt::NoPen);
            painter.setBrush(colour);
            painter.drawRoundedRect(QRectF(0.2, 0.15, 0.22, 0.7), 0.05, 0.05);
            painter.drawRoundedRect(QRectF(0.58, 0.15, 0.22, 0.7), 0.05, 0.05);
            break;
        case Glyph::Arrow: {
            painter.setPen(pen);
            painter.drawLine(QPointF(0.2, 0.8), QPointF(0.66, 0.34));
            QPainterPath head;
            head.moveTo(0.84, 0.16);
            head.lineTo(0.84, 0.58);
            head.lineTo(0.42, 0.16);
            head.closeSubpath();
            painter.setPen(Qt::NoPen);
            painter.setBrush(colour);
            painter.drawPath(head);
            break;
        }
        case Glyph::Bell: {
            QPainterPath bell;
            bell.moveTo(0.5, 0.14);
            bell.cubicTo(0.3, 0.14, 0.25, 0.32, 0.25, 0.48);
            bell.lineTo(0.25, 0.6);
            bell.lineTo(0.13, 0.74);
            bell.lineTo(0.87, 0.74);
            bell.lineTo(0.75, 0.6);
            bell.lineTo(0.75, 0.48);
            bell.cubicTo(0.75, 0.32, 0.7, 0.14, 0.5, 0.14);
            bell.closeSubpath();
            painter.setPen(Qt::NoPen);
            painter.setBrush(colour);
            painter.drawPath(bell);
            painter.drawEllipse(QPointF(0.5, 0.84), 0.09, 0.09);
            painter.drawEllipse(QPointF(0.5, 0.11), 0.06, 0.06);
            break;
        }
    }
    painter.restore();
}

QPixmap LampStyle::glyphPixmap(Lamp lamp, Scheme scheme, int size, qreal devicePixelRatio) {
    QPixmap pixmap(QSize(size, size) * devicePixelRatio);
    pixmap.setDevicePixelRatio(devicePixelRatio);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    const Look l = look(lamp, scheme);
    paintGlyph(painter, QRectF(0, 0, size, size), l.glyph, l.accent);
    return pixmap;
}

}  // namespace sb::ui
