/* The daemon's pipeline, one stage after the other:
 *
 *   transport -> message layer -> resources -> store -> replies and
 *   notifications -> transport
 *
 * Transports (md-transport.h) deliver datagrams in batches; the message
 * layer (md-message-layer.h, md-request-checks.h) parses and filters
 * them; the resources (md-resources.h) answer and append; the store commits
 * the batch's notes with one fdatasync in a worker thread while the next
 * batch is read and appended; then the batch's acknowledgements go out
 * (md-budget.h bounds each) in one sendmmsg per transport, and observers
 * hear of the newest note.
 *
 * No acknowledgement of a note leaves before the note is durable; answers
 * that acknowledge nothing (reads, errors) leave when their batch closes,
 * without waiting for a commit. */
#pragma once

#include "md-rate-limit.h"
#include "md-store.h"
#include "md-transport.h"

G_BEGIN_DECLS

typedef struct _MdServer MdServer;

MdServer *md_server_new (MdStore *store);
void md_server_free (MdServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdServer, md_server_free)

/* Serves @transport, which the server then owns. */
void md_server_add_transport (MdServer *self, MdTransport *transport);
/* Serves the UDP socket @fd (not closed by the server) through a plain UDP
 * transport.  Fails unless it is an AF_INET/AF_INET6 SOCK_DGRAM socket: for
 * a socket obtained without md-listen.h's checks. */
gboolean md_server_add_socket (MdServer *self, int fd, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Adds are limited by @rate_limit (not owned, must outlive the server; NULL:
 * none), and the dedup cache grows to keep the exchanges of hosts adding at
 * that rate for their whole lifetime. */
void md_server_set_rate_limit (MdServer *self, MdRateLimit *rate_limit);
/* The notebook's name (NULL: none; else md_notes_link_name_is_valid()) and
 * DTLS port (0: none) in its </notes> link, unicast and multicast. */
void md_server_set_identity (MdServer *self, const char *name, guint16 coaps_port);
/* Whether multicast discovery requests are answered (default TRUE). */
void md_server_set_discovery (MdServer *self, gboolean enabled);
/* The plain port serves sources in @networks (md-address-set.h items; the
 * default is md-plain-filter.h's MD_PLAIN_FROM_DEFAULT) and drops anything
 * else unanswered.  A bad item is an error naming it, and changes nothing. */
gboolean md_server_set_plain_from (MdServer *self, const char *const *networks,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Log every datagram at debug level with a one-line decode. */
void md_server_set_verbose (MdServer *self, gboolean verbose);
/* Handles every datagram already queued on the transports, then stops
 * reading: used on SIGTERM so in-flight requests are answered before exit. */
void md_server_drain (MdServer *self);
/* For STATUS=: "42 notes, last stored at 12:03:04 from 192.0.2.1:5683,
 * 2 observers", or "42 notes, none stored since start, 2 observers". */
gchar *md_server_describe (MdServer *self);

G_END_DECLS
