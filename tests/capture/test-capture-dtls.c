/* A capture of coaps decrypts with a key log and reads as CoAP: the
 * debugging story survives encryption.
 *
 * tshark captures both ports on lo while a client, with SSLKEYLOGFILE set
 * (GnuTLS writes it by itself), adds and reads notes as alice: first
 * coap-client-gnutls, then mydailyctl --debug (40 adds in one session, then
 * a history of several blocks).  Then tshark reads the capture back with
 * that key log: every DTLS application record must decode as CoAP, and no
 * frame may have a malformed or warning expert item.  For mydailyctl, every
 * --debug record line (content type, epoch, sequence number, length) must
 * be a record of the capture, and every decrypted CoAP line under one
 * (direction, Message ID, token, code) a message in it.  This also checks
 * that the server never picks ChaCha20-Poly1305, which Debian 12's tshark
 * 4.0 does not decrypt.
 *
 * Exits 77 (skip) without root (capturing needs it) or tshark; the
 * coap-client-gnutls test is skipped without that client. */
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
  char *keys_path;
  MdCapture *capture;
} Fixture;

/* ---- fixture ----------------------------------------------------------------- */

static void
write_keys (Fixture *fx)
{
  const char *argv[] = { "keygen", "alice", NULL };
  g_autoptr (MdTestCtlResult) r = md_test_ctl_run ("127.0.0.1:1", NULL, argv, CLIENT_TIMEOUT_MS);
  char *path = g_build_filename (fx->root, "keys", NULL);
  g_autofree char *arg = g_strdup_printf ("--keys=%s", path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_true (
      g_file_set_contents_full (path, r->out, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  fx->key = g_strstrip (g_strdup (r->out + strlen ("alice ")));
  fx->keys_path = path;
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
  g_free (fx->keys_path);
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
  F_DSTPORT,
  F_EPOCH,
  F_SEQ,
  F_LENGTH,
  F_MID,
  F_TOKEN,
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
  "udp.dstport",
  "dtls.record.epoch",
  "dtls.record.sequence_number",
  "dtls.record.length",
  "coap.mid",
  "coap.token",
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
  gboolean post, put, created, get, content;
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
  seen->put |= code == 3;
  seen->created |= code == 65;
  seen->get |= code == 1;
  seen->content |= code == 69;
}

/* Every application record decodes as CoAP; the server chose a suite
 * twice (two sessions). */
static Seen
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
  g_assert_true (seen.created);
  g_assert_true (seen.get);
  g_assert_true (seen.content);
  return seen;
}

/* FALSE: this machine may not capture (the test is skipped). */
static gboolean
start_capture (Fixture *fx)
{
  g_autofree char *plain = md_capture_filter_for (md_test_daemon_get_port (fx->daemon));
  g_autofree char *dtls = md_capture_filter_for (fx->dtls_port);
  g_autofree char *filter = g_strdup_printf ("(%s) or (%s)", plain, dtls);
  g_autofree char *reason = NULL;

  if (md_capture_start (fx->capture, filter, &reason))
    return TRUE;
  skipped = TRUE;
  g_test_skip (reason);
  return FALSE;
}

static void
test_decrypted (Fixture *fx, gconstpointer data)
{
  g_autofree char *client = g_find_program_in_path (COAP_CLIENT);
  g_autoptr (GPtrArray) frames = NULL;

  if (client == NULL)
    {
      g_test_skip (COAP_CLIENT " is not installed (Debian: libcoap3-bin)");
      return;
    }
  if (!start_capture (fx))
    return;
  make_traffic (fx);
  md_capture_stop (fx->capture);
  g_assert_true (g_file_test (fx->keylog_path, G_FILE_TEST_IS_REGULAR));
  frames = read_capture (fx);
  g_assert_true (check_capture (frames).post);
}

/* ---- mydailyctl over coaps, and its --debug lines ---------------------------- */

/* Notes enough for a history of several blocks. */
#define CTL_NOTES 40

static char *
run_ctl_coaps (Fixture *fx, const char *stdin_text, const char *const *args)
{
  g_autofree char *server = g_strdup_printf ("coaps://127.0.0.1:%u", fx->dtls_port);
  g_autofree char *key_file = g_strdup_printf ("--key-file=%s", fx->keys_path);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) argv = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;

  g_strv_builder_add_many (builder, key_file, "--debug", NULL);
  g_strv_builder_addv (builder, (const char **)args);
  argv = g_strv_builder_end (builder);
  r = md_test_ctl_run (server, stdin_text, (const char *const *)argv, CLIENT_TIMEOUT_MS);
  if (r->exit_status != 0)
    g_test_message ("stderr: %s", r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  return g_steal_pointer (&r->err);
}

typedef struct
{
  gboolean sent;
  gboolean record; /* a record line, else the CoAP message of the last one */
  guint content_type, epoch, mid, code;
  guint64 seq, length;
  char *token;
} DebugLine;

static guint
content_type_number (const char *name)
{
  static const char *const names[]
      = { "change_cipher_spec", "alert", "handshake", "application_data" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_has_prefix (name, names[i]))
      return 20 + i;
  g_assert_not_reached ();
}

static guint
coap_code_number (const char *text)
{
  static const char *const methods[] = { "EMPTY", "GET", "POST", "PUT", "DELETE" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (text, methods[i]))
      return i;
  return (guint)(text[0] - '0') << 5 | (guint)g_ascii_strtoull (text + 2, NULL, 10);
}

static gboolean
parse_record_line (const char *line, DebugLine *out)
{
  g_autoptr (GRegex) regex = g_regex_new (
      "^\\S+ (send to|recv from) \\S+: DTLS (\\S+) epoch=(\\d+) seq=(\\d+) len=(\\d+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_auto (GStrv) parts = NULL;

  if (!g_regex_match (regex, line, 0, &match))
    return FALSE;
  parts = g_match_info_fetch_all (match);
  out->sent = g_str_equal (parts[1], "send to");
  out->record = TRUE;
  out->content_type = content_type_number (parts[2]);
  out->epoch = (guint)g_ascii_strtoull (parts[3], NULL, 10);
  out->seq = g_ascii_strtoull (parts[4], NULL, 10);
  out->length = g_ascii_strtoull (parts[5], NULL, 10);
  return TRUE;
}

static gboolean
parse_message_line (const char *line, gboolean sent, DebugLine *out)
{
  g_autoptr (GRegex) regex
      = g_regex_new ("^\\S+   \\S+ (\\S+) mid=0x([0-9a-f]{4})(?: token=([0-9a-f]+))?", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *code = NULL, *mid = NULL;

  if (!g_regex_match (regex, line, 0, &match))
    return FALSE;
  code = g_match_info_fetch (match, 1);
  mid = g_match_info_fetch (match, 2);
  out->sent = sent;
  out->record = FALSE;
  out->code = coap_code_number (code);
  out->mid = (guint)g_ascii_strtoull (mid, NULL, 16);
  out->token = g_match_info_fetch (match, 3);
  return TRUE;
}

static void
debug_line_clear (gpointer data)
{
  g_free (((DebugLine *)data)->token);
}

/* The record lines and the message lines under them. */
static GArray *
parse_debug (const char *err)
{
  g_auto (GStrv) lines = g_strsplit (err, "\n", -1);
  GArray *out = g_array_new (FALSE, TRUE, sizeof (DebugLine));
  gboolean sent = FALSE;

  g_array_set_clear_func (out, debug_line_clear);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      DebugLine line = { 0 };

      if (parse_record_line (lines[i], &line))
        sent = line.sent;
      else if (!parse_message_line (lines[i], sent, &line))
        continue;
      g_array_append_val (out, line);
    }
  return out;
}

/* Field @i of a frame's ';'-joined records, as a number; -1 if absent. */
static gint64
record_field (GStrv frame, guint field, guint i)
{
  g_auto (GStrv) values = g_strsplit (frame[field], ";", -1);

  if (i >= g_strv_length (values) || *values[i] == '\0')
    return -1;
  return (gint64)g_ascii_strtoull (values[i], NULL, 0);
}

static gboolean
frame_has_record (Fixture *fx, GStrv frame, const DebugLine *line)
{
  gboolean sent = (guint)g_ascii_strtoull (frame[F_DSTPORT], NULL, 10) == fx->dtls_port;
  g_auto (GStrv) types = g_strsplit (frame[F_CONTENT_TYPE], ";", -1);

  if (sent != line->sent)
    return FALSE;
  for (guint i = 0; types[i] != NULL; i++)
    if (record_field (frame, F_CONTENT_TYPE, i) == line->content_type
        && record_field (frame, F_EPOCH, i) == line->epoch
        && record_field (frame, F_SEQ, i) == (gint64)line->seq
        && record_field (frame, F_LENGTH, i) == (gint64)line->length)
      return TRUE;
  return FALSE;
}

static gboolean
frame_has_message (Fixture *fx, GStrv frame, const DebugLine *line)
{
  gboolean sent = (guint)g_ascii_strtoull (frame[F_DSTPORT], NULL, 10) == fx->dtls_port;

  return sent == line->sent && *frame[F_MID] != '\0'
         && (guint)g_ascii_strtoull (frame[F_MID], NULL, 10) == line->mid
         && (guint)g_ascii_strtoull (frame[F_CODE], NULL, 10) == line->code
         && g_str_equal (frame[F_TOKEN], line->token != NULL ? line->token : "");
}

/* Each --debug record line is a record of the capture, each message line
 * under one a decrypted CoAP message of it. */
static void
assert_debug_matches (Fixture *fx, GPtrArray *frames, const char *err)
{
  g_autoptr (GArray) lines = parse_debug (err);
  guint messages = 0;

  g_assert_cmpuint (lines->len, >, 0);
  for (guint i = 0; i < lines->len; i++)
    {
      const DebugLine *line = &g_array_index (lines, DebugLine, i);
      gboolean found = FALSE;

      for (guint f = 0; f < frames->len && !found; f++)
        found = line->record ? frame_has_record (fx, g_ptr_array_index (frames, f), line)
                             : frame_has_message (fx, g_ptr_array_index (frames, f), line);
      if (!found)
        g_test_fail_printf ("--debug line %u (%s) is in no frame", i,
                            line->record ? "a record" : "a CoAP message");
      messages += !line->record;
    }
  g_test_message ("%u --debug lines (%u CoAP messages), each in the capture", lines->len, messages);
  g_assert_cmpuint (messages, >, 0);
}

static void
test_mydailyctl_debug (Fixture *fx, gconstpointer data)
{
  const char *const add[] = { "add", "-", NULL };
  const char *const history[] = { "history", "--no-pager", "-o", "tsv", "-n", "all", NULL };
  g_autoptr (GString) notes = g_string_new (NULL);
  g_autoptr (GPtrArray) frames = NULL;
  g_autofree char *add_err = NULL, *history_err = NULL;
  Seen seen;

  for (guint i = 1; i <= CTL_NOTES; i++)
    g_string_append_printf (notes, "note %u over coaps: backup disk swapped, next Friday\n", i);
  if (!start_capture (fx))
    return;
  /* GnuTLS writes the session secrets there by itself. */
  g_setenv ("SSLKEYLOGFILE", fx->keylog_path, TRUE);
  add_err = run_ctl_coaps (fx, notes->str, add);
  history_err = run_ctl_coaps (fx, NULL, history);
  g_unsetenv ("SSLKEYLOGFILE");
  md_capture_stop (fx->capture);
  frames = read_capture (fx);
  seen = check_capture (frames);
  g_assert_true (seen.put);
  g_assert_cmpuint (seen.records, >=, 2 * CTL_NOTES + 4);
  assert_debug_matches (fx, frames, add_err);
  assert_debug_matches (fx, frames, history_err);
}

int
main (int argc, char **argv)
{
  g_autofree char *reason = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!md_capture_available (&reason))
    {
      g_printerr ("%s; skipping\n", reason);
      return 77;
    }
  g_test_add ("/capture/tshark/dtls-decrypted", Fixture, NULL, fixture_setup, test_decrypted,
              fixture_teardown);
  g_test_add ("/capture/tshark/dtls-mydailyctl-debug", Fixture, NULL, fixture_setup,
              test_mydailyctl_debug, fixture_teardown);
  status = g_test_run ();
  return status == 0 && skipped ? 77 : status;
}
