#include "config.h"

#include "md-dtls-server.h"
#include "md-protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* The server driven in-process: a GnuTLS client session and the server
 * exchange datagrams through two queues, with no socket. */

#define KEY_ALICE "alice-key-0123456789abcdefghijklmnopqrstuvwxyz"
#define KEY_BOB "bob-key-0123456789abcdefghijklmnopqrstuvwxyz012"
/* Rounds of the exchange before a handshake must have ended. */
#define ROUNDS_MAX 20

typedef struct
{
  GHashTable *keys; /* name -> key */
  MdDtlsServer *server;
  GQueue to_server; /* of GBytes */
  GQueue to_client;
  GPtrArray *delivered; /* of "IDENTITY:TEXT" */
  GPtrArray *logged;    /* "PSK_IDENTITY REASON" of each failure logged */
  gint64 now_us;
} Fixture;

typedef struct
{
  Fixture *f;
  gnutls_session_t tls;
  gnutls_psk_client_credentials_t credentials;
  MdPeer peer;
} Client;

static Fixture *current; /* for the log writer */

static const char *
lookup_key (const char *name, gpointer user_data)
{
  Fixture *f = user_data;

  return g_hash_table_lookup (f->keys, name);
}

static void
send_to_client (const MdPeer *peer, const guint8 *data, gsize len, gpointer user_data)
{
  Fixture *f = user_data;

  g_queue_push_tail (&f->to_client, g_bytes_new (data, len));
}

static void
on_deliver (const MdPeer *peer, const char *identity, const guint8 *data, gsize len,
            gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->delivered, g_strdup_printf ("%s:%.*s", identity, (int)len, data));
}

static GLogWriterOutput
capture_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *identity = NULL;
  const char *reason = NULL;
  gboolean failure = FALSE;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE_ID"))
      failure = g_str_equal (fields[i].value, MD_PROTOCOL_MESSAGE_ID_DTLS_HANDSHAKE_FAILED);
    else if (g_str_equal (fields[i].key, MD_PROTOCOL_FIELD_PSK_IDENTITY))
      identity = fields[i].value;
    else if (g_str_equal (fields[i].key, MD_PROTOCOL_FIELD_REASON))
      reason = fields[i].value;
  if (failure && current != NULL)
    g_ptr_array_add (current->logged, g_strdup_printf ("%s %s", identity, reason));
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MdDtlsLimits limits;

  f->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (f->keys, g_strdup ("alice"), g_strdup (KEY_ALICE));
  g_hash_table_insert (f->keys, g_strdup ("bob"), g_strdup (KEY_BOB));
  f->server = md_dtls_server_new (lookup_key, f, send_to_client, f, &error);
  g_assert_no_error (error);
  md_dtls_limits_init_default (&limits);
  limits.failure_log_burst = 100;
  md_dtls_server_set_limits (f->server, &limits);
  g_queue_init (&f->to_server);
  g_queue_init (&f->to_client);
  f->delivered = g_ptr_array_new_with_free_func (g_free);
  f->logged = g_ptr_array_new_with_free_func (g_free);
  f->now_us = 1000 * G_USEC_PER_SEC;
  current = f;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  current = NULL;
  md_dtls_server_free (f->server);
  g_queue_clear_full (&f->to_server, (GDestroyNotify)g_bytes_unref);
  g_queue_clear_full (&f->to_client, (GDestroyNotify)g_bytes_unref);
  g_ptr_array_unref (f->delivered);
  g_ptr_array_unref (f->logged);
  g_hash_table_unref (f->keys);
}

/* ---- the client ---------------------------------------------------------------- */

static ssize_t
client_push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  Client *c = ptr;

  g_queue_push_tail (&c->f->to_server, g_bytes_new (data, len));
  return (ssize_t)len;
}

static ssize_t
client_pull (gnutls_transport_ptr_t ptr, void *data, size_t size)
{
  Client *c = ptr;
  g_autoptr (GBytes) datagram = g_queue_pop_head (&c->f->to_client);
  gsize len;

  if (datagram == NULL)
    {
      gnutls_transport_set_errno (c->tls, EAGAIN);
      return -1;
    }
  len = MIN (size, g_bytes_get_size (datagram));
  memcpy (data, g_bytes_get_data (datagram, NULL), len);
  return (ssize_t)len;
}

static int
client_pull_timeout (gnutls_transport_ptr_t ptr, unsigned ms)
{
  Client *c = ptr;

  return g_queue_is_empty (&c->f->to_client) ? 0 : 1;
}

