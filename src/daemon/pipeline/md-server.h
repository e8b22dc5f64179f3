/* The CoAP endpoint: reads datagrams from one or more UDP sockets in the GLib
 * main loop and runs the message layer (RFC 7252 §4) around md-resources:
 * format errors, RST to pings, 4.02 for unknown critical options, dedup,
 * Echo-based amplification limits, group commit and observe notifications.
 *
 * Each main-loop turn reads every datagram waiting on a socket (bounded),
 * handles them, commits the store once, then sends all responses: the notes
 * read in one turn share one fdatasync. */
#pragma once

#include "md-rate-limit.h"
#include "md-store.h"

G_BEGIN_DECLS

typedef struct _MdServer MdServer;

MdServer *md_server_new (MdStore *store);
void md_server_free (MdServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdServer, md_server_free)

/* Serves the bound UDP socket @fd (not closed by the server).  Fails unless
 * it is an AF_INET/AF_INET6 SOCK_DGRAM socket.  Turns on IP_PKTINFO /
 * IPV6_RECVPKTINFO so that answers leave from the address each client sent
 * to, even on a wildcard socket of a host with several addresses. */
gboolean md_server_add_socket (MdServer *self, int fd, GError **error);
/* Adds are limited by @rate_limit (not owned, must outlive the server; NULL:
 * none), and the dedup cache grows to keep the exchanges of hosts adding at
 * that rate for their whole lifetime. */
void md_server_set_rate_limit (MdServer *self, MdRateLimit *rate_limit);
/* Log every datagram at debug level with a one-line decode. */
void md_server_set_verbose (MdServer *self, gboolean verbose);
/* Handles every datagram already queued on the sockets, then stops reading:
 * used on SIGTERM so in-flight requests are answered before exit. */
void md_server_drain (MdServer *self);
/* For STATUS=: "42 notes, last stored at 12:03:04 from 192.0.2.1:5683,
 * 2 observers", or "42 notes, none stored since start, 2 observers". */
gchar *md_server_describe (MdServer *self);

G_END_DECLS
