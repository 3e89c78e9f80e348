#include <QTest>

#include "board/directory.h"

using namespace sb;
using board::Extension;

namespace {

// "201|Alice|Sales" per imported extension (uri appended when set), for table tests.
QStringList flatten(const std::vector<Extension>& extensions) {
    QStringList rows;
    for (const Extension& e : extensions) {
        QString row = e.number + '|' + e.name + '|' + e.group;
        if (!e.uri.isEmpty()) row += '|' + e.uri;
        rows.append(row);
    }
    return rows;
}

}  // namespace

class TestCsvImport : public QObject {
    Q_OBJECT

private slots:
    void good_data() {
        QTest::addColumn<QByteArray>("csv");
        QTest::addColumn<QStringList>("rows");

        QTest::newRow("plain") << QByteArray("extension,name,group\n201,Alice,Sales\n202,Bob,\n")
                               << QStringList{"201|Alice|Sales", "202|Bob|"};
        QTest::newRow("crlf") << QByteArray("extension,name,group\r\n201,Alice,Sales\r\n")
                              << QStringList{"201|Alice|Sales"};
        QTest::newRow("no final newline") << QByteArray("extension,name,group\n201,Alice,Sales")
                                          << QStringList{"201|Alice|Sales"};
        QTest::newRow("bom") << QByteArray(
                                    "\xEF\xBB\xBF"
                                    "extension,name,group\n201,Alice,Sales\n")
                             << QStringList{"201|Alice|Sales"};
        QTest::newRow("utf-8 names")
            << QByteArray("extension,name,group\n201,J\xC3\xB6rg M\xC3\xBCller,Empfang\n")
            << QStringList{QString::fromUtf8("201|J\xC3\xB6rg M\xC3\xBCller|Empfang")};
        QTest::newRow("header case and order")
            << QByteArray("Group,EXTENSION,Name\nSales,201,Alice\n")
            << QStringList{"201|Alice|Sales"};
        QTest::newRow("extra columns ignored")
            << QByteArray("id,extension,name,email,group\n7,201,Alice,a@example.com,Sales\n")
            << QStringList{"201|Alice|Sales"};
        QTest::newRow("name and group optional")
            << QByteArray("extension\n201\n202\n") << QStringList{"201||", "202||"};
        QTest::newRow("quoted comma")
            << QByteArray("extension,name,group\n201,\"Example, Alice\",Sales\n")
            << QStringList{"201|Example, Alice|Sales"};
        QTest::newRow("doubled quotes")
            << QByteArray("extension,name,group\n201,\"Alice \"\"Al\"\" Example\",\"\"\n")
            << QStringList{"201|Alice \"Al\" Example|"};
        QTest::newRow("quoted line break")
            << QByteArray("extension,name,group\r\n201,\"Alice\r\nExample\",Sales\r\n202,Bob,\r\n")
            << QStringList{"201|Alice\nExample|Sales", "202|Bob|"};
        QTest::newRow("blank lines skipped")
            << QByteArray(
                   "\n\nextension,name,group\n\n201,Alice,Sales\n   \n,,\n202,Bob,Support\n\n")
            << QStringList{"201|Alice|Sales", "202|Bob|Support"};
        QTest::newRow("unquoted spaces trimmed")
            << QByteArray("extension , name , group\n 201 , Alice Example , Sales \n")
            << QStringList{"201|Alice Example|Sales"};
        QTest::newRow("quoted spaces kept")
            << QByteArray("extension,name,group\n201,\" Alice \",Sales\n")
            << QStringList{"201| Alice |Sales"};
        QTest::newRow("semicolons")
            << QByteArray("extension;name;group\n201;Example, Alice;Sales\n")
            << QStringList{"201|Example, Alice|Sales"};
        QTest::newRow("uri column")
            << QByteArray(
                   "extension,name,group,uri\n201,Alice,Sales,sip:alice@pbx.example.com\n"
                   "202,Bob,Sales,\n")
            << QStringList{"201|Alice|Sales|sip:alice@pbx.example.com", "202|Bob|Sales"};
        QTest::newRow("header only") << QByteArray("extension,name,group\n") << QStringList{};
        QTest::newRow("more fields than columns")
            << QByteArray("extension,name,group\n201,Alice,Sales,note\n")
            << QStringList{"201|Alice|Sales"};
        QTest::newRow("old mac line ends") << QByteArray("extension,name,group\r201,Alice,Sales\r")
                                           << QStringList{"201|Alice|Sales"};
    }
    void good() {
        QFETCH(QByteArray, csv);
        QFETCH(QStringList, rows);
        const board::CsvImport result = board::importCsv(csv);
        QCOMPARE(result.errors, QStringList());
        QCOMPARE(flatten(result.extensions), rows);
    }

