// The multipart splitter (RFC 2046 §5.1, RFC 2387 multipart/related) as RFC 4662 list
// NOTIFYs use it: boundaries, part headers, root selection, errors and limits.

#include <QTest>

#include "sip/multipart.h"

using namespace sb;
using namespace sb::sip;

namespace {

// RFC 4662 §5.3 shape: an RLMI root and two dialog-info parts.
const QByteArray kContentType =
    "multipart/related;type=\"application/rlmi+xml\";start=\"<nXYxAE@pres.example.com>\";"
    "boundary=\"50UBfW7LSCVLtggUPe5z\"";
const QByteArray kBody =
    "preamble to ignore\r\n"
    "--50UBfW7LSCVLtggUPe5z\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: <nXYxAE@pres.example.com>\r\n"
    "Content-Type: application/rlmi+xml;charset=\"UTF-8\"\r\n"
    "\r\n"
    "<list/>\r\n"
    "--50UBfW7LSCVLtggUPe5z\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: <bUZBsM@pres.example.com>\r\n"
    "Content-Type: application/dialog-info+xml\r\n"
    "\r\n"
    "<dialog-info a/>\r\n"
    "--50UBfW7LSCVLtggUPe5z  \r\n"
    "content-id:\r\n <ZvSvkz@pres.example.com>\r\n"
    "CONTENT-TYPE: application/dialog-info+xml\r\n"
    "\r\n"
    "line1\r\nline2\r\n\r\n"
    "--50UBfW7LSCVLtggUPe5z--\r\n"
    "epilogue\r\n";

}  // namespace

class TestMultipart : public QObject {
    Q_OBJECT

private slots:
    void splitsListNotify() {
        auto split = splitMultipart(kContentType, kBody);
        QVERIFY2(split, qPrintable(split ? QString() : split.error().reason));
        QCOMPARE(split->mediaType, QByteArrayView("multipart/related"));
        QCOMPARE(split->boundary, QByteArrayView("50UBfW7LSCVLtggUPe5z"));
        QCOMPARE(split->type, QByteArrayView("application/rlmi+xml"));
        QCOMPARE(split->start, QByteArrayView("<nXYxAE@pres.example.com>"));
        QCOMPARE(split->parts.size(), std::size_t(3));
        const MultipartPart& first = split->parts[0];
        QCOMPARE(first.contentType, QByteArrayView("application/rlmi+xml;charset=\"UTF-8\""));
        QCOMPARE(first.contentId, QByteArrayView("<nXYxAE@pres.example.com>"));
        QCOMPARE(first.contentIdValue(), QByteArrayView("nXYxAE@pres.example.com"));
        QCOMPARE(first.contentTransferEncoding, QByteArrayView("binary"));
        QCOMPARE(first.body, QByteArrayView("<list/>"));
        QCOMPARE(split->parts[1].body, QByteArrayView("<dialog-info a/>"));
        // Folded header, case-insensitive names, a body with an empty last line.
        const MultipartPart& third = split->parts[2];
        QCOMPARE(third.contentIdValue(), QByteArrayView("ZvSvkz@pres.example.com"));
        QCOMPARE(third.contentType, QByteArrayView("application/dialog-info+xml"));
        QCOMPARE(third.body, QByteArrayView("line1\r\nline2\r\n"));
        QCOMPARE(third.header("Content-Type"), QByteArrayView("application/dialog-info+xml"));
        QVERIFY(third.header("X-Absent").isEmpty());
        // Views point into the body that was split (zero-copy).
        QVERIFY(first.body.data() >= kBody.constData() &&
                first.body.data() < kBody.constData() + kBody.size());
    }

    void rootAndContentIdLookup() {
        auto split = splitMultipart(kContentType, kBody);
        QVERIFY(split);
        QCOMPARE(split->root(), &split->parts[0]);
        QCOMPARE(split->byContentId("bUZBsM@pres.example.com"), &split->parts[1]);
        QCOMPARE(split->byContentId("<bUZBsM@pres.example.com>"), &split->parts[1]);
        QCOMPARE(split->byContentId("cid:ZvSvkz@pres.example.com"), &split->parts[2]);
        QCOMPARE(split->byContentId("nope@x"), nullptr);
        QCOMPARE(split->byContentId(""), nullptr);
    }

