/* The rate limit on adds: a token bucket per source address (any port).
 *
 * Each host may add @burst notes at once and @per_second notes a second
 * after that.  A host past its bucket is told how many seconds until its next
 * token (5.03 with Max-Age), so a client that waits that long only slows
 * down.  Hosts in the exempt set (loopback by default) are never limited.
 *
 * Bounded: at most MD_RATE_LIMIT_MAX_HOSTS buckets, in a table under the keyed
 * peer hash; when full, the bucket touched longest ago goes, which by then
 * has mostly refilled, so forgetting it gives that host at most one burst. */
#pragma once

#include "md-address-set.h"
#include "md-peer.h"

G_BEGIN_DECLS

#define MD_RATE_LIMIT_MAX_HOSTS 4096

typedef struct _MdRateLimit MdRateLimit;

/* @per_second 0 turns the limit off.  Takes @exempt (may be NULL: nobody). */
MdRateLimit *md_rate_limit_new (double per_second, guint burst, MdAddressSet *exempt);
void md_rate_limit_free (MdRateLimit *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdRateLimit, md_rate_limit_free)

/* Takes one token from @peer's host: TRUE if it may add now.  FALSE sets
 * *@retry_after_s to the whole seconds (at least 1) until it may. */
gboolean md_rate_limit_take (MdRateLimit *self, const MdPeer *peer, gint64 now_us,
                             guint *retry_after_s);
/* Hosts with a bucket. */
guint md_rate_limit_get_hosts (MdRateLimit *self);
double md_rate_limit_get_per_second (MdRateLimit *self);
guint md_rate_limit_get_burst (MdRateLimit *self);

G_END_DECLS
