/* A capture of coaps decrypts with a key log and reads as CoAP: the
 * debugging story survives encryption.
 *
 * tshark captures both ports on lo while coap-client-gnutls, with
 * SSLKEYLOGFILE set (GnuTLS writes it by itself), adds a note and reads the
 * history as alice.  Then tshark reads the capture back with that key log:
 * every DTLS application record must decode as CoAP, and no frame may have
 * a malformed or warning expert item.  This also checks
 * that the server never picks ChaCha20-Poly1305, which Debian 12's tshark
 * 4.0 does not decrypt.
 *
 * Exits 77 (skip) without root (capturing needs it), tshark or
 * coap-client-gnutls. */
#include "config.h"

#include "md-capture.h"
#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define COAP_CLIENT "coap-client-gnutls"
#define CLIENT_TIMEOUT_MS 60000
#define DTLS_APPLICATION_DATA "23"

static gboolean skipped;

typedef struct
{
  MdTestDaemon *daemon;
  guint16 dtls_port;
  char *root;
  char *keylog_path;
  char *key;
  MdCapture *capture;
} Fixture;

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
  fx->keylog_path = g_build_filename (fx->root, "keylog", NULL);
  fx->capture = md_capture_new (fx->root, md_test_daemon_get_port (fx->daemon));
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&fx->capture, md_capture_free);
  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
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

static void
make_traffic (Fixture *fx)
{
  const char *post[] = { "-m", "post", "-e", "captured over coaps", NULL };
  const char *get[] = { NULL };
  g_autoptr (GPtrArray) records = NULL;

  coap_client (fx, post);
  coap_client (fx, get);
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
  F_EXPERT_MESSAGE,
  F_EXPERT_GROUP,
  F_EXPERT_SEVERITY,
  N_FIELDS
};

static const char *const dtls_fields[] = {
  "frame.number",
  "frame.protocols",
  "dtls.record.content_type",
  "coap.code",
  "dtls.handshake.ciphersuite",
  "_ws.expert.message",
  "_ws.expert.group",
  "_ws.expert.severity",
  NULL,
};

static GPtrArray *
read_capture (Fixture *fx)
{
  g_autofree char *keylog = g_strdup_printf ("tls.keylog_file:%s", fx->keylog_path);
  g_autofree char *as_dtls = g_strdup_printf ("udp.port==%u,dtls", fx->dtls_port);
  g_autofree char *as_coap = g_strdup_printf ("dtls.port==%u,coap", fx->dtls_port);
  g_autofree char *only_dtls = g_strdup_printf ("udp.port==%u", fx->dtls_port);
  const char *const args[] = { "-o", keylog, "-d", as_dtls, "-d", as_coap, "-Y", only_dtls, NULL };

  return md_capture_read (fx->capture, args, dtls_fields);
}

typedef struct
{
  guint frames;
  guint records; /* application data */
  guint server_hellos;
  gboolean post, created, get, content;
} Seen;

static void
check_frame (GStrv fields, Seen *seen)
{
  guint code;

  seen->frames++;
  md_capture_check_experts (fields[F_NUMBER], fields[F_EXPERT_MESSAGE], fields[F_EXPERT_GROUP],
                            fields[F_EXPERT_SEVERITY]);
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
  seen->post |= code == 2;
  seen->created |= code == 65;
  seen->get |= code == 1;
  seen->content |= code == 69;
}

static void
check_capture (GPtrArray *frames)
{
  Seen seen = { 0 };

  for (guint i = 0; i < frames->len; i++)
    check_frame (g_ptr_array_index (frames, i), &seen);
  g_test_message ("%u DTLS frames, %u with application data, all read as CoAP", seen.frames,
                  seen.records);
  g_print ("# tshark decoded %u DTLS application records as CoAP\n", seen.records);
  g_assert_cmpuint (seen.records, >=, 4);
  g_assert_cmpuint (seen.server_hellos, ==, 2);
  g_assert_true (seen.post);
  g_assert_true (seen.created);
  g_assert_true (seen.get);
  g_assert_true (seen.content);
}

static void
test_decrypted (Fixture *fx, gconstpointer data)
{
  g_autofree char *filter = g_strdup_printf ("udp port %u or udp port %u",
                                             md_test_daemon_get_port (fx->daemon), fx->dtls_port);
  g_autofree char *reason = NULL;
  g_autoptr (GPtrArray) frames = NULL;

  if (!md_capture_start (fx->capture, filter, &reason))
    {
      skipped = TRUE;
      g_test_skip (reason);
      return;
    }
  make_traffic (fx);
  md_capture_stop (fx->capture);
  g_assert_true (g_file_test (fx->keylog_path, G_FILE_TEST_IS_REGULAR));
  frames = read_capture (fx);
  check_capture (frames);
}

int
main (int argc, char **argv)
{
  g_autofree char *client = g_find_program_in_path (COAP_CLIENT);
  g_autofree char *reason = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!md_capture_available (&reason) || client == NULL)
    {
      g_printerr ("%s; skipping\n",
                  reason != NULL ? reason : COAP_CLIENT " is not installed (Debian: libcoap3-bin)");
      return 77;
    }
  g_test_add ("/capture/tshark/dtls-decrypted", Fixture, NULL, fixture_setup, test_decrypted,
              fixture_teardown);
  status = g_test_run ();
  return status == 0 && skipped ? 77 : status;
}
