/* libcoap's stock client against mydailyd: the daemon speaks plain CoAP, so
 * coap-client-notls can add a note and read the history block-wise.  Exits
 * 77 (skip) when coap-client-notls is not installed.
 *
 * coap-client always exits 0, so the checks read what it printed (-o FILE
 * for the body, its log for response codes) and the notes file. */
#include "config.h"

#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <string.h>

#define COAP_CLIENT "coap-client-notls"
#define COAP_TIMEOUT_MS 60000

typedef struct
{
  MdTestDaemon *daemon;
  char *out_path;
} Fixture;

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  /* The response bodies go next to the state directory, removed with it. */
  {
    g_autofree char *root = g_path_get_dirname (md_test_daemon_get_state_dir (fx->daemon));

    fx->out_path = g_build_filename (root, "coap-body", NULL);
  }
}

/* About 20 KB of history, written before the daemon starts (old 4-field
 * lines, which every version reads): twenty full blocks. */
static void
fixture_setup_history (Fixture *fx, gconstpointer data)
{
  g_autoptr (GString) notes = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;
  g_autofree char *path = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_assert_cmpint (g_mkdir_with_parents (md_test_daemon_get_state_dir (fx->daemon), 0700), ==, 0);
  path = g_build_filename (md_test_daemon_get_state_dir (fx->daemon), "notes", NULL);
  for (guint id = 1; notes->len < 20 * 1024; id++)
    g_string_append_printf (notes, "%u\t2026-11-30T08:00:00Z\t-\thistory note %u for libcoap\n", id,
                            id);
  g_file_set_contents (path, notes->str, (gssize)notes->len, &error);
  g_assert_no_error (error);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  root = g_path_get_dirname (md_test_daemon_get_state_dir (fx->daemon));
  fx->out_path = g_build_filename (root, "coap-body", NULL);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_unlink (fx->out_path);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
  g_free (fx->out_path);
}

static char *
uri (Fixture *fx, const char *path)
{
  return g_strdup_printf ("coap://%s%s", md_test_daemon_get_address (fx->daemon), path);
}

/* Runs coap-client-notls with the verbosity that logs every PDU. */
static MdTestCtlResult *
coap_client (GPtrArray *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) run = NULL;

  g_ptr_array_insert (args, 0, (gpointer)COAP_CLIENT);
  g_ptr_array_insert (args, 1, (gpointer) "-v");
  g_ptr_array_insert (args, 2, (gpointer) "7");
  g_ptr_array_insert (args, 3, (gpointer) "-B");
  g_ptr_array_insert (args, 4, (gpointer) "20");
  g_ptr_array_add (args, NULL);
  run = md_test_command_spawn ((const char *const *)args->pdata, NULL, &error);
  g_assert_no_error (error);
  return md_test_ctl_wait (run, COAP_TIMEOUT_MS);
}

/* POSTs @payload to /notes; returns the client's log (stdout and stderr). */
static char *
post (Fixture *fx, const char *payload)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *target = uri (fx, "/notes");
  g_autoptr (MdTestCtlResult) r = NULL;

  g_ptr_array_add (args, (gpointer) "-m");
  g_ptr_array_add (args, (gpointer) "post");
  g_ptr_array_add (args, (gpointer) "-e");
  g_ptr_array_add (args, (gpointer)payload);
  g_ptr_array_add (args, target);
  r = coap_client (args);
  g_test_message ("POST log:\n%s%s", r->out, r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  return g_strconcat (r->out, r->err, NULL);
}

static void
post_note (Fixture *fx, const char *payload)
{
  g_autofree char *log = post (fx, payload);

  /* libcoap logs every PDU it receives with its code. */
  g_assert_nonnull (strstr (log, "c:2.01"));
}

static GPtrArray *
read_records (Fixture *fx)
{
  return md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
}

static void
report_echo (MdTestCtlResult *r)
{
  const char *log = strlen (r->err) > 0 ? r->err : r->out;
  gboolean challenged = strstr (log, "4.01") != NULL;

  /* Say in the log whether the amplification guard was exercised. */
  g_test_message ("server %s a 4.01 Echo challenge; coap-client %s",
                  challenged ? "sent" : "did not send",
                  challenged ? "answered it (the body arrived)" : "was never challenged");
}

