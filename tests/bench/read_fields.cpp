#include "read_fields.h"

namespace sb::bench {

std::string_view fieldName(Field field) {
    static constexpr std::array<std::string_view, static_cast<int>(Field::Count)> kNames = {
        "method",       "status",       "via.branch",   "via.host",       "via.port",
        "from.tag",     "from.user",    "from.host",    "to.tag",         "to.user",
        "to.host",      "call-id",      "call-id.host", "cseq.number",    "cseq.method",
        "contact.user", "contact.host", "max-forwards", "content-length", "body"};
    return kNames[static_cast<int>(field)];
}

}  // namespace sb::bench
