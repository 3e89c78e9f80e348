#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>
#include <utility>
#include <vector>

#include "sip/message.h"

namespace sb::server {

// RFC 3261 §16.7 steps 6 and 7: the final response a response context sends upstream
// when no 2xx was forwarded, chosen from what its branches came to.
//
//   - a 6xx wins over everything (it also stops the proxy from trying other targets);
//   - otherwise the lowest class: 3xx, then 4xx, then 5xx;
//   - within 4xx, 401, 407, 415, 420 and 484 first (the caller can act on them), 408 and
//     487 last (they say nothing about the callee); within 5xx, 503 last;
//   - between equals, the first that arrived.
// A 401 or 407 carries every WWW-Authenticate and Proxy-Authenticate of all the 401 and
// 407 responses (step 7). A chosen 503 becomes 500: a 503 upstream would say this proxy
// is unavailable, not the target (step 6).
//
// Only the best response so far and the challenges are kept (bounded: one message and
// at most kMaxChallenges values), not every branch's response.
class BestResponse {
public:
    static constexpr std::size_t kMaxChallenges = 32;

    // A 3xx-6xx response from a branch, the proxy's own Via already removed (step 3).
    void add(const sip::Message& response);
    // A branch that ended without a response of its own: Timer C or B (408, §16.8),
    // a transport error (503, §16.9).
    void addLocal(int status);

    bool isEmpty() const { return m_status == 0; }
    bool has6xx() const { return m_status >= 600; }
    // The status that build() sends (a 503 already turned into 500); 0 when empty.
    int status() const;
    // The chosen response as received (with the gathered challenges), or one generated
    // for `request` with `toTag` when the choice was local, a 503, or nothing came.
    sip::Message build(const sip::Message& request, QByteArrayView toTag) const;

    // The preference of a final status, lower is better (exposed for tests).
    static int rank(int status, bool local);

private:
    void consider(int status, bool local, const sip::Message* response);

    int m_status = 0;
    int m_rank = 0;
    std::optional<sip::Message> m_response;  // empty when the choice is local
    std::vector<std::pair<sip::HeaderId, QByteArray>> m_challenges;
};

}  // namespace sb::server
