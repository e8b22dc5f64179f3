#include "config.h"

#include "md-client.h"

#include <glib/gi18n.h>

#include "md-error.h"
#include "md-terminal.h"

/* RFC 7252 §4.8 with the LAN ACK_TIMEOUT of the contract's "Timing". */
#define ACK_TIMEOUT_US (100 * G_TIME_SPAN_MILLISECOND)
#define ACK_RANDOM_FACTOR 1.5
#define MAX_WAIT_US (2 * G_USEC_PER_SEC)
#define MAX_RETRANSMIT 4
/* A server asking for Echo again and again is broken; give up. */
#define MAX_ECHO_ROUNDS 3
#define TOKEN_LEN 4
/* Message IDs of earlier exchanges of one request whose late ACK still
 * counts as the answer. */
#define MID_HISTORY 8
/* Datagrams read per call to md_client_receive_notification(). */
#define MAX_READ_BURST 64
#define MAX_BLOCK_NUM 0xfffff /* Block NUM is 20 bits */
/* How often a wait without a socket looks at the cancellable. */
#define CANCEL_CHECK_US (50 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  GInetSocketAddress *address;
  char *name;
} Candidate;

struct _MdClient
{
  GPtrArray *candidates;
  guint current;
  GSocket *socket; /* connected to the current candidate */
  double timeout_s;
  guint16 next_mid;
  GCancellable *cancellable;
  guint8 observe_token[TOKEN_LEN];
};

/* One request on the wire: its datagram and the exchanges sent so far. */
typedef struct
{
  const guint8 *token;
  guint8 datagram[MD_COAP_MAX_DATAGRAM];
  gsize datagram_len;
  guint16 mids[MID_HISTORY];
  guint n_mids;
  gboolean acked; /* an empty ACK came: a separate response follows */
  gboolean reset;
  guint attempts;   /* retransmissions in the current exchange */
  gint64 wait;      /* the current wait, doubling */
  gint64 next_send; /* monotonic time of the next retransmission */
  guint refusals;   /* addresses that refused since the last timed send */
  MdClientResponse *response;
} Exchange;

static void
candidate_free (gpointer data)
{
  Candidate *candidate = data;

  g_object_unref (candidate->address);
  g_free (candidate->name);
  g_free (candidate);
}

static Candidate *
candidate_new (GInetSocketAddress *address)
{
  Candidate *candidate = g_new0 (Candidate, 1);
  g_autofree char *host = g_inet_address_to_string (g_inet_socket_address_get_address (address));
  guint16 port = g_inet_socket_address_get_port (address);

  candidate->address = g_object_ref (address);
  if (g_socket_address_get_family (G_SOCKET_ADDRESS (address)) == G_SOCKET_FAMILY_IPV6)
    candidate->name = g_strdup_printf ("[%s]:%u", host, port);
  else
    candidate->name = g_strdup_printf ("%s:%u", host, port);
  return candidate;
}

void
md_client_response_free (MdClientResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->payload, g_bytes_unref);
  g_clear_pointer (&response->echo, g_bytes_unref);
  g_free (response);
}

static MdClient *
client_new_empty (double timeout_s)
{
  MdClient *client = g_new0 (MdClient, 1);

  client->candidates = g_ptr_array_new_with_free_func (candidate_free);
  client->timeout_s = timeout_s;
  client->next_mid = (guint16)g_random_int_range (0, 0x10000);
  for (guint i = 0; i < TOKEN_LEN; i++)
    client->observe_token[i] = (guint8)g_random_int_range (0, 0x100);
  return client;
}

