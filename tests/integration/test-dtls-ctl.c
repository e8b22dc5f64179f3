/* mydailyctl over coaps: login stores a 0600 credential and later commands
 * for that host use DTLS by themselves; a wrong key or an unknown name ends
 * in one line and exit status 2 with nothing stored or queued; coap:// and
 * coaps:// force the transport; MYDAILY_KEY_FILE serves scripts; a history
 * of many blocks reads over DTLS.
 *
 * Every client sets SSLKEYLOGFILE: GnuTLS writing a CLIENT_RANDOM line to
 * it is the client's own proof that a DTLS session was made. */
#include "config.h"

#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_TIMEOUT_MS 60000
#define BAD_KEY "not-the-key-0123456789abcdefghijklmnopqrstuv"
/* Enough notes for many 1024-byte blocks. */
#define HISTORY_NOTES 40
#define KEYLOG_LINE "CLIENT_RANDOM "

typedef struct
{
  MdTestDaemon *daemon;
  guint16 dtls_port;
  char *dtls_server; /* "127.0.0.1:PORT" of the DTLS port */
  char *root;
  char *alice_key;
  char *bob_line;
  char *keylog_path;
} Fixture;

static char *
keygen (const char *name)
{
  const char *argv[] = { "keygen", name, NULL };
  g_autoptr (MdTestCtlResult) r = md_test_ctl_run ("127.0.0.1:1", NULL, argv, CLIENT_TIMEOUT_MS);

  g_assert_cmpint (r->exit_status, ==, 0);
  return g_strdup (r->out);
}

static char *
write_private (Fixture *fx, const char *name, const char *text, int mode)
{
  char *path = g_build_filename (fx->root, name, NULL);
  g_autoptr (GError) error = NULL;

  g_unlink (path);
  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, mode, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *alice = keygen ("alice");
  g_autofree char *keys_text = NULL;
  g_autofree char *keys_path = NULL;
  g_autofree char *keys_arg = NULL;
  g_autofree char *listen = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  fx->root = g_path_get_dirname (md_test_daemon_get_state_dir (fx->daemon));
  fx->dtls_port = md_test_free_udp_port (&error);
  g_assert_no_error (error);
  fx->dtls_server = g_strdup_printf ("127.0.0.1:%u", fx->dtls_port);
  fx->bob_line = keygen ("bob");
  fx->alice_key = g_strstrip (g_strdup (alice + strlen ("alice ")));
  keys_text = g_strconcat (alice, fx->bob_line, NULL);
  keys_path = write_private (fx, "keys", keys_text, 0600);
  keys_arg = g_strdup_printf ("--keys=%s", keys_path);
  listen = g_strdup_printf ("--listen-dtls=%s", fx->dtls_server);
  md_test_daemon_add_arg (fx->daemon, listen);
  md_test_daemon_add_arg (fx->daemon, keys_arg);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  fx->keylog_path = g_build_filename (fx->root, "keylog", NULL);
  g_setenv ("SSLKEYLOGFILE", fx->keylog_path, TRUE);
  g_unsetenv ("MYDAILY_KEY_FILE");
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = md_test_daemon_get_log (fx->daemon);

  g_test_message ("daemon log:\n%s", log);
  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_unsetenv ("SSLKEYLOGFILE");
  g_unsetenv ("MYDAILY_KEY_FILE");
  g_unlink (fx->keylog_path);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
  g_free (fx->dtls_server);
  g_free (fx->root);
  g_free (fx->alice_key);
  g_free (fx->bob_line);
  g_free (fx->keylog_path);
}

static MdTestCtlResult *
run (const char *server, const char *stdin_text, const char *const *argv)
{
  MdTestCtlResult *r = md_test_ctl_run (server, stdin_text, argv, CLIENT_TIMEOUT_MS);

  g_test_message ("mydailyctl -s %s %s: exit %d\n%s%s", server, argv[0], r->exit_status, r->out,
                  r->err);
  return r;
}

static GPtrArray *
read_records (Fixture *fx)
{
  return md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
}

static guint
count_notes (Fixture *fx)
{
  g_autoptr (GPtrArray) records = read_records (fx);

  return records->len;
}

/* The sessions GnuTLS logged for the clients so far. */
static guint
count_keylog_sessions (Fixture *fx)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (fx->keylog_path, &text, NULL, NULL))
    return 0;
  for (const char *p = text; (p = strstr (p, KEYLOG_LINE)) != NULL; p++)
    n++;
  return n;
}

