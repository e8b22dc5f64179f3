/* Who the plain port serves (PlainFrom=, ARCHITECTURE.md "Access").  Plain
 * CoAP proves nothing about its sender, so only the networks the operator
 * names are served, loopback by default.  A datagram from anywhere else is
 * dropped before the message layer sees it: no dedup entry, no Echo value,
 * not even an RST, since any answer tells a scanner that a notebook listens
 * and can be aimed at a forged source.  Each drop is counted (/status) and
 * logged at a limited rate (md-log-limits.c).
 *
 * The one exception the design allows is multicast discovery (issue 11): a
 * GET /.well-known/core sent to a CoAP group is answered with the link
 * alone, from anywhere.  That is why the filter looks at the datagram's
 * destination kind, and answers MD_PLAIN_DISCOVERY for a group. */
#pragma once

#include "md-address-set.h"

G_BEGIN_DECLS

/* PlainFrom='s default: this host only. */
#define MD_PLAIN_FROM_DEFAULT "127.0.0.0/8 ::1"

typedef enum
{
  MD_PLAIN_DESTINATION_UNICAST,   /* sent to one of our addresses */
  MD_PLAIN_DESTINATION_MULTICAST, /* sent to a group our socket joined */
} MdPlainDestination;

typedef enum
{
  MD_PLAIN_REFUSE,    /* drop without an answer; counted and logged */
  MD_PLAIN_ADMIT,     /* a PlainFrom= source: served like any client */
  MD_PLAIN_DISCOVERY, /* to a group: for the discovery answer only */
} MdPlainVerdict;

typedef struct _MdPlainFilter MdPlainFilter;

/* A filter admitting MD_PLAIN_FROM_DEFAULT. */
MdPlainFilter *md_plain_filter_new (void);
void md_plain_filter_free (MdPlainFilter *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdPlainFilter, md_plain_filter_free)

/* Admits @networks (md-address-set.h items) from now on; a bad item is an
 * error naming it, and then the networks stay as they were. */
gboolean md_plain_filter_set_networks (MdPlainFilter *self, const char *const *networks,
                                       GError **error);

/* Where @peer's datagram was sent: its local address (md-datagram.h). */
MdPlainDestination md_plain_destination_of (const MdPeer *peer);

/* The verdict on a datagram from @peer sent to @destination; a refusal is
 * counted and logged here. */
MdPlainVerdict md_plain_filter_check (MdPlainFilter *self, const MdPeer *peer,
                                      MdPlainDestination destination, gint64 now_us);

/* Datagrams refused since start. */
guint64 md_plain_filter_get_refused (const MdPlainFilter *self);

G_END_DECLS
