#pragma once

#include <string_view>

namespace sb::bench {

// libosip2 (GNU oSIP): osip_message_parse() parses every header into its own structs
// on a private copy of the input; the fields are then read from those structs.
class OsipAdapter {
public:
    // parser_init() builds osip's header-name tables; once per process.
    static void initialize();

    explicit OsipAdapter(std::string_view wire) : m_wire(wire) {}

    // Parses the message and reads the common headers into `sink`; false when the
    // library refuses the message or a mandatory header is missing.
    template <class Sink>
    bool parseAndRead(Sink& sink) const;

private:
    std::string_view m_wire;
};

}  // namespace sb::bench
