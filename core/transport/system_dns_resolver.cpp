#include "transport/system_dns_resolver.h"

#include <QDnsLookup>
#include <QFutureWatcher>
#include <QHostInfo>
#include <QPromise>
#include <QThreadPool>

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <cstring>
#include <memory>

#include "base/log.h"

namespace sb::transport {

namespace {

constexpr quint16 kTypeNaptr = 35;  // RFC 3403
constexpr quint16 kClassIn = 1;

// What the worker thread hands back: the raw answer, or why there is none.
struct RawAnswer {
    QByteArray message;
    bool notFound = false;
    QString error;
};

RawAnswer queryNaptr(const QByteArray& domain) {
    RawAnswer answer;
    struct __res_state state;
    std::memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) {
        answer.error = QStringLiteral("cannot initialise the system resolver");
        return answer;
    }
    QByteArray buffer(65535, Qt::Uninitialized);
    const int length = res_nquery(&state, domain.constData(), kClassIn, kTypeNaptr,
                                  reinterpret_cast<unsigned char*>(buffer.data()), buffer.size());
    if (length < 0) {
        if (state.res_h_errno == HOST_NOT_FOUND || state.res_h_errno == NO_DATA) {
            answer.notFound = true;
        } else {
            answer.error = QStringLiteral("NAPTR lookup of %1 failed (h_errno %2)")
                               .arg(QString::fromLatin1(domain))
                               .arg(state.res_h_errno);
        }
    } else {
        buffer.truncate(std::min<int>(length, buffer.size()));
        answer.message = std::move(buffer);
    }
    res_nclose(&state);
    return answer;
}

// Reads big-endian integers and RFC 1035 §4.1.4 (possibly compressed) names.
class DnsReader {
public:
    explicit DnsReader(QByteArrayView message) : m_message(message) {}

    bool u16(qsizetype& pos, quint16& value) const {
        if (pos + 2 > m_message.size()) return false;
        value = static_cast<quint16>((byte(pos) << 8) | byte(pos + 1));
        pos += 2;
        return true;
    }
    bool skip(qsizetype& pos, qsizetype count) const {
        if (pos + count > m_message.size()) return false;
        pos += count;
        return true;
    }
    bool characterString(qsizetype& pos, QByteArray& value) const {
        if (pos >= m_message.size()) return false;
        const qsizetype length = byte(pos);
        if (pos + 1 + length > m_message.size()) return false;
        value = m_message.sliced(pos + 1, length).toByteArray();
        pos += 1 + length;
        return true;
    }
    bool name(qsizetype& pos, QByteArray& value) const {
        value.clear();
        qsizetype at = pos;
        bool jumped = false;
        for (int hops = 0; hops < 128; ++hops) {
            if (at >= m_message.size()) return false;
            const quint8 length = byte(at);
            if ((length & 0xc0) == 0xc0) {
                if (at + 1 >= m_message.size()) return false;
                if (!jumped) pos = at + 2;
                jumped = true;
                at = ((length & 0x3f) << 8) | byte(at + 1);
                continue;
            }
            if (length & 0xc0) return false;  // reserved label types
            if (length == 0) {
                if (!jumped) pos = at + 1;
                return true;
            }
            if (at + 1 + length > m_message.size()) return false;
            if (!value.isEmpty()) value += '.';
            value += m_message.sliced(at + 1, length);
            at += 1 + length;
        }
        return false;  // a compression loop
    }

private:
    quint8 byte(qsizetype pos) const { return static_cast<quint8>(m_message[pos]); }
    QByteArrayView m_message;
};

}  // namespace

SystemDnsResolver::SystemDnsResolver(QObject* parent) : QObject(parent) {}

SystemDnsResolver::~SystemDnsResolver() {
    for (int id : std::as_const(m_hostLookups))
        QHostInfo::abortHostLookup(id);
}

