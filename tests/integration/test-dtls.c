/* coaps against stock clients: libcoap's coap-client-gnutls reads the
 * history and adds notes with a person's key, and gets zero note bytes
 * without one; gnutls-cli checks the suite the server chooses; a bare
 * ClientHello gets a HelloVerifyRequest no larger than 3 times itself.
 * Exits 77 (skip) without coap-client-gnutls.
 *
 * coap-client always exits 0, so the checks read what it wrote (-o FILE)
 * and the notes file. */
#include "config.h"

#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define COAP_CLIENT "coap-client-gnutls"
#define GNUTLS_CLI "gnutls-cli"
#define CLIENT_TIMEOUT_MS 60000
#define ANSWER_TIMEOUT_MS 5000
#define SECRET_NOTE "the secret of the day"
#define BAD_KEY "not-the-key-0123456789abcdefghijklmnopqrstuv"

typedef struct
{
  MdTestDaemon *daemon;
  guint16 dtls_port;
  char *root;
  char *out_path;
  char *alice_key;
  char *bob_line;
  char *alice_line;
  char *keys_path;
} Fixture;

/* A keys line from the real mydailyctl keygen. */
static char *
keygen (const char *name)
{
  const char *argv[] = { "keygen", name, NULL };
  g_autoptr (MdTestCtlResult) r = md_test_ctl_run ("127.0.0.1:1", NULL, argv, CLIENT_TIMEOUT_MS);

  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_true (g_str_has_prefix (r->out, name));
  g_assert_true (g_str_has_suffix (r->out, "\n"));
  return g_strdup (r->out);
}

static void
write_keys (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *alice = keygen ("alice");
  g_autofree char *bob = keygen ("bob");
  g_autofree char *text = g_strconcat ("# people\n", alice, bob, NULL);
  g_autofree char *path = g_build_filename (fx->root, "keys", NULL);
  g_autofree char *arg = g_strdup_printf ("--keys=%s", path);

  fx->keys_path = g_strdup (path);
  fx->alice_line = g_strdup (alice);
  fx->bob_line = g_strdup (bob);
  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  fx->alice_key = g_strndup (alice + strlen ("alice "), strlen (alice) - strlen ("alice \n"));
  md_test_daemon_add_arg (fx->daemon, arg);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *listen = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  fx->root = g_path_get_dirname (md_test_daemon_get_state_dir (fx->daemon));
  fx->out_path = g_build_filename (fx->root, "coap-body", NULL);
  fx->dtls_port = md_test_free_udp_port (&error);
  g_assert_no_error (error);
  listen = g_strdup_printf ("--listen-dtls=127.0.0.1:%u", fx->dtls_port);
  md_test_daemon_add_arg (fx->daemon, listen);
  write_keys (fx);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = md_test_daemon_get_log (fx->daemon);

  g_test_message ("daemon log:\n%s", log);
  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_unlink (fx->out_path);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
  g_free (fx->out_path);
  g_free (fx->root);
  g_free (fx->alice_key);
  g_free (fx->alice_line);
  g_free (fx->bob_line);
  g_free (fx->keys_path);
}

/* ---- coap-client-gnutls ------------------------------------------------------ */

/* Runs coap-client-gnutls as @name with @key (either may be NULL: none
 * given) on coaps://.../@path, the extra @args before the URI. */
static MdTestCtlResult *
coap_client (Fixture *fx, const char *name, const char *key, const char *path,
             const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) run = NULL;
  MdTestCtlResult *r;

  g_ptr_array_add (argv, g_strdup (COAP_CLIENT));
  g_ptr_array_add (argv, g_strdup ("-v"));
  g_ptr_array_add (argv, g_strdup ("7"));
  /* Seconds to wait for an answer: a refused handshake never gets one. */
  g_ptr_array_add (argv, g_strdup ("-B"));
  g_ptr_array_add (argv, g_strdup ("10"));
  if (name != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("-u"));
      g_ptr_array_add (argv, g_strdup (name));
    }
  if (key != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("-k"));
      g_ptr_array_add (argv, g_strdup (key));
    }
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup_printf ("coaps://127.0.0.1:%u/%s", fx->dtls_port, path));
  g_ptr_array_add (argv, NULL);
  run = md_test_command_spawn ((const char *const *)argv->pdata, NULL, &error);
  g_assert_no_error (error);
  r = md_test_ctl_wait (run, CLIENT_TIMEOUT_MS);
  g_test_message ("%s exited %d:\n%s%s", COAP_CLIENT, r->exit_status, r->out, r->err);
  /* 255 when it refuses its own arguments (coaps without a key). */
  g_assert_true (r->exit_status == 0 || r->exit_status == 255);
  return r;
}

