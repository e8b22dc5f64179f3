#include "config.h"

#include "md-client-exchange.h"

#include <glib/gi18n.h>
#include <string.h>

#include "md-client-private.h"
#include "md-error.h"
#include "md-terminal.h"

/* RFC 7252 §4.8 with the LAN ACK_TIMEOUT of the contract's "Timing". */
#define ACK_TIMEOUT_US (100 * G_TIME_SPAN_MILLISECOND)
#define ACK_RANDOM_FACTOR 1.5
#define MAX_WAIT_US (2 * G_USEC_PER_SEC)
#define MAX_RETRANSMIT 4
/* A server asking for Echo again and again is broken; give up. */
#define MAX_ECHO_ROUNDS 3
/* Message IDs of earlier transmissions whose late ACK still counts. */
#define MID_HISTORY 8

typedef enum
{
  STATE_CONFIRMING,
  STATE_WAITING,
  STATE_DONE,
} State;

typedef struct
{
  GTask *task; /* owns this exchange as its task data */
  MdClient *client;
  guint8 method;
  char *path;
  char *query;
  gboolean if_none_match;
  gboolean observe;
  gboolean has_block2;
  MdCoapBlock block2;
  GBytes *payload;
  guint8 token[MD_CLIENT_TOKEN_LEN];
  State state;
  guint8 datagram[MD_COAP_MAX_DATAGRAM];
  gsize datagram_len;
  guint16 mids[MID_HISTORY];
  guint n_mids;
  guint attempts; /* retransmissions of the current Message ID */
  guint retransmissions;
  gint64 wait;
  guint echo_rounds;
  guint refusals; /* addresses that refused since the last timed send */
  guint listener_id;
  guint retransmit_timer;
  guint deadline_timer;
  GSource *cancelled;
} Exchange;

void
md_client_response_free (MdClientResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->payload, g_bytes_unref);
  g_clear_pointer (&response->echo, g_bytes_unref);
  g_free (response);
}

MdClientResponse *
md_client_response_new (const MdCoapMessage *msg)
{
  MdClientResponse *response = g_new0 (MdClientResponse, 1);
  const MdCoapOption *echo = md_coap_message_find_option (msg, MD_COAP_OPTION_ECHO);

  response->code = msg->code;
  response->payload = g_bytes_new (msg->payload, msg->payload_len);
  response->has_observe
      = md_coap_message_get_uint_option (msg, MD_COAP_OPTION_OBSERVE, &response->observe);
  response->has_block2 = md_coap_message_get_block (msg, MD_COAP_OPTION_BLOCK2, &response->block2);
  response->has_size2
      = md_coap_message_get_uint_option (msg, MD_COAP_OPTION_SIZE2, &response->size2);
  response->has_max_age
      = md_coap_message_get_uint_option (msg, MD_COAP_OPTION_MAX_AGE, &response->max_age);
  if (echo != NULL)
    response->echo = g_bytes_new (echo->value, echo->length);
  return response;
}

void
md_client_response_set_error (const MdClientResponse *response, GError **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (response->payload, &len);
  char code[5];

  md_coap_code_format (response->code, code);
  if (len > 0 && g_utf8_validate (data, (gssize)len, NULL))
    {
      /* The diagnostic is the server's text: whoever prints the message
       * shows it on a terminal. */
      g_autofree char *safe = md_terminal_dup_safe (data, (gssize)len, MD_TERMINAL_NONE);

      g_set_error_literal (error, MD_ERROR, MD_ERROR_REJECTED, safe);
    }
  else
    /* TRANSLATORS: %s is a CoAP response code such as 4.04 */
    g_set_error (error, MD_ERROR, MD_ERROR_REJECTED, _ ("the server answered %s"), code);
}

static void
exchange_free (gpointer data)
{
  Exchange *ex = data;

  md_client_unref (ex->client);
  g_free (ex->path);
  g_free (ex->query);
  g_clear_pointer (&ex->payload, g_bytes_unref);
  g_free (ex);
}

static MdClientClock *
exchange_clock (Exchange *ex)
{
  return md_client_get_clock (ex->client);
}

/* Stops every timer and listener, then hands the result to the task, which
 * may free the exchange at once. */
