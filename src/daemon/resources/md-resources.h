/* The CoAP resources of the profile: what a request means, as a response.
 *
 *   POST /notes                  store a note, 2.01 + Location-Path notes/ID
 *   PUT  /notes/KEY If-None-Match  create-only under a client UUID: 2.01 with
 *                                the stored line, or 4.12 with the existing one
 *   GET  /notes[?after=N]        Block2 body of wire lines
 *   GET  /notes/ID, /notes/KEY   one wire line
 *   GET  /latest [Observe]       newest wire line
 *   GET  /status                 "key: value" lines
 *   GET  /.well-known/core       link format
 *
 * This layer knows nothing of sockets, dedup or amplification: the server
 * hands it a parsed request and sends what it returns. */
#pragma once

#include "md-coap.h"
#include "md-note.h"
#include "md-observers.h"
#include "md-peer.h"
#include "md-plain-filter.h"
#include "md-rate-limit.h"
#include "md-store.h"

G_BEGIN_DECLS

typedef struct _MdResources MdResources;

typedef enum
{
  MD_HANDLED_READ = 0,
  /* The response acknowledges a note appended to the store: it may be sent
   * only after md_store_commit() succeeds, and must become 5.03 if it fails. */
  MD_HANDLED_WROTE = 1 << 0,
  /* The refusal is logged already, at a limited rate (md-log-limits.c): a
   * flood of refused adds must not log once each. */
  MD_HANDLED_LOGGED = 1 << 1,
} MdHandled;

/* What a request stored in the store (still pending until the commit). */
typedef struct
{
  guint64 id;                              /* the note it appended, or 0 */
  char key[MD_NOTE_KEY_LEN + 1];           /* its key as stored (lowercase) for a PUT, or "" */
  char author[MD_NOTE_AUTHOR_MAX_LEN + 1]; /* its author, when id is not 0 */
} MdStoredNote;

/* @observers may be NULL (no /latest observation). */
MdResources *md_resources_new (MdStore *store, MdObservers *observers);
void md_resources_free (MdResources *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdResources, md_resources_free)

/* Fills @response, which the caller made with md_coap_message_init_response()
 * (code 0), for the well-formed request @request from @peer, whom the
 * transport proved to be @identity (the datagram's: NULL over plain CoAP).
 * A note it stores has the author md_author_from_datagram() gives.  Every error
 * response carries a short diagnostic payload (RFC 7252 §5.5.2).  @stored
 * (may be NULL) is cleared, then says which note the request appended, if
 * any: a request appends at most one. */
MdHandled md_resources_handle (MdResources *self, const MdCoapMessage *request, const MdPeer *peer,
                               const char *identity, gint64 now_us, MdCoapMessage *response,
                               MdStoredNote *stored);

/* Turns @response into the error @code with the diagnostic @reason, made
 * like every error of the resources: options and payload dropped, printable
 * ASCII, bounded.  With MD_COAP_SERVICE_UNAVAILABLE it fails a write after
 * a failed commit; a NULL @reason says "storage error". */
void md_resources_fail (MdCoapMessage *response, guint8 code, const char *reason);

/* Adds (new notes, not the 4.12 of a stored key) from then on take a token
 * of @rate_limit (not owned; NULL: no limit), else get 5.03 with Max-Age. */
void md_resources_set_rate_limit (MdResources *self, MdRateLimit *rate_limit);

/* The notebook's name (NULL: none; else md_notes_link_name_is_valid()) and
 * its DTLS port (0: none), for the </notes> link. */
void md_resources_set_identity (MdResources *self, const char *name, guint16 coaps_port);
/* That link (md-notes-link.h) in at most @max bytes, or NULL. */
gchar *md_resources_format_notes_link (MdResources *self, gsize max);
/* /status reports what @filter (not owned; NULL: nothing) refused. */
void md_resources_set_plain_filter (MdResources *self, const MdPlainFilter *filter);

/* Lines of GET /status. */
gchar *md_resources_describe_status (MdResources *self, gint64 now_us);

G_END_DECLS
