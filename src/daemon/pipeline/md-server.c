#include "config.h"

#include "md-server.h"

#include "md-block-slice.h"
#include "md-budget.h"
#include "md-coap.h"
#include "md-dedup.h"
#include "md-diagnostic.h"
#include "md-discovery.h"
#include "md-echo.h"
#include "md-error.h"
#include "md-log.h"
#include "md-message-layer.h"
#include "md-observers.h"
#include "md-plain-filter.h"
#include "md-request-checks.h"
#include "md-resources.h"
#include "md-udp-transport.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>

/* Replies per batch, so notes per fdatasync at most. */
#define MD_SERVER_BATCH 256
/* Cached responses for duplicate detection: a few thousand exchanges. */
#define MD_SERVER_DEDUP_BYTES (4 * 1024 * 1024)
/* With a rate limit, at least this many hosts adding at the limit keep every
 * exchange for EXCHANGE_LIFETIME (md_dedup_bytes_for_rate). */
#define MD_SERVER_DEDUP_HOSTS 4
/* Receive rounds per wakeup before the main loop serves its other sources. */
#define MD_SERVER_PUMP_ROUNDS 64
/* A wait for a commit wakes up this often to check on the sockets anyway. */
#define MD_SERVER_COMMIT_POLL_MS 1000
/* Transports polled with the commit; more are served at the next round. */
#define MD_SERVER_POLL_MAX 16

/* One request's answer, from the message layer until it is sent. */
typedef struct
{
  MdPeer peer;
  guint16 request_mid;
  gsize request_len;
  MdHandled handled;
  gboolean sent;
  MdStoredNote stored; /* what this request appended; id 0 when nothing */
  MdCoapMessage response;
} MdReply;

/* The replies of the datagrams read together: their notes share a commit. */
typedef struct
{
  MdReply *replies; /* MD_SERVER_BATCH */
  guint n;
} MdBatch;

typedef struct
{
  MdTransport *transport;
  guint source_id;
} MdServerTransport;

struct _MdServer
{
  MdStore *store; /* not owned */
  MdObservers *observers;
  MdResources *resources;
  MdDiscovery *discovery;
  MdDedup *dedup;
  MdEcho *echo;
  MdPlainFilter *plain_filter; /* who the plain port serves */
  MdMessageLayer message;
  GArray *transports; /* of MdServerTransport */
  MdDatagram datagrams[MD_TRANSPORT_RECEIVE_MAX];
  MdCoapMessage *request;
  /* Filling, committing, and one whose commit ended and whose answers are
   * going out while the next commit already runs. */
  MdBatch batches[3];
  MdBatch *filling;    /* being read and appended */
  MdBatch *committing; /* its writes wait for the running commit; NULL if none */
  guint16 next_mid;
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
  self->discovery = md_discovery_new (self->resources);
  self->dedup = md_dedup_new (MD_SERVER_DEDUP_BYTES);
  self->echo = md_echo_new ();
  self->plain_filter = md_plain_filter_new ();
  md_resources_set_plain_filter (self->resources, self->plain_filter);
  self->message = (MdMessageLayer){ self->dedup, self->echo, self->observers, FALSE };
  self->transports = g_array_new (FALSE, FALSE, sizeof (MdServerTransport));
  self->request = g_new0 (MdCoapMessage, 1);
  for (guint i = 0; i < G_N_ELEMENTS (self->batches); i++)
    self->batches[i].replies = g_new0 (MdReply, MD_SERVER_BATCH);
  self->filling = &self->batches[0];
  /* A random start makes our NON Message IDs hard to predict (RFC 7252 §4.4). */
  self->next_mid = (guint16)g_random_int_range (0, 0x10000);
  return self;
}

static void
remove_sources (MdServer *self)
{
  for (guint i = 0; i < self->transports->len; i++)
    g_clear_handle_id (&g_array_index (self->transports, MdServerTransport, i).source_id,
                       g_source_remove);
}

void
md_server_free (MdServer *self)
{
  if (self == NULL)
    return;
  remove_sources (self);
  for (guint i = 0; i < self->transports->len; i++)
    md_transport_free (g_array_index (self->transports, MdServerTransport, i).transport);
  g_array_unref (self->transports);
  md_discovery_free (self->discovery);
  md_resources_free (self->resources);
  md_observers_free (self->observers);
  md_dedup_free (self->dedup);
  md_echo_free (self->echo);
  md_plain_filter_free (self->plain_filter);
  g_free (self->request);
  for (guint i = 0; i < G_N_ELEMENTS (self->batches); i++)
    g_free (self->batches[i].replies);
  g_free (self);
}

