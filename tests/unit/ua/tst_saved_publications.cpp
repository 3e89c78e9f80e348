// Tests core/ua/saved_publications.*: the records both publishers keep across a restart
// read back as written, with the time the server still holds each; what ran out, lacks
// an entity or ETag, or is not JSON reads as nothing.

#include <QJsonArray>
#include <QTest>

#include "ua/saved_publications.h"

using namespace sb;
using namespace std::chrono_literals;

class TestSavedPublications : public QObject {
    Q_OBJECT

private slots:
    void recordsReadBackWithTheTimeLeft() {
        const qint64 wall = 1'800'000'000'000;
        QJsonObject first = ua::savedPublicationRecord(QStringLiteral("sip:201@example.com"),
                                                       "etag-1", 600s, wall, 7);
        first.insert(QStringLiteral("side"), 1);  // a publisher's own key
        const QJsonObject second = ua::savedPublicationRecord(QStringLiteral("sip:202@example.com"),
                                                              "etag-2", 30s, wall, 0);
        const QByteArray saved = ua::savedPublicationsDocument(QJsonArray{first, second});

        const auto read = ua::readSavedPublications(saved, wall + 10'000);
        QCOMPARE(read.size(), std::size_t(2));
        QCOMPARE(read[0].entity, QStringLiteral("sip:201@example.com"));
        QCOMPARE(read[0].etag, QByteArray("etag-1"));
        QCOMPARE(read[0].leftMs, qint64(590'000));
        QCOMPARE(read[0].version, quint64(7));
        QCOMPARE(read[0].record.value(QStringLiteral("side")).toInt(), 1);
        QCOMPARE(read[1].leftMs, qint64(20'000));

        // 29.5 s later the second has less than a second left: the server drops it.
        const auto later = ua::readSavedPublications(saved, wall + 29'500);
        QCOMPARE(later.size(), std::size_t(1));
        QCOMPARE(later[0].entity, QStringLiteral("sip:201@example.com"));
    }

    void damagedRecordsReadAsNothing() {
        const qint64 wall = 1'800'000'000'000;
        QVERIFY(ua::readSavedPublications("{not json", wall).empty());
        QVERIFY(ua::readSavedPublications("[]", wall).empty());
        QVERIFY(ua::readSavedPublications(QByteArray(), wall).empty());
        const QJsonObject noEtag =
            ua::savedPublicationRecord(QStringLiteral("sip:201@example.com"), {}, 600s, wall, 1);
        const QJsonObject noEntity = ua::savedPublicationRecord({}, "etag", 600s, wall, 1);
        QVERIFY(ua::readSavedPublications(ua::savedPublicationsDocument({noEtag, noEntity}), wall)
                    .empty());
    }
};

QTEST_GUILESS_MAIN(TestSavedPublications)
#include "tst_saved_publications.moc"