static void
post_over_dtls (Fixture *fx, const char *name, const char *key, const char *text)
{
  const char *args[] = { "-m", "post", "-e", text, NULL };

  /* What it printed is in the test log; the notes file tells what came. */
  md_test_ctl_result_free (coap_client (fx, name, key, "notes", args));
}

/* What GET /notes over coaps wrote to -o, "" when nothing. */
static char *
get_notes_over_dtls (Fixture *fx, const char *name, const char *key)
{
  const char *args[] = { "-o", fx->out_path, NULL };
  g_autoptr (MdTestCtlResult) r = NULL;
  char *body = NULL;

  g_unlink (fx->out_path);
  r = coap_client (fx, name, key, "notes", args);
  if (!g_file_get_contents (fx->out_path, &body, NULL, NULL))
    return g_strdup ("");
  /* Nothing of a note may show anywhere in what the client printed. */
  g_assert_null (strstr (r->out, SECRET_NOTE));
  return body;
}

static GPtrArray *
read_records (Fixture *fx)
{
  return md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
}

static void
test_post_and_read (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *body = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *log = NULL;

  post_over_dtls (fx, "alice", fx->alice_key, "written over coaps");
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpstr (((MdTestRecord *)records->pdata[0])->text, ==, "written over coaps");
  /* The key's name is the author, in the file and on the wire. */
  g_assert_cmpstr (((MdTestRecord *)records->pdata[0])->author, ==, "alice");
  body = get_notes_over_dtls (fx, "alice", fx->alice_key);
  wire = md_test_records_to_wire (records);
  g_assert_cmpstr (body, ==, wire);
  g_assert_nonnull (strstr (body, "Z\talice\twritten over coaps\n"));
  log = md_test_daemon_get_log (fx->daemon);
  g_assert_null (strstr (log, "DTLS handshake from"));
  /* The note-stored event names the author (NOTE_AUTHOR= in the journal). */
  g_assert_nonnull (strstr (log, "stored note 1 by alice from "));
}

/* A note added over plain CoAP from loopback, which PlainFrom= allows. */
static void
add_secret_note (Fixture *fx)
{
  g_autoptr (MdTestCtlResult) r = md_test_ctl_runv (fx->daemon, NULL, "add", SECRET_NOTE, NULL);
  g_autoptr (GPtrArray) records = NULL;

  g_assert_cmpint (r->exit_status, ==, 0);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 1);
}

static void
assert_refused (Fixture *fx, const char *name, const char *key, const char *logged)
{
  g_autofree char *body = get_notes_over_dtls (fx, name, key);
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *log = NULL;

  g_assert_cmpstr (body, ==, "");
  post_over_dtls (fx, name, key, "should not be stored");
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 1);
  log = md_test_daemon_get_log (fx->daemon);
  if (logged != NULL && strstr (log, logged) == NULL)
    g_error ("the daemon's log does not say “%s”", logged);
}

static void
test_refused (Fixture *fx, gconstpointer data)
{
  add_secret_note (fx);
  assert_refused (fx, "alice", BAD_KEY, "as “alice” failed: wrong key");
  assert_refused (fx, "mallory", fx->alice_key, "as “mallory” failed: no key for this name");
  assert_refused (fx, NULL, NULL, NULL);
  assert_refused (fx, "alice", NULL, NULL);
}

/* ---- SIGHUP: keys re-read ------------------------------------------------------ */

typedef struct
{
  Fixture *fx;
  const char *text;
} LogWait;

static gboolean
log_says (gpointer data)
{
  LogWait *w = data;
  g_autofree char *log = md_test_daemon_get_log (w->fx->daemon);

  return strstr (log, w->text) != NULL;
}