static Client *
client_new (Fixture *f, const char *name, const char *key, guint16 port)
{
  Client *c = g_new0 (Client, 1);
  struct sockaddr_in *sin = (struct sockaddr_in *)&c->peer.addr;
  const gnutls_datum_t datum = { (unsigned char *)key, (unsigned)strlen (key) };

  c->f = f;
  sin->sin_family = AF_INET;
  sin->sin_port = htons (port);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  c->peer.addr_len = sizeof *sin;
  c->peer.fd = 3;
  g_assert_cmpint (gnutls_psk_allocate_client_credentials (&c->credentials), ==, 0);
  g_assert_cmpint (
      gnutls_psk_set_client_credentials (c->credentials, name, &datum, GNUTLS_PSK_KEY_RAW), ==, 0);
  g_assert_cmpint (gnutls_init (&c->tls, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK), ==, 0);
  /* libcoap's choice: everything, ChaCha20 first when the server lets it. */
  g_assert_cmpint (gnutls_priority_set_direct (
                       c->tls, "NORMAL:+VERS-DTLS1.2:+ECDHE-PSK:+PSK:+CHACHA20-POLY1305", NULL),
                   ==, 0);
  gnutls_credentials_set (c->tls, GNUTLS_CRD_PSK, c->credentials);
  gnutls_transport_set_ptr (c->tls, c);
  gnutls_transport_set_push_function (c->tls, client_push);
  gnutls_transport_set_pull_function (c->tls, client_pull);
  gnutls_transport_set_pull_timeout_function (c->tls, client_pull_timeout);
  return c;
}

