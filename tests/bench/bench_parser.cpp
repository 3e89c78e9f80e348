// bench_parser: "parse + access the common headers" for a corpus of real SIP messages,
// with Switchboard's parser and, in the same run, libosip2, sofia-sip and libre.
//
// Before anything is measured, every parser's reading of every message is compared
// with Switchboard's, field by field; a disagreement aborts the run, so the numbers
// always compare parsers that did the same work. After Google Benchmark's own table,
// a summary gives ns/message per parser, messages/s for Switchboard, the ratio
// fastest-peer / Switchboard per message and the geometric mean of those ratios.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "corpus.h"
#include "libre_adapter.h"
#include "osip_adapter.h"
#include "read_fields.h"
#include "sofia_adapter.h"
#include "switchboard_adapter.h"

namespace sb::bench {
namespace {

enum class ParserId : int { Switchboard, SwitchboardCopy, Osip, Sofia, Libre, Count };
constexpr int kParserCount = static_cast<int>(ParserId::Count);
constexpr std::array<const char*, kParserCount> kParserNames = {"switchboard", "switchboard_copy",
                                                                "osip2", "sofia-sip", "libre"};
constexpr std::array<ParserId, 3> kPeers = {ParserId::Osip, ParserId::Sofia, ParserId::Libre};

// Every parser's input is prepared once, outside the measured loop, the way its
// receive path holds a datagram: a QByteArray for Switchboard (also measured with a
// fresh copy per parse), an mbuf for libre, the bytes for osip and sofia-sip (which
// copy them internally as part of parsing).
struct Case {
    explicit Case(CorpusMessage m)
        : message(std::move(m)),
          shared(message.wire, SwitchboardAdapter::Input::Shared),
          copied(message.wire, SwitchboardAdapter::Input::Copied),
          osip(message.wire),
          sofia(message.wire),
          libre(message.wire) {}

