#include "config.h"

#include "md-fake-server.h"

#include <string.h>

#define WAIT_US (2 * G_USEC_PER_SEC)
#define MAX_ITERATIONS 100000

MdFakeServer *
md_fake_server_new (void)
{
  MdFakeServer *server = g_new0 (MdFakeServer, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  server->socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (server->socket, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (server->socket, &error);
  g_assert_no_error (error);
  server->address = g_strdup_printf (
      "127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  return server;
}

void
md_fake_server_free (MdFakeServer *server)
{
  if (server == NULL)
    return;
  g_object_unref (server->socket);
  g_clear_object (&server->peer);
  g_free (server->address);
  g_free (server);
}

MdClient *
md_fake_server_new_client (MdFakeServer *server, double timeout_s, MdClientClock **clock)
{
  g_autoptr (GError) error = NULL;
  MdClient *client = md_client_new (server->address, timeout_s, &error);

  g_assert_no_error (error);
  *clock = md_client_clock_new_manual (0);
  md_client_set_clock (client, *clock);
  return client;
}

gboolean
md_fake_server_pending (MdFakeServer *server)
{
  return (g_socket_condition_check (server->socket, G_IO_IN) & G_IO_IN) != 0;
}

void
md_fake_server_receive (MdFakeServer *server, MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  gssize len;

  g_assert_true (g_socket_condition_timed_wait (server->socket, G_IO_IN, WAIT_US, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&server->peer);
  len = g_socket_receive_from (server->socket, &server->peer, (char *)server->buffer,
                               sizeof server->buffer, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (len, >, 0);
  server->len = (gsize)len;
  g_assert_true (md_coap_parse (server->buffer, server->len, msg, &error));
  g_assert_no_error (error);
}

void
md_fake_server_send_raw (MdFakeServer *server, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (server->peer);
  g_assert_cmpint (g_socket_send_to (server->socket, server->peer, data, len, NULL, &error), ==,
                   (gssize)len);
  g_assert_no_error (error);
}

void
md_fake_server_send (MdFakeServer *server, const MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  guint8 out[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (msg, out, sizeof out, &error);

  g_assert_no_error (error);
  md_fake_server_send_raw (server, out, (gsize)len);
}

void
md_fake_server_reply (MdFakeServer *server, const MdCoapMessage *request, guint8 code,
                      const char *payload)
{
  MdCoapMessage response;

  md_coap_message_init_response (&response, request, code, 0);
  if (payload != NULL)
    g_assert_true (md_coap_message_set_payload (&response, payload, strlen (payload)));
  md_fake_server_send (server, &response);
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

void
md_fake_pump_until (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint guard = g_timeout_add (WAIT_US / 1000, set_flag, &timed_out);

  for (guint i = 0; i < MAX_ITERATIONS && !*flag && !timed_out; i++)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (guard);
  g_assert_true (*flag);
}

void
md_fake_pump_pending (void)
{
  for (guint i = 0; i < MAX_ITERATIONS && g_main_context_iteration (NULL, FALSE); i++)
    ;
}
