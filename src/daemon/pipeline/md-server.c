#include "config.h"

#include "md-server.h"

#include "md-coap.h"
#include "md-datagram.h"
#include "md-dedup.h"
#include "md-echo.h"
#include "md-error.h"
#include "md-log.h"
#include "md-note.h"
#include "md-observers.h"
#include "md-peer.h"
#include "md-resources.h"

#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Datagrams read (and notes committed together) per main-loop turn. */
#define MD_SERVER_BATCH 256
/* Larger than any UDP payload (65535 - headers), so MSG_TRUNC flags a
 * datagram cut only by a bug or an IPv6 jumbogram. */
#define MD_SERVER_RECEIVE_SIZE (65536 + 1)
/* Cached responses for duplicate detection: a few thousand exchanges. */
#define MD_SERVER_DEDUP_BYTES (4 * 1024 * 1024)
/* With a rate limit, at least this many hosts adding at the limit keep every
 * exchange for EXCHANGE_LIFETIME (md_dedup_bytes_for_rate). */
#define MD_SERVER_DEDUP_HOSTS 4
/* md_server_drain() reads at most this many batches per socket. */
#define MD_SERVER_DRAIN_BATCHES 16

/* Options this endpoint understands; any other critical one gets 4.02. */
static const guint16 known_options[] = {
  MD_COAP_OPTION_URI_HOST,       MD_COAP_OPTION_ETAG,      MD_COAP_OPTION_IF_NONE_MATCH,
  MD_COAP_OPTION_OBSERVE,        MD_COAP_OPTION_URI_PORT,  MD_COAP_OPTION_URI_PATH,
  MD_COAP_OPTION_CONTENT_FORMAT, MD_COAP_OPTION_URI_QUERY, MD_COAP_OPTION_ACCEPT,
  MD_COAP_OPTION_BLOCK2,         MD_COAP_OPTION_BLOCK1,    MD_COAP_OPTION_SIZE2,
  MD_COAP_OPTION_SIZE1,          MD_COAP_OPTION_ECHO,      0,
};

/* A response waiting for the batch's commit. */
typedef struct
{
  MdPeer peer;
  guint16 request_mid;
  gsize request_len;
  MdHandled handled;
  MdStoredNote stored; /* what this request appended; id 0 when nothing */
  MdCoapMessage response;
} MdReply;

typedef struct
{
  int fd;
  guint source_id;
} MdServerSocket;

struct _MdServer
{
  MdStore *store; /* not owned */
  MdObservers *observers;
  MdResources *resources;
  MdDedup *dedup;
  MdEcho *echo;
  GArray *sockets; /* of MdServerSocket */
  guint8 *datagram;
  MdCoapMessage request;
  MdReply *batch; /* MD_SERVER_BATCH */
  guint n_batch;
  guint16 next_mid;
  gboolean verbose;
  gint64 last_stored_time; /* wall clock, 0 when nothing was stored since start */
  char last_stored_peer[64];
};

MdServer *
md_server_new (MdStore *store)
{
  MdServer *self;

  g_return_val_if_fail (store != NULL, NULL);

  self = g_new0 (MdServer, 1);
  self->store = store;
  self->observers = md_observers_new ();
  self->resources = md_resources_new (store, self->observers);
  self->dedup = md_dedup_new (MD_SERVER_DEDUP_BYTES);
  self->echo = md_echo_new ();
  self->sockets = g_array_new (FALSE, FALSE, sizeof (MdServerSocket));
  self->datagram = g_malloc (MD_SERVER_RECEIVE_SIZE);
  self->batch = g_new0 (MdReply, MD_SERVER_BATCH);
  /* A random start makes our NON Message IDs hard to predict (RFC 7252 §4.4). */
  self->next_mid = (guint16)g_random_int_range (0, 0x10000);
  return self;
}

static void
remove_sources (MdServer *self)
{
  for (guint i = 0; i < self->sockets->len; i++)
    {
      MdServerSocket *sock = &g_array_index (self->sockets, MdServerSocket, i);

      g_clear_handle_id (&sock->source_id, g_source_remove);
    }
}

void
md_server_free (MdServer *self)
{
  if (self == NULL)
    return;
  remove_sources (self);
  g_array_unref (self->sockets);
  md_resources_free (self->resources);
  md_observers_free (self->observers);
  md_dedup_free (self->dedup);
  md_echo_free (self->echo);
  g_free (self->datagram);
  g_free (self->batch);
  g_free (self);
}