    CorpusMessage message;
    SwitchboardAdapter shared;
    SwitchboardAdapter copied;
    OsipAdapter osip;
    SofiaAdapter sofia;
    LibreAdapter libre;
};

template <class Fn>
auto withAdapter(const Case& c, ParserId parser, Fn&& fn) {
    switch (parser) {
        case ParserId::Switchboard:
            return fn(c.shared);
        case ParserId::SwitchboardCopy:
            return fn(c.copied);
        case ParserId::Osip:
            return fn(c.osip);
        case ParserId::Sofia:
            return fn(c.sofia);
        case ParserId::Libre:
        case ParserId::Count:
            break;
    }
    return fn(c.libre);
}

std::optional<std::string> recordedValue(const RecordSink& sink, Field field) {
    if (field != Field::CallId) return sink.value(field);
    // osip hands the Call-ID out as number and host; compare it whole.
    std::optional<std::string> callId = sink.value(Field::CallId);
    if (callId && sink.value(Field::CallIdHost)) *callId += "@" + *sink.value(Field::CallIdHost);
    return callId;
}

std::string shown(const std::optional<std::string>& value) {
    if (!value) return "(absent)";
    std::string text = *value;
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return "'" + text + "'";
}

// Runs every parser once per message and insists that each read what Switchboard read.
// Returns the number of disagreements (printed to stderr).
int crossCheck(const std::vector<std::unique_ptr<Case>>& cases) {
    int problems = 0;
    for (const auto& c : cases) {
        std::array<RecordSink, kParserCount> sinks;
        std::array<bool, kParserCount> parsed{};
        for (int p = 0; p < kParserCount; ++p) {
            parsed[p] = withAdapter(*c, static_cast<ParserId>(p), [&](const auto& adapter) {
                return adapter.parseAndRead(sinks[p]);
            });
            if (!parsed[p]) {
                std::fprintf(stderr, "cross-check: %s refused %s\n", kParserNames[p],
                             c->message.name.c_str());
                ++problems;
            }
        }
        const RecordSink& ours = sinks[static_cast<int>(ParserId::Switchboard)];
        if (!parsed[0]) continue;

        // Mandatory readings: without a Call-ID and a branch nothing is comparable.
        for (Field field : {Field::CallId, Field::ViaBranch}) {
            if (!ours.value(field)) {
                std::fprintf(stderr, "cross-check: switchboard read no %s from %s\n",
                             std::string(fieldName(field)).c_str(), c->message.name.c_str());
                ++problems;
            }
        }
        // The Content-Length we report must be the body we hand out.
        const std::size_t bodySize = ours.value(Field::Body) ? ours.value(Field::Body)->size() : 0;
        if (ours.value(Field::ContentLength) != std::to_string(bodySize)) {
            std::fprintf(stderr, "cross-check: %s: Content-Length %s but body of %zu bytes\n",
                         c->message.name.c_str(), shown(ours.value(Field::ContentLength)).c_str(),
                         bodySize);
            ++problems;
        }

        for (int p = 1; p < kParserCount; ++p) {
            if (!parsed[p]) continue;
            for (int f = 0; f < static_cast<int>(Field::Count); ++f) {
                const auto field = static_cast<Field>(f);
                if (field == Field::CallIdHost) continue;
                const auto expected = recordedValue(ours, field);
                const auto actual = recordedValue(sinks[p], field);
                if (expected != actual) {
                    std::fprintf(stderr, "cross-check: %s: %s read %s = %s, switchboard %s\n",
                                 c->message.name.c_str(), kParserNames[p],
                                 std::string(fieldName(field)).c_str(), shown(actual).c_str(),
                                 shown(expected).c_str());
                    ++problems;
                }
            }
        }
    }
    return problems;
}

template <class Adapter>
void measure(benchmark::State& state, const Adapter* adapter, std::size_t bytes) {
    TouchSink sink;
    for (auto _ : state) {
        bool ok = adapter->parseAndRead(sink);
        benchmark::DoNotOptimize(ok);
        if (!ok) {
            state.SkipWithError("parse failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

// Google Benchmark's console table, plus the per-run CPU time kept for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& reports) override {
        ConsoleReporter::ReportRuns(reports);
        for (const Run& run : reports) {
            if (run.error_occurred) continue;
            const std::string& name = run.run_name.function_name;
            const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            if (run.run_type == Run::RT_Aggregate && !median) continue;
            // With --benchmark_repetitions the median wins over the single runs.
            if (!median && m_fromMedian.count(name)) continue;
            const double ns =
                run.GetAdjustedCPUTime() * (1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit));
            if (median || !m_ns.count(name)) {
                m_ns[name] = ns;
            } else {
                m_ns[name] = std::min(m_ns[name], ns);
            }
            if (median) m_fromMedian[name] = true;
        }
    }

    std::optional<double> nanoseconds(const std::string& name) const {
        const auto it = m_ns.find(name);
        if (it == m_ns.end()) return std::nullopt;
        return it->second;
    }

private:
    std::map<std::string, double> m_ns;
    std::map<std::string, bool> m_fromMedian;
};

std::string benchmarkName(const Case& c, ParserId parser) {
    return c.message.name + "/" + kParserNames[static_cast<int>(parser)];
}

std::string cell(std::optional<double> value, const char* format) {
    if (!value) return "-";
    char text[32];
    std::snprintf(text, sizeof text, format, *value);
    return text;
}

void printSummary(const std::vector<std::unique_ptr<Case>>& cases,
                  const SummaryReporter& reporter) {
    std::printf("\nParse + read the common headers (CPU time per message, ns)\n");
    std::printf("%-20s %6s %11s %11s %9s %9s %9s %11s %-10s %7s\n", "message", "bytes",
                "switchboard", "sb+copy", "osip2", "sofia-sip", "libre", "sb msg/s", "fastest",
                "ratio");
    std::vector<double> ratios;
    bool everyMessageFaster = true;
    for (const auto& c : cases) {
        std::array<std::optional<double>, kParserCount> ns;
        for (int p = 0; p < kParserCount; ++p) {
            ns[p] = reporter.nanoseconds(benchmarkName(*c, static_cast<ParserId>(p)));
        }
        const auto ours = ns[static_cast<int>(ParserId::Switchboard)];
        std::optional<double> fastest;
        const char* fastestName = "-";
        for (ParserId peer : kPeers) {
            const auto value = ns[static_cast<int>(peer)];
            if (value && (!fastest || *value < *fastest)) {
                fastest = value;
                fastestName = kParserNames[static_cast<int>(peer)];
            }
        }
        std::optional<double> ratio;
        if (ours && fastest && *ours > 0) {
            ratio = *fastest / *ours;
            ratios.push_back(*ratio);
            everyMessageFaster = everyMessageFaster && *ratio > 1.0;
        }
        std::optional<double> perSecond;
        if (ours && *ours > 0) perSecond = 1e9 / *ours;
        std::printf("%-20s %6zu %11s %11s %9s %9s %9s %11s %-10s %7s\n", c->message.name.c_str(),
                    c->message.wire.size(), cell(ours, "%.0f").c_str(), cell(ns[1], "%.0f").c_str(),
                    cell(ns[2], "%.0f").c_str(), cell(ns[3], "%.0f").c_str(),
                    cell(ns[4], "%.0f").c_str(), cell(perSecond, "%.0f").c_str(), fastestName,
                    ratio ? cell(ratio, "%.2fx").c_str() : "-");
    }
    if (ratios.empty()) {
        std::printf("\n(no complete Switchboard/peer pairs measured: nothing to compare)\n");
        return;
    }
    double logSum = 0;
    for (double r : ratios)
        logSum += std::log(r);
    const double geomean = std::exp(logSum / static_cast<double>(ratios.size()));
    std::printf(
        "\nratio = fastest peer's time / Switchboard's time (above 1: Switchboard is "
        "faster)\n");
    std::printf("geometric mean of the ratios over %zu messages: %.2fx\n", ratios.size(), geomean);
    std::printf("target (faster than the fastest peer on every message, >= 2x geomean): %s\n",
                everyMessageFaster && geomean >= 2.0 ? "met" : "NOT met");
}

std::filesystem::path corpusDir(int& argc, char** argv) {
    std::filesystem::path dir = SB_BENCH_CORPUS_DIR;
    if (const char* env = std::getenv("SB_BENCH_CORPUS")) dir = env;
    // --corpus=DIR, removed before Google Benchmark sees the arguments.
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--corpus=", 9) == 0) {
            dir = argv[i] + 9;
            std::copy(argv + i + 1, argv + argc, argv + i);
            --argc;
            break;
        }
    }
    return dir;
}

}  // namespace
}  // namespace sb::bench