static void
client_free (Client *c)
{
  gnutls_deinit (c->tls);
  gnutls_psk_free_client_credentials (c->credentials);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

/* Hands the server what the client sent; returns how many datagrams. */
static guint
deliver_to_server (Fixture *f, Client *c)
{
  guint n = 0;
  GBytes *datagram;

  while ((datagram = g_queue_pop_head (&f->to_server)) != NULL)
    {
      md_dtls_server_receive (f->server, &c->peer, g_bytes_get_data (datagram, NULL),
                              g_bytes_get_size (datagram), f->now_us, on_deliver, f);
      g_bytes_unref (datagram);
      n++;
    }
  return n;
}

/* Runs the handshake to its end: 0 when it succeeded, else the client's
 * GnuTLS error. */
static int
client_handshake (Fixture *f, Client *c)
{
  for (guint round = 0; round < ROUNDS_MAX; round++)
    {
      int r = gnutls_handshake (c->tls);

      if (r == 0 || gnutls_error_is_fatal (r))
        {
          deliver_to_server (f, c);
          return r;
        }
      /* Nothing came back: the server dropped it, as it would on UDP. */
      if (deliver_to_server (f, c) > 0 && g_queue_is_empty (&f->to_client))
        return GNUTLS_E_TIMEDOUT;
    }
  g_assert_not_reached ();
}

static Client *
client_connect (Fixture *f, const char *name, const char *key, guint16 port)
{
  Client *c = client_new (f, name, key, port);

  g_assert_cmpint (client_handshake (f, c), ==, 0);
  return c;
}

static void
client_send (Fixture *f, Client *c, const char *text)
{
  g_assert_cmpint (gnutls_record_send (c->tls, text, strlen (text)), ==, strlen (text));
  deliver_to_server (f, c);
}

/* The next record the client gets: its text, "" at close_notify, or NULL. */
static char *
client_receive (Client *c)
{
  char buffer[2048];
  ssize_t r = gnutls_record_recv (c->tls, buffer, sizeof buffer);

  if (r >= 0)
    return g_strndup (buffer, r);
  return NULL;
}

/* ---- tests ------------------------------------------------------------------- */

static void
test_handshake_and_records (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_connect (f, "alice", KEY_ALICE, 40001);
  g_autofree char *reply = NULL;
  gnutls_kx_algorithm_t kx = gnutls_kx_get (c->tls);
  gnutls_cipher_algorithm_t cipher = gnutls_cipher_get (c->tls);

  /* ECDHE-PSK is preferred, and never ChaCha20, though the client offers it. */
  g_assert_cmpint (kx, ==, GNUTLS_KX_ECDHE_PSK);
  g_assert_cmpint (cipher, !=, GNUTLS_CIPHER_CHACHA20_POLY1305);
  g_assert_cmpint (gnutls_protocol_get_version (c->tls), ==, GNUTLS_DTLS1_2);
  g_assert_cmpuint (md_dtls_server_get_established_count (f->server), ==, 1);

  client_send (f, c, "hello");
  g_assert_cmpuint (f->delivered->len, ==, 1);
  g_assert_cmpstr (f->delivered->pdata[0], ==, "alice:hello");

  g_assert_true (md_dtls_server_send (f->server, &c->peer, (const guint8 *)"world", 5));
  reply = client_receive (c);
  g_assert_cmpstr (reply, ==, "world");
  g_assert_cmpuint (f->logged->len, ==, 0);
}

static void
test_plain_psk_without_ecdhe (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_new (f, "bob", KEY_BOB, 40002);

  /* A client that offers PSK alone still gets in, with an AES suite. */
  g_assert_cmpint (gnutls_priority_set_direct (c->tls, "NORMAL:+VERS-DTLS1.2:-KX-ALL:+PSK", NULL),
                   ==, 0);
  g_assert_cmpint (client_handshake (f, c), ==, 0);
  g_assert_cmpint (gnutls_kx_get (c->tls), ==, GNUTLS_KX_PSK);
  client_send (f, c, "x");
  g_assert_cmpstr (f->delivered->pdata[0], ==, "bob:x");
}

static void
test_cookie_first (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_new (f, "alice", KEY_ALICE, 40003);
  GBytes *hello;
  GBytes *answer;

  g_assert_cmpint (gnutls_handshake (c->tls), ==, GNUTLS_E_AGAIN);
  g_assert_cmpuint (g_queue_get_length (&f->to_server), ==, 1);
  hello = g_queue_peek_head (&f->to_server);
  deliver_to_server (f, c);
  /* One answer, a HelloVerifyRequest (handshake type 3), no larger than the
   * ClientHello, and nothing kept. */
  g_assert_cmpuint (g_queue_get_length (&f->to_client), ==, 1);
  answer = g_queue_peek_head (&f->to_client);
  g_assert_cmpuint (g_bytes_get_size (answer), >, 13);
  g_assert_cmpint (((const guint8 *)g_bytes_get_data (answer, NULL))[13], ==, 3);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
  (void)hello;
}

static void
test_cookie_size (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_new (f, "alice", KEY_ALICE, 40004);
  g_autoptr (GBytes) hello = NULL;
  g_autoptr (GBytes) answer = NULL;

  g_assert_cmpint (gnutls_handshake (c->tls), ==, GNUTLS_E_AGAIN);
  hello = g_bytes_ref (g_queue_peek_head (&f->to_server));
  deliver_to_server (f, c);
  answer = g_bytes_ref (g_queue_peek_head (&f->to_client));
  g_assert_cmpuint (g_bytes_get_size (answer), <=, g_bytes_get_size (hello));
}

static void
test_not_a_hello (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_new (f, "alice", KEY_ALICE, 40005);
  guint8 junk[200];

  memset (junk, 0x16, sizeof junk);
  md_dtls_server_receive (f->server, &c->peer, junk, sizeof junk, f->now_us, on_deliver, f);
  md_dtls_server_receive (f->server, &c->peer, junk, 3, f->now_us, on_deliver, f);
  md_dtls_server_receive (f->server, &c->peer, junk, 0, f->now_us, on_deliver, f);
  g_assert_true (g_queue_is_empty (&f->to_client));
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
}

/* Datagrams anyone could send with an established session's address:
 * none of them ends it. */
static void
test_junk_to_session (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_connect (f, "alice", KEY_ALICE, 40007);
  guint8 junk[300];

  for (gsize i = 0; i < sizeof junk; i++)
    junk[i] = (guint8)(i * 37 + 11);
  md_dtls_server_receive (f->server, &c->peer, junk, 0, f->now_us, on_deliver, f);
  md_dtls_server_receive (f->server, &c->peer, junk, 5, f->now_us, on_deliver, f);
  md_dtls_server_receive (f->server, &c->peer, junk, sizeof junk, f->now_us, on_deliver, f);
  junk[0] = 23; /* application data, epoch 1, a length that fits */
  junk[3] = 0;
  junk[4] = 1;
  junk[11] = 0;
  junk[12] = 100;
  md_dtls_server_receive (f->server, &c->peer, junk, 113, f->now_us, on_deliver, f);
  g_assert_cmpuint (md_dtls_server_get_established_count (f->server), ==, 1);
  g_assert_cmpuint (f->delivered->len, ==, 0);
  client_send (f, c, "still");
  g_assert_cmpuint (f->delivered->len, ==, 1);
}

static void
assert_refused (Fixture *f, const char *name, const char *key, const char *logged)
{
  g_autoptr (Client) c = client_new (f, name, key, 40006);

  g_assert_cmpint (client_handshake (f, c), !=, 0);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
  g_assert_cmpuint (f->delivered->len, ==, 0);
  g_assert_cmpuint (f->logged->len, ==, 1);
  g_assert_cmpstr (f->logged->pdata[0], ==, logged);
}

static void
test_unknown_name (Fixture *f, gconstpointer data)
{
  assert_refused (f, "mallory", KEY_ALICE, "mallory no key for this name");
}

static void
test_wrong_key (Fixture *f, gconstpointer data)
{
  assert_refused (f, "alice", KEY_BOB, "alice wrong key: the client's Finished does not decrypt");
}

static void
test_bad_name_escaped (Fixture *f, gconstpointer data)
{
  assert_refused (f, "al ice\x1b[1m", KEY_ALICE, "al\\x20ice\\x1b\\x5b1m no key for this name");
}

static void
test_per_host_share (Fixture *f, gconstpointer data)
{
  MdDtlsLimits limits;
  g_autoptr (Client) a = NULL;
  g_autoptr (Client) b = NULL;
  g_autoptr (Client) c = NULL;

  md_dtls_limits_init_default (&limits);
  limits.per_host = 2;
  md_dtls_server_set_limits (f->server, &limits);
  a = client_connect (f, "alice", KEY_ALICE, 40010);
  b = client_connect (f, "bob", KEY_BOB, 40011);
  c = client_new (f, "alice", KEY_ALICE, 40012);
  g_assert_cmpint (client_handshake (f, c), ==, GNUTLS_E_TIMEDOUT);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 2);

  /* Once the first is idle long enough, it gives way. */
  f->now_us += 31 * G_USEC_PER_SEC;
  client_send (f, b, "keep");
  g_clear_pointer (&c, client_free);
  c = client_connect (f, "alice", KEY_ALICE, 40012);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 2);
  g_assert_false (md_dtls_server_send (f->server, &a->peer, (const guint8 *)"x", 1));
  g_assert_true (md_dtls_server_send (f->server, &b->peer, (const guint8 *)"x", 1));
}

