#include "config.h"

#include "md-client-private.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "md-client-dtls.h"
#include "md-coap-describe.h"
#include "md-error.h"
#include "md-protocol.h"

/* Datagrams read per wakeup, so that a flood cannot starve the rest of the
 * main loop. */
#define MAX_READ_BURST 64
/* Finished tokens remembered for acknowledging late retransmissions. */
#define RECENT_TOKENS 16
/* Room for a DTLS record's header, explicit IV, padding and MAC around a
 * full CoAP datagram. */
#define DTLS_OVERHEAD 128

typedef struct
{
  GInetSocketAddress *address;
  char *name;
} Candidate;

typedef struct
{
  guint id;
  MdClientMessageFunc message;
  MdClientRefusedFunc refused;
  gpointer user_data;
} Listener;

struct _MdClient
{
  GPtrArray *candidates;
  guint current;
  GSocket *socket; /* connected to the current candidate */
  GSource *read_source;
  GMainContext *context;
  MdClientClock *clock;
  double timeout_s;
  guint16 next_mid;
  GArray *listeners;
  guint next_listener_id;
  GBytes *echo;
  guint8 recent[RECENT_TOKENS][MD_CLIENT_TOKEN_LEN];
  guint n_recent;
  /* DTLS: the key to use, and the session once the first send made it. */
  char *psk_name;
  char *psk_key;
  MdClientDtls *dtls;
  /* A send under DTLS failed: the next candidate is taken once GnuTLS has
   * returned, never from inside its push callback (the session it is
   * running would be freed under it). */
  gboolean switch_pending;
  MdClientDtlsRecordFunc record_func;
  gpointer record_data;
  MdClientTraceFunc trace;
  gpointer trace_data;
};

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

static MdClient *
client_new_empty (double timeout_s)
{
  MdClient *client = g_rc_box_new0 (MdClient);

  client->candidates = g_ptr_array_new_with_free_func (candidate_free);
  client->context = g_main_context_ref_thread_default ();
  client->clock = md_client_clock_new_system ();
  client->timeout_s = timeout_s;
  client->next_mid = (guint16)g_random_int_range (0, 0x10000);
  client->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  client->next_listener_id = 1;
  return client;
}

MdClient *
md_client_new (const char *server, double timeout_s, GError **error)
{
  return md_client_new_full (server, MD_PROTOCOL_PORT, NULL, timeout_s, error);
}

MdClient *
md_client_new_full (const char *server, guint16 default_port, const MdClientPsk *psk,
                    double timeout_s, GError **error)
{
  g_autoptr (MdClient) client = NULL;
  g_autoptr (GSocketConnectable) connectable = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (timeout_s > 0, NULL);
  g_return_val_if_fail (psk == NULL || (psk->name != NULL && psk->key != NULL), NULL);

  connectable = g_network_address_parse (server, default_port, &local_error);
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
  if (psk != NULL)
    {
      client->psk_name = g_strdup (psk->name);
      client->psk_key = g_strdup (psk->key);
    }
  return g_steal_pointer (&client);
}

MdClient *
md_client_ref (MdClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);

  return g_rc_box_acquire (client);
}

static void
close_socket (MdClient *client)
{
  if (client->read_source != NULL)
    g_source_destroy (client->read_source);
  g_clear_pointer (&client->read_source, g_source_unref);
  g_clear_object (&client->socket);
}

static void
client_clear (gpointer data)
{
  MdClient *client = data;

  /* First, so that its close_notify still leaves from the session's port:
   * the server then frees the session at once instead of keeping it, one of
   * the few a host may hold, until it is idle. */
  g_clear_pointer (&client->dtls, md_client_dtls_free);
  close_socket (client);
  if (client->psk_key != NULL)
    explicit_bzero (client->psk_key, strlen (client->psk_key));
  g_free (client->psk_key);
  g_free (client->psk_name);
  g_ptr_array_unref (client->candidates);
  g_array_unref (client->listeners);
  g_clear_pointer (&client->echo, g_bytes_unref);
  md_client_clock_unref (client->clock);
  g_main_context_unref (client->context);
}