void
md_server_set_verbose (MdServer *self, gboolean verbose)
{
  g_return_if_fail (self != NULL);
  self->verbose = verbose;
}

/* ---- logging ------------------------------------------------------------ */

static void
log_message (MdServer *self, const char *direction, const MdPeer *peer, const MdCoapMessage *msg)
{
  g_autofree char *text = NULL;
  char address[64];

  if (!self->verbose)
    return;
  text = md_coap_message_describe (msg);
  g_debug ("%s %s: %s", direction, md_peer_to_string (peer, address), text);
}

static void
log_bytes (MdServer *self, const char *direction, const MdPeer *peer, GBytes *bytes)
{
  MdCoapMessage *msg;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (!self->verbose)
    return;
  msg = g_new0 (MdCoapMessage, 1);
  if (md_coap_parse (data, len, msg, NULL))
    log_message (self, direction, peer, msg);
  g_free (msg);
}

static void
log_malformed (const MdPeer *peer, gsize len, const char *reason)
{
  char address[64];

  g_debug ("dropped a malformed datagram of %" G_GSIZE_FORMAT " bytes from %s: %s", len,
           md_peer_to_string (peer, address), reason);
}

static void
log_rejected (const MdReply *reply, const char *reason)
{
  char code[5];
  char address[64];

  md_coap_code_format (reply->response.code, code);
  md_log_request_rejected (md_peer_to_string (&reply->peer, address), code, reason);
}

/* What may go to @peer for a request of @request_len bytes: a response
 * larger than MD_ECHO_AMPLIFICATION times it only to a proven address. */
static gboolean
within_budget (MdServer *self, const MdPeer *peer, gsize response_len, gsize request_len,
               gint64 now_us)
{
  if (response_len <= MD_ECHO_AMPLIFICATION * request_len)
    return TRUE;
  return md_echo_is_verified (self->echo, peer, now_us);
}

/* ---- answers outside the batch ------------------------------------------ */

/* RST for a CON we cannot or will not process (RFC 7252 §4.2). */
static void
send_reset (MdServer *self, const MdPeer *peer, guint16 mid)
{
  MdCoapMessage rst;
  guint8 data[4];
  gssize len;

  md_coap_message_init (&rst, MD_COAP_TYPE_RST, MD_COAP_EMPTY, mid);
  len = md_coap_encode (&rst, data, sizeof data, NULL);
  if (len > 0)
    {
      log_message (self, "send to", peer, &rst);
      md_peer_send (peer, data, (gsize)len);
    }
}

/* The cached answer to a duplicate, within the budget of this datagram: a
 * retransmission has the original's length, but a forged 4-byte request
 * with a known Message ID must not fetch a large cached response. */
static void
replay (MdServer *self, const MdPeer *peer, GBytes *cached, gsize request_len, gint64 now_us)
{
  gsize len;
  const guint8 *data;

  /* NULL: the first answer was silence (over the amplification budget). */
  if (cached == NULL)
    return;
  data = g_bytes_get_data (cached, &len);
  if (!within_budget (self, peer, len, request_len, now_us))
    {
      g_debug ("duplicate shorter than its original: not replayed");
      return;
    }
  log_bytes (self, "replay to", peer, cached);
  md_peer_send (peer, data, len);
}

/* ---- requests ----------------------------------------------------------- */

/* An error made like those of the resources (md_resources_fail()). */
static gboolean
reject (MdCoapMessage *response, guint8 code, const char *reason)
{
  md_resources_fail (response, code, reason);
  return FALSE;
}

static gboolean
check_block1 (const MdCoapMessage *request, MdCoapMessage *response)
{
  MdCoapBlock block;

  if (!md_coap_message_has_option (request, MD_COAP_OPTION_BLOCK1))
    return TRUE;
  if (!md_coap_message_get_block (request, MD_COAP_OPTION_BLOCK1, &block))
    return reject (response, MD_COAP_BAD_OPTION, "malformed Block1 option");
  /* A note fits one datagram; a lone final block 0 is simply the whole body. */
  if (block.num == 0 && !block.more)
    return TRUE;
  reject (response, MD_COAP_REQUEST_ENTITY_TOO_LARGE, "send the note in one datagram");
  /* After the reset of reject(): RFC 7252 §5.9.2.9, the largest body we take. */
  md_coap_message_add_uint_option (response, MD_COAP_OPTION_SIZE1, MD_NOTE_MAX_BYTES);
  return FALSE;
}

/* The option checks of the message layer; FALSE with @response made an
 * error when the request must not reach the resources. */