static gboolean
resolve_candidates (MdClient *client, GSocketConnectable *connectable, GError **error)
{
  g_autoptr (GSocketAddressEnumerator) enumerator = g_socket_connectable_enumerate (connectable);

  while (TRUE)
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GSocketAddress) address
          = g_socket_address_enumerator_next (enumerator, NULL, &local_error);

      if (address == NULL && local_error != NULL && client->candidates->len == 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (address == NULL)
        break;
      if (G_IS_INET_SOCKET_ADDRESS (address))
        g_ptr_array_add (client->candidates, candidate_new (G_INET_SOCKET_ADDRESS (address)));
    }
  if (client->candidates->len == 0)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, _ ("no address found"));
      return FALSE;
    }
  return TRUE;
}

MdClient *
md_client_new (const char *server, double timeout_s, GError **error)
{
  g_autoptr (MdClient) client = NULL;
  g_autoptr (GSocketConnectable) connectable = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (timeout_s > 0, NULL);

  connectable = g_network_address_parse (server, MD_CLIENT_DEFAULT_PORT, &local_error);
  if (connectable == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("invalid server “%s”: %s"),
                   server, local_error->message);
      return NULL;
    }
  client = client_new_empty (timeout_s);
  if (!resolve_candidates (client, connectable, &local_error))
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                   _ ("cannot resolve “%s”: %s"), server, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&client);
}

MdClient *
md_client_new_sibling (MdClient *other)
{
  MdClient *client;

  g_return_val_if_fail (other != NULL, NULL);

  client = client_new_empty (other->timeout_s);
  /* The candidates never change after md_client_new(): share them. */
  g_ptr_array_unref (client->candidates);
  client->candidates = g_ptr_array_ref (other->candidates);
  client->current = other->current;
  md_client_set_cancellable (client, other->cancellable);
  return client;
}

void
md_client_free (MdClient *client)
{
  if (client == NULL)
    return;
  g_clear_object (&client->socket);
  g_clear_object (&client->cancellable);
  g_ptr_array_unref (client->candidates);
  g_free (client);
}

void
md_client_set_cancellable (MdClient *client, GCancellable *cancellable)
{
  g_return_if_fail (client != NULL);

  g_set_object (&client->cancellable, cancellable);
}

static Candidate *
current_candidate (MdClient *client)
{
  return g_ptr_array_index (client->candidates, client->current);
}

/* A connected UDP socket: the kernel then drops datagrams from anyone but
 * the server and reports ICMP port unreachable as ECONNREFUSED. */
static gboolean
ensure_socket (MdClient *client, GError **error)
{
  Candidate *candidate = current_candidate (client);
  GSocketFamily family = g_socket_address_get_family (G_SOCKET_ADDRESS (candidate->address));
  g_autoptr (GSocket) socket = NULL;

  if (client->socket != NULL)
    return TRUE;
  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_connect (socket, G_SOCKET_ADDRESS (candidate->address), NULL, error))
    return FALSE;
  client->socket = g_steal_pointer (&socket);
  return TRUE;
}

static void
next_candidate (MdClient *client)
{
  g_clear_object (&client->socket);
  client->current = (client->current + 1) % client->candidates->len;
  g_debug ("trying %s", current_candidate (client)->name);
}

GSocket *
md_client_get_socket (MdClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);

  if (!ensure_socket (client, NULL))
    return NULL;
  return client->socket;
}

static void
log_message (const char *direction, const MdCoapMessage *msg)
{
  g_autofree char *text = NULL;

  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    {
      text = md_coap_message_describe (msg);
      g_debug ("%s %s", direction, text);
    }
}

