// plainToolTip: network text in a tooltip is shown as the text it is.

#include <QTest>

#include "shown_text.h"
#include "ui/plain_text.h"

using sb::test::shownToolTip;
using sb::ui::plainToolTip;

class TstPlainText : public QObject {
    Q_OBJECT

private slots:
    void markupIsShownLetterForLetter_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("tags") << QStringLiteral("<b>Boss</b> <img src=\"file:///etc/passwd\">");
        QTest::newRow("entities") << QStringLiteral("Smith &amp; Sons & Co &lt;");
        QTest::newRow("quotes") << QStringLiteral("\"Reception\" 'desk'");
        QTest::newRow("uri") << QStringLiteral("ACME <sip:+4420@example.com>");
        QTest::newRow("plain") << QStringLiteral("Alice, extension 201: Idle");
        QTest::newRow("lines") << QStringLiteral("Publishing failed: 503\nTrying again");
    }
    void markupIsShownLetterForLetter() {
        QFETCH(QString, text);
        const QString tip = plainToolTip(text);
        QVERIFY2(Qt::mightBeRichText(tip), qPrintable(tip));  // never guessed at by Qt
        QCOMPARE(shownToolTip(tip), text);
    }

    void emptyStaysEmpty() { QCOMPARE(plainToolTip(QString()), QString()); }
};

QTEST_MAIN(TstPlainText)
#include "tst_plain_text.moc"