static void
finish (Exchange *ex, MdClientResponse *response, GError *error)
{
  GTask *task = g_steal_pointer (&ex->task);

  ex->state = STATE_DONE;
  md_client_remove_listener (ex->client, ex->listener_id);
  md_client_clock_clear_timer (exchange_clock (ex), &ex->retransmit_timer);
  md_client_clock_clear_timer (exchange_clock (ex), &ex->deadline_timer);
  if (ex->cancelled != NULL)
    g_source_destroy (ex->cancelled);
  g_clear_pointer (&ex->cancelled, g_source_unref);
  md_client_remember_token (ex->client, ex->token);
  if (response != NULL)
    g_task_return_pointer (task, response, (GDestroyNotify)md_client_response_free);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
encode (Exchange *ex, guint16 mid, GError **error)
{
  GBytes *echo = md_client_get_echo (ex->client);
  MdCoapMessage msg;
  gboolean ok = TRUE;
  gsize len = 0;
  const void *payload = ex->payload != NULL ? g_bytes_get_data (ex->payload, &len) : NULL;
  gssize encoded;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, ex->method, mid);
  md_coap_message_set_token (&msg, ex->token, MD_CLIENT_TOKEN_LEN);
  if (ex->observe)
    ok &= md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_OBSERVE, 0);
  ok &= md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, ex->path);
  if (ex->if_none_match)
    ok &= md_coap_message_add_option (&msg, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0);
  if (ex->query != NULL)
    ok &= md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, ex->query);
  if (ex->has_block2)
    ok &= md_coap_message_add_block (&msg, MD_COAP_OPTION_BLOCK2, &ex->block2);
  if (echo != NULL)
    ok &= md_coap_message_add_option (&msg, MD_COAP_OPTION_ECHO, g_bytes_get_data (echo, NULL),
                                      g_bytes_get_size (echo));
  if (len > 0)
    {
      ok &= md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_CONTENT_FORMAT,
                                             MD_COAP_FORMAT_TEXT_PLAIN);
      ok &= md_coap_message_set_payload (&msg, payload, len);
    }
  if (!ok)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("request is too large"));
      return FALSE;
    }
  encoded = md_coap_encode (&msg, ex->datagram, sizeof ex->datagram, error);
  if (encoded < 0)
    return FALSE;
  ex->datagram_len = (gsize)encoded;
  return TRUE;
}

static void
remember_mid (Exchange *ex, guint16 mid)
{
  if (ex->n_mids == MID_HISTORY)
    {
      memmove (ex->mids, ex->mids + 1, sizeof ex->mids[0] * (MID_HISTORY - 1));
      ex->n_mids--;
    }
  ex->mids[ex->n_mids++] = mid;
}

static gboolean
is_our_mid (const Exchange *ex, guint16 mid)
{
  for (guint i = 0; i < ex->n_mids; i++)
    if (ex->mids[i] == mid)
      return TRUE;
  return FALSE;
}

static void on_retransmit (gpointer data);

static void
send_and_arm (Exchange *ex)
{
  gint64 now = md_client_clock_now (exchange_clock (ex));

  ex->refusals = 0;
  md_client_send (ex->client, ex->datagram, ex->datagram_len);
  md_client_clock_clear_timer (exchange_clock (ex), &ex->retransmit_timer);
  ex->retransmit_timer
      = md_client_clock_add_timer (exchange_clock (ex), now + ex->wait, on_retransmit, ex);
}

/* A new Message ID: the first transmission, one after an Echo challenge, or
 * after MAX_RETRANSMIT retransmissions of the previous one. */
static void
transmit_fresh (Exchange *ex)
{
  g_autoptr (GError) error = NULL;
  guint16 mid = md_client_next_mid (ex->client);

  if (!encode (ex, mid, &error))
    {
      finish (ex, NULL, g_steal_pointer (&error));
      return;
    }
  remember_mid (ex, mid);
  ex->state = STATE_CONFIRMING;
  ex->attempts = 0;
  ex->wait = (gint64)(ACK_TIMEOUT_US * g_random_double_range (1.0, ACK_RANDOM_FACTOR));
  send_and_arm (ex);
}

static void
on_retransmit (gpointer data)
{
  Exchange *ex = data;

  ex->retransmit_timer = 0;
  ex->retransmissions++;
  if (ex->attempts == MAX_RETRANSMIT)
    {
      transmit_fresh (ex);
      return;
    }
  ex->attempts++;
  ex->wait = MIN (ex->wait * 2, MAX_WAIT_US);
  send_and_arm (ex);
}

static void
on_deadline (gpointer data)
{
  Exchange *ex = data;
  double timeout_s = md_client_get_timeout (ex->client);

  ex->deadline_timer = 0;
  if (md_client_is_secure (ex->client) && !md_client_is_established (ex->client))
    finish (ex, NULL,
            /* TRANSLATORS: %s is an address like 192.0.2.1:5684, %g the seconds waited */
            g_error_new (MD_ERROR, MD_ERROR_TIMEOUT,
                         _ ("no DTLS answer from %s after %g s; check that the server offers "
                            "coaps there: systemctl status mydaily-coaps.socket"),
                         md_client_get_address_name (ex->client), timeout_s));
  else
    finish (ex, NULL,
            /* TRANSLATORS: %s is an address like 192.0.2.1:5683, %g the seconds waited */
            g_error_new (MD_ERROR, MD_ERROR_TIMEOUT,
                         _ ("no answer from %s after %g s; check that the daemon runs: "
                            "systemctl status mydaily.socket"),
                         md_client_get_address_name (ex->client), timeout_s));
}

/* A challenge piggybacked on an ACK of a Message ID we have moved past: the
 * server answering a late copy of a request we already sent again with its
 * Echo.  Acting on it would start needless rounds and, after
 * MAX_ECHO_ROUNDS, end the exchange on a 4.01 while the proven request may
 * have been executed. */