static gboolean
encode_request (const MdClientRequest *request, const guint8 *token, guint16 mid, GBytes *echo,
                Exchange *exchange, GError **error)
{
  MdCoapMessage msg;
  gboolean ok = TRUE;
  gssize len;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, request->method, mid);
  md_coap_message_set_token (&msg, token, TOKEN_LEN);
  if (request->observe)
    ok &= md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_OBSERVE, 0);
  ok &= md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, request->path);
  if (request->if_none_match)
    ok &= md_coap_message_add_option (&msg, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0);
  if (request->query != NULL)
    ok &= md_coap_message_add_string_option (&msg, MD_COAP_OPTION_URI_QUERY, request->query);
  if (request->has_block2)
    ok &= md_coap_message_add_block (&msg, MD_COAP_OPTION_BLOCK2, &request->block2);
  if (echo != NULL)
    ok &= md_coap_message_add_option (&msg, MD_COAP_OPTION_ECHO, g_bytes_get_data (echo, NULL),
                                      g_bytes_get_size (echo));
  if (request->payload_len > 0)
    {
      ok &= md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_CONTENT_FORMAT,
                                             MD_COAP_FORMAT_TEXT_PLAIN);
      ok &= md_coap_message_set_payload (&msg, request->payload, request->payload_len);
    }
  if (!ok)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("request is too large"));
      return FALSE;
    }
  len = md_coap_encode (&msg, exchange->datagram, sizeof exchange->datagram, error);
  if (len < 0)
    return FALSE;
  exchange->datagram_len = (gsize)len;
  log_message ("→", &msg);
  return TRUE;
}

static void
remember_mid (Exchange *exchange, guint16 mid)
{
  if (exchange->n_mids == MID_HISTORY)
    {
      memmove (exchange->mids, exchange->mids + 1, sizeof exchange->mids[0] * (MID_HISTORY - 1));
      exchange->n_mids--;
    }
  exchange->mids[exchange->n_mids++] = mid;
}

static gboolean
is_our_mid (const Exchange *exchange, guint16 mid)
{
  for (guint i = 0; i < exchange->n_mids; i++)
    if (exchange->mids[i] == mid)
      return TRUE;
  return FALSE;
}

static gboolean
token_equals (const MdCoapMessage *msg, const guint8 *token)
{
  return msg->token_len == TOKEN_LEN && memcmp (msg->token, token, TOKEN_LEN) == 0;
}

static gboolean
is_response_code (guint8 code)
{
  return MD_COAP_CODE_CLASS (code) >= 2 && MD_COAP_CODE_CLASS (code) <= 5;
}

/* Sends what the kernel takes; a refusal moves on to the next address. */
static void
send_datagram (MdClient *client, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (!ensure_socket (client, &error)
      || g_socket_send (client->socket, (const char *)data, len, NULL, &error) < 0)
    {
      g_debug ("sending to %s: %s", current_candidate (client)->name, error->message);
      next_candidate (client);
    }
}

static void
send_empty (MdClient *client, MdCoapType type, guint16 mid)
{
  MdCoapMessage msg;
  guint8 out[4];

  md_coap_message_init (&msg, type, MD_COAP_EMPTY, mid);
  if (md_coap_encode (&msg, out, sizeof out, NULL) == sizeof out)
    send_datagram (client, out, sizeof out);
}

static MdClientResponse *
response_from_message (const MdCoapMessage *msg)
{
  MdClientResponse *response = g_new0 (MdClientResponse, 1);
  const MdCoapOption *echo = md_coap_message_find_option (msg, MD_COAP_OPTION_ECHO);
  guint32 observe = 0;

  response->code = msg->code;
  response->payload = g_bytes_new (msg->payload, msg->payload_len);
  response->has_observe = md_coap_message_get_uint_option (msg, MD_COAP_OPTION_OBSERVE, &observe);
  response->has_block2 = md_coap_message_get_block (msg, MD_COAP_OPTION_BLOCK2, &response->block2);
  if (echo != NULL && echo->length > 0)
    response->echo = g_bytes_new (echo->value, echo->length);
  return response;
}

typedef enum
{
  RECEIVED_NOTHING,
  RECEIVED_REFUSAL, /* the ICMP error of an earlier send */
  RECEIVED_GARBAGE,
  RECEIVED_MESSAGE,
} Received;

