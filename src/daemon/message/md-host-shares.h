/* How much of a table each source host holds: a count per host address
 * (md_peer_host_bytes: any port, IPv4-mapped as IPv4), in a table hashed
 * with the keyed peer hash.  Tables use it to give each host a fair share.
 *
 * A host is in here only while its count is above zero, so the counts cost
 * memory only in proportion to the table they count. */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

typedef struct _MdHostShares MdHostShares;

MdHostShares *md_host_shares_new (void);
void md_host_shares_free (MdHostShares *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdHostShares, md_host_shares_free)

/* The count of @peer's host, 0 when it holds nothing. */
guint md_host_shares_get (MdHostShares *self, const MdPeer *peer);
void md_host_shares_take (MdHostShares *self, const MdPeer *peer);
/* Gives one back; the host is forgotten at 0. */
void md_host_shares_release (MdHostShares *self, const MdPeer *peer);
/* Hosts holding anything. */
guint md_host_shares_get_hosts (MdHostShares *self);

G_END_DECLS
