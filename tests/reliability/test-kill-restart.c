/* /reliability/kill-restart: the harness holds the UDP socket as systemd
 * does and restarts mydailyd whenever it dies (Restart=always).  4 clients
 * stream 5,000 notes while the daemon is SIGKILLed again and again, at
 * moments chosen by the stored-record count or by the time since the last
 * start.  Datagrams wait in the held socket's buffer; retransmissions reach
 * a daemon whose predecessor may have stored the note but died before
 * answering.  Afterwards every note is stored exactly once, in order. */
#include "config.h"

#include "md-reliability.h"

#include <signal.h>
#include <string.h>

#define N_CLIENTS 4
#define N_NOTES 1250
#define MIN_KILLS 10
#define MAX_KILLS 60
/* The next kill comes after this many new records or this long after the
 * last start, whichever is first (random in each range). */
#define KILL_RECORDS_MIN 20
#define KILL_RECORDS_MAX 350
#define KILL_DELAY_MIN_MS 5
#define KILL_DELAY_MAX_MS 700
#define POLL_INTERVAL_MS 5
#define RESTART_TIMEOUT_MS 10000
#define CLIENTS_TIMEOUT_MS (900 * 1000)

typedef struct
{
  MdTestDaemon *daemon;
  GRand *rand;
  guint kills;
  gboolean awaiting_restart;
  guint starts_seen;
  gint64 killed_at;
  /* Counting records without rereading the whole file every tick. */
  guint64 records;
  goffset counted_to; /* just past the last '\n' counted */
  /* The plan for the next kill. */
  guint64 kill_at_records;
  gint64 kill_at_time;
} Killer;

/* Counts the '\n's appended since the last call.  Only bytes up to a '\n'
 * are taken as counted, so a torn tail that a restart cuts away and
 * rewrites is read again. */
static void
count_new_records (Killer *k, const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  char buf[65536];
  gssize n;
  goffset pos;

  if (in == NULL || !g_seekable_seek (G_SEEKABLE (in), k->counted_to, G_SEEK_SET, NULL, NULL))
    return;
  pos = k->counted_to;
  for (guint i = 0;
       i < 1000 && (n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL, NULL)) > 0;
       i++)
    {
      for (gssize j = 0; j < n; j++)
        if (buf[j] == '\n')
          {
            k->records++;
            k->counted_to = pos + j + 1;
          }
      pos += n;
    }
}

static void
plan_next_kill (Killer *k)
{
  k->kill_at_records
      = k->records + (guint64)g_rand_int_range (k->rand, KILL_RECORDS_MIN, KILL_RECORDS_MAX);
  k->kill_at_time = g_get_monotonic_time ()
                    + g_rand_int_range (k->rand, KILL_DELAY_MIN_MS, KILL_DELAY_MAX_MS)
                          * G_TIME_SPAN_MILLISECOND;
}

static void
kill_now (Killer *k)
{
  k->starts_seen = md_test_daemon_get_start_count (k->daemon);
  k->awaiting_restart = TRUE;
  k->killed_at = g_get_monotonic_time ();
  md_test_daemon_signal (k->daemon, SIGKILL);
  k->kills++;
  g_test_message ("kill %u at %" G_GUINT64_FORMAT " records, %" G_GSSIZE_FORMAT
                  " bytes queued in the held socket",
                  k->kills, k->records, md_test_daemon_get_queued_bytes (k->daemon));
}

/* Auto-restart starts the next daemon as soon as the harness sees the exit;
 * the next kill is aimed at that one, never at the dead one again. */
static void
check_restarted (Killer *k)
{
  if (md_test_daemon_get_start_count (k->daemon) > k->starts_seen)
    {
      k->awaiting_restart = FALSE;
      plan_next_kill (k);
    }
  else if (g_get_monotonic_time () - k->killed_at > RESTART_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND)
    g_error ("mydailyd was not restarted within %d ms of kill %u", RESTART_TIMEOUT_MS, k->kills);
}

