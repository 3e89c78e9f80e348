#pragma once

#include <QColor>
#include <QCoreApplication>
#include <QPixmap>
#include <QString>

#include "dialoginfo/lamp.h"

class QPainter;
class QRectF;

namespace sb::ui {

// How a lamp looks: the one place that maps a lamp to colours, a glyph and words, for
// the light and the dark palette alike. DESIGN.md "Lamps": never colour alone — every
// lamp also has a shape of its own and a word, so the board reads the same for people
// who cannot tell the colours apart (and in a greyscale screenshot).
class LampStyle {
    Q_DECLARE_TR_FUNCTIONS(sb::ui::LampStyle)
public:
    enum class Scheme { Light, Dark };

    // The glyph drawn for a lamp; each is a different outline, not a recoloured dot.
    enum class Glyph {
        SlashedCircle,  // offline: a circle struck through
        Ring,           // idle: an open ring, calm
        Bell,           // ringing
        Arrow,          // calling: an arrow pointing out
        Disc,           // busy: a solid disc
        Pause,          // held: two bars
    };

    struct Look {
        QColor background;     // the tile
        QColor border;         // its outline
        QColor accent;         // the lamp itself: the side bar and the glyph
        QColor stateText;      // the lamp's word
        QColor text;           // name
        QColor secondaryText;  // number, other party, duration
        Glyph glyph = Glyph::Ring;
        bool emphasised = false;  // draws a heavier outline (ringing: must be seen)
    };

    static Look look(dialoginfo::Lamp lamp, Scheme scheme);
    // The lamp's word as shown on the tile: "Ringing", "Offline", ...
    static QString text(dialoginfo::Lamp lamp);
    // How the other party is introduced for this lamp: "from %1", "to %1", "with %1";
    // empty for lamps without another party.
    static QString otherPartyText(dialoginfo::Lamp lamp, const QString& party);

    // Paints the lamp's glyph into `box` (square) in `colour`.
    static void paintGlyph(QPainter& painter, const QRectF& box, Glyph glyph, const QColor& colour);
    // The glyph as a pixmap, for caching by delegates and for icons elsewhere.
    static QPixmap glyphPixmap(dialoginfo::Lamp lamp, Scheme scheme, int size,
                               qreal devicePixelRatio);
};

}  // namespace sb::ui
