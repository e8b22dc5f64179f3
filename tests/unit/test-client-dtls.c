/* The client's DTLS transport (md-client-dtls.h) against the daemon's own
 * DTLS server (md-dtls-server.h), in-process: datagrams go through two
 * queues, with no socket. */
#include "config.h"

#include "md-client-dtls.h"
#include "md-dtls-server.h"
#include "md-error.h"

#include <arpa/inet.h>
#include <string.h>

#define KEY_ALICE "alice-key-0123456789abcdefghijklmnopqrstuvwxyz"
#define KEY_WRONG "wrong-key-0123456789abcdefghijklmnopqrstuvwxyz"
/* Rounds of the exchange before it must have gone quiet. */
#define ROUNDS_MAX 50
/* A lost flight is sent again after GnuTLS's first timeout, 1 s. */
#define RETRANSMIT_WAIT_US (5 * G_USEC_PER_SEC)

typedef struct
{
  MdDtlsServer *server;
  MdClientDtls *client;
  MdClientClock *clock;
  MdPeer peer;
  GQueue to_server; /* of GBytes */
  GQueue to_client;
  GPtrArray *at_server; /* "IDENTITY:TEXT" */
  GPtrArray *at_client; /* "TEXT" */
  GError *failure;
  GString *records; /* "> 22 " for each record sent, "< 23 " received */
  gint64 now_us;
} Fixture;

static const char *
lookup_key (const char *name, gpointer user_data)
{
  return g_str_equal (name, "alice") ? KEY_ALICE : NULL;
}

static void
send_to_client (const MdPeer *peer, const guint8 *data, gsize len, gpointer user_data)
{
  Fixture *f = user_data;

  g_queue_push_tail (&f->to_client, g_bytes_new (data, len));
}

static void
on_server_deliver (const MdPeer *peer, const char *identity, const guint8 *data, gsize len,
                   gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->at_server, g_strdup_printf ("%s:%.*s", identity, (int)len, data));
}

static void
on_push (const guint8 *data, gsize len, gpointer user_data)
{
  Fixture *f = user_data;

  g_queue_push_tail (&f->to_server, g_bytes_new (data, len));
}

static void
on_deliver (const guint8 *data, gsize len, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->at_client, g_strndup ((const char *)data, len));
}

static void
on_failed (const GError *error, gpointer user_data)
{
  Fixture *f = user_data;

  g_clear_error (&f->failure);
  f->failure = g_error_copy (error);
}

static void
on_record (gboolean outgoing, guint8 content_type, gsize len, gpointer user_data)
{
  Fixture *f = user_data;

  g_string_append_printf (f->records, "%c %u ", outgoing ? '>' : '<', content_type);
}

static void
make_client (Fixture *f, const char *name, const char *key)
{
  const MdClientDtlsFuncs funcs = { on_push, on_deliver, on_failed, f };
  g_autoptr (GError) error = NULL;

  f->client = md_client_dtls_new (name, key, f->clock, &funcs, &error);
  g_assert_no_error (error);
  md_client_dtls_set_record_func (f->client, on_record, f);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_in *sin = (struct sockaddr_in *)&f->peer.addr;

  f->server = md_dtls_server_new (lookup_key, f, send_to_client, f, &error);
  g_assert_no_error (error);
  g_queue_init (&f->to_server);
  g_queue_init (&f->to_client);
  f->at_server = g_ptr_array_new_with_free_func (g_free);
  f->at_client = g_ptr_array_new_with_free_func (g_free);
  f->records = g_string_new (NULL);
  f->clock = md_client_clock_new_system ();
  f->now_us = 1000 * G_USEC_PER_SEC;
  sin->sin_family = AF_INET;
  sin->sin_port = htons (40001);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  f->peer.addr_len = sizeof *sin;
  f->peer.fd = 3;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  md_client_dtls_free (f->client);
  md_dtls_server_free (f->server);
  md_client_clock_unref (f->clock);
  g_queue_clear_full (&f->to_server, (GDestroyNotify)g_bytes_unref);
  g_queue_clear_full (&f->to_client, (GDestroyNotify)g_bytes_unref);
  g_ptr_array_unref (f->at_server);
  g_ptr_array_unref (f->at_client);
  g_string_free (f->records, TRUE);
  g_clear_error (&f->failure);
}