/* Runs from the main context while the test waits for the clients. */
static gboolean
on_killer_tick (gpointer data)
{
  Killer *k = data;

  if (k->awaiting_restart)
    {
      check_restarted (k);
      return G_SOURCE_CONTINUE;
    }
  if (k->kills >= MAX_KILLS || !md_test_daemon_is_running (k->daemon))
    return G_SOURCE_CONTINUE;
  count_new_records (k, md_test_daemon_get_notes_path (k->daemon));
  if (k->records >= k->kill_at_records || g_get_monotonic_time () >= k->kill_at_time)
    kill_now (k);
  return G_SOURCE_CONTINUE;
}

/* Waiting for the clients pumps the main context, and with it the
 * killer's ticks. */
static GPtrArray *
run_clients (MdTestDaemon *daemon)
{
  const char *const argv[] = { "--timeout=120", "add", "-", NULL };
  const char *const *argvs[N_CLIENTS];
  GBytes *inputs[N_CLIENTS];
  GPtrArray *results;

  for (guint c = 0; c < N_CLIENTS; c++)
    {
      argvs[c] = argv;
      inputs[c] = md_rel_client_input (c, N_NOTES);
    }
  results = md_test_ctl_run_many (md_test_daemon_get_address (daemon), N_CLIENTS, argvs, inputs,
                                  CLIENTS_TIMEOUT_MS);
  for (guint c = 0; c < N_CLIENTS; c++)
    g_bytes_unref (inputs[c]);
  return results;
}

static void
stop_supervised (MdTestDaemon *daemon)
{
  g_autoptr (GError) error = NULL;

  g_autoptr (MdTestCtlResult) status = NULL;

  md_test_daemon_set_auto_restart (daemon, FALSE);
  /* The last restart may still be starting up; an answer shows it serves
   * (and so handles SIGTERM) without guessing a delay. */
  status = md_test_ctl_runv (daemon, NULL, "--timeout=30", "status", NULL);
  g_assert_cmpint (status->exit_status, ==, 0);
  md_test_daemon_stop (daemon, &error);
  g_assert_no_error (error);
}

static guint
count_in (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = haystack; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* How often the cases this test is about happened (the verbose log shows
 * every answer): a retransmission answered 4.12 because a killed
 * predecessor had stored the note, and a torn tail cut at start. */
static void
report_recoveries (MdTestDaemon *daemon)
{
  g_autofree char *log = md_test_daemon_get_log (daemon);

  g_test_message ("answers 4.12 (stored before a kill or a lost answer): %u; torn tails: %u",
                  count_in (log, "ACK 4.12"), count_in (log, "torn tail"));
}

static void
test_kill_restart (void)
{
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_HELD);
  g_autoptr (GRand) rand = g_rand_new_with_seed (md_rel_seed ("/reliability/kill-restart"));
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  Killer k = { daemon, rand };
  gint64 start;
  guint tick;

  md_test_daemon_start (daemon, &error);
  g_assert_no_error (error);
  md_test_daemon_set_auto_restart (daemon, TRUE);
  plan_next_kill (&k);

  start = g_get_monotonic_time ();
  tick = g_timeout_add (POLL_INTERVAL_MS, on_killer_tick, &k);
  results = run_clients (daemon);
  g_source_remove (tick);
  g_test_message ("%u clients added %u notes in %.1f s with %u kills (%u daemon starts)", N_CLIENTS,
                  N_CLIENTS * N_NOTES, md_rel_seconds_since (start), k.kills,
                  md_test_daemon_get_start_count (daemon));
  stop_supervised (daemon);
  report_recoveries (daemon);

  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (daemon));
  md_rel_assert_exactly_once (records, N_CLIENTS, N_NOTES);
  for (guint c = 0; c < N_CLIENTS; c++)
    md_rel_assert_client_ok (results->pdata[c], records, c, N_NOTES);
  g_assert_cmpuint (k.kills, >=, MIN_KILLS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  md_rel_add ("/reliability/kill-restart", test_kill_restart);
  return md_rel_run ();
}