int main(int argc, char** argv) {
    using namespace sb::bench;
    try {
        const std::filesystem::path dir = corpusDir(argc, argv);
        benchmark::Initialize(&argc, argv);
        if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

        OsipAdapter::initialize();
        LibreAdapter::initialize();

        std::vector<std::unique_ptr<Case>> cases;
        for (CorpusMessage& message : loadCorpus(dir)) {
            cases.push_back(std::make_unique<Case>(std::move(message)));
        }
        if (const int problems = crossCheck(cases); problems > 0) {
            std::fprintf(stderr,
                         "bench_parser: %d disagreement(s) between the parsers; not measuring\n",
                         problems);
            return 1;
        }
        std::printf("cross-check: %zu messages, every parser read the same fields\n", cases.size());

        for (const auto& c : cases) {
            for (int p = 0; p < kParserCount; ++p) {
                const auto parser = static_cast<ParserId>(p);
                withAdapter(*c, parser, [&](const auto& adapter) {
                    benchmark::RegisterBenchmark(
                        benchmarkName(*c, parser).c_str(),
                        [a = &adapter, bytes = c->message.wire.size()](benchmark::State& state) {
                            measure(state, a, bytes);
                        })
                        ->Unit(benchmark::kNanosecond);
                    return 0;
                });
            }
        }
        SummaryReporter reporter;
        benchmark::RunSpecifiedBenchmarks(&reporter);
        printSummary(cases, reporter);
        benchmark::Shutdown();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_parser: %s\n", e.what());
        return 1;
    }
    return 0;
}
