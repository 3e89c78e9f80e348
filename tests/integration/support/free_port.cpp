#include "free_port.h"

#include <QFile>
#include <QTcpServer>
#include <QUdpSocket>

namespace sb::itest {

namespace {

// /proc/net/{udp,tcp}: "sl local_address rem_address st ...", addresses as
// HEXIP:HEXPORT with the IPv4 address in host (little-endian) byte order.
bool listed(const char* table, quint16 port, const char* state) {
    QFile file(QString::fromLatin1(table));
    if (!file.open(QIODevice::ReadOnly)) return false;
    const QByteArray wantedPort = QByteArray::number(port, 16).toUpper().rightJustified(4, '0');
    file.readLine();  // header
    while (!file.atEnd()) {
        const QList<QByteArray> fields = file.readLine().simplified().split(' ');
        if (fields.size() < 4) continue;
        const QList<QByteArray> local = fields.at(1).split(':');
        if (local.size() != 2 || local.at(1) != wantedPort) continue;
        if (local.at(0) != "0100007F" && local.at(0) != "00000000") continue;
        if (fields.at(3) == state) return true;
    }
    return false;
}

}  // namespace

quint16 freePort() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        QTcpServer tcp;
        if (!tcp.listen(QHostAddress::LocalHost, 0)) continue;
        QUdpSocket udp;
        if (udp.bind(QHostAddress::LocalHost, tcp.serverPort())) return tcp.serverPort();
    }
    qFatal("no free port on 127.0.0.1");
}

bool udpListening(quint16 port) {
    return listed("/proc/net/udp", port, "07");
}

bool tcpListening(quint16 port) {
    return listed("/proc/net/tcp", port, "0A");
}

}  // namespace sb::itest
