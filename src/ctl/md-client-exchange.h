/* One request and its response: a confirmable exchange (RFC 7252 §4.2) as a
 * state machine on the main loop.
 *
 *   CONFIRMING ──empty ACK──▶ WAITING (a separate response follows)
 *       │  ▲ timer: retransmit, the wait doubling (MAX_RETRANSMIT, then a
 *       │  │ fresh Message ID); address refused: resend to the next one
 *       │  └─4.01 with Echo (RFC 9175): send again with that Echo
 *       └──response──▶ DONE ◀── deadline (MD_ERROR_TIMEOUT), Reset,
 *                               cancellation (G_IO_ERROR_CANCELLED)
 *
 * Every timer comes from the client's MdClientClock; nothing blocks. */
#pragma once

#include <gio/gio.h>

#include "md-client.h"

G_BEGIN_DECLS

typedef struct
{
  guint8 method;
  const char *path;  /* "notes/UUID", no leading '/' */
  const char *query; /* "after=5" or NULL */
  gboolean if_none_match;
  /* Observe: 0 (register) with @token, which must then be set. */
  gboolean observe;
  const guint8 *token; /* MD_CLIENT_TOKEN_LEN bytes, or NULL for a fresh one */
  gboolean has_block2;
  MdCoapBlock block2;
  const void *payload;
  gsize payload_len;
} MdClientRequest;

typedef struct
{
  guint8 code;
  GBytes *payload;
  gboolean has_observe;
  guint32 observe;
  gboolean has_block2;
  MdCoapBlock block2;
  gboolean has_size2;
  guint32 size2;
  gboolean has_max_age;
  guint32 max_age;       /* seconds; on 5.03: how long to wait before retrying */
  GBytes *echo;          /* the Echo option, if any */
  guint retransmissions; /* how many times the request was sent again */
} MdClientResponse;

void md_client_response_free (MdClientResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClientResponse, md_client_response_free)
/* Parses the options this profile uses out of @msg. */
MdClientResponse *md_client_response_new (const MdCoapMessage *msg);

/* Fills @error with MD_ERROR_REJECTED from an error response: the diagnostic
 * payload, or the code ("4.04") when there is none. */
void md_client_response_set_error (const MdClientResponse *response, GError **error);

/* Sends @request (copied) as CON; the callback gets any response code. */
void md_client_request_async (MdClient *client, const MdClientRequest *request,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
MdClientResponse *md_client_request_finish (MdClient *client, GAsyncResult *result, GError **error);

G_END_DECLS