static char *
credentials_path (void)
{
  return g_build_filename (md_test_ctl_get_home (), "config", "mydaily", "credentials", NULL);
}

static void
login (Fixture *fx, const char *name, const char *key)
{
  const char *argv[] = { "login", fx->dtls_server, name, NULL };
  g_autofree char *input = g_strdup_printf ("%s\n", key);
  g_autoptr (MdTestCtlResult) r = run ("127.0.0.1:1", input, argv);

  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_nonnull (strstr (r->out, "Logged in to"));
}

/* The notes file's AUTHOR, once the daemon writes one ("ID TIME KEY AUTHOR
 * TEXT"); NULL for the older four-field line. */
static char *
last_author (Fixture *fx)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_auto (GStrv) fields = NULL;
  guint n;

  g_assert_true (
      g_file_get_contents (md_test_daemon_get_notes_path (fx->daemon), &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  g_assert_cmpuint (n, >=, 2);
  fields = g_strsplit (lines[n - 2], "\t", -1);
  return g_strv_length (fields) >= 5 ? g_strdup (fields[3]) : NULL;
}

static void
test_login_then_add (Fixture *fx, gconstpointer data)
{
  const char *add[] = { "add", "written over coaps", NULL };
  g_autofree char *path = credentials_path ();
  g_autofree char *stored = NULL;
  g_autofree char *author = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GPtrArray) records = NULL;
  struct stat st;

  login (fx, "alice", fx->alice_key);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &stored, NULL, NULL));
  g_assert_nonnull (strstr (stored, fx->dtls_server));
  g_assert_nonnull (strstr (stored, fx->alice_key));
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 1);

  /* A bare -s for the host of the login: DTLS by itself. */
  r = run (fx->dtls_server, NULL, add);
  g_assert_cmpint (r->exit_status, ==, 0);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpstr (((MdTestRecord *)records->pdata[0])->text, ==, "written over coaps");
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 2);
  /* The login name is the author. */
  author = last_author (fx);
  g_assert_cmpstr (author, ==, "alice");
  g_assert_cmpstr (((MdTestRecord *)records->pdata[0])->author, ==, "alice");
}

/* Exit 2 and exactly one line saying the key was refused. */
static void
assert_key_refused (MdTestCtlResult *r, const char *name)
{
  g_autofree char *expected
      = g_strdup_printf ("the server refused the key for “%s” (wrong key or unknown name)", name);

  g_assert_cmpint (r->exit_status, ==, 2);
  g_assert_nonnull (strstr (r->err, expected));
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_true (strchr (r->err, '\n') == r->err + strlen (r->err) - 1);
  g_assert_cmpstr (r->out, ==, "");
}

static void
test_wrong_key (Fixture *fx, gconstpointer data)
{
  const char *login_argv[] = { "login", fx->dtls_server, "alice", NULL };
  const char *mallory_argv[] = { "login", fx->dtls_server, "mallory", NULL };
  g_autofree char *bad_line = g_strdup_printf ("alice %s\n", BAD_KEY);
  g_autofree char *bad_file = write_private (fx, "bad-key", bad_line, 0600);
  g_autofree char *key_arg = g_strdup_printf ("--key-file=%s", bad_file);
  const char *add[] = { key_arg, "add", "should not be stored", NULL };
  g_autofree char *path = credentials_path ();
  g_autofree char *input = g_strdup_printf ("%s\n", fx->alice_key);
  g_autoptr (MdTestCtlResult) r1 = run ("127.0.0.1:1", BAD_KEY "\n", login_argv);
  g_autoptr (MdTestCtlResult) r2 = run ("127.0.0.1:1", input, mallory_argv);
  g_autoptr (MdTestCtlResult) r3 = run (fx->dtls_server, NULL, add);

  assert_key_refused (r1, "alice");
  assert_key_refused (r2, "mallory");
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  /* Refused, not unanswered: nothing stored, nothing queued. */
  assert_key_refused (r3, "alice");
  g_assert_cmpuint (count_notes (fx), ==, 0);
  g_assert_null (strstr (r3->err, "queue"));
}