    void bad_data() {
        QTest::addColumn<QByteArray>("csv");
        QTest::addColumn<QStringList>("rows");
        QTest::addColumn<QStringList>("errors");

        QTest::newRow("bad number")
            << QByteArray("extension,name,group\n201,Alice,Sales\n2 01,Bob,Sales\n203,Carol,\n")
            << QStringList{"201|Alice|Sales", "203|Carol|"}
            << QStringList{
                   "line 3: extension \"2 01\" is not a valid SIP user part: a space at "
                   "position 2 is not allowed"};
        QTest::newRow("empty number") << QByteArray("extension,name,group\n,Alice,Sales\n")
                                      << QStringList{} << QStringList{"line 2: extension is empty"};
        QTest::newRow("duplicate")
            << QByteArray(
                   "extension,name,group\n200,Zed,\n201,Alice,Sales\n202,Bob,\n203,C,\n"
                   "204,D,\n205,E,\n206,F,\n201,Alice again,Support\n")
            << QStringList{"200|Zed|", "201|Alice|Sales", "202|Bob|", "203|C|",
                           "204|D|",   "205|E|",          "206|F|"}
            << QStringList{"line 9: extension 201 already listed on line 3"};
        QTest::newRow("too few columns")
            << QByteArray("extension,name,group\n201,Alice\n202,Bob,Support\n")
            << QStringList{"202|Bob|Support"} << QStringList{"line 2: 2 column(s), expected 3"};
        QTest::newRow("invalid utf-8")
            << QByteArray("extension,name,group\n201,J\xF6rg,Sales\n202,Bob,\n")
            << QStringList{"202|Bob|"}
            << QStringList{"line 2: column 2 is not valid UTF-8 (save the file as CSV in UTF-8)"};
        QTest::newRow("line numbers count quoted line breaks")
            << QByteArray("extension,name,group\n201,\"Alice\nExample\n\",Sales\nx y,Bob,\n")
            << QStringList{"201|Alice\nExample\n|Sales"}
            << QStringList{
                   "line 5: extension \"x y\" is not a valid SIP user part: a space at "
                   "position 2 is not allowed"};
        QTest::newRow("blank lines count")
            << QByteArray("extension,name,group\n\n\n20:1,Bob,\n") << QStringList{}
            << QStringList{
                   "line 4: extension \"20:1\" is not a valid SIP user part: ':' at "
                   "position 3 is not allowed"};
        QTest::newRow("text after closing quote")
            << QByteArray("extension,name,group\n201,\"Alice\" Example,Sales\n202,Bob,\n")
            << QStringList{"202|Bob|"}
            << QStringList{
                   "line 2: text after the closing quote of column 2 (a quote inside a "
                   "quoted field must be doubled)"};
        QTest::newRow("unclosed quote")
            << QByteArray("extension,name,group\n201,Alice,Sales\n202,\"Bob,\n203,Carol,\n")
            << QStringList{"201|Alice|Sales"}
            << QStringList{"line 3: a quoted field is not closed"};
        QTest::newRow("bad uri") << QByteArray("extension,name,group,uri\n201,Alice,,http://x\n")
                                 << QStringList{}
                                 << QStringList{
                                        "line 2: uri \"http://x\" is not a sip: or sips: URI"};
        QTest::newRow("several bad rows")
            << QByteArray("extension,name,group\n201,A,\n2 02,B,\n203\n201,D,\n204,E,\n")
            << QStringList{"201|A|", "204|E|"}
            << QStringList{
                   "line 3: extension \"2 02\" is not a valid SIP user part: a space at "
                   "position 2 is not allowed",
                   "line 4: 1 column(s), expected 3",
                   "line 5: extension 201 already listed on line 2"};
        QTest::newRow("no header") << QByteArray("201,Alice,Sales\n202,Bob,\n") << QStringList{}
                                   << QStringList{
                                          "line 1: the header row must name the columns "
                                          "\"extension,name,group\" (found \"201,Alice,Sales\")"};
        QTest::newRow("header after blank lines")
            << QByteArray("\n\nnumber,name\n201,Alice\n") << QStringList{}
            << QStringList{
                   "line 3: the header row must name the columns "
                   "\"extension,name,group\" (found \"number,name\")"};
        QTest::newRow("empty file")
            << QByteArray() << QStringList{}
            << QStringList{"line 1: no header row \"extension,name,group\" (the file is empty)"};
        QTest::newRow("only a bom")
            << QByteArray("\xEF\xBB\xBF") << QStringList{}
            << QStringList{"line 1: no header row \"extension,name,group\" (the file is empty)"};
        QTest::newRow("utf-16") << QByteArray(
                                       "\xFF\xFE"
                                       "e\0x\0",
                                       6)
                                << QStringList{}
                                << QStringList{
                                       "line 1: the file is UTF-16; save it as CSV in UTF-8"};
    }
    void bad() {
        QFETCH(QByteArray, csv);
        QFETCH(QStringList, rows);
        QFETCH(QStringList, errors);
        const board::CsvImport result = board::importCsv(csv);
        QCOMPARE(result.errors, errors);
        QCOMPARE(flatten(result.extensions), rows);
    }