static gboolean
check_options (MdServer *self, const MdCoapMessage *request, const MdPeer *peer, gint64 now_us,
               MdCoapMessage *response)
{
  const MdCoapOption *echo;
  guint16 unknown;

  if (md_coap_message_has_option (request, MD_COAP_OPTION_PROXY_URI)
      || md_coap_message_has_option (request, MD_COAP_OPTION_PROXY_SCHEME))
    return reject (response, MD_COAP_PROXYING_NOT_SUPPORTED, "this server is not a proxy");
  unknown = md_coap_message_find_unknown_critical (request, known_options);
  if (unknown != 0)
    {
      g_autofree char *reason = g_strdup_printf ("unknown critical option %u", unknown);

      return reject (response, MD_COAP_BAD_OPTION, reason);
    }
  if (!check_block1 (request, response))
    return FALSE;
  echo = md_coap_message_find_option (request, MD_COAP_OPTION_ECHO);
  if (echo != NULL)
    md_echo_check_value (self->echo, peer, echo->value, echo->length, now_us);
  return TRUE;
}

static void
execute (MdServer *self, MdReply *reply, const MdCoapMessage *request, gint64 now_us)
{
  reply->handled = md_resources_handle (self->resources, request, &reply->peer, now_us,
                                        &reply->response, &reply->stored);
}

static MdReply *
add_reply (MdServer *self, const MdPeer *peer, const MdCoapMessage *request, gsize len)
{
  MdReply *reply;

  g_assert (self->n_batch < MD_SERVER_BATCH);
  reply = &self->batch[self->n_batch++];
  memset (reply, 0, G_STRUCT_OFFSET (MdReply, response));
  reply->peer = *peer;
  reply->request_mid = request->mid;
  reply->request_len = len;
  md_coap_message_init_response (&reply->response, request, MD_COAP_EMPTY, self->next_mid);
  if (reply->response.type == MD_COAP_TYPE_NON)
    self->next_mid++;
  return reply;
}

static void
handle_request (MdServer *self, const MdPeer *peer, const MdCoapMessage *request, gsize len,
                gint64 now_us)
{
  GBytes *cached = NULL;
  MdReply *reply;

  switch (md_dedup_check (self->dedup, peer, request->mid, now_us, &cached))
    {
      case MD_DEDUP_REPLAY:
        replay (self, peer, cached, len, now_us);
        return;
      case MD_DEDUP_IN_PROGRESS:
        return;
      case MD_DEDUP_NEW:
      default:
        break;
    }
  reply = add_reply (self, peer, request, len);
  if (check_options (self, request, peer, now_us, &reply->response))
    execute (self, reply, request, now_us);
}

static void
handle_empty (MdServer *self, const MdPeer *peer, const MdCoapMessage *msg)
{
  switch (msg->type)
    {
      case MD_COAP_TYPE_CON:
        send_reset (self, peer, msg->mid); /* a ping (RFC 7252 §4.3) */
        break;
      case MD_COAP_TYPE_RST:
        md_observers_reset (self->observers, peer, msg->mid);
        break;
      case MD_COAP_TYPE_ACK:
      case MD_COAP_TYPE_NON:
      default:
        break; /* we send no CON, so an ACK matches nothing */
    }
}

static void
handle_message (MdServer *self, const MdPeer *peer, const MdCoapMessage *msg, gsize len,
                gint64 now_us)
{
  if (msg->code == MD_COAP_EMPTY)
    handle_empty (self, peer, msg);
  else if (MD_COAP_CODE_CLASS (msg->code) != 0)
    {
      /* A response, or a reserved class: we asked nothing. */
      if (msg->type == MD_COAP_TYPE_CON)
        send_reset (self, peer, msg->mid);
    }
  else if (msg->type == MD_COAP_TYPE_CON || msg->type == MD_COAP_TYPE_NON)
    handle_request (self, peer, msg, len, now_us);
  /* A request code in an ACK or RST is a format error: silently ignored. */
}

static void
handle_datagram (MdServer *self, const MdPeer *peer, gsize len, gboolean truncated, gint64 now_us)
{
  g_autoptr (GError) error = NULL;
  MdCoapType type;
  guint8 code;
  guint16 mid;

  /* Not even a CoAP header: nothing to answer to (RFC 7252 §4.2). */
  if (!md_coap_peek_header (self->datagram, len, &type, &code, &mid))
    return;
  if (truncated)
    g_set_error_literal (&error, MD_ERROR, MD_ERROR_MALFORMED, "datagram truncated");
  if (truncated || !md_coap_parse (self->datagram, len, &self->request, &error))
    {
      log_malformed (peer, len, error != NULL ? error->message : "unparsable");
      if (type == MD_COAP_TYPE_CON)
        send_reset (self, peer, mid);
      return;
    }
  log_message (self, "recv from", peer, &self->request);
  handle_message (self, peer, &self->request, len, now_us);
}

