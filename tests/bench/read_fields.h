#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sb::bench {

// What "access the common headers" reads from every parsed message, for every parser.
enum class Field : int {
    Method,     // request method name
    Status,     // response status code
    ViaBranch,  // top Via
    ViaHost,    // top Via sent-by host
    ViaPort,    // top Via sent-by port, when written
    FromTag,
    FromUser,
    FromHost,
    ToTag,
    ToUser,
    ToHost,
    CallId,
    CallIdHost,  // osip splits Call-ID at '@'; the others give it whole in CallId
    CSeqNumber,
    CSeqMethod,
    ContactUser,  // first Contact, when present
    ContactHost,
    MaxForwards,
    ContentLength,
    Body,
    Count
};

std::string_view fieldName(Field field);

// The sink of the measured runs: it only keeps what was read observable, so the
// compiler can neither drop the reads nor the parse behind them.
class TouchSink {
public:
    void text(Field, const char* data, std::size_t size) {
        benchmark::DoNotOptimize(data);
        benchmark::DoNotOptimize(size);
    }
    // NUL-terminated strings as osip and sofia-sip hand them out; measuring their
    // length would be work the others do not do, so only the pointer is touched.
    void cstr(Field, const char* data) { benchmark::DoNotOptimize(data); }
    void number(Field, std::uint64_t value) { benchmark::DoNotOptimize(value); }
};

// The sink of the cross-check before measuring: records every value as text so that
// the parsers can be compared field by field. An empty value counts as absent: the
// parsers differ in whether they hand out "" or nothing for a missing user part.
class RecordSink {
public:
    void text(Field field, const char* data, std::size_t size) {
        if (data && size > 0) slot(field) = std::string(data, size);
    }
    void cstr(Field field, const char* data) {
        if (data && *data) slot(field) = std::string(data);
    }
    void number(Field field, std::uint64_t value) { slot(field) = std::to_string(value); }

    const std::optional<std::string>& value(Field field) const {
        return m_values[static_cast<int>(field)];
    }

private:
    std::optional<std::string>& slot(Field field) { return m_values[static_cast<int>(field)]; }

    std::array<std::optional<std::string>, static_cast<int>(Field::Count)> m_values;
};

}  // namespace sb::bench
