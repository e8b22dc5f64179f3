/* A list of networks in CIDR notation ("127.0.0.0/8 ::1 192.168.1.0/24"),
 * for settings that name who may do what: RateLimitExempt= now, PlainFrom=
 * later.  An address without a length is one host.  IPv4-mapped IPv6
 * addresses are taken as the IPv4 address on both sides, so a dual-stack
 * socket changes nothing. */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

typedef struct _MdAddressSet MdAddressSet;

/* Parses @items (each "ADDRESS" or "ADDRESS/LENGTH"); an empty list is an
 * empty set.  A bad item is MD_ERROR_FAILED naming it. */
MdAddressSet *md_address_set_new (const char *const *items, GError **error);
void md_address_set_free (MdAddressSet *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdAddressSet, md_address_set_free)

/* Whether @peer's address (not its port) is in one of the networks. */
gboolean md_address_set_contains (const MdAddressSet *self, const MdPeer *peer);

G_END_DECLS