/* ---- commit ------------------------------------------------------------- */

/* After a failed commit every write of the batch is answered 5.03: the
 * failure undoes all pending appends, and nothing is acknowledged before
 * fdatasync. */
static void
fail_writes (MdServer *self, const GError *error)
{
  g_autofree char *reason = g_strdup_printf ("note not stored: %s", error->message);

  for (guint i = 0; i < self->n_batch; i++)
    {
      MdReply *reply = &self->batch[i];

      if (!(reply->handled & MD_HANDLED_WROTE))
        continue;
      md_resources_fail (&reply->response, MD_COAP_SERVICE_UNAVAILABLE, reason);
      reply->handled = MD_HANDLED_READ;
      reply->stored.id = 0;
    }
}

static guint
count_writes (MdServer *self)
{
  guint n = 0;

  for (guint i = 0; i < self->n_batch; i++)
    if (self->batch[i].handled & MD_HANDLED_WROTE)
      n++;
  return n;
}

static void
commit_batch (MdServer *self)
{
  g_autoptr (GError) error = NULL;

  if (md_store_has_pending (self->store) && !md_store_commit (self->store, &error))
    {
      md_log_commit_failed (error->message, count_writes (self));
      fail_writes (self, error);
    }
}

/* ---- send --------------------------------------------------------------- */

