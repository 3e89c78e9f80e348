#include "transaction/client_transaction.h"

#include <array>
#include <new>
#include <vector>

#include "base/log.h"

namespace sb::transaction {

namespace {

// Blocks kept per size, enough for the transactions of a few hundred calls a second
// (each lingers for Timer K or D); beyond, they go back to malloc.
constexpr std::size_t kKeptBlocks = 4096;

// Set when this thread's cache is gone (thread exit): a transaction destroyed later
// goes straight back to malloc.
thread_local bool tCacheGone = false;

// Freed blocks of the two sizes there are (the INVITE and the non-INVITE machine), per
// thread: a transaction is made and destroyed on its layer's thread.
class BlockCache {
public:
    ~BlockCache() {
        for (Shelf& shelf : m_shelves)
            for (void* block : shelf.blocks)
                ::operator delete(block);
        tCacheGone = true;
    }

    void* take(std::size_t size) {
        if (Shelf* shelf = find(size); shelf && !shelf->blocks.empty()) {
            void* block = shelf->blocks.back();
            shelf->blocks.pop_back();
            return block;
        }
        return ::operator new(size);
    }

    void give(void* block, std::size_t size) {
        Shelf* shelf = find(size);
        if (!shelf) {
            for (Shelf& empty : m_shelves) {
                if (empty.size == 0) {
                    empty.size = size;
                    shelf = &empty;
                    break;
                }
            }
        }
        if (!shelf || shelf->blocks.size() >= kKeptBlocks) {
            ::operator delete(block);
            return;
        }
        shelf->blocks.push_back(block);
    }

private:
    struct Shelf {
        std::size_t size = 0;
        std::vector<void*> blocks;
    };
    Shelf* find(std::size_t size) {
        for (Shelf& shelf : m_shelves)
            if (shelf.size == size) return &shelf;
        return nullptr;
    }

    std::array<Shelf, 2> m_shelves;
};

BlockCache& blockCache() {
    thread_local BlockCache cache;
    return cache;
}

}  // namespace

// Under AddressSanitizer every transaction gets memory of its own, so that a use after
// its end is still caught rather than landing in the next transaction's block.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kReuseBlocks = false;
#else
constexpr bool kReuseBlocks = true;
#endif

void* ClientTransaction::operator new(std::size_t size) {
    if (!kReuseBlocks || tCacheGone) return ::operator new(size);
    return blockCache().take(size);
}

void ClientTransaction::operator delete(void* block, std::size_t size) {
    if (!kReuseBlocks || tCacheGone) {
        ::operator delete(block);
        return;
    }
    blockCache().give(block, size);
}

ClientTransaction::ClientTransaction(TransactionContext& context, TransactionId id, QByteArray key,
                                     sip::Message request, transport::Endpoint destination,
                                     ClientTransactionUser* user)
    : m_context(context),
      m_id(id),
      m_key(std::move(key)),
      m_request(std::move(request)),
      m_destination(std::move(destination)),
      m_user(user) {}

bool ClientTransaction::send(sip::Message& message) {
    auto sent = m_context.transport.sendRequest(message, m_destination);
    if (sent) return true;
    qCDebug(lcTransaction) << "client transaction" << m_id << "send failed:" << sent.error().reason;
    terminate();
    reportTransportError(sent.error());
    return false;
}

void ClientTransaction::onFlowFailed(const Error& error) {
    if (m_state == State::Completed || m_state == State::Accepted || m_state == State::Terminated)
        return;
    terminate();
    reportTransportError(error);
}

void ClientTransaction::terminate() {
    stopTimers();
    if (m_state == State::Terminated) return;
    m_state = State::Terminated;
    m_context.terminatedClients.push_back(m_id);
}

void ClientTransaction::reportProvisional(const sip::Message& response) {
    if (m_user) m_user->onProvisional(m_id, response);
}

void ClientTransaction::reportFinal(const sip::Message& response) {
    if (m_user) m_user->onFinal(m_id, response);
}

void ClientTransaction::reportTimeout() {
    if (m_user) m_user->onTimeout(m_id);
}

void ClientTransaction::reportTransportError(const Error& error) {
    if (m_user) m_user->onTransportError(m_id, error);
}

}  // namespace sb::transaction