    void exportQuotesWhereNeeded() {
        const std::vector<Extension> extensions{
            {"201", "Alice", "Sales", {}},
            {"202", "Example, Bob", "Support", {}},
            {"203", "Carol \"CJ\" Jones", "", {}},
            {"204", " padded ", "Two\nlines", {}},
        };
        QCOMPARE(board::exportCsv(extensions), QByteArray("extension,name,group\r\n"
                                                          "201,Alice,Sales\r\n"
                                                          "202,\"Example, Bob\",Support\r\n"
                                                          "203,\"Carol \"\"CJ\"\" Jones\",\r\n"
                                                          "204,\" padded \",\"Two\nlines\"\r\n"));
    }

    void exportWritesUriColumnOnlyWhenUsed() {
        QCOMPARE(board::exportCsv({}), QByteArray("extension,name,group\r\n"));
        QCOMPARE(board::exportCsv({{"201", "A", "", "sip:a@pbx"}, {"202", "B", "", {}}}),
                 QByteArray("extension,name,group,uri\r\n201,A,,sip:a@pbx\r\n202,B,,\r\n"));
    }

    void roundTrip() {
        const std::vector<Extension> extensions{
            {"201", "Alice", "Sales", {}},
            {"202", "Example, Bob", "Support", {}},
            {"203", "Carol \"CJ\" Jones", "", {}},
            {"204", " padded ", "Two\nlines", {}},
            {"+4930123", QString::fromUtf8("J\xC3\xB6rg; M\xC3\xBCller"), "Empfang", {}},
            {"reception", "", "", "sip:reception@pbx.example.com"},
        };
        const board::CsvImport back = board::importCsv(board::exportCsv(extensions));
        QCOMPARE(back.errors, QStringList());
        QCOMPARE(flatten(back.extensions), flatten(extensions));
    }
};

QTEST_GUILESS_MAIN(TestCsvImport)
#include "tst_csv_import.moc"