static GBytes *
encode_message (const MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  guint8 data[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (msg, data, sizeof data, &error);

  /* Cannot happen: a built message fits its own storage. */
  if (len < 0)
    {
      g_warning ("cannot encode a response: %s", error != NULL ? error->message : "no reason");
      return NULL;
    }
  return g_bytes_new (data, (gsize)len);
}

static gboolean
reply_within_budget (MdServer *self, const MdReply *reply, GBytes *bytes, gint64 now_us)
{
  return bytes != NULL
         && within_budget (self, &reply->peer, g_bytes_get_size (bytes), reply->request_len,
                           now_us);
}

/* Notifications follow a registration for minutes, each up to a full note:
 * only to an address that proved it is the sender's, however small this
 * first response is. */
/* The resources answer a registration they accepted with an Observe
 * option, so the response itself says whether the peer now observes. */
static gboolean
registers_observer (const MdCoapMessage *response)
{
  return MD_COAP_CODE_CLASS (response->code) == 2
         && md_coap_message_has_option (response, MD_COAP_OPTION_OBSERVE);
}

static gboolean
needs_proof (MdServer *self, const MdReply *reply, gint64 now_us)
{
  return registers_observer (&reply->response)
         && !md_echo_is_verified (self->echo, &reply->peer, now_us);
}

/* Cuts the diagnostic by @excess bytes, at a UTF-8 character boundary. */
static void
shorten_diagnostic (MdCoapMessage *response, gsize excess)
{
  gsize keep = response->payload_len > excess ? response->payload_len - excess : 0;

  while (keep > 0 && (response->payload[keep] & 0xc0) == 0x80)
    keep--;
  response->payload_len = keep;
}

/* 4.01 with an Echo value instead of a large response (RFC 9175 §2.4): the
 * peer proves its address by sending the request again with the value. */
static void
challenge (MdServer *self, MdReply *reply, gint64 now_us)
{
  MdCoapMessage *response = &reply->response;
  guint8 value[MD_ECHO_VALUE_LEN];
  gboolean was_observing = registers_observer (response);

  md_coap_message_reset (response, MD_COAP_UNAUTHORIZED);
  md_echo_make_value (self->echo, &reply->peer, now_us, value);
  md_coap_message_add_option (response, MD_COAP_OPTION_ECHO, value, sizeof value);
  /* The registration was not answered, so the peer does not observe. */
  if (was_observing)
    md_observers_deregister (self->observers, &reply->peer, response->token, response->token_len);
}

/* Whether the payload of @response is a diagnostic (RFC 7252 §5.5.2) that
 * may be cut or logged as a reason.  4.12 is not one: it answers the retry
 * of a note that is already stored, a success for the client, and carries
 * the stored note line, which must reach the client whole. */
static gboolean
carries_diagnostic (const MdCoapMessage *response)
{
  return MD_COAP_CODE_CLASS (response->code) >= 4 && response->code != MD_COAP_PRECONDITION_FAILED;
}

/* Over budget: a diagnostic is cut to fit, anything else becomes an Echo
 * challenge. */
static void
fit_budget (MdServer *self, MdReply *reply, gsize encoded_len, gint64 now_us)
{
  gsize budget = MD_ECHO_AMPLIFICATION * reply->request_len;

  if (carries_diagnostic (&reply->response))
    shorten_diagnostic (&reply->response, encoded_len - budget);
  else
    challenge (self, reply, now_us);
}

/* The encoded response, limited to MD_ECHO_AMPLIFICATION times the request
 * for a peer that has not proven its address; NULL to stay silent. */
static GBytes *
encode_reply (MdServer *self, MdReply *reply, gint64 now_us)
{
  g_autoptr (GBytes) bytes = NULL;

  if (needs_proof (self, reply, now_us))
    challenge (self, reply, now_us);
  else
    {
      bytes = encode_message (&reply->response);
      if (bytes == NULL)
        return NULL;
      if (reply_within_budget (self, reply, bytes, now_us))
        return g_steal_pointer (&bytes);
      fit_budget (self, reply, g_bytes_get_size (bytes), now_us);
      g_clear_pointer (&bytes, g_bytes_unref);
    }
  bytes = encode_message (&reply->response);
  if (reply_within_budget (self, reply, bytes, now_us))
    return g_steal_pointer (&bytes);
  return NULL;
}

/* The reason to log as a rejection, or NULL: the diagnostic of an error
 * (not the note line of a 4.12, which does not belong in a REASON= field). */
static char *
rejection_reason (const MdCoapMessage *response)
{
  if (!carries_diagnostic (response))
    return NULL;
  return g_strndup ((const char *)response->payload, response->payload_len);
}

static void
send_reply (MdServer *self, MdReply *reply, gint64 now_us)
{
  char address[64];
  /* Taken before encode_reply() may cut it, so the log has all of it. */
  g_autofree char *reason = rejection_reason (&reply->response);
  g_autoptr (GBytes) bytes = encode_reply (self, reply, now_us);

  if (bytes != NULL)
    {
      /* An Echo challenge is the normal first step of a large read, not a
       * refusal: it would flood the journal at info level. */
      if (reason == NULL && reply->response.code == MD_COAP_UNAUTHORIZED)
        g_debug ("sent an Echo challenge to %s", md_peer_to_string (&reply->peer, address));
      if (reason != NULL && !(reply->handled & MD_HANDLED_LOGGED))
        log_rejected (reply, reason);
      log_message (self, "send to", &reply->peer, &reply->response);
      md_peer_send (&reply->peer, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    }
  md_dedup_complete (self->dedup, &reply->peer, reply->request_mid, bytes, now_us);
}

static void
record_stored (MdServer *self)
{
  for (guint i = 0; i < self->n_batch; i++)
    {
      const MdReply *reply = &self->batch[i];

      if (reply->stored.id == 0)
        continue;
      md_peer_to_string (&reply->peer, self->last_stored_peer);
      self->last_stored_time = g_get_real_time ();
      md_log_note_stored (reply->stored.id, reply->stored.key, self->last_stored_peer);
    }
}

static void
notify_observers (MdServer *self, gint64 now_us)
{
  g_autoptr (GString) line = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (!md_store_append_wire_line (self->store, md_store_get_count (self->store), line, &error))
    {
      g_debug ("no notification for the newest note: %s", error->message);
      return;
    }
  md_observers_notify (self->observers, line, &self->next_mid, now_us);
}

/* Group commit: one fdatasync for all notes of the batch, then the answers. */
static void
finish_batch (MdServer *self, gint64 now_us)
{
  guint64 durable_before;

  /* A wakeup with nothing read (a drain round, a spurious wakeup). */
  if (self->n_batch == 0)
    return;
  durable_before = md_store_get_count (self->store);
  commit_batch (self);
  for (guint i = 0; i < self->n_batch; i++)
    send_reply (self, &self->batch[i], now_us);
  record_stored (self);
  if (md_store_get_count (self->store) > durable_before)
    notify_observers (self, now_us);
  self->n_batch = 0;
}

/* ---- receive ------------------------------------------------------------ */

/* One datagram into self->datagram; -1 when none is waiting. */
static gssize
receive_datagram (MdServer *self, int fd, MdPeer *peer, gboolean *truncated)
{
  gssize len = md_datagram_receive (fd, self->datagram, MD_SERVER_RECEIVE_SIZE, peer, truncated);

  if (len < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    g_debug ("recvmsg on socket %d: %s", fd, g_strerror (errno));
  return len;
}

/* Reads up to MD_SERVER_BATCH datagrams from @fd and answers them; returns
 * how many were read. */
static guint
serve_batch (MdServer *self, int fd)
{
  gint64 now_us = g_get_monotonic_time ();
  guint n;

  for (n = 0; n < MD_SERVER_BATCH; n++)
    {
      gboolean truncated = FALSE;
      MdPeer peer;
      gssize len = receive_datagram (self, fd, &peer, &truncated);

      if (len < 0)
        break;
      handle_datagram (self, &peer, (gsize)len, truncated, now_us);
    }
  finish_batch (self, now_us);
  return n;
}

static gboolean
on_socket_readable (int fd, GIOCondition condition, gpointer user_data)
{
  serve_batch (user_data, fd);
  return G_SOURCE_CONTINUE;
}

/* The socket's family in @family. */
static gboolean
check_socket (int fd, int *family, GError **error)
{
  struct sockaddr_storage addr;
  socklen_t addr_len = sizeof addr;
  socklen_t type_len;
  int type = 0;

  type_len = sizeof type;
  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0)
    {
      md_error_set_errno (error, errno, "getsockopt(SO_TYPE)");
      return FALSE;
    }
  if (type != SOCK_DGRAM)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "socket %d is not a datagram socket", fd);
      return FALSE;
    }
  if (getsockname (fd, (struct sockaddr *)&addr, &addr_len) < 0)
    {
      md_error_set_errno (error, errno, "getsockname");
      return FALSE;
    }
  if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "socket %d is not an IPv4 or IPv6 socket", fd);
      return FALSE;
    }
  *family = addr.ss_family;
  return TRUE;
}

