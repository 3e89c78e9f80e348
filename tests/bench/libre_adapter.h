#pragma once

#include <string_view>

struct mbuf;

namespace sb::bench {

// libre (baresip's re): sip_msg_decode() splits the headers zero-copy into `struct pl`
// views of the receive mbuf and decodes Via, From, To and CSeq on the way; other
// headers (Contact) are decoded on request.
class LibreAdapter {
public:
    // libre_init(): the library's process-wide set-up; once per process.
    static void initialize();

    // Copies `wire` once into an mbuf, as libre's UDP receive path would hand it over.
    explicit LibreAdapter(std::string_view wire);
    ~LibreAdapter();
    LibreAdapter(const LibreAdapter&) = delete;
    LibreAdapter& operator=(const LibreAdapter&) = delete;

    template <class Sink>
    bool parseAndRead(Sink& sink) const;

private:
    mbuf* m_buffer = nullptr;
};

}  // namespace sb::bench
