#pragma once

#include <QtGlobal>

namespace sb::itest {

// A port on 127.0.0.1 that is free for both UDP and TCP right now (the kernel picks
// it: bind to port 0). Another process may still take it before the caller does;
// callers start their peer at once and check that it listens.
quint16 freePort();

// Whether something listens on 127.0.0.1:port (or 0.0.0.0:port), read from
// /proc/net/{udp,tcp}: UDP bound, TCP in LISTEN.
bool udpListening(quint16 port);
bool tcpListening(quint16 port);

}  // namespace sb::itest
