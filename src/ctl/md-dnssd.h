/* DNS-SD through Avahi (its D-Bus API, org.freedesktop.Avahi, with GDBus:
 * no library beyond GIO): the _coaps._udp and _coap._udp services that
 * data/mydaily.service announces (mydaily-coap.service for plain), found
 * while md-discover.h's multicast window runs.
 *
 * No avahi-daemon (no system bus, or nobody owns org.freedesktop.Avahi):
 * no results, silently.  The service file is static, so an announcement
 * carries no notebook identity: md_discovered_add() merges it into the
 * CoAP answer from the same address, and lists it alone otherwise. */
#pragma once

#include "md-discover.h"

G_BEGIN_DECLS

typedef struct _MdDnssd MdDnssd;

/* Starts browsing on the thread-default main context. */
MdDnssd *md_dnssd_new (GCancellable *cancellable);
/* Stops browsing; what was resolved by now, as MdDiscovered with
 * MD_DISCOVERED_DNS_SD, goes into @list (md_discovered_add). */
void md_dnssd_finish (MdDnssd *self, GPtrArray *list);
void md_dnssd_free (MdDnssd *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdDnssd, md_dnssd_free)

G_END_DECLS
