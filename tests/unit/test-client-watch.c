/* Following (md-ctl-watch) against a scripted server on a manual clock: the
 * newest N first, the doorbell, a gap fetch, the poll that notices a lost
 * observation (a daemon restart) and registers again, and no note twice. */
#include "config.h"

#include "md-ctl-watch.h"
#include "md-fake-server.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  MdFakeServer *server;
  MdClientClock *clock;
  MdClient *client;
  FILE *out;
  MdCtlPrinter *printer;
  GCancellable *stop;
  MdCtlWatch *watch;
  gboolean ready;
  guint8 token[8];
  guint token_len;
} Fixture;

static const char *const notes[] = {
  NULL,
  "1\t2026-12-01T10:00:00Z\talice\tone\n",
  "2\t2026-12-01T10:00:01Z\talice\ttwo\n",
  "3\t2026-12-01T10:00:02Z\talice\tthree\n",
  "4\t2026-12-01T10:00:03Z\talice\tfour\n",
  "5\t2026-12-01T10:00:04Z\talice\tfive\n",
  "6\t2026-12-01T10:00:05Z\talice\tsix\n",
};

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  fx->server = md_fake_server_new ();
  fx->client = md_fake_server_new_client (fx->server, 15.0, &fx->clock);
  fx->out = tmpfile ();
  g_assert_nonnull (fx->out);
  fx->printer = md_ctl_printer_new (fx->out, MD_CTL_FORMAT_TSV, FALSE);
  fx->stop = g_cancellable_new ();
  fx->watch = md_ctl_watch_new (fx->client, fx->printer, fx->stop);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  md_ctl_watch_free (fx->watch);
  md_ctl_printer_free (fx->printer);
  fclose (fx->out);
  g_object_unref (fx->stop);
  md_client_unref (fx->client);
  md_client_clock_unref (fx->clock);
  md_fake_server_free (fx->server);
  md_fake_pump_pending ();
}

static void
on_ready (const GError *error, gpointer data)
{
  Fixture *fx = data;

  g_assert_no_error (error);
  fx->ready = TRUE;
}

/* Notes @first..@last as one body. */
static char *
body (guint first, guint last)
{
  GString *text = g_string_new (NULL);

  for (guint i = first; i <= last; i++)
    g_string_append (text, notes[i]);
  return g_string_free (text, FALSE);
}

static char *
output (Fixture *fx)
{
  g_autofree char *text = NULL;
  long size;

  fflush (fx->out);
  size = ftell (fx->out);
  text = g_malloc0 ((gsize)size + 1);
  rewind (fx->out);
  g_assert_cmpuint (fread (text, 1, (gsize)size, fx->out), ==, (gsize)size);
  return g_steal_pointer (&text);
}

static void
assert_printed (Fixture *fx, guint first, guint last)
{
  g_autofree char *text = output (fx);
  g_autofree char *expected = body (first, last);

  g_assert_cmpstr (text, ==, expected);
}

/* Answers a registration of /latest with note @id. */
static void
expect_registration (Fixture *fx, guint id)
{
  MdCoapMessage request, response;
  g_autofree char *path = NULL;

  md_fake_server_receive (fx->server, &request);
  path = md_coap_message_get_path (&request);
  g_assert_cmpstr (path, ==, "latest");
  g_assert_true (md_coap_message_has_option (&request, MD_COAP_OPTION_OBSERVE));
  memcpy (fx->token, request.token, request.token_len);
  fx->token_len = request.token_len;
  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_add_uint_option (&response, MD_COAP_OPTION_OBSERVE, 1));
  g_assert_true (md_coap_message_set_payload (&response, notes[id], strlen (notes[id])));
  md_fake_server_send (fx->server, &response);
  md_fake_pump_pending ();
}

