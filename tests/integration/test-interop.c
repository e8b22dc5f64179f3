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
  return g_test_run ();
}
