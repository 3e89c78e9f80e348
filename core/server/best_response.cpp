#include "server/best_response.h"

#include <algorithm>

namespace sb::server {

int BestResponse::rank(int status, bool local) {
    const int statusClass = status / 100;
    switch (statusClass) {
        case 6:
            return 0;
        case 3:
            return 100;
        case 4:
            if (status == 401 || status == 407 || status == 415 || status == 420 || status == 484)
                return 200;
            if (local || status == 408 || status == 487) return 202;
            return 201;
        case 5:
            return local || status == 503 ? 301 : 300;
        default:
            return 400;  // not a final failure; never chosen over one
    }
}

void BestResponse::add(const sip::Message& response) {
    const int status = response.statusCode();
    if (status == 401 || status == 407) {
        for (const sip::HeaderField& field : response.headers()) {
            if (field.id != sip::HeaderId::WwwAuthenticate &&
                field.id != sip::HeaderId::ProxyAuthenticate)
                continue;
            if (m_challenges.size() >= kMaxChallenges) break;
            std::pair<sip::HeaderId, QByteArray> challenge{field.id, field.value.toByteArray()};
            if (std::find(m_challenges.begin(), m_challenges.end(), challenge) ==
                m_challenges.end())
                m_challenges.push_back(std::move(challenge));
        }
    }
    consider(status, false, &response);
}

void BestResponse::addLocal(int status) {
    consider(status, true, nullptr);
}

void BestResponse::consider(int status, bool local, const sip::Message* response) {
    if (status < 300 || status > 699) return;
    const int candidate = rank(status, local);
    // Strictly better only: between equals the first stays.
    if (m_status != 0 && candidate >= m_rank) return;
    m_status = status;
    m_rank = candidate;
    if (response) {
        m_response = *response;
    } else {
        m_response.reset();
    }
}

int BestResponse::status() const {
    return m_status == 503 ? 500 : m_status;
}

sip::Message BestResponse::build(const sip::Message& request, QByteArrayView toTag) const {
    if (m_status == 0) return sip::makeResponse(request, 500, {}, toTag);
    if (!m_response || m_status == 503) return sip::makeResponse(request, status(), {}, toTag);
    sip::Message response = *m_response;
    if (m_status == 401 || m_status == 407) {
        for (const auto& [id, value] : m_challenges) {
            bool present = false;
            for (const sip::HeaderField& field : response.headers()) {
                if (field.id == id && field.value == QByteArrayView(value)) {
                    present = true;
                    break;
                }
            }
            if (!present) response.addHeader(id, value);
        }
    }
    return response;
}

}  // namespace sb::server