static void
rewrite_keys (Fixture *fx, const char *text, int mode)
{
  g_autoptr (GError) error = NULL;

  /* A new file, as an editor writes: GLib 2.74 writes a shorter text over
   * an existing file without truncating it. */
  g_unlink (fx->keys_path);
  g_assert_true (
      g_file_set_contents_full (fx->keys_path, text, -1, G_FILE_SET_CONTENTS_NONE, mode, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (fx->keys_path, mode), ==, 0);
}

/* Sends SIGHUP and waits until the daemon logged @text. */
static void
reload (Fixture *fx, const char *text)
{
  LogWait w = { fx, text };

  md_test_daemon_signal (fx->daemon, SIGHUP);
  if (!md_test_poll_until (log_says, &w, 10, 20000))
    {
      g_autofree char *log = md_test_daemon_get_log (fx->daemon);

      g_autofree char *keys = NULL;

      g_file_get_contents (fx->keys_path, &keys, NULL, NULL);
      g_error ("the daemon did not log “%s” after SIGHUP:\n%s\nkeys file:\n%s", text, log, keys);
    }
}

static void
test_reload (Fixture *fx, gconstpointer data)
{
  g_autofree char *bob_key = g_strstrip (g_strdup (fx->bob_line + strlen ("bob ")));
  g_autoptr (GPtrArray) records = NULL;

  post_over_dtls (fx, "bob", bob_key, "bob was here");
  /* bob's key goes: his next handshake fails, alice's still works. */
  rewrite_keys (fx, fx->alice_line, 0600);
  reload (fx, "read 1 key(s)");
  post_over_dtls (fx, "bob", bob_key, "bob again");
  post_over_dtls (fx, "alice", fx->alice_key, "alice still");
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpstr (((MdTestRecord *)records->pdata[1])->text, ==, "alice still");
  g_assert_cmpstr (((MdTestRecord *)records->pdata[0])->author, ==, "bob");
  g_assert_cmpstr (((MdTestRecord *)records->pdata[1])->author, ==, "alice");
  /* A file others may read is refused, and the keys in force stay. */
  rewrite_keys (fx, fx->bob_line, 0644);
  reload (fx, "refused the keys file");
  post_over_dtls (fx, "alice", fx->alice_key, "alice after the refusal");
  post_over_dtls (fx, "bob", bob_key, "bob refused");
  g_clear_pointer (&records, g_ptr_array_unref);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 3);
}

static void
test_bad_keys_at_start (void)
{
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_autofree char *root = g_path_get_dirname (md_test_daemon_get_state_dir (daemon));
  g_autofree char *path = g_build_filename (root, "keys", NULL);
  g_autofree char *arg = g_strdup_printf ("--keys=%s", path);
  g_autofree char *expected = g_strdup_printf ("%s:2: ", path);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents_full (path,
                                           "alice 0123456789abcdefghijklmnopqrstuvwxyz\nbob\n", -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  md_test_daemon_add_arg (daemon, "--listen-dtls=127.0.0.1:0");
  md_test_daemon_add_arg (daemon, arg);
  g_assert_false (md_test_daemon_start (daemon, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, expected) == NULL)
    g_error ("the start failure does not name %s: %s", expected, error->message);
}

/* ---- gnutls-cli: the suite ------------------------------------------------------ */

static char *
hex (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    g_string_append_printf (out, "%02x", (guint8)*p);
  return g_string_free (out, FALSE);
}

static void
test_suite (Fixture *fx, gconstpointer data)
{
  g_autofree char *tool = g_find_program_in_path (GNUTLS_CLI);
  g_autofree char *key = hex (fx->alice_key);
  g_autofree char *port = g_strdup_printf ("%u", fx->dtls_port);
  /* ChaCha20 first: the server must choose AES all the same.  Plain PSK
   * only: gnutls-cli 3.7.9 itself crashes (SIGSEGV) after an ECDHE-PSK
   * ServerKeyExchange, which GnuTLS's library and libcoap take (the unit
   * tests and the cases above). */
  const char *argv[] = { GNUTLS_CLI,
                         "--udp",
                         "--priority",
                         "NORMAL:-KX-ALL:+PSK:-CIPHER-ALL:+CHACHA20-POLY1305:+AES-128-GCM:"
                         "+AES-128-CBC:+AES-128-CCM-8",
                         "--pskusername",
                         "alice",
                         "--pskkey",
                         key,
                         "-p",
                         port,
                         "127.0.0.1",
                         NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) run = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GBytes) input = g_bytes_new_static ("", 0);

  if (tool == NULL)
    {
      g_test_skip (GNUTLS_CLI " is not installed (Debian: gnutls-bin)");
      return;
    }
  run = md_test_command_spawn (argv, input, &error);
  g_assert_no_error (error);
  r = md_test_ctl_wait (run, CLIENT_TIMEOUT_MS);
  g_test_message ("%s:\n%s%s", GNUTLS_CLI, r->out, r->err);
  g_assert_nonnull (strstr (r->out, "Handshake was completed"));
  g_assert_nonnull (strstr (r->out, "(DTLS1.2"));
  g_assert_nonnull (strstr (r->out, ")-(PSK)-(AES-128-CCM-8)"));
  g_assert_null (strstr (r->out, "CHACHA20"));
}