void
md_server_set_identity (MdServer *self, const char *name, guint16 coaps_port)
{
  g_return_if_fail (self != NULL);
  md_resources_set_identity (self->resources, name, coaps_port);
}

void
md_server_set_discovery (MdServer *self, gboolean enabled)
{
  g_return_if_fail (self != NULL);
  md_discovery_set_enabled (self->discovery, enabled);
}

void
md_server_set_verbose (MdServer *self, gboolean verbose)
{
  g_return_if_fail (self != NULL);
  self->message.verbose = verbose;
}

/* ---- message layer and resources: requests into the batch ----------------- */

static MdReply *
add_reply (MdServer *self, const MdPeer *peer, const MdCoapMessage *request, gsize len)
{
  MdBatch *batch = self->filling;
  MdReply *reply;

  g_assert (batch->n < MD_SERVER_BATCH);
  reply = &batch->replies[batch->n++];
  memset (reply, 0, G_STRUCT_OFFSET (MdReply, response));
  reply->peer = *peer;
  reply->request_mid = request->mid;
  reply->request_len = len;
  md_coap_message_init_response (&reply->response, request, MD_COAP_EMPTY, self->next_mid);
  if (reply->response.type == MD_COAP_TYPE_NON)
    self->next_mid++;
  return reply;
}

/* Whether the datagram goes on to the message layer: a transport that
 * proves its peers (DTLS) is open to all, the plain port to PlainFrom=. */
static gboolean
is_admitted (MdServer *self, const MdDatagram *datagram, gint64 now_us)
{
  const MdPeer *peer = &datagram->peer;

  if (md_transport_proves_address (peer))
    return TRUE;
  switch (md_plain_filter_check (self->plain_filter, peer, md_plain_destination_of (peer), now_us))
    {
      case MD_PLAIN_ADMIT:
        return TRUE;
      case MD_PLAIN_DISCOVERY:
        /* Group datagrams went to discovery already (MdDatagram.to_group,
         * from the header's destination): none reaches the message layer. */
      case MD_PLAIN_REFUSE:
      default:
        return FALSE;
    }
}

/* A registration whose answer stopped being a 2.05 with Observe (a Block2
 * beyond the end turned it into 4.02) was not taken (RFC 7641 §4.1), so the
 * observer the resources registered is dropped. */
static void
drop_unanswered_observer (MdServer *self, const MdReply *reply)
{
  const MdCoapMessage *response = &reply->response;
  guint32 observe;

  if (!md_coap_message_get_uint_option (self->request, MD_COAP_OPTION_OBSERVE, &observe)
      || observe != 0)
    return;
  if (MD_COAP_CODE_CLASS (response->code) == 2
      && md_coap_message_has_option (response, MD_COAP_OPTION_OBSERVE))
    return;
  md_observers_deregister (self->observers, &reply->peer, self->request->token,
                           self->request->token_len);
}

/* A datagram through the message layer and, if it is a new request that
 * passes its checks, the resources. */
static void
handle_datagram (MdServer *self, const MdDatagram *datagram, gint64 now_us)
{
  MdReply *reply;

  /* Whatever it is, and whatever PlainFrom= says, a datagram to a group
   * is discovery's (md-discovery.h): the link alone, never a note. */
  if (datagram->to_group)
    {
      md_discovery_handle (self->discovery, datagram);
      return;
    }
  if (!is_admitted (self, datagram, now_us)
      || !md_message_layer_accept (&self->message, datagram, self->request, now_us))
    return;
  reply = add_reply (self, &datagram->peer, self->request, datagram->len);
  if (md_request_check (self->echo, self->request, &datagram->peer, now_us, &reply->response))
    reply->handled
        = md_resources_handle (self->resources, self->request, &reply->peer, datagram->identity,
                               now_us, &reply->response, &reply->stored);
  md_block_slice_answer (self->request, &reply->response);
  drop_unanswered_observer (self, reply);
}

/* ---- transport: receive ----------------------------------------------------- */

static gboolean
batch_is_full (const MdBatch *batch)
{
  return batch->n == MD_SERVER_BATCH;
}

/* Reads what waits on every transport, as far as the filling batch has room
 * (a datagram adds at most one reply), and handles it; returns how many
 * datagrams came. */