void
md_client_unref (MdClient *client)
{
  if (client != NULL)
    g_rc_box_release_full (client, client_clear);
}

void
md_client_set_clock (MdClient *client, MdClientClock *clock)
{
  g_return_if_fail (client != NULL);
  g_return_if_fail (clock != NULL);

  md_client_clock_ref (clock);
  md_client_clock_unref (client->clock);
  client->clock = clock;
}

MdClientClock *
md_client_get_clock (MdClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);

  return client->clock;
}

double
md_client_get_timeout (MdClient *client)
{
  g_return_val_if_fail (client != NULL, 0);

  return client->timeout_s;
}

static Candidate *
current_candidate (MdClient *client)
{
  return g_ptr_array_index (client->candidates, client->current);
}

const char *
md_client_get_address_name (MdClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);

  return current_candidate (client)->name;
}

void
md_client_set_trace (MdClient *client, MdClientTraceFunc func, gpointer user_data)
{
  g_return_if_fail (client != NULL);

  client->trace = func;
  client->trace_data = user_data;
}

static void
trace (MdClient *client, MdClientDirection direction, MdClientTraceLayer layer, const guint8 *data,
       gsize len)
{
  if (client->trace != NULL)
    client->trace (direction, layer, current_candidate (client)->name, data, len,
                   client->trace_data);
}

/* What the socket carries: CoAP, or DTLS records. */
static MdClientTraceLayer
datagram_layer (MdClient *client)
{
  return client->psk_name != NULL ? MD_CLIENT_TRACE_DTLS : MD_CLIENT_TRACE_COAP;
}

guint
md_client_get_n_addresses (MdClient *client)
{
  return client->candidates->len;
}

guint
md_client_add_listener (MdClient *client, MdClientMessageFunc message, MdClientRefusedFunc refused,
                        gpointer user_data)
{
  Listener listener = { client->next_listener_id++, message, refused, user_data };

  g_array_append_val (client->listeners, listener);
  return listener.id;
}

void
md_client_remove_listener (MdClient *client, guint id)
{
  for (guint i = 0; i < client->listeners->len; i++)
    if (g_array_index (client->listeners, Listener, i).id == id)
      {
        g_array_remove_index (client->listeners, i);
        return;
      }
}

static const Listener *
find_listener (MdClient *client, guint id)
{
  for (guint i = 0; i < client->listeners->len; i++)
    if (g_array_index (client->listeners, Listener, i).id == id)
      return &g_array_index (client->listeners, Listener, i);
  return NULL;
}

/* Listener functions may add and remove listeners: walk a copy of the ids. */
static GArray *
listener_ids (MdClient *client)
{
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (guint), client->listeners->len);

  for (guint i = 0; i < client->listeners->len; i++)
    g_array_append_val (ids, g_array_index (client->listeners, Listener, i).id);
  return ids;
}

guint16
md_client_next_mid (MdClient *client)
{
  return client->next_mid++;
}

void
md_client_make_token (MdClient *client, guint8 token[MD_CLIENT_TOKEN_LEN])
{
  for (guint i = 0; i < MD_CLIENT_TOKEN_LEN; i++)
    token[i] = (guint8)g_random_int_range (0, 0x100);
}

GBytes *
md_client_get_echo (MdClient *client)
{
  return client->echo;
}

void
md_client_set_echo (MdClient *client, GBytes *echo)
{
  if (echo != NULL)
    g_bytes_ref (echo);
  g_clear_pointer (&client->echo, g_bytes_unref);
  client->echo = echo;
}

void
md_client_remember_token (MdClient *client, const guint8 *token)
{
  memcpy (client->recent[client->n_recent % RECENT_TOKENS], token, MD_CLIENT_TOKEN_LEN);
  client->n_recent++;
}

static gboolean
is_recent_token (MdClient *client, const MdCoapMessage *msg)
{
  if (msg->token_len != MD_CLIENT_TOKEN_LEN)
    return FALSE;
  for (guint i = 0; i < MIN (client->n_recent, RECENT_TOKENS); i++)
    if (memcmp (client->recent[i], msg->token, MD_CLIENT_TOKEN_LEN) == 0)
      return TRUE;
  return FALSE;
}

