#pragma once

#include <vector>

#include "base/sip_trace.h"

namespace sb::app {

// Hands every traced message to several sinks (the --sip-trace file and the window's
// trace dock); null sinks are skipped. Each sink redacts on its own.
class SipTraceTee final : public base::SipTrace {
public:
    explicit SipTraceTee(std::vector<base::SipTrace*> sinks) : m_sinks(std::move(sinks)) {}

    void record(Direction direction, QByteArrayView transport, const QString& local,
                const QString& remote, QByteArrayView message) override {
        for (base::SipTrace* sink : m_sinks)
            if (sink) sink->record(direction, transport, local, remote, message);
    }

private:
    std::vector<base::SipTrace*> m_sinks;
};

}  // namespace sb::app