static guint
receive_round (MdServer *self, gint64 now_us)
{
  guint total = 0;

  for (guint t = 0; t < self->transports->len; t++)
    {
      MdTransport *transport = g_array_index (self->transports, MdServerTransport, t).transport;
      guint room = MIN (MD_SERVER_BATCH - self->filling->n, MD_TRANSPORT_RECEIVE_MAX);
      guint n = room > 0 ? md_transport_receive (transport, self->datagrams, room) : 0;

      for (guint i = 0; i < n; i++)
        handle_datagram (self, &self->datagrams[i], now_us);
      total += n;
    }
  return total;
}

/* ---- replies and notifications ---------------------------------------------- */

/* The reason to log as a rejection, or NULL: the diagnostic of an error
 * (not the note line of a 4.12, which does not belong in a REASON= field). */
static char *
rejection_reason (const MdCoapMessage *response)
{
  if (!md_diagnostic_is_carried (response))
    return NULL;
  return g_strndup ((const char *)response->payload, response->payload_len);
}

static void
log_reply (MdServer *self, const MdReply *reply, const char *reason)
{
  char address[64];
  char code[5];

  md_peer_to_string (&reply->peer, address);
  /* An Echo challenge is the normal first step of a large read, not a
   * refusal: it would flood the journal at info level. */
  if (reason == NULL && reply->response.code == MD_COAP_UNAUTHORIZED)
    g_debug ("sent an Echo challenge to %s", address);
  /* MD_HANDLED_LOGGED: logged once a minute already (md-log-limits.c). */
  if (reason != NULL && !(reply->handled & MD_HANDLED_LOGGED))
    {
      md_coap_code_format (reply->response.code, code);
      md_log_request_rejected (address, code, reason);
    }
  md_message_layer_log (&self->message, "send to", &reply->peer, &reply->response);
}

/* The encoded answer within the budget, logged; NULL to stay silent. */
static GBytes *
encode_reply (MdServer *self, MdReply *reply, gint64 now_us)
{
  /* Taken before the budget may cut it, so the log has all of it. */
  g_autofree char *reason = rejection_reason (&reply->response);
  GBytes *bytes = md_budget_encode_reply (self->echo, self->observers, &reply->peer,
                                          reply->request_len, &reply->response, now_us);

  if (bytes != NULL)
    log_reply (self, reply, reason);
  return bytes;
}

static gboolean
is_due (const MdReply *reply, gboolean with_writes)
{
  return !reply->sent && (with_writes || !(reply->handled & MD_HANDLED_WROTE));
}

/* One sendmmsg per transport for the due replies of @batch. */
static void
send_encoded (MdServer *self, MdBatch *batch, GBytes **encoded)
{
  MdOutgoing out[MD_SERVER_BATCH];

  for (guint t = 0; t < self->transports->len; t++)
    {
      MdTransport *transport = g_array_index (self->transports, MdServerTransport, t).transport;
      guint n = 0;

      for (guint i = 0; i < batch->n; i++)
        if (encoded[i] != NULL && batch->replies[i].peer.transport == transport)
          out[n++] = (MdOutgoing){ &batch->replies[i].peer, g_bytes_get_data (encoded[i], NULL),
                                   g_bytes_get_size (encoded[i]) };
      md_transport_send (transport, out, n);
    }
}

/* Sends the replies of @batch not sent yet: those that acknowledge nothing,
 * or with @with_writes all of them, once their notes are durable. */
static void
send_replies (MdServer *self, MdBatch *batch, gboolean with_writes, gint64 now_us)
{
  GBytes *encoded[MD_SERVER_BATCH] = { NULL };

  for (guint i = 0; i < batch->n; i++)
    if (is_due (&batch->replies[i], with_writes))
      encoded[i] = encode_reply (self, &batch->replies[i], now_us);
  send_encoded (self, batch, encoded);
  for (guint i = 0; i < batch->n; i++)
    {
      MdReply *reply = &batch->replies[i];

      if (!is_due (reply, with_writes))
        continue;
      /* NULL records "answered with silence", so a duplicate stays silent. */
      md_dedup_complete (self->dedup, &reply->peer, reply->request_mid, encoded[i], now_us);
      reply->sent = TRUE;
      g_clear_pointer (&encoded[i], g_bytes_unref);
    }
}