/* ---- amplification ----------------------------------------------------------- */

static ssize_t
capture_push (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  GByteArray *first = ptr;

  if (first->len == 0)
    g_byte_array_append (first, data, len);
  return (ssize_t)len;
}

static gnutls_session_t capture_session;

/* Nothing comes back: the datagram is only captured. */
static ssize_t
capture_pull (gnutls_transport_ptr_t ptr, void *data, size_t size)
{
  gnutls_transport_set_errno (capture_session, EAGAIN);
  return -1;
}

static int
capture_pull_timeout (gnutls_transport_ptr_t ptr, unsigned ms)
{
  return 0;
}

/* The first datagram a GnuTLS DTLS client sends: its ClientHello. */
static GByteArray *
client_hello (void)
{
  GByteArray *hello = g_byte_array_new ();
  gnutls_psk_client_credentials_t credentials;
  const gnutls_datum_t key = { (unsigned char *)BAD_KEY, sizeof BAD_KEY - 1 };
  gnutls_session_t tls;

  g_assert_cmpint (gnutls_psk_allocate_client_credentials (&credentials), ==, 0);
  gnutls_psk_set_client_credentials (credentials, "alice", &key, GNUTLS_PSK_KEY_RAW);
  g_assert_cmpint (gnutls_init (&tls, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK), ==, 0);
  gnutls_priority_set_direct (tls, "NORMAL:+ECDHE-PSK:+PSK", NULL);
  gnutls_credentials_set (tls, GNUTLS_CRD_PSK, credentials);
  gnutls_transport_set_ptr (tls, hello);
  gnutls_transport_set_push_function (tls, capture_push);
  gnutls_transport_set_pull_function (tls, capture_pull);
  gnutls_transport_set_pull_timeout_function (tls, capture_pull_timeout);
  capture_session = tls;
  g_assert_cmpint (gnutls_handshake (tls), ==, GNUTLS_E_AGAIN);
  gnutls_deinit (tls);
  gnutls_psk_free_client_credentials (credentials);
  g_assert_cmpuint (hello->len, >, 13);
  return hello;
}

static void
test_amplification (Fixture *fx, gconstpointer data)
{
  g_autoptr (GByteArray) hello = client_hello ();
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (fx->dtls_port) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct pollfd pfd = { fd, POLLIN, 0 };
  guint8 answer[2048];
  ssize_t n;
  double ratio;

  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (sendto (fd, hello->data, hello->len, 0, (struct sockaddr *)&to, sizeof to), ==,
                   hello->len);
  g_assert_cmpint (poll (&pfd, 1, ANSWER_TIMEOUT_MS), ==, 1);
  n = recv (fd, answer, sizeof answer, 0);
  /* A handshake record whose message is a HelloVerifyRequest (3). */
  g_assert_cmpint (n, >, 13);
  g_assert_cmpint (answer[0], ==, 22);
  g_assert_cmpint (answer[13], ==, 3);
  ratio = (double)n / hello->len;
  g_test_message ("amplification: ClientHello %u bytes, HelloVerifyRequest %zd bytes, ratio %.2f",
                  hello->len, n, ratio);
  g_print ("# amplification ratio %.2f (%zd / %u bytes)\n", ratio, n, hello->len);
  g_assert_cmpfloat (ratio, <=, 3.0);
  /* And nothing else: no second datagram, no session. */
  g_assert_cmpint (poll (&pfd, 1, 200), ==, 0);
  close (fd);
}

int
main (int argc, char **argv)
{
  g_autofree char *tool = g_find_program_in_path (COAP_CLIENT);

  g_test_init (&argc, &argv, NULL);
  if (tool == NULL)
    {
      g_printerr ("%s is not installed (Debian: libcoap3-bin); skipping\n", COAP_CLIENT);
      return 77;
    }
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/dtls/coap-client/post-and-read", test_post_and_read);
  ADD ("/dtls/coap-client/refused", test_refused);
  ADD ("/dtls/keys/reload", test_reload);
  ADD ("/dtls/gnutls-cli/suite", test_suite);
  ADD ("/dtls/amplification/client-hello", test_amplification);
#undef ADD
  g_test_add_func ("/dtls/keys/bad-at-start", test_bad_keys_at_start);
  return g_test_run ();
}
