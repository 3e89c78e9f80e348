#pragma once

#include <QByteArray>

#include <string_view>

namespace sb::bench {

// Switchboard's own parser: sb::sip::Parser::parse() on a QByteArray, then the typed
// accessors of sb::sip::Message.
class SwitchboardAdapter {
public:
    enum class Input {
        Shared,  // the QByteArray the transport received, handed over (implicitly shared)
        Copied,  // the bytes copied into a new QByteArray on every parse
    };

    SwitchboardAdapter(std::string_view wire, Input input);

    template <class Sink>
    bool parseAndRead(Sink& sink) const;

private:
    QByteArray m_bytes;
    Input m_input;
};

}  // namespace sb::bench
