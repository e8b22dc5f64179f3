/* Finding notebooks on the LAN: CoAP multicast discovery (RFC 7252 §8).
 *
 * One NON GET /.well-known/core?rt=mydaily.notes goes to 224.0.1.187 and
 * ff02::fd on every interface that is up and takes multicast; the answers
 * (by unicast, each after the server's random delay of up to a second) are
 * collected for a bounded window.  The request is padded so that the
 * server's whole link fits three times its size (md-discovery.h).  Answers
 * are hostile input: only a 2.05 with our token whose link parses strictly
 * (md-notes-link.h) counts. */
#pragma once

#include <gio/gio.h>

#include "md-notes-link.h"

G_BEGIN_DECLS

#define MD_DISCOVER_DEFAULT_WINDOW_MS 1500
/* The window is bounded, whatever the caller asks. */
#define MD_DISCOVER_MAX_WINDOW_MS 60000
/* Notebooks kept at most: a LAN full of forged answers stays bounded. */
#define MD_DISCOVER_MAX_FOUND 64

typedef enum
{
  MD_DISCOVERED_COAP = 1 << 0,   /* answered our multicast request */
  MD_DISCOVERED_DNS_SD = 1 << 1, /* announced through Avahi (md-dnssd.h) */
} MdDiscoveredVia;

typedef struct
{
  char *host;       /* address literal; link-local IPv6 with "%IFNAME" */
  guint16 port;     /* the plain CoAP port it answered from */
  MdNotesLink link; /* notebook "" when only DNS-SD announced it */
  MdDiscoveredVia via;
} MdDiscovered;

void md_discovered_free (MdDiscovered *found);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdDiscovered, md_discovered_free)
/* "HOST:PORT", IPv6 in brackets: a -s argument for @found;
 * "coaps://HOST:PORT" for one that DNS-SD announced over DTLS only. */
char *md_discovered_server (const MdDiscovered *found);

/* Collects answers for @window_ms; the result (md_discover_finish) is a
 * GPtrArray of MdDiscovered, one per notebook identity and address, IPv4
 * first.  No answer is no error: an empty array. */
void md_discover_async (guint window_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
GPtrArray *md_discover_finish (GAsyncResult *result, GError **error);

/* Adds @found to @list (of MdDiscovered), merged into the entry with the
 * same identity and host if there is one (an entry without identity, from
 * DNS-SD, merges with any entry of its host), and keeps @list ordered:
 * by name, then identity, then IPv4 before global IPv6 before link-local.
 * Takes @found.  Beyond MD_DISCOVER_MAX_FOUND entries, drops it. */
void md_discovered_add (GPtrArray *list, MdDiscovered *found);

/* The request sent, for tests: at least @min_len bytes. */
GBytes *md_discover_build_request (const guint8 token[8], gsize min_len);

G_END_DECLS