static void
record_stored (MdServer *self, const MdBatch *batch)
{
  for (guint i = 0; i < batch->n; i++)
    {
      const MdReply *reply = &batch->replies[i];

      if (reply->stored.id == 0)
        continue;
      md_peer_to_string (&reply->peer, self->last_stored_peer);
      self->last_stored_time = g_get_real_time ();
      md_log_note_stored (reply->stored.id, reply->stored.key, reply->stored.author,
                          self->last_stored_peer);
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

/* ---- store: commit ---------------------------------------------------------- */

static guint
count_writes (const MdBatch *batch)
{
  guint n = 0;

  for (guint i = 0; i < batch->n; i++)
    if (batch->replies[i].handled & MD_HANDLED_WROTE)
      n++;
  return n;
}

/* A failed commit undoes every note not yet durable: each write of @batch
 * is answered 5.03, since nothing is acknowledged before fdatasync. */
static void
fail_writes (MdBatch *batch, const GError *error)
{
  g_autofree char *reason = g_strdup_printf ("note not stored: %s", error->message);

  for (guint i = 0; i < batch->n; i++)
    {
      MdReply *reply = &batch->replies[i];

      if (!(reply->handled & MD_HANDLED_WROTE))
        continue;
      md_resources_fail (&reply->response, MD_COAP_SERVICE_UNAVAILABLE, reason);
      reply->handled = MD_HANDLED_READ;
      reply->stored.id = 0;
    }
}

/* After a commit, or without one: the writes of @batch go out, their notes
 * are logged and observers hear of the newest.  @batch is then empty. */
static void
deliver_writes (MdServer *self, MdBatch *batch, guint64 durable_before, gint64 now_us)
{
  send_replies (self, batch, TRUE, now_us);
  record_stored (self, batch);
  if (md_store_get_count (self->store) > durable_before)
    notify_observers (self, now_us);
  batch->n = 0;
}

static void
report_commit_failure (MdServer *self, const GError *error)
{
  md_log_commit_failed (error->message,
                        count_writes (self->filling)
                            + (self->committing != NULL ? count_writes (self->committing) : 0));
  fail_writes (self->filling, error);
  if (self->committing != NULL)
    fail_writes (self->committing, error);
}

static void close_batch (MdServer *self, gint64 now_us);
static gboolean commit_in_place (MdServer *self, const MdBatch *batch);

/* Ends the running commit and answers the writes that waited for it, once
 * the next batch's commit has started: the disk syncs while they go out.
 * A failure also undid the appends of the filling batch, so its writes are
 * answered 5.03 as well. */
static void
finish_commit (MdServer *self, gint64 now_us)
{
  g_autoptr (GError) error = NULL;
  guint64 durable_before = md_store_get_count (self->store);
  MdBatch *done = self->committing;

  gboolean overlap;

  if (!md_store_commit_finish (self->store, &error))
    report_commit_failure (self, error);
  self->committing = NULL;
  /* A commit in place would hold these answers back for a whole sync. */
  overlap = !commit_in_place (self, self->filling);
  if (overlap)
    close_batch (self, now_us);
  deliver_writes (self, done, durable_before, now_us);
  if (!overlap)
    close_batch (self, now_us);
}

/* The commit on the main loop: for a lone write, or without a worker. */
static void
commit_now (MdServer *self, gint64 now_us)
{
  g_autoptr (GError) error = NULL;
  guint64 durable_before = md_store_get_count (self->store);

  if (!md_store_commit (self->store, &error))
    report_commit_failure (self, error);
  deliver_writes (self, self->filling, durable_before, now_us);
}

/* An empty batch to fill: neither filling nor committing nor answering. */
static MdBatch *
free_batch (MdServer *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->batches); i++)
    if (self->batches[i].n == 0 && &self->batches[i] != self->filling)
      return &self->batches[i];
  g_assert_not_reached ();
}

/* Whether no transport has a datagram waiting. */
static gboolean
transports_are_quiet (MdServer *self)
{
  struct pollfd fds[MD_SERVER_POLL_MAX];
  guint n = MIN (self->transports->len, G_N_ELEMENTS (fds));

  for (guint t = 0; t < n; t++)
    fds[t] = (struct pollfd){ md_transport_get_fd (
                                  g_array_index (self->transports, MdServerTransport, t).transport),
                              POLLIN, 0 };
  return poll (fds, n, 0) == 0;
}

/* A lone write with nothing else waiting has nothing to overlap with: the
 * worker's two wakeups would only add to its latency. */
static gboolean
commit_in_place (MdServer *self, const MdBatch *batch)
{
  return count_writes (batch) <= 1 && transports_are_quiet (self);
}

/* Closes the filling batch (no commit runs): its reads and errors go now,
 * its writes when a commit has made every note so far durable. */