/* login takes keygen's line from a file, but only for the name it is for. */
static void
test_login_key_file (Fixture *fx, gconstpointer data)
{
  g_autofree char *bob_file = write_private (fx, "bob-line", fx->bob_line, 0600);
  g_autofree char *key_arg = g_strdup_printf ("--key-file=%s", bob_file);
  const char *as_alice[] = { "login", key_arg, fx->dtls_server, "alice", NULL };
  const char *as_bob[] = { "login", key_arg, fx->dtls_server, "bob", NULL };
  g_autofree char *path = credentials_path ();
  g_autofree char *stored = NULL;
  g_autoptr (MdTestCtlResult) r1 = run ("127.0.0.1:1", NULL, as_alice);
  g_autoptr (MdTestCtlResult) r2 = NULL;

  g_assert_cmpint (r1->exit_status, ==, 1);
  g_assert_nonnull (strstr (r1->err, "the key line is for “bob”, not “alice”"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  r2 = run ("127.0.0.1:1", NULL, as_bob);
  g_assert_cmpint (r2->exit_status, ==, 0);
  g_assert_true (g_file_get_contents (path, &stored, NULL, NULL));
  g_assert_nonnull (strstr (stored, " bob "));
}

/* login --key-file reads like the global --key-file: a file others may read
 * and a symbolic link are refused, before any traffic. */
static void
test_login_key_file_careful (Fixture *fx, gconstpointer data)
{
  g_autofree char *open_file = write_private (fx, "bob-open", fx->bob_line, 0644);
  g_autofree char *private_file = write_private (fx, "bob-line", fx->bob_line, 0600);
  g_autofree char *link = g_build_filename (fx->root, "bob-link", NULL);
  g_autofree char *open_arg = g_strdup_printf ("--key-file=%s", open_file);
  g_autofree char *link_arg = g_strdup_printf ("--key-file=%s", link);
  const char *from_open[] = { "login", open_arg, fx->dtls_server, "bob", NULL };
  const char *from_link[] = { "login", link_arg, fx->dtls_server, "bob", NULL };
  g_autofree char *path = credentials_path ();
  g_autoptr (MdTestCtlResult) r1 = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;

  g_assert_cmpint (symlink (private_file, link), ==, 0);
  r1 = run ("127.0.0.1:1", NULL, from_open);
  g_assert_cmpint (r1->exit_status, ==, 1);
  g_assert_nonnull (strstr (r1->err, "mode 0644"));
  r2 = run ("127.0.0.1:1", NULL, from_link);
  g_assert_cmpint (r2->exit_status, ==, 1);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 0);
}

static void
test_schemes (Fixture *fx, gconstpointer data)
{
  const char *plain_add[] = { "add", "over plain", NULL };
  const char *dtls_add[] = { "add", "over dtls", NULL };
  g_autofree char *plain = g_strdup_printf ("coap://%s", md_test_daemon_get_address (fx->daemon));
  g_autofree char *secure = g_strdup_printf ("coaps://%s", fx->dtls_server);
  g_autofree char *line = g_strdup_printf ("alice %s\n", fx->alice_key);
  g_autofree char *key_file = write_private (fx, "alice-key", line, 0600);
  g_autofree char *key_arg = g_strdup_printf ("--key-file=%s", key_file);
  g_autofree char *wrong_port
      = g_strdup_printf ("coaps://%s", md_test_daemon_get_address (fx->daemon));
  const char *status[] = { key_arg, "--timeout=2", "status", NULL };
  g_autoptr (MdTestCtlResult) r1 = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;
  g_autoptr (MdTestCtlResult) r3 = NULL;
  g_autoptr (MdTestCtlResult) r4 = NULL;

  login (fx, "alice", fx->alice_key);
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 1);
  r1 = run (plain, NULL, plain_add);
  g_assert_cmpint (r1->exit_status, ==, 0);
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 1);
  r2 = run (secure, NULL, dtls_add);
  g_assert_cmpint (r2->exit_status, ==, 0);
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 2);
  g_assert_cmpuint (count_notes (fx), ==, 2);

  /* coaps:// without a key for that port is refused before any traffic. */
  r3 = run (wrong_port, NULL, dtls_add);
  g_assert_cmpint (r3->exit_status, ==, 1);
  g_assert_nonnull (strstr (r3->err, "no key for"));
  /* DTLS to a port that speaks only plain CoAP: a timeout that says so. */
  r4 = run (wrong_port, NULL, status);
  g_assert_cmpint (r4->exit_status, ==, 2);
  g_assert_nonnull (strstr (r4->err, "no DTLS answer from"));
  g_assert_cmpuint (count_notes (fx), ==, 2);
}

/* Without SO_BROADCAST the kernel refuses to connect a UDP socket to the
 * limited broadcast address (EACCES): a send that fails at once, with no
 * datagram leaving the host. */
