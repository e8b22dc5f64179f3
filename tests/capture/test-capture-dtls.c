/* A capture of coaps decrypts with a key log and reads as CoAP: the
 * debugging story survives encryption.
 *
 * tshark captures both ports on lo while a client, with SSLKEYLOGFILE set
 * (GnuTLS writes it by itself, in the server's library as in the
 * clients'), adds a note and reads the history as alice: once
 * coap-client-gnutls, once mydailyctl.  Then tshark reads the capture back
 * with that key log: every DTLS application record must decode as CoAP.
 * This also checks that the server never picks ChaCha20-Poly1305, which
 * Debian 12's tshark 4.0 does not decrypt.
 *
 * Exits 77 (skip) without root (capturing needs it) or tshark; the
 * coap-client-gnutls case is skipped without it. */
#include "config.h"

#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TSHARK "tshark"
#define COAP_CLIENT "coap-client-gnutls"
#define START_TIMEOUT_MS 20000
#define SYNC_ATTEMPTS 40
#define SYNC_WAIT_MS 500
#define STOP_TIMEOUT_MS 15000
#define READ_TIMEOUT_MS 60000
#define CLIENT_TIMEOUT_MS 60000
#define DTLS_APPLICATION_DATA "23"

static const guint8 pcapng_magic[4] = { 0x0a, 0x0d, 0x0d, 0x0a };

static gboolean skipped;

typedef struct
{
  MdTestDaemon *daemon;
  guint16 dtls_port;
  char *root;
  char *capture_path;
  char *log_path;
  char *keylog_path;
  char *key;
  GSubprocess *tshark;
  gboolean tshark_exited;
  int ping_fd;
  guint16 next_ping_mid;
} Fixture;

/* ---- tshark (as in test-capture.c) ------------------------------------------ */

static void
on_tshark_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  fx->tshark_exited = TRUE;
}

static void
start_tshark (Fixture *fx)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *filter = g_strdup_printf ("udp port %u or udp port %u",
                                             md_test_daemon_get_port (fx->daemon), fx->dtls_port);
  g_autoptr (GError) error = NULL;

  g_subprocess_launcher_set_stderr_file_path (launcher, fx->log_path);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  fx->tshark = g_subprocess_launcher_spawn (launcher, &error, TSHARK, "-i", "lo", "-f", filter,
                                            "-w", fx->capture_path, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (fx->tshark, NULL, on_tshark_exited, fx);
}

static gboolean
has_pcapng_header (gpointer data)
{
  Fixture *fx = data;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (fx->tshark_exited)
    return TRUE;
  return g_file_get_contents (fx->capture_path, &contents, &len, NULL) && len >= 28
         && memcmp (contents, pcapng_magic, sizeof pcapng_magic) == 0;
}

/* An empty CON to the plain port, which the daemon answers with an RST of
 * the same Message ID: when that RST is in the file, so is all before it. */
static void
send_ping (Fixture *fx)
{
  guint16 mid = fx->next_ping_mid++;
  guint8 ping[4] = { 0x40, 0x00, mid >> 8, mid & 0xff };
  struct sockaddr_in sin = { .sin_family = AF_INET };

  sin.sin_port = htons (md_test_daemon_get_port (fx->daemon));
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (sendto (fx->ping_fd, ping, sizeof ping, 0, (struct sockaddr *)&sin, sizeof sin) < 0)
    g_test_message ("ping: %s", g_strerror (errno));
}