static void
close_batch (MdServer *self, gint64 now_us)
{
  g_autoptr (GError) error = NULL;
  MdBatch *batch = self->filling;

  if (batch->n == 0)
    return;
  send_replies (self, batch, FALSE, now_us);
  if (!md_store_has_pending (self->store))
    deliver_writes (self, batch, md_store_get_count (self->store), now_us);
  else if (commit_in_place (self, batch))
    commit_now (self, now_us);
  else if (md_store_commit_start (self->store, &error))
    {
      self->committing = batch;
      self->filling = free_batch (self);
    }
  else
    {
      g_debug ("committing on the main loop: %s", error->message);
      commit_now (self, now_us);
    }
}

/* ---- the pump: transport -> ... -> transport -------------------------------- */

/* Waits until the running commit ends or, unless the filling batch is full,
 * a datagram arrives; bounded by MD_SERVER_COMMIT_POLL_MS. */
static void
wait_commit_or_datagram (MdServer *self)
{
  struct pollfd fds[1 + MD_SERVER_POLL_MAX];
  guint n = 0;

  fds[n++] = (struct pollfd){ md_store_commit_get_fd (self->store), POLLIN, 0 };
  for (guint t = 0;
       !batch_is_full (self->filling) && t < self->transports->len && n < G_N_ELEMENTS (fds); t++)
    fds[n++] = (struct pollfd){
      md_transport_get_fd (g_array_index (self->transports, MdServerTransport, t).transport),
      POLLIN, 0
    };
  if (poll (fds, n, MD_SERVER_COMMIT_POLL_MS) < 0)
    g_debug ("poll: %s", g_strerror (errno));
}

static gboolean
commit_has_ended (MdServer *self)
{
  struct pollfd fd = { md_store_commit_get_fd (self->store), POLLIN, 0 };

  return poll (&fd, 1, 0) > 0;
}

/* Answers everything read so far, commits included: nothing stays in
 * flight when the pump returns to the main loop. */
static void
settle (MdServer *self)
{
  gint64 now_us = g_get_monotonic_time ();

  /* At most twice round: the running commit, then the filling batch's. */
  for (guint i = 0; i < 2 * G_N_ELEMENTS (self->batches); i++)
    {
      if (self->committing != NULL)
        finish_commit (self, now_us);
      close_batch (self, now_us);
      if (self->committing == NULL)
        return;
    }
}

/* Reads and handles datagrams while they come, overlapping each batch's
 * commit with the reading and appending of the next; returns when the
 * transports are quiet and every answer is out, or after
 * MD_SERVER_PUMP_ROUNDS rounds. */
static void
pump_rounds (MdServer *self)
{
  for (guint round = 0; round < MD_SERVER_PUMP_ROUNDS; round++)
    {
      gint64 now_us = g_get_monotonic_time ();
      guint got = receive_round (self, now_us);

      if (self->committing != NULL)
        {
          if (got == 0 || batch_is_full (self->filling))
            wait_commit_or_datagram (self);
          if (commit_has_ended (self))
            finish_commit (self, now_us);
          continue;
        }
      close_batch (self, now_us);
      if (got == 0 && self->committing == NULL)
        return;
    }
  settle (self);
}

/* The log lines of a burst go out together, after it. */
static void
pump (MdServer *self)
{
  md_log_hold ();
  pump_rounds (self);
  md_log_release ();
}

static gboolean
on_readable (int fd, GIOCondition condition, gpointer user_data)
{
  pump (user_data);
  return G_SOURCE_CONTINUE;
}

/* ---- the server's life ------------------------------------------------------ */

void
md_server_add_transport (MdServer *self, MdTransport *transport)
{
  MdServerTransport entry = { transport, 0 };

  g_return_if_fail (self != NULL);
  g_return_if_fail (transport != NULL);

  entry.source_id = g_unix_fd_add_full (G_PRIORITY_DEFAULT, md_transport_get_fd (transport),
                                        G_IO_IN, on_readable, self, NULL);
  g_array_append_val (self->transports, entry);
}

gboolean
md_server_add_socket (MdServer *self, int fd, GError **error)
{
  MdTransport *transport;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!md_udp_socket_check (fd, error))
    return FALSE;
  transport = md_udp_transport_new (fd, error);
  if (transport == NULL)
    return FALSE;
  md_server_add_transport (self, transport);
  return TRUE;
}

void
md_server_drain (MdServer *self)
{
  g_return_if_fail (self != NULL);

  pump (self);
  settle (self);
  remove_sources (self);
}

gboolean
md_server_set_plain_from (MdServer *self, const char *const *networks, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return md_plain_filter_set_networks (self->plain_filter, networks, error);
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