static gboolean on_readable (GSocket *socket, GIOCondition condition, gpointer data);
static gboolean ensure_dtls (MdClient *client);
static void receive_message (MdClient *client, const guint8 *data, gsize len);

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
  client->read_source = g_socket_create_source (client->socket, G_IO_IN, NULL);
  g_source_set_callback (client->read_source, G_SOURCE_FUNC (on_readable), client, NULL);
  g_source_attach (client->read_source, client->context);
  return TRUE;
}

static void
next_candidate (MdClient *client)
{
  close_socket (client);
  client->switch_pending = FALSE;
  if (client->dtls != NULL)
    md_client_dtls_reset (client->dtls);
  client->current = (client->current + 1) % client->candidates->len;
  g_debug ("trying %s", current_candidate (client)->name);
}

/* Called only where no GnuTLS call is on the stack. */
static void
finish_switch (MdClient *client)
{
  if (client->switch_pending)
    next_candidate (client);
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

/* One datagram to the current address: the plain transport, and the one
 * under DTLS. */
static void
send_datagram (MdClient *client, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  /* Lost like a datagram lost on the way, until the switch. */
  if (client->switch_pending)
    return;
  trace (client, MD_CLIENT_SENT, datagram_layer (client), data, len);
  if (!ensure_socket (client, &error)
      || g_socket_send (client->socket, (const char *)data, len, NULL, &error) < 0)
    {
      g_debug ("sending to %s: %s", current_candidate (client)->name, error->message);
      if (client->dtls == NULL)
        next_candidate (client);
      else
        {
          close_socket (client);
          client->switch_pending = TRUE;
        }
    }
}

void
md_client_send (MdClient *client, const guint8 *data, gsize len)
{
  MdCoapMessage msg;

  /* Parsed again only for the debug log: a windowed read sends thousands. */
  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN)
      && md_coap_parse (data, len, &msg, NULL))
    log_message ("→", &msg);
  if (client->psk_name == NULL)
    send_datagram (client, data, len);
  else if (ensure_dtls (client))
    {
      finish_switch (client);
      md_client_dtls_send (client->dtls, data, len);
      finish_switch (client);
    }
}

static void
send_empty (MdClient *client, MdCoapType type, guint16 mid)
{
  MdCoapMessage msg;
  guint8 out[4];

  md_coap_message_init (&msg, type, MD_COAP_EMPTY, mid);
  if (md_coap_encode (&msg, out, sizeof out, NULL) == sizeof out)
    md_client_send (client, out, sizeof out);
}

static gboolean
is_response_code (guint8 code)
{
  return MD_COAP_CODE_CLASS (code) >= 2 && MD_COAP_CODE_CLASS (code) <= 5;
}

static void
dispatch (MdClient *client, const MdCoapMessage *msg)
{
  g_autoptr (GArray) ids = listener_ids (client);
  gboolean taken = FALSE;

  for (guint i = 0; i < ids->len && !taken; i++)
    {
      const Listener *listener = find_listener (client, g_array_index (ids, guint, i));

      if (listener != NULL)
        taken = listener->message (msg, listener->user_data);
    }
  if (msg->type != MD_COAP_TYPE_CON)
    return;
  /* A retransmitted response whose ACK was lost is acknowledged again. */
  if (taken || (is_response_code (msg->code) && is_recent_token (client, msg)))
    send_empty (client, MD_COAP_TYPE_ACK, msg->mid);
  else
    send_empty (client, MD_COAP_TYPE_RST, msg->mid);
}

static void
tell_refused (MdClient *client, const GError *failure)
{
  g_autoptr (GArray) ids = listener_ids (client);

  for (guint i = 0; i < ids->len; i++)
    {
      const Listener *listener = find_listener (client, g_array_index (ids, guint, i));

      if (listener != NULL && listener->refused != NULL)
        listener->refused (failure, listener->user_data);
    }
}

static void
refused (MdClient *client)
{
  next_candidate (client);
  tell_refused (client, NULL);
}

/* ---- DTLS ------------------------------------------------------------------- */