gboolean
md_server_add_socket (MdServer *self, int fd, GError **error)
{
  MdServerSocket sock = { .fd = fd };
  int family = AF_UNSPEC;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_socket (fd, &family, error))
    return FALSE;
  /* Answers leave from the address each request came to (md-datagram.h). */
  if (!md_datagram_enable_local_address (fd, family, error))
    return FALSE;
  if (!g_unix_set_fd_nonblocking (fd, TRUE, error))
    return FALSE;
  sock.source_id
      = g_unix_fd_add_full (G_PRIORITY_DEFAULT, fd, G_IO_IN, on_socket_readable, self, NULL);
  g_array_append_val (self->sockets, sock);
  return TRUE;
}

void
md_server_drain (MdServer *self)
{
  g_return_if_fail (self != NULL);

  for (guint i = 0; i < self->sockets->len; i++)
    {
      int fd = g_array_index (self->sockets, MdServerSocket, i).fd;

      for (guint round = 0; round < MD_SERVER_DRAIN_BATCHES; round++)
        if (serve_batch (self, fd) < MD_SERVER_BATCH)
          break;
    }
  remove_sources (self);
}

void
md_server_set_rate_limit (MdServer *self, MdRateLimit *rate_limit)
{
  g_return_if_fail (self != NULL);

  md_resources_set_rate_limit (self->resources, rate_limit);
  if (rate_limit != NULL)
    md_dedup_set_max_bytes (self->dedup,
                            MAX (MD_SERVER_DEDUP_BYTES,
                                 md_dedup_bytes_for_rate (md_rate_limit_get_per_second (rate_limit),
                                                          md_rate_limit_get_burst (rate_limit),
                                                          MD_SERVER_DEDUP_HOSTS)));
}

gchar *
md_server_describe (MdServer *self)
{
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *clock = NULL;
  guint64 count;
  guint observers;

  g_return_val_if_fail (self != NULL, NULL);

  count = md_store_get_count (self->store);
  observers = md_observers_get_count (self->observers, g_get_monotonic_time ());
  if (self->last_stored_time == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " note%s, none stored since start, %u observer%s",
                            count, count == 1 ? "" : "s", observers, observers == 1 ? "" : "s");
  when = g_date_time_new_from_unix_local (self->last_stored_time / G_USEC_PER_SEC);
  clock = g_date_time_format (when, "%H:%M:%S");
  return g_strdup_printf ("%" G_GUINT64_FORMAT " note%s, last stored at %s from %s, %u observer%s",
                          count, count == 1 ? "" : "s", clock, self->last_stored_peer, observers,
                          observers == 1 ? "" : "s");
}