static gboolean
capture_has_reset (gpointer data)
{
  Fixture *fx = data;
  guint16 mid = fx->next_ping_mid - 1;
  const guint8 reset[4] = { 0x70, 0x00, mid >> 8, mid & 0xff };
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (fx->tshark_exited)
    return TRUE;
  if (!g_file_get_contents (fx->capture_path, &contents, &len, NULL))
    return FALSE;
  for (gsize i = 0; i + sizeof reset <= len; i++)
    if (memcmp (contents + i, reset, sizeof reset) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
sync_capture (Fixture *fx)
{
  for (guint i = 0; i < SYNC_ATTEMPTS && !fx->tshark_exited; i++)
    {
      send_ping (fx);
      if (md_test_poll_until (capture_has_reset, fx, 20, SYNC_WAIT_MS))
        return !fx->tshark_exited;
    }
  return FALSE;
}

static gboolean
tshark_is_gone (gpointer data)
{
  return ((Fixture *)data)->tshark_exited;
}

static void
stop_tshark (Fixture *fx)
{
  g_subprocess_send_signal (fx->tshark, SIGINT);
  if (!md_test_pump_until (tshark_is_gone, fx, STOP_TIMEOUT_MS))
    {
      g_subprocess_force_exit (fx->tshark);
      g_test_fail_printf ("tshark did not stop within %u ms", STOP_TIMEOUT_MS);
    }
}

/* ---- fixture ----------------------------------------------------------------- */

static void
write_keys (Fixture *fx)
{
  const char *argv[] = { "keygen", "alice", NULL };
  g_autoptr (MdTestCtlResult) r = md_test_ctl_run ("127.0.0.1:1", NULL, argv, CLIENT_TIMEOUT_MS);
  g_autofree char *path = g_build_filename (fx->root, "keys", NULL);
  g_autofree char *arg = g_strdup_printf ("--keys=%s", path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_true (
      g_file_set_contents_full (path, r->out, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  fx->key = g_strstrip (g_strdup (r->out + strlen ("alice ")));
  md_test_daemon_add_arg (fx->daemon, arg);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *listen = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  fx->root = g_path_get_dirname (md_test_daemon_get_state_dir (fx->daemon));
  fx->dtls_port = md_test_free_udp_port (&error);
  g_assert_no_error (error);
  listen = g_strdup_printf ("--listen-dtls=127.0.0.1:%u", fx->dtls_port);
  md_test_daemon_add_arg (fx->daemon, listen);
  write_keys (fx);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  fx->capture_path = g_build_filename (fx->root, "capture.pcapng", NULL);
  fx->log_path = g_build_filename (fx->root, "tshark.log", NULL);
  fx->keylog_path = g_build_filename (fx->root, "keylog", NULL);
  fx->ping_fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fx->ping_fd, >=, 0);
  fx->next_ping_mid = 0xc000;
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (fx->tshark != NULL && !fx->tshark_exited)
    {
      g_subprocess_force_exit (fx->tshark);
      md_test_pump_until (tshark_is_gone, fx, STOP_TIMEOUT_MS);
    }
  g_clear_object (&fx->tshark);
  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
  close (fx->ping_fd);
  g_free (fx->capture_path);
  g_free (fx->log_path);
  g_free (fx->keylog_path);
  g_free (fx->key);
  g_free (fx->root);
}

/* ---- the traffic ------------------------------------------------------------- */

static void
coap_client (Fixture *fx, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;

  g_ptr_array_add (argv, g_strdup (COAP_CLIENT));
  g_ptr_array_add (argv, g_strdup ("-B"));
  g_ptr_array_add (argv, g_strdup ("20"));
  g_ptr_array_add (argv, g_strdup ("-u"));
  g_ptr_array_add (argv, g_strdup ("alice"));
  g_ptr_array_add (argv, g_strdup ("-k"));
  g_ptr_array_add (argv, g_strdup (fx->key));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup_printf ("coaps://127.0.0.1:%u/notes", fx->dtls_port));
  g_ptr_array_add (argv, NULL);
  /* GnuTLS appends each session's secrets to the key log by itself. */
  g_subprocess_launcher_setenv (launcher, "SSLKEYLOGFILE", fx->keylog_path, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s", COAP_CLIENT, out);
}

typedef enum
{
  CLIENT_LIBCOAP,
  CLIENT_MYDAILYCTL,
} Client;

/* mydailyctl with alice's key file, over DTLS to the coaps port. */
static void
mydailyctl (Fixture *fx, const char *const *args)
{
  g_autofree char *line = g_strdup_printf ("alice %s\n", fx->key);
  g_autofree char *path = g_build_filename (fx->root, "alice-key", NULL);
  g_autofree char *key_arg = g_strdup_printf ("--key-file=%s", path);
  g_autofree char *server = g_strdup_printf ("coaps://127.0.0.1:%u", fx->dtls_port);
  const char *argv[8] = { key_arg, NULL };
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents_full (path, line, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
  for (guint i = 0; args[i] != NULL && i + 2 < G_N_ELEMENTS (argv); i++)
    argv[i + 1] = args[i];
  g_setenv ("SSLKEYLOGFILE", fx->keylog_path, TRUE);
  r = md_test_ctl_run (server, NULL, argv, CLIENT_TIMEOUT_MS);
  g_unsetenv ("SSLKEYLOGFILE");
  g_test_message ("mydailyctl %s: exit %d\n%s%s", args[0], r->exit_status, r->out, r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
}

static void
make_traffic (Fixture *fx, Client client)
{
  const char *post[] = { "-m", "post", "-e", "captured over coaps", NULL };
  const char *get[] = { NULL };
  const char *add[] = { "add", "captured over coaps", NULL };
  const char *history[] = { "history", "--no-cache", NULL };
  g_autoptr (GPtrArray) records = NULL;

  if (client == CLIENT_LIBCOAP)
    {
      coap_client (fx, post);
      coap_client (fx, get);
    }
  else
    {
      mydailyctl (fx, add);
      mydailyctl (fx, history);
    }
  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
  g_assert_cmpuint (records->len, ==, 1);
}

/* ---- reading the capture back ----------------------------------------------- */

enum
{
  F_NUMBER,
  F_PROTOCOLS,
  F_CONTENT_TYPE,
  F_CODE,
  F_SUITE,
  N_FIELDS
};

static char *
decode_capture (Fixture *fx)
{
  g_autofree char *keylog = g_strdup_printf ("tls.keylog_file:%s", fx->keylog_path);
  g_autofree char *as_dtls = g_strdup_printf ("udp.port==%u,dtls", fx->dtls_port);
  g_autofree char *as_coap = g_strdup_printf ("dtls.port==%u,coap", fx->dtls_port);
  g_autofree char *only_dtls = g_strdup_printf ("udp.port==%u", fx->dtls_port);
  const char *const argv[] = { TSHARK,
                               "-r",
                               fx->capture_path,
                               "-o",
                               keylog,
                               "-d",
                               as_dtls,
                               "-d",
                               as_coap,
                               "-Y",
                               only_dtls,
                               "-T",
                               "fields",
                               "-E",
                               "separator=/t",
                               "-E",
                               "occurrence=a",
                               "-E",
                               "aggregator=;",
                               "-e",
                               "frame.number",
                               "-e",
                               "frame.protocols",
                               "-e",
                               "dtls.record.content_type",
                               "-e",
                               "coap.code",
                               "-e",
                               "dtls.handshake.ciphersuite",
                               NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) run = md_test_command_spawn (argv, NULL, &error);
  g_autoptr (MdTestCtlResult) r = NULL;

  g_assert_no_error (error);
  r = md_test_ctl_wait (run, READ_TIMEOUT_MS);
  if (r->exit_status != 0)
    g_test_message ("tshark -r: %s", r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  return g_steal_pointer (&r->out);
}

typedef struct
{
  guint frames;
  guint records; /* application data */
  guint server_hellos;
  gboolean write, created, get, content; /* POST or PUT, 2.01, GET, 2.05 */
} Seen;

static void
check_frame (const char *line, Seen *seen)
{
  g_auto (GStrv) fields = g_strsplit (line, "\t", -1);
  guint code;

  g_assert_cmpuint (g_strv_length (fields), ==, N_FIELDS);
  seen->frames++;
  /* One suite: the ServerHello's choice (a ClientHello lists several). */
  if (*fields[F_SUITE] != '\0' && strchr (fields[F_SUITE], ';') == NULL)
    {
      guint suite = (guint)g_ascii_strtoull (fields[F_SUITE], NULL, 0);

      g_print ("# frame %s: the server chose cipher suite 0x%04x\n", fields[F_NUMBER], suite);
      /* 0xcca8 to 0xccae: the ChaCha20-Poly1305 suites (RFC 7905). */
      g_assert_false (suite >= 0xcca8 && suite <= 0xccae);
      seen->server_hellos++;
    }
  if (strstr (fields[F_CONTENT_TYPE], DTLS_APPLICATION_DATA) == NULL)
    return;
  seen->records++;
  if (strstr (fields[F_PROTOCOLS], ":dtls:coap") == NULL)
    g_test_fail_printf ("frame %s: an application record not decoded as CoAP: %s", fields[F_NUMBER],
                        fields[F_PROTOCOLS]);
  code = (guint)g_ascii_strtoull (fields[F_CODE], NULL, 10);
  seen->write |= code == 2 || code == 3;
  seen->created |= code == 65;
  seen->get |= code == 1;
  seen->content |= code == 69;
}

static void
check_capture (const char *decoded)
{
  g_auto (GStrv) lines = g_strsplit (decoded, "\n", -1);
  Seen seen = { 0 };

  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      check_frame (lines[i], &seen);
  g_test_message ("%u DTLS frames, %u with application data, all read as CoAP", seen.frames,
                  seen.records);
  g_print ("# tshark decoded %u DTLS application records as CoAP\n", seen.records);
  g_assert_cmpuint (seen.records, >=, 4);
  g_assert_cmpuint (seen.server_hellos, ==, 2);
  g_assert_true (seen.write);
  g_assert_true (seen.created);
  g_assert_true (seen.get);
  g_assert_true (seen.content);
}

static void
test_decrypted (Fixture *fx, gconstpointer data)
{
  g_autofree char *decoded = NULL;

  start_tshark (fx);
  if (!md_test_poll_until (has_pcapng_header, fx, 20, START_TIMEOUT_MS) || fx->tshark_exited
      || !sync_capture (fx))
    {
      g_autofree char *log = NULL;

      if (!g_file_get_contents (fx->log_path, &log, NULL, NULL))
        log = g_strdup ("(no log)");
      if (strstr (log, "ermission") == NULL && strstr (log, "not permitted") == NULL)
        g_error ("tshark did not capture on lo: %s", log);
      skipped = TRUE;
      g_test_skip_printf ("tshark may not capture on lo here: %s", log);
      return;
    }
  make_traffic (fx, GPOINTER_TO_INT (data));
  g_assert_true (sync_capture (fx));
  stop_tshark (fx);
  g_assert_true (g_file_test (fx->keylog_path, G_FILE_TEST_IS_REGULAR));
  decoded = decode_capture (fx);
  check_capture (decoded);
}

int
main (int argc, char **argv)
{
  g_autofree char *tshark = g_find_program_in_path (TSHARK);
  g_autofree char *client = g_find_program_in_path (COAP_CLIENT);
  int status;

  g_test_init (&argc, &argv, NULL);
  if (tshark == NULL || geteuid () != 0)
    {
      g_printerr ("%s; skipping\n", tshark == NULL ? "tshark is not installed (Debian: tshark)"
                                                   : "capturing on lo needs root");
      return 77;
    }
  if (client != NULL)
    g_test_add ("/capture/tshark/dtls-decrypted", Fixture, GINT_TO_POINTER (CLIENT_LIBCOAP),
                fixture_setup, test_decrypted, fixture_teardown);
  else
    g_printerr (COAP_CLIENT " is not installed (Debian: libcoap3-bin): only mydailyctl\n");
  g_test_add ("/capture/tshark/dtls-decrypted/mydailyctl", Fixture,
              GINT_TO_POINTER (CLIENT_MYDAILYCTL), fixture_setup, test_decrypted, fixture_teardown);
  status = g_test_run ();
  return status == 0 && skipped ? 77 : status;
}