static gboolean
is_stale_challenge (const Exchange *ex, const MdCoapMessage *msg)
{
  return msg->type == MD_COAP_TYPE_ACK && ex->n_mids > 0 && msg->mid != ex->mids[ex->n_mids - 1];
}

static void
on_response (Exchange *ex, const MdCoapMessage *msg)
{
  MdClientResponse *response = md_client_response_new (msg);

  response->retransmissions = ex->retransmissions;
  if (response->code == MD_COAP_UNAUTHORIZED && response->echo != NULL
      && is_stale_challenge (ex, msg))
    {
      md_client_response_free (response);
      return;
    }
  if (response->code == MD_COAP_UNAUTHORIZED && response->echo != NULL
      && ex->echo_rounds < MAX_ECHO_ROUNDS)
    {
      /* RFC 9175 §2.4: the server wants proof that we own our address. */
      ex->echo_rounds++;
      md_client_set_echo (ex->client, response->echo);
      md_client_response_free (response);
      transmit_fresh (ex);
      return;
    }
  finish (ex, response, NULL);
}

static gboolean
token_is_ours (const Exchange *ex, const MdCoapMessage *msg)
{
  return msg->token_len == MD_CLIENT_TOKEN_LEN
         && memcmp (msg->token, ex->token, MD_CLIENT_TOKEN_LEN) == 0;
}

static gboolean
is_response_code (guint8 code)
{
  return MD_COAP_CODE_CLASS (code) >= 2 && MD_COAP_CODE_CLASS (code) <= 5;
}

static gboolean
on_message (const MdCoapMessage *msg, gpointer data)
{
  Exchange *ex = data;
  gboolean ours_by_mid = is_our_mid (ex, msg->mid);

  if (msg->type == MD_COAP_TYPE_ACK && ours_by_mid && msg->code == MD_COAP_EMPTY)
    {
      ex->state = STATE_WAITING;
      md_client_clock_clear_timer (exchange_clock (ex), &ex->retransmit_timer);
    }
  else if (msg->type == MD_COAP_TYPE_ACK && ours_by_mid && token_is_ours (ex, msg))
    on_response (ex, msg);
  else if (msg->type == MD_COAP_TYPE_RST && ours_by_mid)
    finish (ex, NULL,
            g_error_new (MD_ERROR, MD_ERROR_REJECTED, _ ("the server reset the request")));
  else if ((msg->type == MD_COAP_TYPE_CON || msg->type == MD_COAP_TYPE_NON)
           && is_response_code (msg->code) && token_is_ours (ex, msg))
    on_response (ex, msg);
  else
    return FALSE;
  return TRUE;
}

/* Another address takes over at once, unless every address refused since
 * the last timed send: then the timers decide. */
static void
on_refused (const GError *failure, gpointer data)
{
  Exchange *ex = data;

  if (failure != NULL)
    {
      finish (ex, NULL, g_error_copy (failure));
      return;
    }
  if (ex->state != STATE_CONFIRMING || ++ex->refusals >= md_client_get_n_addresses (ex->client))
    return;
  md_client_send (ex->client, ex->datagram, ex->datagram_len);
}

static gboolean
on_cancelled (GCancellable *cancellable, gpointer data)
{
  Exchange *ex = data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  finish (ex, NULL, error);
  return G_SOURCE_REMOVE;
}

static Exchange *
exchange_new (MdClient *client, const MdClientRequest *request)
{
  Exchange *ex = g_new0 (Exchange, 1);

  ex->client = md_client_ref (client);
  ex->method = request->method;
  ex->path = g_strdup (request->path);
  ex->query = g_strdup (request->query);
  ex->if_none_match = request->if_none_match;
  ex->observe = request->observe;
  ex->has_block2 = request->has_block2;
  ex->block2 = request->block2;
  if (request->payload_len > 0)
    ex->payload = g_bytes_new (request->payload, request->payload_len);
  if (request->token != NULL)
    memcpy (ex->token, request->token, MD_CLIENT_TOKEN_LEN);
  else
    md_client_make_token (client, ex->token);
  return ex;
}

void
md_client_request_async (MdClient *client, const MdClientRequest *request,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  Exchange *ex;
  gint64 now;

  g_return_if_fail (client != NULL);
  g_return_if_fail (request != NULL && request->path != NULL);
  g_return_if_fail (!request->observe || request->token != NULL);

  ex = exchange_new (client, request);
  ex->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (ex->task, md_client_request_async);
  g_task_set_task_data (ex->task, ex, exchange_free);
  ex->listener_id = md_client_add_listener (client, on_message, on_refused, ex);
  now = md_client_clock_now (exchange_clock (ex));
  ex->deadline_timer = md_client_clock_add_timer (
      exchange_clock (ex), now + (gint64)(md_client_get_timeout (client) * G_USEC_PER_SEC),
      on_deadline, ex);
  if (cancellable != NULL)
    {
      ex->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (ex->cancelled, G_SOURCE_FUNC (on_cancelled), ex, NULL);
      g_source_attach (ex->cancelled, g_main_context_get_thread_default ());
    }
  transmit_fresh (ex);
}

MdClientResponse *
md_client_request_finish (MdClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