static Received
receive_message (MdClient *client, guint8 *buffer, gsize size, MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  gssize len;

  if (!ensure_socket (client, NULL))
    return RECEIVED_NOTHING;
  len = g_socket_receive (client->socket, (char *)buffer, size, NULL, &error);
  if (len < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        return RECEIVED_REFUSAL;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_debug ("receiving from %s: %s", current_candidate (client)->name, error->message);
      return RECEIVED_NOTHING;
    }
  if (!md_coap_parse (buffer, (gsize)len, msg, &error))
    {
      g_debug ("ignoring a datagram: %s", error->message);
      return RECEIVED_GARBAGE;
    }
  log_message ("←", msg);
  return RECEIVED_MESSAGE;
}

/* Decides what one incoming message means for @exchange. */
static void
handle_message (MdClient *client, Exchange *exchange, const MdCoapMessage *msg)
{
  gboolean ours_by_mid = is_our_mid (exchange, msg->mid);

  if (msg->type == MD_COAP_TYPE_ACK && ours_by_mid && msg->code == MD_COAP_EMPTY)
    exchange->acked = TRUE;
  else if (msg->type == MD_COAP_TYPE_ACK && ours_by_mid && token_equals (msg, exchange->token))
    exchange->response = response_from_message (msg);
  else if (msg->type == MD_COAP_TYPE_RST && ours_by_mid)
    exchange->reset = TRUE;
  else if ((msg->type == MD_COAP_TYPE_CON || msg->type == MD_COAP_TYPE_NON)
           && is_response_code (msg->code) && token_equals (msg, exchange->token))
    {
      if (msg->type == MD_COAP_TYPE_CON)
        send_empty (client, MD_COAP_TYPE_ACK, msg->mid);
      exchange->response = response_from_message (msg);
    }
  else if (msg->type == MD_COAP_TYPE_CON)
    send_empty (client, MD_COAP_TYPE_RST, msg->mid);
}