Result<std::vector<NaptrRecord>> SystemDnsResolver::parseNaptrResponse(QByteArrayView message) {
    const DnsReader reader(message);
    auto malformed = [] {
        return fail(ErrorKind::Parse, QStringLiteral("malformed DNS response"));
    };
    qsizetype pos = 4;  // id, flags
    quint16 questions = 0;
    quint16 answers = 0;
    if (!reader.u16(pos, questions) || !reader.u16(pos, answers) || !reader.skip(pos, 4))
        return malformed();
    QByteArray name;
    for (int i = 0; i < questions; ++i) {
        if (!reader.name(pos, name) || !reader.skip(pos, 4)) return malformed();
    }
    std::vector<NaptrRecord> records;
    for (int i = 0; i < answers; ++i) {
        quint16 type = 0;
        quint16 klass = 0;
        quint16 length = 0;
        if (!reader.name(pos, name) || !reader.u16(pos, type) || !reader.u16(pos, klass) ||
            !reader.skip(pos, 4) || !reader.u16(pos, length)) {
            return malformed();
        }
        const qsizetype end = pos + length;
        if (end > message.size()) return malformed();
        if (type == kTypeNaptr && klass == kClassIn) {
            NaptrRecord record;
            qsizetype at = pos;
            if (!reader.u16(at, record.order) || !reader.u16(at, record.preference) ||
                !reader.characterString(at, record.flags) ||
                !reader.characterString(at, record.service) ||
                !reader.characterString(at, record.regexp) ||
                !reader.name(at, record.replacement) || at > end) {
                return malformed();
            }
            records.push_back(std::move(record));
        }
        pos = end;
    }
    return records;
}

void SystemDnsResolver::lookupNaptr(const QByteArray& domain, NaptrCallback done) {
    // res_nquery blocks; it runs on the global pool and the answer comes back through a
    // watcher owned by this object (gone with it, so no late callback).
    auto promise = std::make_shared<QPromise<RawAnswer>>();
    auto* watcher = new QFutureWatcher<RawAnswer>(this);
    connect(watcher, &QFutureWatcher<RawAnswer>::finished, this, [watcher, done = std::move(done)] {
        watcher->deleteLater();
        if (watcher->future().resultCount() == 0) {
            done(fail(ErrorKind::Transport, QStringLiteral("NAPTR lookup did not complete")));
            return;
        }
        const RawAnswer answer = watcher->result();
        if (!answer.error.isEmpty()) {
            done(fail(ErrorKind::Transport, answer.error));
        } else if (answer.notFound) {
            done(std::vector<NaptrRecord>{});
        } else {
            done(parseNaptrResponse(answer.message));
        }
    });
    promise->start();
    watcher->setFuture(promise->future());
    QThreadPool::globalInstance()->start([promise, domain] {
        promise->addResult(queryNaptr(domain));
        promise->finish();
    });
}

void SystemDnsResolver::lookupSrv(const QByteArray& name, SrvCallback done) {
    auto* lookup = new QDnsLookup(QDnsLookup::SRV, QString::fromLatin1(name), this);
    connect(lookup, &QDnsLookup::finished, this, [lookup, done = std::move(done)] {
        lookup->deleteLater();
        if (lookup->error() == QDnsLookup::NotFoundError) {
            done(std::vector<SrvRecord>{});
            return;
        }
        if (lookup->error() != QDnsLookup::NoError) {
            done(fail(ErrorKind::Transport, QStringLiteral("SRV lookup of %1 failed: %2")
                                                .arg(lookup->name(), lookup->errorString())));
            return;
        }
        std::vector<SrvRecord> records;
        for (const QDnsServiceRecord& record : lookup->serviceRecords()) {
            records.push_back(
                {record.priority(), record.weight(), record.port(), record.target().toLatin1()});
        }
        done(std::move(records));
    });
    lookup->lookup();
}

void SystemDnsResolver::lookupAddresses(const QByteArray& host, AddressCallback done) {
    auto id = std::make_shared<int>(0);
    *id = QHostInfo::lookupHost(QString::fromLatin1(host), this,
                                [this, id, done = std::move(done)](const QHostInfo& info) {
                                    m_hostLookups.removeOne(*id);
                                    if (info.error() == QHostInfo::HostNotFound) {
                                        done(QList<QHostAddress>{});
                                    } else if (info.error() != QHostInfo::NoError) {
                                        done(fail(ErrorKind::Transport, info.errorString()));
                                    } else {
                                        done(info.addresses());
                                    }
                                });
    m_hostLookups.append(*id);
}

}  // namespace sb::transport