#define UNSENDABLE "255.255.255.255"

static gboolean
connect_refused (const char *host)
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string (host, 5684);

  return socket != NULL && !g_socket_connect (socket, address, NULL, NULL);
}

/* A coaps send that fails (offline) queues the note like plain CoAP does,
 * instead of freeing the DTLS session under GnuTLS's push callback. */
static void
test_unsendable (Fixture *fx, gconstpointer data)
{
  g_autofree char *line = g_strdup_printf ("alice %s\n", fx->alice_key);
  g_autofree char *key_file = write_private (fx, "alice-key", line, 0600);
  g_autofree char *key_arg = g_strdup_printf ("--key-file=%s", key_file);
  const char *add[] = { key_arg, "--timeout=1", "add", "while offline", NULL };
  const char *status[] = { key_arg, "--timeout=1", "status", NULL };
  g_autoptr (MdTestCtlResult) r1 = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;

  if (!connect_refused (UNSENDABLE))
    {
      g_test_skip ("connecting to " UNSENDABLE " does not fail here");
      return;
    }
  r1 = run ("coaps://" UNSENDABLE, NULL, add);
  g_assert_cmpint (r1->exit_status, ==, 75);
  g_assert_nonnull (strstr (r1->err, "queued"));
  r2 = run ("coaps://" UNSENDABLE, NULL, status);
  g_assert_cmpint (r2->exit_status, ==, 2);
  g_assert_nonnull (strstr (r2->out, "queued: 1\n"));
}

static void
test_key_file_env (Fixture *fx, gconstpointer data)
{
  g_autofree char *key_file = write_private (fx, "bob-key", fx->bob_line, 0600);
  g_autofree char *open_file = write_private (fx, "bob-open", fx->bob_line, 0644);
  const char *add[] = { "add", "from a script", NULL };
  g_autoptr (MdTestCtlResult) r1 = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;
  g_autofree char *author = NULL;

  g_setenv ("MYDAILY_KEY_FILE", key_file, TRUE);
  r1 = run (fx->dtls_server, NULL, add);
  g_assert_cmpint (r1->exit_status, ==, 0);
  g_assert_cmpuint (count_notes (fx), ==, 1);
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 1);
  author = last_author (fx);
  if (author != NULL)
    g_assert_cmpstr (author, ==, "bob");
  /* A key file others may read is refused before any traffic. */
  g_setenv ("MYDAILY_KEY_FILE", open_file, TRUE);
  r2 = run (fx->dtls_server, NULL, add);
  g_assert_cmpint (r2->exit_status, ==, 1);
  g_assert_nonnull (strstr (r2->err, "mode 0644"));
  g_assert_cmpuint (count_notes (fx), ==, 1);
  g_unsetenv ("MYDAILY_KEY_FILE");
}

static void
test_history_blocks (Fixture *fx, gconstpointer data)
{
  const char *add[] = { "add", "-", NULL };
  const char *history[] = { "history", "--no-cache", "-n", "all", "-o", "tsv", NULL };
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (MdTestCtlResult) r1 = NULL;
  g_autoptr (MdTestCtlResult) r2 = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *wire = NULL;

  login (fx, "alice", fx->alice_key);
  for (guint i = 0; i < HISTORY_NOTES; i++)
    g_string_append_printf (input, "note %u of the long history, %s\n", i,
                            "with text enough that forty of them take many blocks to read");
  r1 = run (fx->dtls_server, input->str, add);
  g_assert_cmpint (r1->exit_status, ==, 0);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, HISTORY_NOTES);
  wire = md_test_records_to_wire (records);
  g_assert_cmpuint (strlen (wire), >, 4 * 1024);
  r2 = run (fx->dtls_server, NULL, history);
  g_assert_cmpint (r2->exit_status, ==, 0);
  g_assert_cmpstr (r2->out, ==, wire);
  g_assert_cmpuint (count_keylog_sessions (fx), ==, 3);
}

/* More runs than the sessions a host may hold (16): each run's close_notify
 * frees its session, so none is turned away.  (Handshakes beyond the
 * per-host burst are slowed, not refused.) */
#define SHORT_RUNS 18

