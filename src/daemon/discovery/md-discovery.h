/* CoAP multicast discovery (RFC 7252 §8): the answer to a GET
 * /.well-known/core sent to 224.0.1.187 or ff02::fd.
 *
 * Only that request is answered, with or without an rt= filter that
 * matches "mydaily.notes" (RFC 6690 §4.1); anything else sent to a group
 * gets no answer, not even an error (§8.1), and never an ACK or RST.  The
 * answer is one NON 2.05 with the </notes> link only (md-notes-link.h), at
 * most three times the request's size, sent by unicast from one of our
 * unicast addresses after a random delay of up to a second (the Leisure of
 * §8.2, so the answers of many servers do not collide).  No notes, and
 * whatever PlainFrom= says: this is what lets a LAN client find a notebook
 * it may not read.
 *
 * Answers waiting for their delay are a bounded table: past
 * MD_DISCOVERY_PENDING_MAX, further requests are dropped until some went. */
#pragma once

#include "md-resources.h"
#include "md-transport.h"

G_BEGIN_DECLS

#define MD_DISCOVERY_PENDING_MAX 32
/* The longest random delay before an answer, in milliseconds. */
#define MD_DISCOVERY_LEISURE_MS 1000

typedef struct _MdDiscovery MdDiscovery;

/* The link comes from @resources (not owned, must outlive it). */
MdDiscovery *md_discovery_new (MdResources *resources);
void md_discovery_free (MdDiscovery *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdDiscovery, md_discovery_free)

/* Discovery=false: every group datagram is dropped. */
void md_discovery_set_enabled (MdDiscovery *self, gboolean enabled);

/* Takes a datagram that was sent to a group (MdDatagram.to_group): queues
 * its answer on the main loop, or drops it. */
void md_discovery_handle (MdDiscovery *self, const MdDatagram *datagram);

/* Answers waiting for their delay. */
guint md_discovery_get_pending (MdDiscovery *self);

G_END_DECLS