static void
test_table_cap (Fixture *f, gconstpointer data)
{
  MdDtlsLimits limits;
  g_autoptr (Client) a = NULL;
  g_autoptr (Client) b = NULL;
  g_autoptr (Client) c = NULL;
  struct sockaddr_in *sin;

  md_dtls_limits_init_default (&limits);
  limits.max_sessions = 2;
  md_dtls_server_set_limits (f->server, &limits);
  a = client_connect (f, "alice", KEY_ALICE, 40020);
  b = client_connect (f, "bob", KEY_BOB, 40021);
  c = client_new (f, "alice", KEY_ALICE, 40022);
  sin = (struct sockaddr_in *)&c->peer.addr;
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK + 1);
  g_assert_cmpint (client_handshake (f, c), ==, GNUTLS_E_TIMEDOUT);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 2);
}

static void
test_handshake_rate (Fixture *f, gconstpointer data)
{
  MdDtlsLimits limits;

  md_dtls_limits_init_default (&limits);
  limits.handshakes_per_s = 0.001;
  limits.handshake_burst = 2;
  md_dtls_server_set_limits (f->server, &limits);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (Client) c = client_new (f, "alice", KEY_ALICE, 40030 + i);

      g_assert_cmpint (client_handshake (f, c), ==, i < 2 ? 0 : GNUTLS_E_TIMEDOUT);
    }
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 2);
}

static void
test_key_removed (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) a = client_connect (f, "alice", KEY_ALICE, 40040);
  g_autoptr (Client) b = client_connect (f, "bob", KEY_BOB, 40041);
  g_autofree char *end = NULL;

  g_assert_cmpuint (md_dtls_server_check_keys (f->server), ==, 0);
  g_hash_table_remove (f->keys, "alice");
  g_assert_cmpuint (md_dtls_server_check_keys (f->server), ==, 1);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 1);
  /* alice hears close_notify; her records are no longer taken. */
  end = client_receive (a);
  g_assert_cmpstr (end, ==, "");
  client_send (f, b, "still here");
  g_assert_cmpuint (f->delivered->len, ==, 1);
  g_assert_cmpstr (f->delivered->pdata[0], ==, "bob:still here");
}