static void
test_post_then_blockwise_get (Fixture *fx, gconstpointer data)
{
  g_autofree char *long_note = g_strnfill (300, 'L');
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *target = uri (fx, "/notes");
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GError) error = NULL;

  post_note (fx, "hello from libcoap");
  /* -e takes percent-encoding for non-ASCII: "今天" */
  post_note (fx, "%E4%BB%8A%E5%A4%A9 CoAP");
  post_note (fx, long_note);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpstr (((MdTestRecord *)records->pdata[0])->text, ==, "hello from libcoap");
  g_assert_cmpstr (((MdTestRecord *)records->pdata[1])->text, ==, "今天 CoAP");
  g_assert_cmpstr (((MdTestRecord *)records->pdata[2])->key, ==, "-");

  g_ptr_array_add (args, (gpointer) "-b");
  g_ptr_array_add (args, (gpointer) "64");
  g_ptr_array_add (args, (gpointer) "-o");
  g_ptr_array_add (args, fx->out_path);
  g_ptr_array_add (args, target);
  r = coap_client (args);
  g_test_message ("GET log:\n%s%s", r->out, r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  report_echo (r);
  g_file_get_contents (fx->out_path, &body, NULL, &error);
  g_assert_no_error (error);
  wire = md_test_records_to_wire (records);
  g_assert_cmpuint (strlen (wire), >, 6 * 64);
  g_assert_nonnull (strstr (body, "hello from libcoap"));
  g_assert_cmpstr (body, ==, wire);
}

/* GET /notes with coap-client: the body must be the history; returns the
 * client's log. */
static char *
get_history (Fixture *fx)
{
  g_autoptr (GPtrArray) records = read_records (fx);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *target = uri (fx, "/notes");
  g_autofree char *wire = md_test_records_to_wire (records);
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GError) error = NULL;

  g_unlink (fx->out_path);
  g_ptr_array_add (args, (gpointer) "-o");
  g_ptr_array_add (args, fx->out_path);
  g_ptr_array_add (args, target);
  r = coap_client (args);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_file_get_contents (fx->out_path, &body, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (body, ==, wire);
  return g_strconcat (r->out, r->err, NULL);
}

/* How many of the 2.05 blocks in @log are @size bytes, and how many in all. */
static guint
count_blocks (const char *log, guint size, guint *total)
{
  g_autoptr (GRegex) regex = g_regex_new ("c:2\\.05 .*Block2:[0-9]+/[_M]/([0-9]+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  guint n = 0;

  *total = 0;
  g_regex_match (regex, log, 0, &match);
  while (g_match_info_matches (match))
    {
      g_autofree char *found = g_match_info_fetch (match, 1);

      (*total)++;
      n += (guint)g_ascii_strtoull (found, NULL, 10) == size;
      g_match_info_next (match, NULL);
    }
  return n;
}

/* A client that answers Echo: the first read goes in small blocks within
 * the budget, offering an Echo value that coap-client sends back (RFC 7959
 * lets a client keep the server's smaller size for the rest of a transfer,
 * and libcoap does).  That proves the address, on every port, so the next
 * read is in full 1024-byte blocks from the start. */
static void
test_echo_then_full_blocks (Fixture *fx, gconstpointer data)
{
  g_autofree char *first = get_history (fx);
  g_autofree char *second = NULL;
  guint full, total;

  g_assert_true (g_regex_match_simple ("c:2\\.05 .*Echo:", first, 0, 0));
  g_assert_true (g_regex_match_simple ("c:GET .*Echo:", first, 0, 0));
  full = count_blocks (first, 1024, &total);
  g_test_message ("first read: %u blocks, %u of 1024 bytes", total, full);
  g_assert_cmpuint (full, <, total);

  second = get_history (fx);
  full = count_blocks (second, 1024, &total);
  g_test_message ("second read: %u blocks, %u of 1024 bytes", total, full);
  g_assert_cmpuint (total, >=, 20);
  /* Every block full but the last. */
  g_assert_cmpuint (full, >=, total - 1);
  g_assert_false (g_regex_match_simple ("c:2\\.05 .*Echo:", second, 0, 0));
}

static void
assert_post_rejected (Fixture *fx, const char *payload, const char *reason)
{
  g_autofree char *log = post (fx, payload);

  /* 4.00, or 4.13 with Size1 for a note that is too long. */
  g_assert_true (g_regex_match_simple ("c:4\\.(00|13) .*", log, 0, 0));
  g_assert_nonnull (strstr (log, reason));
}

/* The daemon itself enforces the note rules, whatever client sends them. */
static void
test_post_rejected (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *too_long = g_strnfill (1001, 'x');

  assert_post_rejected (fx, "", "empty");
  assert_post_rejected (fx, too_long, "1000");
  assert_post_rejected (fx, "caf%E9", "UTF-8");
  assert_post_rejected (fx, "%1B[31mred", "control");
  assert_post_rejected (fx, "two%0Alines", "control");
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 0);
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
  g_test_add ("/interop/coap-client/post-then-blockwise-get", Fixture, NULL, fixture_setup,
              test_post_then_blockwise_get, fixture_teardown);
  g_test_add ("/interop/coap-client/post-rejected", Fixture, NULL, fixture_setup,
              test_post_rejected, fixture_teardown);
  g_test_add ("/interop/coap-client/echo-then-full-blocks", Fixture, NULL, fixture_setup_history,
              test_echo_then_full_blocks, fixture_teardown);
  return g_test_run ();
}