/* Carries datagrams both ways until nothing is in flight. */
static void
pump (Fixture *f)
{
  for (guint round = 0; round < ROUNDS_MAX; round++)
    {
      GBytes *datagram;
      gboolean moved = FALSE;

      while ((datagram = g_queue_pop_head (&f->to_server)) != NULL)
        {
          md_dtls_server_receive (f->server, &f->peer, g_bytes_get_data (datagram, NULL),
                                  g_bytes_get_size (datagram), f->now_us, on_server_deliver, f);
          g_bytes_unref (datagram);
          moved = TRUE;
        }
      while ((datagram = g_queue_pop_head (&f->to_client)) != NULL)
        {
          md_client_dtls_feed (f->client, g_bytes_get_data (datagram, NULL),
                               g_bytes_get_size (datagram));
          g_bytes_unref (datagram);
          moved = TRUE;
        }
      if (!moved)
        return;
    }
  g_assert_not_reached ();
}

static void
send_text (Fixture *f, const char *text)
{
  md_client_dtls_send (f->client, (const guint8 *)text, strlen (text));
}

static void
test_handshake_and_records (Fixture *f, gconstpointer data)
{
  g_autofree char *desc = NULL;

  make_client (f, "alice", KEY_ALICE);
  /* Sent before the handshake: kept, and a retransmission kept once. */
  send_text (f, "hello");
  send_text (f, "hello");
  g_assert_false (md_client_dtls_is_established (f->client));
  pump (f);
  g_assert_true (md_client_dtls_is_established (f->client));
  g_assert_null (f->failure);
  g_assert_cmpuint (f->at_server->len, ==, 1);
  g_assert_cmpstr (f->at_server->pdata[0], ==, "alice:hello");
  desc = md_client_dtls_describe (f->client);
  g_test_message ("session: %s", desc);
  g_assert_nonnull (strstr (desc, "ECDHE-PSK"));
  g_assert_nonnull (strstr (desc, "AES"));
  g_assert_null (strstr (desc, "CHACHA"));

  g_assert_true (md_dtls_server_send (f->server, &f->peer, (const guint8 *)"world", 5));
  pump (f);
  g_assert_cmpuint (f->at_client->len, ==, 1);
  g_assert_cmpstr (f->at_client->pdata[0], ==, "world");
  send_text (f, "again");
  pump (f);
  g_assert_cmpstr (f->at_server->pdata[1], ==, "alice:again");
  /* The record hook saw the handshake and the data, both ways. */
  g_assert_true (g_str_has_prefix (f->records->str, "> 22 "));
  g_assert_nonnull (strstr (f->records->str, "< 22 "));
  g_assert_nonnull (strstr (f->records->str, "< 20 "));
  g_assert_nonnull (strstr (f->records->str, "> 23 "));
  g_assert_nonnull (strstr (f->records->str, "< 23 "));
}

static void
assert_refused (Fixture *f, const char *name, const char *key)
{
  g_autofree char *expected = g_strdup_printf ("the server refused the key for “%s”", name);

  make_client (f, name, key);
  send_text (f, "should not arrive");
  pump (f);
  g_assert_error (f->failure, MD_ERROR, MD_ERROR_UNAUTHENTICATED);
  g_assert_nonnull (strstr (f->failure->message, expected));
  g_assert_false (md_client_dtls_is_established (f->client));
  g_assert_cmpuint (f->at_server->len, ==, 0);
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  assert_refused (f, "alice", KEY_WRONG);
}

static void
test_unknown_name (Fixture *f, gconstpointer data)
{
  assert_refused (f, "mallory", KEY_ALICE);
}

static gboolean
established_or_late (Fixture *f, gint64 deadline)
{
  return md_client_dtls_is_established (f->client) || g_get_monotonic_time () > deadline;
}

/* A ClientHello lost on the way: GnuTLS sends it again when the clock's
 * timer fires, with nothing but the main loop running. */
static void
test_lost_flight (Fixture *f, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + RETRANSMIT_WAIT_US;

  make_client (f, "alice", KEY_ALICE);
  send_text (f, "after a loss");
  g_assert_cmpuint (g_queue_get_length (&f->to_server), ==, 1);
  g_queue_clear_full (&f->to_server, (GDestroyNotify)g_bytes_unref);
  while (!established_or_late (f, deadline))
    {
      g_main_context_iteration (NULL, g_queue_is_empty (&f->to_server));
      pump (f);
    }
  g_assert_true (md_client_dtls_is_established (f->client));
  g_assert_cmpuint (f->at_server->len, ==, 1);
  g_assert_cmpstr (f->at_server->pdata[0], ==, "alice:after a loss");
}