static void
on_dtls_push (const guint8 *data, gsize len, gpointer user_data)
{
  send_datagram (user_data, data, len);
}

static void
on_dtls_deliver (const guint8 *data, gsize len, gpointer user_data)
{
  trace (user_data, MD_CLIENT_RECEIVED, MD_CLIENT_TRACE_DECRYPTED, data, len);
  receive_message (user_data, data, len);
}

static void
on_dtls_plaintext (const guint8 *data, gsize len, gpointer user_data)
{
  trace (user_data, MD_CLIENT_SENT, MD_CLIENT_TRACE_DECRYPTED, data, len);
}

static void
on_dtls_failed (const GError *error, gpointer user_data)
{
  MdClient *client = md_client_ref (user_data);

  tell_refused (client, error);
  md_client_unref (client);
}

/* Made at the first send, so that it runs on the clock the tests set. */
static gboolean
ensure_dtls (MdClient *client)
{
  const MdClientDtlsFuncs funcs = { on_dtls_push, on_dtls_deliver, on_dtls_failed, client };
  g_autoptr (GError) error = NULL;

  if (client->dtls != NULL)
    return TRUE;
  client->dtls
      = md_client_dtls_new (client->psk_name, client->psk_key, client->clock, &funcs, &error);
  if (client->dtls == NULL)
    {
      g_warning ("DTLS: %s", error->message);
      return FALSE;
    }
  if (client->record_func != NULL)
    md_client_dtls_set_record_func (client->dtls, client->record_func, client->record_data);
  md_client_dtls_set_plaintext_func (client->dtls, on_dtls_plaintext, client);
  return TRUE;
}

gboolean
md_client_is_secure (MdClient *client)
{
  g_return_val_if_fail (client != NULL, FALSE);

  return client->psk_name != NULL;
}

gboolean
md_client_is_established (MdClient *client)
{
  g_return_val_if_fail (client != NULL, FALSE);

  return client->dtls != NULL && md_client_dtls_is_established (client->dtls);
}

char *
md_client_describe_security (MdClient *client)
{
  g_return_val_if_fail (client != NULL, NULL);

  return client->dtls != NULL ? md_client_dtls_describe (client->dtls) : NULL;
}

void
md_client_set_record_func (MdClient *client, MdClientDtlsRecordFunc func, gpointer user_data)
{
  g_return_if_fail (client != NULL);

  client->record_func = func;
  client->record_data = user_data;
  if (client->dtls != NULL)
    md_client_dtls_set_record_func (client->dtls, func, user_data);
}

/* One CoAP message, from a datagram or a decrypted record. */
static void
receive_message (MdClient *client, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  MdCoapMessage msg;

  if (len > MD_COAP_MAX_DATAGRAM)
    g_debug ("ignoring an oversized datagram");
  else if (!md_coap_parse (data, len, &msg, &error))
    g_debug ("ignoring a datagram: %s", error->message);
  else
    {
      log_message ("←", &msg);
      dispatch (client, &msg);
    }
}

/* FALSE when nothing more is to be read now. */
static gboolean
receive_one (MdClient *client)
{
  guint8 buffer[MD_COAP_MAX_DATAGRAM + DTLS_OVERHEAD];
  g_autoptr (GError) error = NULL;
  gssize len = g_socket_receive (client->socket, (char *)buffer, sizeof buffer, NULL, &error);

  if (len < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return FALSE;
  if (len < 0)
    {
      g_debug ("%s: %s", current_candidate (client)->name, error->message);
      refused (client);
      return FALSE;
    }
  trace (client, MD_CLIENT_RECEIVED, datagram_layer (client), buffer, (gsize)len);
  if (client->dtls != NULL)
    {
      md_client_dtls_feed (client->dtls, buffer, (gsize)len);
      finish_switch (client);
    }
  else
    receive_message (client, buffer, (gsize)len);
  return client->socket != NULL;
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  MdClient *client = md_client_ref (data);

  for (guint i = 0; i < MAX_READ_BURST && client->socket == socket; i++)
    if (!receive_one (client))
      break;
  md_client_unref (client);
  /* A new socket has a source of its own. */
  return G_SOURCE_CONTINUE;
}