    void rootFromStartParameter() {
        const QByteArray type = "multipart/related; boundary=b; start=\"<two@x>\"";
        const QByteArray body =
            "--b\r\nContent-ID: <one@x>\r\n\r\nA\r\n--b\r\nContent-ID: <two@x>\r\n\r\nB\r\n--b--";
        auto split = splitMultipart(type, body);
        QVERIFY(split);
        QCOMPARE(split->parts.size(), std::size_t(2));
        QCOMPARE(split->root()->body, QByteArrayView("B"));
        QCOMPARE(split->parts[0].body, QByteArrayView("A"));
    }

    void bareLineFeedsAndPartsWithoutHeaders() {
        const QByteArray type = "multipart/mixed;boundary=xyz";
        const QByteArray body =
            "--xyz\n\nno headers\n--xyz\nContent-Type: text/plain\n\nhi\n--xyz--\n";
        auto split = splitMultipart(type, body);
        QVERIFY(split);
        QCOMPARE(split->parts.size(), std::size_t(2));
        QVERIFY(split->parts[0].headers.isEmpty());
        QCOMPARE(split->parts[0].body, QByteArrayView("no headers"));
        QCOMPARE(split->parts[1].contentType, QByteArrayView("text/plain"));
        QCOMPARE(split->parts[1].body, QByteArrayView("hi"));
    }

    void boundaryTextInsideALineIsContent() {
        // "--b" not at the start of a line is no delimiter.
        const QByteArray body = "--b\r\n\r\nx --b y\r\n--bb\r\n--b--\r\n";
        auto split = splitMultipart("multipart/mixed;boundary=b", body);
        QVERIFY(split);
        QCOMPARE(split->parts.size(), std::size_t(1));
        QCOMPARE(split->parts[0].body, QByteArrayView("x --b y\r\n--bb"));
    }

    void emptyMultipart() {
        auto split = splitMultipart("multipart/mixed;boundary=b", "--b--\r\n");
        QVERIFY(split);
        QVERIFY(split->parts.empty());
        QCOMPARE(split->root(), nullptr);
    }

    void errors_data() {
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("kind");
        QTest::newRow("not multipart")
            << QByteArray("application/dialog-info+xml") << QByteArray("--b\r\n\r\nx\r\n--b--")
            << int(ErrorKind::Parse);
        QTest::newRow("no boundary")
            << QByteArray("multipart/related;type=x") << QByteArray("--b\r\n\r\nx\r\n--b--")
            << int(ErrorKind::Parse);
        QTest::newRow("boundary absent")
            << QByteArray("multipart/related;boundary=q") << QByteArray("--b\r\n\r\nx\r\n--b--")
            << int(ErrorKind::Parse);
        QTest::newRow("no close delimiter")
            << QByteArray("multipart/related;boundary=b") << QByteArray("--b\r\n\r\nx\r\n")
            << int(ErrorKind::Parse);
        QTest::newRow("boundary too long")
            << QByteArray("multipart/related;boundary=" + QByteArray(300, 'a')) << QByteArray("x")
            << int(ErrorKind::Limit);
        QTest::newRow("empty body")
            << QByteArray("multipart/related;boundary=b") << QByteArray() << int(ErrorKind::Parse);
    }

    void errors() {
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, body);
        QFETCH(int, kind);
        auto split = splitMultipart(type, body);
        QVERIFY(!split);
        QCOMPARE(int(split.error().kind), kind);
        QVERIFY(!split.error().reason.isEmpty());
    }

    void partCountIsBounded() {
        QByteArray body;
        for (int i = 0; i < 20; ++i)
            body += "--b\r\n\r\npart\r\n";
        body += "--b--\r\n";
        MultipartLimits limits;
        limits.maxParts = 10;
        auto split = splitMultipart("multipart/mixed;boundary=b", body, limits);
        QVERIFY(!split);
        QCOMPARE(split.error().kind, ErrorKind::Limit);
        QVERIFY(split.error().offset > 0);
        limits.maxParts = 20;
        auto fits = splitMultipart("multipart/mixed;boundary=b", body, limits);
        QVERIFY(fits);
        QCOMPARE(fits->parts.size(), std::size_t(20));
    }

    void isMultipartType() {
        QVERIFY(isMultipart("multipart/related;boundary=x"));
        QVERIFY(isMultipart(" Multipart/Mixed"));
        QVERIFY(!isMultipart("application/dialog-info+xml"));
        QVERIFY(!isMultipart(""));
    }
};

QTEST_APPLESS_MAIN(TestMultipart)
#include "tst_multipart.moc"