/* Another address: the old session is gone and the next send shakes hands
 * again. */
static void
test_reset (Fixture *f, gconstpointer data)
{
  make_client (f, "alice", KEY_ALICE);
  send_text (f, "one");
  pump (f);
  g_assert_true (md_client_dtls_is_established (f->client));
  md_client_dtls_reset (f->client);
  g_assert_false (md_client_dtls_is_established (f->client));
  ((struct sockaddr_in *)&f->peer.addr)->sin_port = htons (40002);
  send_text (f, "two");
  pump (f);
  g_assert_true (md_client_dtls_is_established (f->client));
  g_assert_cmpuint (f->at_server->len, ==, 2);
  g_assert_cmpstr (f->at_server->pdata[1], ==, "alice:two");
}

static void
use_manual_clock (Fixture *f)
{
  md_client_clock_unref (f->clock);
  f->clock = md_client_clock_new_manual (f->now_us);
}

static void
send_bytes (Fixture *f, const guint8 *data, gsize len)
{
  md_client_dtls_send (f->client, data, len);
}

/* Whether the client sent a handshake record since @from in the record log. */
static gboolean
shook_hands_since (Fixture *f, gsize from)
{
  return strstr (f->records->str + from, "> 22 ") != NULL;
}

/* Empty ACKs get no answer by design: however long apart, they do not make
 * the session look lost.  A CON left unanswered does. */
static void
test_session_lost_only_for_con (Fixture *f, gconstpointer data)
{
  static const guint8 ack[] = { 0x60, 0x00, 0x12, 0x34 };
  static const guint8 con[] = { 0x40, 0x01, 0x12, 0x35 };
  gsize mark;

  use_manual_clock (f);
  make_client (f, "alice", KEY_ALICE);
  send_bytes (f, ack, sizeof ack);
  pump (f);
  g_assert_true (md_client_dtls_is_established (f->client));
  send_bytes (f, ack, sizeof ack);
  pump (f);
  md_client_clock_advance (f->clock, 10 * G_USEC_PER_SEC);
  mark = f->records->len;
  send_bytes (f, ack, sizeof ack);
  pump (f);
  g_assert_false (shook_hands_since (f, mark));
  g_assert_cmpuint (f->at_server->len, ==, 3);

  send_bytes (f, con, sizeof con);
  pump (f);
  md_client_clock_advance (f->clock, 10 * G_USEC_PER_SEC);
  mark = f->records->len;
  send_bytes (f, con, sizeof con);
  pump (f);
  g_assert_true (shook_hands_since (f, mark));
}

static void
on_plaintext (const guint8 *data, gsize len, gpointer user_data)
{
  Fixture *f = user_data;

  g_string_append_printf (f->records, "[%.*s] ", (int)len, data);
}

/* The plaintext hook sees each message once, just before the record that
 * carries it, also for those kept through the handshake (a retransmission
 * kept once). */
static void
test_plaintext_hook (Fixture *f, gconstpointer data)
{
  make_client (f, "alice", KEY_ALICE);
  md_client_dtls_set_plaintext_func (f->client, on_plaintext, f);
  send_text (f, "one");
  send_text (f, "one");
  send_text (f, "two");
  pump (f);
  send_text (f, "three");
  pump (f);
  g_test_message ("records: %s", f->records->str);
  g_assert_nonnull (strstr (f->records->str, "[one] > 23 [two] > 23 "));
  g_assert_nonnull (strstr (f->records->str, "[three] > 23 "));
  g_assert_null (strstr (strstr (f->records->str, "[one]") + 1, "[one]"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/client-dtls/handshake-and-records", test_handshake_and_records);
  ADD ("/client-dtls/refused/wrong-key", test_wrong_key);
  ADD ("/client-dtls/refused/unknown-name", test_unknown_name);
  ADD ("/client-dtls/lost-flight", test_lost_flight);
  ADD ("/client-dtls/reset", test_reset);
  ADD ("/client-dtls/plaintext-hook", test_plaintext_hook);
  ADD ("/client-dtls/session-lost-only-for-con", test_session_lost_only_for_con);
  return g_test_run ();
}