static void
test_many_short_runs (Fixture *fx, gconstpointer data)
{
  g_autofree char *key_file = write_private (fx, "bob-key", fx->bob_line, 0600);
  g_autofree char *key_arg = g_strdup_printf ("--key-file=%s", key_file);

  for (guint i = 0; i < SHORT_RUNS; i++)
    {
      g_autofree char *text = g_strdup_printf ("short run %u", i);
      const char *add[] = { key_arg, "--timeout=20", "add", text, NULL };
      g_autoptr (MdTestCtlResult) r = run (fx->dtls_server, NULL, add);

      g_assert_cmpint (r->exit_status, ==, 0);
    }
  g_assert_cmpuint (count_notes (fx), ==, SHORT_RUNS);
  g_assert_cmpuint (count_keylog_sessions (fx), ==, SHORT_RUNS);
}

/* ---- a follower across a daemon restart -------------------------------------- */

#define CATCH_UP_TIMEOUT_MS 30000
#define POLL_INTERVAL_MS 20

typedef struct
{
  const char *path;
  guint lines;
} Printed;

static gboolean
has_printed (gpointer data)
{
  Printed *p = data;
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (p->path, &text, NULL, NULL))
    return FALSE;
  for (const char *c = text; *c != '\0'; c++)
    n += *c == '\n';
  return n >= p->lines;
}

static GSubprocess *
spawn_follower (Fixture *fx, const char *out_path, const char *key_file)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autofree char *config = g_build_filename (md_test_ctl_get_home (), "config", NULL);
  g_autofree char *cache = g_build_filename (md_test_ctl_get_home (), "cache", NULL);
  g_autoptr (GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "MYDAILY_KEY_FILE", key_file, TRUE);
  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MYDAILYCTL"), "-s",
                                         fx->dtls_server, "follow", "-n", "all", "-o", "tsv", NULL);
  g_assert_no_error (error);
  return process;
}

static void
add_and_see (Fixture *fx, const char *text, Printed *printed)
{
  const char *add[] = { "add", text, NULL };
  g_autoptr (MdTestCtlResult) r = run (fx->dtls_server, NULL, add);

  g_assert_cmpint (r->exit_status, ==, 0);
  printed->lines++;
  if (!md_test_poll_until (has_printed, printed, POLL_INTERVAL_MS, CATCH_UP_TIMEOUT_MS))
    g_error ("the follower did not print “%s” within %u ms", text, CATCH_UP_TIMEOUT_MS);
}

/* The daemon restarted loses every DTLS session: the follower's requests
 * go unanswered in its old one until it shakes hands again. */
static void
test_follow_across_restart (Fixture *fx, gconstpointer data)
{
  g_autofree char *key_file = write_private (fx, "bob-key", fx->bob_line, 0600);
  g_autofree char *out_path = g_build_filename (fx->root, "follower", NULL);
  g_autoptr (GSubprocess) follower = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *printed_text = NULL;
  Printed printed = { out_path, 0 };

  g_setenv ("MYDAILY_KEY_FILE", key_file, TRUE);
  follower = spawn_follower (fx, out_path, key_file);
  add_and_see (fx, "before the restart", &printed);
  g_assert_true (md_test_daemon_kill (fx->daemon, SIGKILL, &error));
  g_assert_no_error (error);
  g_assert_true (md_test_daemon_restart (fx->daemon, &error));
  g_assert_no_error (error);
  add_and_see (fx, "after the restart", &printed);
  g_subprocess_send_signal (follower, SIGTERM);
  g_assert_true (g_subprocess_wait (follower, NULL, &error));
  g_assert_true (g_file_get_contents (out_path, &printed_text, NULL, NULL));
  g_assert_nonnull (strstr (printed_text, "before the restart\n"));
  g_assert_nonnull (strstr (printed_text, "after the restart\n"));
  g_assert_cmpuint (count_notes (fx), ==, 2);
  g_unsetenv ("MYDAILY_KEY_FILE");
  g_unlink (out_path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/dtls-ctl/login-then-add", test_login_then_add);
  ADD ("/dtls-ctl/wrong-key", test_wrong_key);
  ADD ("/dtls-ctl/login-key-file", test_login_key_file);
  ADD ("/dtls-ctl/login-key-file-careful", test_login_key_file_careful);
  ADD ("/dtls-ctl/schemes", test_schemes);
  ADD ("/dtls-ctl/key-file-env", test_key_file_env);
  ADD ("/dtls-ctl/unsendable", test_unsendable);
  ADD ("/dtls-ctl/history-blocks", test_history_blocks);
  ADD ("/dtls-ctl/follow-across-restart", test_follow_across_restart);
  ADD ("/dtls-ctl/many-short-runs", test_many_short_runs);
  return g_test_run ();
}
