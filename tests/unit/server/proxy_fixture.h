#pragma once

// What the tests of the proxy and of the attendant share: a location service and user
// directory in a map, and a dispatcher that hands everything to the proxy.

#include <QSet>
#include <QString>

#include <map>
#include <optional>
#include <vector>

#include "server/location_service.h"
#include "server/proxy.h"
#include "transaction/transaction_layer.h"

namespace sb::test {

using server::Binding;
using server::LocationService;
using server::Proxy;
using server::UserDirectory;

class FakeLocation final : public LocationService, public UserDirectory {
public:
    std::vector<Binding> lookup(const QString& user) const override {
        auto it = bindings.find(user);
        return it == bindings.end() ? std::vector<Binding>{} : it->second;
    }
    bool hasUser(const QString& user) const override { return users.contains(user); }
    // BindingStore::lookupByContact in miniature.
    std::optional<Binding> byContact(const sip::Uri& uri) const {
        for (const auto& [user, list] : bindings) {
            for (const Binding& binding : list) {
                auto contact = sip::Uri::parse(binding.contactUri);
                if (contact && sip::uriEquivalent(*contact, uri)) return binding;
            }
        }
        return std::nullopt;
    }

    void add(const QString& user, QByteArray contact, transport::Endpoint source, int q = 1000) {
        Binding binding;
        binding.user = user;
        binding.contactUri = contact;
        binding.contactValue = '<' + contact + '>';
        binding.source = source;
        binding.qValue = q;
        bindings[user].push_back(binding);
        users.insert(user);
    }

    std::map<QString, std::vector<Binding>> bindings;
    QSet<QString> users;
};

// SipServer's dispatcher in miniature: every request and event goes to the proxy.
class Dispatcher final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id, const transport::IncomingMessage& in) override {
        proxy->onRequest(id, in);
    }
    void onCancel(transaction::TransactionId id, const transport::IncomingMessage& in) override {
        proxy->onCancel(id, in);
    }
    void onAck(const transport::IncomingMessage& ack) override { proxy->onAck(ack); }
    void onStrayResponse(const transport::IncomingMessage& response) override {
        proxy->onStrayResponse(response);
    }
    void onAckTimeout(transaction::TransactionId id) override { proxy->onAckTimeout(id); }

    Proxy* proxy = nullptr;
};

}  // namespace sb::test
