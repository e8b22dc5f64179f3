/* Message-layer deduplication (RFC 7252 §4.5): a request seen again from the
 * same peer with the same Message ID within EXCHANGE_LIFETIME gets the cached
 * response instead of a second execution.
 *
 * Bounded: entries expire after MD_DEDUP_LIFETIME_US and the cache holds at
 * most @max_bytes of responses and bookkeeping.  When full, the oldest entry
 * of the source host (address, any port) that holds most bytes goes first, so
 * a flood from many addresses cannot push out the live exchange of a host
 * that holds less than each of them.  The hash is keyed (md_peer_hash). */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

/* EXCHANGE_LIFETIME with RFC 7252's default transmission parameters (247 s):
 * covers both libcoap's default timing and mydailyctl's LAN tuning. */
#define MD_DEDUP_LIFETIME_US (G_GINT64_CONSTANT (247) * G_USEC_PER_SEC)

typedef struct _MdDedup MdDedup;

typedef enum
{
  MD_DEDUP_NEW,         /* not seen: execute it */
  MD_DEDUP_IN_PROGRESS, /* seen in this batch, response not yet sent: drop */
  MD_DEDUP_REPLAY,      /* seen: send *response again */
} MdDedupResult;

MdDedup *md_dedup_new (gsize max_bytes);
void md_dedup_free (MdDedup *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdDedup, md_dedup_free)

/* Looks up (peer, mid).  MD_DEDUP_NEW records it as in progress.  For
 * MD_DEDUP_REPLAY, @response is set to the cached bytes (owned by the cache,
 * valid until the next call). */
MdDedupResult md_dedup_check (MdDedup *self, const MdPeer *peer, guint16 mid, gint64 now_us,
                              GBytes **response);
/* Stores the response sent for (peer, mid).  NULL @response means "answered
 * with nothing" (replays stay silent). */
void md_dedup_complete (MdDedup *self, const MdPeer *peer, guint16 mid, GBytes *response,
                        gint64 now_us);
guint md_dedup_get_size (MdDedup *self);
/* A new cap; evicts at once if the cache holds more. */
void md_dedup_set_max_bytes (MdDedup *self, gsize max_bytes);
/* What @hosts hosts adding at the rate limit (@burst at once, then
 * @per_second) put in the cache within one EXCHANGE_LIFETIME: sized so, each
 * of them keeps every exchange for its full lifetime however many others
 * flood the cache, since those others are heavier and go first. */
gsize md_dedup_bytes_for_rate (double per_second, guint burst, guint hosts);

G_END_DECLS
