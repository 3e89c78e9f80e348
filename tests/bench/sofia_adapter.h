#pragma once

#include <string_view>

namespace sb::bench {

// sofia-sip: msg_make() copies the input into a msg_t and extracts every header it
// knows into the sip_t structure; the fields are then read from that structure.
class SofiaAdapter {
public:
    explicit SofiaAdapter(std::string_view wire) : m_wire(wire) {}

    template <class Sink>
    bool parseAndRead(Sink& sink) const;

private:
    std::string_view m_wire;
};

}  // namespace sb::bench
