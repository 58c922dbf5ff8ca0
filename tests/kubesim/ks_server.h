/*
 * ks_server.h - the listening socket and one thread per client
 * connection (TLS handshake, then HTTP/1.1 keep-alive requests handed to
 * ks_api). Threads earn their keep here: every watch is a long blocking
 * loop, and per-connection threads keep that code straight-line.
 */
#ifndef KS_SERVER_H
#define KS_SERVER_H

#include "ks_sim.h"

/* Bind and listen on host:port (port 0 picks one; s->port gets it). */
int ks_server_listen(ks_sim *s);
/* Accept until s->stop, then end the open connections (their sockets are
 * shut down) and wait up to 3 s for their threads. 0, or -ENOMEM. */
int ks_server_run(ks_sim *s);

#endif
