/* The client side of the CoAP profile: one UDP socket connected to the
 * daemon, confirmable requests with LAN-tuned retransmission (see the
 * "Timing" section of the contract), Echo (RFC 9175), block-wise GET
 * (RFC 7959) and Observe (RFC 7641).
 *
 * Every call blocks until it has an answer, its time runs out or the
 * client's cancellable fires.  A follower keeps a second client for its
 * observation so that notifications never meet a pending request. */
#pragma once

#include <gio/gio.h>

#include "md-coap.h"

G_BEGIN_DECLS

#define MD_CLIENT_DEFAULT_PORT 5683
/* How often an observer registers again; the daemon forgets it after 5 min. */
#define MD_CLIENT_OBSERVE_REFRESH_S 60

typedef struct _MdClient MdClient;

typedef struct
{
  guint8 method;
  const char *path;  /* "notes/UUID", no leading '/' needed */
  const char *query; /* "after=5" or NULL */
  gboolean if_none_match;
  gboolean observe; /* register (Observe: 0) with the client's observe token */
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
  gboolean has_block2;
  MdCoapBlock block2;
  GBytes *echo; /* the Echo option, if any */
} MdClientResponse;

void md_client_response_free (MdClientResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClientResponse, md_client_response_free)

/* Called for each block of a block-wise body, in order. */
typedef gboolean (*MdClientBodyFunc) (const guint8 *data, gsize len, gpointer user_data,
                                      GError **error);

/* Resolves @server ("HOST", "HOST:PORT", "[V6]:PORT"); every address found is
 * a candidate, tried in order when the previous one refuses.  Fails with
 * G_IO_ERROR_INVALID_ARGUMENT for a malformed @server, G_RESOLVER_ERROR when
 * the name does not resolve. */
MdClient *md_client_new (const char *server, double timeout_s, GError **error);
/* A second client for the same server, starting at the address that last
 * answered @other. */
MdClient *md_client_new_sibling (MdClient *other);
void md_client_free (MdClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClient, md_client_free)

/* Cancelling it ends any wait with G_IO_ERROR_CANCELLED. */
void md_client_set_cancellable (MdClient *client, GCancellable *cancellable);

/* Sends @request as CON until a response arrives or the timeout passes
 * (MD_ERROR_TIMEOUT naming the address).  Any response code is returned;
 * 4.01 with Echo is answered by repeating the request with that Echo. */
MdClientResponse *md_client_request (MdClient *client, const MdClientRequest *request,
                                     GError **error);

/* GET @path[?@query] block by block (SZX 6) until the last block, handing
 * each to @func.  Anything but 2.05 fails with MD_ERROR_REJECTED carrying
 * the server's diagnostic. */
gboolean md_client_get_body (MdClient *client, const char *path, const char *query,
                             MdClientBodyFunc func, gpointer user_data, GError **error);
/* The same, concatenated. */
GBytes *md_client_get (MdClient *client, const char *path, const char *query, GError **error);

/* Observation: registers (or registers again) for @path with the client's own
 * token and returns the current representation. */
MdClientResponse *md_client_observe (MdClient *client, const char *path, GError **error);
/* The socket to watch for notifications. */
GSocket *md_client_get_socket (MdClient *client);
/* Reads what is waiting on the socket without blocking: the next
 * notification, or NULL when none is left. */
MdClientResponse *md_client_receive_notification (MdClient *client);

/* Fills @error with MD_ERROR_REJECTED from an error response: the diagnostic
 * payload, or the code ("4.04") when there is none. */
void md_client_response_set_error (const MdClientResponse *response, GError **error);

G_END_DECLS