static void
test_key_changed (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) a = client_connect (f, "alice", KEY_ALICE, 40050);

  g_autofree char *end = NULL;

  g_hash_table_insert (f->keys, g_strdup ("alice"), g_strdup (KEY_BOB));
  g_assert_cmpuint (md_dtls_server_check_keys (f->server), ==, 1);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
  end = client_receive (a);
  g_assert_cmpstr (end, ==, "");
}

static void
test_idle_expiry (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) a = client_connect (f, "alice", KEY_ALICE, 40060);

  md_dtls_server_expire (f->server, f->now_us + MD_DTLS_DEFAULT_IDLE_US - 1);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 1);
  md_dtls_server_expire (f->server, f->now_us + MD_DTLS_DEFAULT_IDLE_US + 1);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
  g_assert_false (md_dtls_server_send (f->server, &a->peer, (const guint8 *)"x", 1));
}

static void
test_handshake_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) c = client_new (f, "alice", KEY_ALICE, 40070);

  /* ClientHello, HelloVerifyRequest, ClientHello with the cookie: then the
   * client goes silent. */
  g_assert_cmpint (gnutls_handshake (c->tls), ==, GNUTLS_E_AGAIN);
  deliver_to_server (f, c);
  g_assert_cmpint (gnutls_handshake (c->tls), ==, GNUTLS_E_AGAIN);
  deliver_to_server (f, c);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 1);
  md_dtls_server_expire (f->server, f->now_us + MD_DTLS_DEFAULT_HANDSHAKE_US + 1);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
  g_assert_cmpuint (f->logged->len, ==, 1);
  g_assert_cmpstr (f->logged->pdata[0], ==, " the handshake timed out");
}

static void
test_restart_same_port (Fixture *f, gconstpointer data)
{
  g_autoptr (Client) first = client_connect (f, "alice", KEY_ALICE, 40080);
  g_autoptr (Client) second = client_connect (f, "bob", KEY_BOB, 40080);

  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 1);
  /* The old session is gone: its records are not taken. */
  client_send (f, first, "old");
  client_send (f, second, "again");
  g_assert_cmpuint (f->delivered->len, ==, 1);
  g_assert_cmpstr (f->delivered->pdata[0], ==, "bob:again");
}

static void
test_failure_log_rate (Fixture *f, gconstpointer data)
{
  MdDtlsLimits limits;

  md_dtls_limits_init_default (&limits);
  limits.failure_log_burst = 2;
  limits.failures_logged_per_s = 0.001;
  md_dtls_server_set_limits (f->server, &limits);
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (Client) c = client_new (f, "mallory", KEY_ALICE, 40090 + i);

      g_assert_cmpint (client_handshake (f, c), !=, 0);
    }
  g_assert_cmpuint (f->logged->len, ==, 2);
  g_assert_cmpuint (md_dtls_server_get_session_count (f->server), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (capture_log, NULL, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/dtls-server/handshake/ecdhe-psk", test_handshake_and_records);
  ADD ("/dtls-server/handshake/psk", test_plain_psk_without_ecdhe);
  ADD ("/dtls-server/cookie/first", test_cookie_first);
  ADD ("/dtls-server/cookie/no-amplification", test_cookie_size);
  ADD ("/dtls-server/cookie/not-a-hello", test_not_a_hello);
  ADD ("/dtls-server/junk-to-session", test_junk_to_session);
  ADD ("/dtls-server/refused/unknown-name", test_unknown_name);
  ADD ("/dtls-server/refused/wrong-key", test_wrong_key);
  ADD ("/dtls-server/refused/bad-name-escaped", test_bad_name_escaped);
  ADD ("/dtls-server/refused/log-rate", test_failure_log_rate);
  ADD ("/dtls-server/limits/per-host", test_per_host_share);
  ADD ("/dtls-server/limits/table", test_table_cap);
  ADD ("/dtls-server/limits/handshake-rate", test_handshake_rate);
  ADD ("/dtls-server/keys/removed", test_key_removed);
  ADD ("/dtls-server/keys/changed", test_key_changed);
  ADD ("/dtls-server/expire/idle", test_idle_expiry);
  ADD ("/dtls-server/expire/handshake", test_handshake_timeout);
  ADD ("/dtls-server/restart-same-port", test_restart_same_port);
#undef ADD
  return g_test_run ();
}