/* Waits until the socket is readable or @until (monotonic) passes. */
static gboolean
wait_readable (MdClient *client, gint64 until, GError **error)
{
  gint64 remaining = until - g_get_monotonic_time ();
  g_autoptr (GError) local_error = NULL;

  if (!ensure_socket (client, NULL))
    {
      /* Nothing to read from this address; let the timers run out, in
       * short steps so that Ctrl-C still ends the wait promptly. */
      while (remaining > 0)
        {
          if (g_cancellable_set_error_if_cancelled (client->cancellable, error))
            return FALSE;
          g_usleep ((gulong)MIN (remaining, CANCEL_CHECK_US));
          remaining = until - g_get_monotonic_time ();
        }
      return !g_cancellable_set_error_if_cancelled (client->cancellable, error);
    }
  /* Rounded up to whole milliseconds so that a wait never spins. */
  remaining = MAX (remaining, 0) + G_TIME_SPAN_MILLISECOND - 1;
  remaining -= remaining % G_TIME_SPAN_MILLISECOND;
  if (g_socket_condition_timed_wait (client->socket, G_IO_IN, remaining, client->cancellable,
                                     &local_error))
    return TRUE;
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

static gint64
initial_wait (void)
{
  return (gint64)(ACK_TIMEOUT_US * g_random_double_range (1.0, ACK_RANDOM_FACTOR));
}

static void
set_timeout_error (MdClient *client, GError **error)
{
  /* TRANSLATORS: %s is an address like 192.0.2.1:5683, %g the seconds waited */
  g_set_error (error, MD_ERROR, MD_ERROR_TIMEOUT,
               _ ("no answer from %s after %g s; check that the daemon runs: "
                  "systemctl status mydaily.socket"),
               current_candidate (client)->name, client->timeout_s);
}

/* Reads everything waiting; a refusal tries the next address at once unless
 * every address refused since the last timed send. */
static void
drain_socket (MdClient *client, Exchange *exchange)
{
  guint8 buffer[MD_COAP_MAX_DATAGRAM + 1];
  MdCoapMessage msg;

  for (guint i = 0; i < MAX_READ_BURST && exchange->response == NULL && !exchange->reset; i++)
    {
      switch (receive_message (client, buffer, sizeof buffer, &msg))
        {
          case RECEIVED_NOTHING:
            return;
          case RECEIVED_REFUSAL:
            next_candidate (client);
            if (++exchange->refusals < client->candidates->len)
              send_datagram (client, exchange->datagram, exchange->datagram_len);
            return;
          case RECEIVED_GARBAGE:
            break;
          case RECEIVED_MESSAGE:
            handle_message (client, exchange, &msg);
            break;
        }
    }
}

/* Sends the request again when its timer runs out: a fresh exchange (new
 * Message ID) after MAX_RETRANSMIT retransmissions, else the same datagram
 * after a doubled wait. */
static gboolean
retransmit_if_due (MdClient *client, const MdClientRequest *request, GBytes *echo,
                   Exchange *exchange, gint64 now, GError **error)
{
  if (exchange->acked || now < exchange->next_send)
    return TRUE;
  if (exchange->attempts == MAX_RETRANSMIT || exchange->n_mids == 0)
    {
      guint16 mid = client->next_mid++;

      if (!encode_request (request, exchange->token, mid, echo, exchange, error))
        return FALSE;
      remember_mid (exchange, mid);
      exchange->attempts = 0;
      exchange->wait = initial_wait ();
    }
  else
    {
      exchange->attempts++;
      exchange->wait = MIN (exchange->wait * 2, MAX_WAIT_US);
    }
  exchange->refusals = 0;
  send_datagram (client, exchange->datagram, exchange->datagram_len);
  exchange->next_send = now + exchange->wait;
  return TRUE;
}

/* The message layer for one request: until a response, a reset or
 * @deadline. */
static MdClientResponse *
transact (MdClient *client, const MdClientRequest *request, const guint8 *token, GBytes *echo,
          gint64 deadline, GError **error)
{
  Exchange exchange = { .token = token };

  while (exchange.response == NULL)
    {
      gint64 now = g_get_monotonic_time ();

      if (exchange.reset)
        {
          g_set_error (error, MD_ERROR, MD_ERROR_REJECTED, _ ("the server reset the request"));
          return NULL;
        }
      if (now >= deadline)
        {
          set_timeout_error (client, error);
          return NULL;
        }
      if (!retransmit_if_due (client, request, echo, &exchange, now, error))
        return NULL;
      if (!wait_readable (client, exchange.acked ? deadline : MIN (exchange.next_send, deadline),
                          error))
        return NULL;
      drain_socket (client, &exchange);
    }
  return exchange.response;
}

MdClientResponse *
md_client_request (MdClient *client, const MdClientRequest *request, GError **error)
{
  gint64 deadline;
  guint8 token[TOKEN_LEN];
  g_autoptr (GBytes) echo = NULL;

  g_return_val_if_fail (client != NULL, NULL);
  g_return_val_if_fail (request != NULL, NULL);

  deadline = g_get_monotonic_time () + (gint64)(client->timeout_s * G_USEC_PER_SEC);
  if (request->observe)
    memcpy (token, client->observe_token, TOKEN_LEN);
  else
    for (guint i = 0; i < TOKEN_LEN; i++)
      token[i] = (guint8)g_random_int_range (0, 0x100);

  for (guint round = 0;; round++)
    {
      MdClientResponse *response = transact (client, request, token, echo, deadline, error);

      if (response == NULL || response->code != MD_COAP_UNAUTHORIZED || response->echo == NULL
          || round == MAX_ECHO_ROUNDS)
        return response;
      /* RFC 9175 §2.4: the server wants proof that we own our address. */
      g_clear_pointer (&echo, g_bytes_unref);
      echo = g_bytes_ref (response->echo);
      md_client_response_free (response);
    }
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

static gboolean
check_block (const MdClientResponse *response, guint64 offset, GError **error)
{
  gsize len = g_bytes_get_size (response->payload);
  guint64 start = (guint64)response->block2.num * md_coap_block_size (response->block2.szx);

  if (start != offset)
    {
      g_debug ("block at offset %" G_GUINT64_FORMAT " instead of %" G_GUINT64_FORMAT, start,
               offset);
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server sent blocks out of order"));
      return FALSE;
    }
  if (response->block2.more && len != md_coap_block_size (response->block2.szx))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server sent a short block"));
      return FALSE;
    }
  return TRUE;
}

static MdClientResponse *
get_block (MdClient *client, const char *path, const char *query, guint32 num, guint szx,
           GError **error)
{
  MdClientRequest request = {
    .method = MD_COAP_GET,
    .path = path,
    .query = query,
    .has_block2 = TRUE,
    .block2 = { .num = num, .more = FALSE, .szx = szx },
  };
  g_autoptr (MdClientResponse) response = md_client_request (client, &request, error);

  if (response == NULL)
    return NULL;
  if (response->code != MD_COAP_CONTENT)
    {
      md_client_response_set_error (response, error);
      return NULL;
    }
  return g_steal_pointer (&response);
}

gboolean
md_client_get_body (MdClient *client, const char *path, const char *query, MdClientBodyFunc func,
                    gpointer user_data, GError **error)
{
  guint szx = MD_COAP_MAX_BLOCK_SZX;
  guint64 offset = 0;

  g_return_val_if_fail (client != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  while (TRUE)
    {
      guint64 num = offset / md_coap_block_size (szx);
      g_autoptr (MdClientResponse) response = NULL;
      gsize len = 0;
      const guint8 *data;

      if (num > MAX_BLOCK_NUM)
        {
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the answer is too large"));
          return FALSE;
        }
      response = get_block (client, path, query, (guint32)num, szx, error);
      if (response == NULL)
        return FALSE;
      /* Without Block2 the payload is the whole body; it must come first. */
      if (!response->has_block2 && offset == 0)
        response->block2 = (MdCoapBlock){ .num = 0, .more = FALSE, .szx = szx };
      else if (!check_block (response, offset, error))
        return FALSE;
      data = g_bytes_get_data (response->payload, &len);
      if (len > 0 && !func (data, len, user_data, error))
        return FALSE;
      offset += len;
      if (!response->block2.more)
        return TRUE;
      szx = MIN (szx, response->block2.szx);
    }
}

static gboolean
append_to_array (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  g_byte_array_append (user_data, data, (guint)len);
  return TRUE;
}

GBytes *
md_client_get (MdClient *client, const char *path, const char *query, GError **error)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();

  if (!md_client_get_body (client, path, query, append_to_array, body, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&body));
}

MdClientResponse *
md_client_observe (MdClient *client, const char *path, GError **error)
{
  MdClientRequest request = {
    .method = MD_COAP_GET,
    .path = path,
    .observe = TRUE,
  };

  g_return_val_if_fail (client != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  return md_client_request (client, &request, error);
}

MdClientResponse *
md_client_receive_notification (MdClient *client)
{
  guint8 buffer[MD_COAP_MAX_DATAGRAM + 1];
  MdCoapMessage msg;

  g_return_val_if_fail (client != NULL, NULL);

  for (guint i = 0; i < MAX_READ_BURST; i++)
    {
      Received received = receive_message (client, buffer, sizeof buffer, &msg);

      if (received == RECEIVED_NOTHING || received == RECEIVED_REFUSAL)
        return NULL;
      if (received == RECEIVED_GARBAGE)
        continue;
      if ((msg.type == MD_COAP_TYPE_CON || msg.type == MD_COAP_TYPE_NON)
          && is_response_code (msg.code) && token_equals (&msg, client->observe_token))
        {
          if (msg.type == MD_COAP_TYPE_CON)
            send_empty (client, MD_COAP_TYPE_ACK, msg.mid);
          return response_from_message (&msg);
        }
      if (msg.type == MD_COAP_TYPE_CON)
        send_empty (client, MD_COAP_TYPE_RST, msg.mid);
    }
  return NULL;
}