/* Answers GET /notes?after=@after with notes @after+1..@last. */
static void
expect_fetch (Fixture *fx, guint after, guint last)
{
  MdCoapMessage request, response;
  MdCoapBlock block = { .num = 0, .more = FALSE, .szx = 6 };
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autofree char *text = body (after + 1, last);
  g_autofree char *expected = g_strdup_printf ("%u", after);

  md_fake_server_receive (fx->server, &request);
  path = md_coap_message_get_path (&request);
  query = md_coap_message_get_query (&request, "after");
  g_assert_cmpstr (path, ==, "notes");
  g_assert_cmpstr (query, ==, (after > 0 ? expected : NULL));
  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_add_block (&response, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_true (md_coap_message_set_payload (&response, text, strlen (text)));
  md_fake_server_send (fx->server, &response);
  md_fake_pump_pending ();
}

static void
notify (Fixture *fx, guint id, guint32 sequence)
{
  MdCoapMessage msg;

  md_coap_message_init (&msg, MD_COAP_TYPE_NON, MD_COAP_CONTENT, (guint16)(0x100 + sequence));
  md_coap_message_set_token (&msg, fx->token, (guint8)fx->token_len);
  g_assert_true (md_coap_message_add_uint_option (&msg, MD_COAP_OPTION_OBSERVE, sequence));
  g_assert_true (md_coap_message_set_payload (&msg, notes[id], strlen (notes[id])));
  md_fake_server_send (fx->server, &msg);
  md_fake_pump_pending ();
}

static void
advance_poll (Fixture *fx)
{
  md_client_clock_advance (fx->clock, MD_CTL_WATCH_POLL_MS * G_TIME_SPAN_MILLISECOND);
}

/* Moves the manual clock to the next timer and runs what it started. */
static void
step (Fixture *fx)
{
  gint64 due = md_client_clock_next_due (fx->clock);

  g_assert_cmpint (due, >=, 0);
  md_client_clock_advance (fx->clock, due - md_client_clock_now (fx->clock));
  md_fake_pump_pending ();
}

/* Steps until the client sends.  A fetch still in flight holds back the
 * polls, and its retransmissions follow a random backoff (RFC 7252 §4.8)
 * of up to 2 s, longer than one poll period: whichever request comes
 * first, a retransmission or the next poll, asks for the same notes. */
static void
step_until_request (Fixture *fx)
{
  for (guint i = 0; i < 1000 && !md_fake_server_pending (fx->server); i++)
    step (fx);
}

static void
start (Fixture *fx, gint64 last_n, guint latest)
{
  md_ctl_watch_start (fx->watch, last_n, on_ready, fx);
  expect_registration (fx, latest);
}

static void
test_newest_then_doorbell (Fixture *fx, gconstpointer data)
{
  start (fx, 2, 3);
  expect_fetch (fx, 1, 3);
  g_assert_true (fx->ready);
  assert_printed (fx, 2, 3);
  /* The next note, whole in the notification: printed with no request. */
  notify (fx, 4, 2);
  g_assert_false (md_fake_server_pending (fx->server));
  assert_printed (fx, 2, 4);
  /* A notification that skips a note: the gap is fetched. */
  notify (fx, 6, 3);
  expect_fetch (fx, 4, 6);
  assert_printed (fx, 2, 6);
  /* A stale or repeated notification prints nothing. */
  notify (fx, 5, 4);
  notify (fx, 6, 5);
  g_assert_false (md_fake_server_pending (fx->server));
  assert_printed (fx, 2, 6);
}

static void
test_all_and_none (Fixture *fx, gconstpointer data)
{
  start (fx, -1, 3);
  expect_fetch (fx, 0, 3);
  assert_printed (fx, 1, 3);
}

/* Nothing new: the poll asks and changes nothing.  The daemon restarted
 * and forgot us: the poll finds the notes, prints them and registers
 * again with the same token. */
static void
test_poll_heals_lost_observation (Fixture *fx, gconstpointer data)
{
  guint8 first_token[8];

  start (fx, 0, 3);
  memcpy (first_token, fx->token, fx->token_len);
  expect_fetch (fx, 3, 3);
  assert_printed (fx, 1, 0);
  advance_poll (fx);
  expect_fetch (fx, 3, 3);
  g_assert_false (md_fake_server_pending (fx->server));

  advance_poll (fx);
  expect_fetch (fx, 3, 5);
  assert_printed (fx, 4, 5);
  expect_registration (fx, 5);
  g_assert_cmpmem (fx->token, fx->token_len, first_token, fx->token_len);
  notify (fx, 6, 2);
  assert_printed (fx, 4, 6);
}

/* A server that stops answering for 50 s (three timed-out polls): the
 * failure is shown once, not each time, and the next answer resumes
 * printing. */
static void
test_outage (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      g_test_trap_assert_stderr ("*no answer from*");
      g_test_trap_assert_stderr_unmatched ("*no answer from*no answer from*");
      return;
    }
  start (fx, 0, 3);
  expect_fetch (fx, 3, 3);
  advance_poll (fx);
  for (guint i = 0; i < 1000 && md_client_clock_now (fx->clock) < 50 * G_USEC_PER_SEC; i++)
    {
      while (md_fake_server_pending (fx->server))
        md_fake_server_receive (fx->server, &request);
      step (fx);
    }
  while (md_fake_server_pending (fx->server))
    md_fake_server_receive (fx->server, &request);
  step_until_request (fx);
  expect_fetch (fx, 3, 4);
  assert_printed (fx, 4, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/client/watch/newest-then-doorbell", test_newest_then_doorbell);
  ADD ("/client/watch/all", test_all_and_none);
  ADD ("/client/watch/poll-heals-lost-observation", test_poll_heals_lost_observation);
  ADD ("/client/watch/outage", test_outage);
#undef ADD
  return g_test_run ();
}
