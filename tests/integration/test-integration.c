/* mydailyd and mydailyctl together on loopback: every case runs against a
 * daemon that binds its own socket (--listen) and one started by
 * systemd-socket-activate (LISTEN_FDS); a few run with the harness holding
 * the socket, as systemd does for mydaily.socket, to kill and restart it. */
#include "config.h"

#include "md-test-daemon.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define BIG_CLIENT_TIMEOUT_MS 240000
#define NO_SERVER_TIMEOUT_S 1

typedef struct
{
  MdTestDaemon *daemon;
} Fixture;

typedef void (*FixtureTest) (Fixture *fx, gconstpointer data);

/* ---- fixture ---- */

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  MdTestDaemonMode mode = GPOINTER_TO_INT (data);
  g_autofree char *reason = NULL;
  g_autoptr (GError) error = NULL;

  if (!md_test_daemon_mode_available (mode, &reason))
    {
      g_test_skip (reason);
      return;
    }
  fx->daemon = md_test_daemon_new (mode);
  if (md_test_daemon_start (fx->daemon, &error))
    return;
  /* Fail this case only; the test bodies see no daemon and return. */
  g_test_fail_printf ("starting mydailyd: %s", error->message);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (fx->daemon == NULL)
    return;
  /* Every test also checks the contract's clean shutdown: SIGTERM, exit 0. */
  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
}

/* ---- helpers ---- */

static void
show_result (MdTestCtlResult *r)
{
  g_test_message ("exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s", r->exit_status, r->out,
                  r->err);
}

static void
assert_exit (MdTestCtlResult *r, int expected)
{
  if (r->exit_status != expected)
    show_result (r);
  g_assert_cmpint (r->exit_status, ==, expected);
}

static GPtrArray *
read_records (Fixture *fx)
{
  return md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
}

static MdTestRecord *
record_at (GPtrArray *records, guint i)
{
  g_assert_cmpuint (i, <, records->len);
  return records->pdata[i];
}

/* "added note ID" on stdout, the id returned. */
static guint64
parse_added (const char *line)
{
  guint64 id = 0;

  g_assert_true (g_str_has_prefix (line, "added note "));
  g_assert_true (
      g_ascii_string_to_unsigned (line + strlen ("added note "), 10, 1, G_MAXUINT64, &id, NULL));
  return id;
}

static guint64
add_note (Fixture *fx, const char *text)
{
  g_autoptr (MdTestCtlResult) r = md_test_ctl_runv (fx->daemon, NULL, "add", text, NULL);
  g_autofree char *line = NULL;

  assert_exit (r, 0);
  line = g_strchomp (g_strdup (r->out));
  return parse_added (line);
}

static char *
history (Fixture *fx, const char *format)
{
  g_autoptr (MdTestCtlResult) r
      = md_test_ctl_runv (fx->daemon, NULL, "history", "-o", format, NULL);

  assert_exit (r, 0);
  g_assert_true (g_utf8_validate (r->out, r->out_len, NULL));
  return g_steal_pointer (&r->out);
}

static void
assert_history_is_file (Fixture *fx)
{
  g_autoptr (GPtrArray) records = read_records (fx);
  g_autofree char *wire = md_test_records_to_wire (records);
  g_autofree char *tsv = history (fx, "tsv");

  g_assert_cmpstr (tsv, ==, wire);
}

/* RFC 3339 UTC with seconds, and the server's "now" (give or take a minute). */
static void
assert_time_is_now (const char *time)
{
  g_autoptr (GDateTime) when = g_date_time_new_from_iso8601 (time, NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  g_assert_true (g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                                       time, 0, 0));
  g_assert_nonnull (when);
  g_assert_cmpint (ABS (g_date_time_difference (now, when)), <, 60 * G_TIME_SPAN_SECOND);
}

static void
assert_key_format (const char *key)
{
  g_assert_true (g_regex_match_simple (
      "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", key, 0, 0));
}

static void
assert_json_line (const char *line, MdTestRecord *record)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = json_from_string (line, &error);
  JsonObject *object;

  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, (gint64)record->id);
  g_assert_cmpstr (json_object_get_string_member (object, "time"), ==, record->time);
  g_assert_cmpstr (json_object_get_string_member (object, "author"), ==, record->author);
  g_assert_cmpstr (json_object_get_string_member (object, "text"), ==, record->text);
}

static void
assert_json_history (Fixture *fx, GPtrArray *records)
{
  g_autofree char *json = history (fx, "json");
  g_auto (GStrv) lines = g_strsplit (json, "\n", -1);

  g_assert_cmpuint (g_strv_length (lines), ==, records->len + 1);
  g_assert_cmpstr (lines[records->len], ==, "");
  for (guint i = 0; i < records->len; i++)
    assert_json_line (lines[i], records->pdata[i]);
}

/* "YYYY-MM-DD HH:MM  AUTHOR  TEXT" in local time. */
static char *
short_line (MdTestRecord *record)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_iso8601 (record->time, NULL);
  g_autoptr (GDateTime) local = NULL;
  g_autofree char *when = NULL;

  g_assert_nonnull (utc);
  local = g_date_time_to_local (utc);
  when = g_date_time_format (local, "%Y-%m-%d %H:%M");
  return g_strdup_printf ("%s  %s  %s\n", when, record->author, record->text);
}

static void
assert_short_history (Fixture *fx, GPtrArray *records)
{
  g_autofree char *out = history (fx, "short");
  g_autoptr (GString) expected = g_string_new (NULL);

  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *line = short_line (records->pdata[i]);

      g_string_append (expected, line);
    }
  g_assert_cmpstr (out, ==, expected->str);
}

static void
assert_single_note (Fixture *fx, const char *text)
{
  g_autoptr (GPtrArray) records = read_records (fx);
  MdTestRecord *record;

  g_assert_cmpuint (records->len, ==, 1);
  record = record_at (records, 0);
  g_assert_cmpuint (record->id, ==, 1);
  g_assert_cmpstr (record->text, ==, text);
  /* A plain add from loopback: the address, without the port. */
  g_assert_cmpstr (record->author, ==, "@127.0.0.1");
  assert_time_is_now (record->time);
  assert_key_format (record->key);
  assert_history_is_file (fx);
  assert_json_history (fx, records);
  assert_short_history (fx, records);
}

static GBytes *
lines_bytes (GPtrArray *texts)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < texts->len; i++)
    g_string_append_printf (s, "%s\n", (const char *)texts->pdata[i]);
  return g_string_free_to_bytes (s);
}

/* ---- round trips ---- */

static void
test_round_trip_ascii (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdTestCtlResult) r = NULL;

  if (fx->daemon == NULL)
    return;
  /* Words are joined with single spaces. */
  r = md_test_ctl_runv (fx->daemon, NULL, "add", "hello", "from", "the", "LAN", NULL);
  assert_exit (r, 0);
  g_assert_cmpstr (r->out, ==, "added note 1\n");
  assert_single_note (fx, "hello from the LAN");
}

static void
test_round_trip_chinese (Fixture *fx, gconstpointer data)
{
  const char *text = "今天学习了 UDP 和 CoAP";

  if (fx->daemon == NULL)
    return;
  g_assert_cmpuint (add_note (fx, text), ==, 1);
  assert_single_note (fx, text);
}

static void
test_round_trip_stdin (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GPtrArray) records = NULL;

  if (fx->daemon == NULL)
    return;
  /* One note per line, empty lines skipped, in order. */
  r = md_test_ctl_runv (fx->daemon, "第一条\n\nsecond line\n第三条 third\n", "add", "-", NULL);
  assert_exit (r, 0);
  g_assert_cmpstr (r->out, ==, "added note 1\nadded note 2\nadded note 3\n");
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpstr (record_at (records, 0)->text, ==, "第一条");
  g_assert_cmpstr (record_at (records, 1)->text, ==, "second line");
  g_assert_cmpstr (record_at (records, 2)->text, ==, "第三条 third");
  assert_history_is_file (fx);
  assert_json_history (fx, records);
}

static void
test_history_filters (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdTestCtlResult) last = NULL;
  g_autoptr (MdTestCtlResult) after = NULL;
  g_autoptr (GPtrArray) records = NULL;

  if (fx->daemon == NULL)
    return;
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("note number %u", i);

      g_assert_cmpuint (add_note (fx, text), ==, i);
    }
  records = read_records (fx);
  last = md_test_ctl_runv (fx->daemon, NULL, "history", "-n", "2", "-o", "tsv", NULL);
  assert_exit (last, 0);
  after = md_test_ctl_runv (fx->daemon, NULL, "history", "--after=3", "-o", "tsv", NULL);
  assert_exit (after, 0);
  /* The last two notes are 4 and 5, and so are those after 3. */
  g_ptr_array_remove_range (records, 0, 3);
  {
    g_autofree char *wire = md_test_records_to_wire (records);

    g_assert_cmpstr (last->out, ==, wire);
    g_assert_cmpstr (after->out, ==, wire);
  }
}

/* history -o tsv with @args before it, asserting success. */
static char *
history_tsv_with (Fixture *fx, const char *arg)
{
  g_autoptr (MdTestCtlResult) r
      = md_test_ctl_runv (fx->daemon, NULL, "history", "-o", "tsv", arg, NULL);

  assert_exit (r, 0);
  return g_steal_pointer (&r->out);
}

/* A notes file from before authors opens as it is; its notes are served
 * with the author "-", new ones with theirs, and --author picks either. */
static void
test_history_authors (Fixture *fx, gconstpointer data)
{
  static const char old[] = "1\t2026-11-24T19:42:57Z\t-\twritten before authors\n"
                            "2\t2026-11-24T19:43:00Z\t3f2504e0-4f89-41d3-9a0c-0305e82c3301\t"
                            "also old\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (MdTestCtlResult) bad = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *old_ones = NULL;
  g_autofree char *new_ones = NULL;
  g_autofree char *nobody = NULL;
  g_autofree char *wire = NULL;

  if (fx->daemon == NULL)
    return;
  md_test_daemon_stop (fx->daemon, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (md_test_daemon_get_notes_path (fx->daemon), old, -1, &error));
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (add_note (fx, "written with an author"), ==, 3);
  /* The old records are never rewritten. */
  g_assert_true (
      g_file_get_contents (md_test_daemon_get_notes_path (fx->daemon), &contents, NULL, &error));
  g_assert_true (g_str_has_prefix (contents, old));
  g_assert_true (g_str_has_suffix (contents, "\t@127.0.0.1\twritten with an author\n"));
  records = read_records (fx);
  g_assert_cmpstr (record_at (records, 0)->author, ==, "-");
  g_assert_cmpstr (record_at (records, 2)->author, ==, "@127.0.0.1");
  assert_history_is_file (fx);
  assert_json_history (fx, records);
  assert_short_history (fx, records);

  old_ones = history_tsv_with (fx, "--author=-");
  new_ones = history_tsv_with (fx, "--author=@127.0.0.1");
  nobody = history_tsv_with (fx, "--author=alice");
  g_assert_cmpstr (nobody, ==, "");
  wire = md_test_records_to_wire (records);
  g_assert_true (g_str_has_prefix (wire, old_ones));
  g_assert_true (g_str_has_suffix (old_ones, "\t-\talso old\n"));
  g_assert_true (g_str_has_suffix (wire, new_ones));
  g_assert_true (g_str_has_prefix (new_ones, "3\t"));
  g_assert_true (strchr (new_ones, '\n') == new_ones + strlen (new_ones) - 1);
  /* A name no note can have is a usage error, not an empty answer. */
  bad = md_test_ctl_runv (fx->daemon, NULL, "history", "--author=al ice", NULL);
  assert_exit (bad, 64);
  g_assert_nonnull (strstr (bad->err, "--author"));
}

/* ---- a history bigger than one block, many times over ---- */

static char *
big_text (guint i)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "big note %03u:", i);
  /* Multi-byte characters make some block boundaries fall inside one. */
  while (s->len < 790)
    g_string_append (s, " 日记 notebook");
  return g_string_free (s, FALSE);
}

static void
test_history_large (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) input = NULL;
  g_autoptr (MdTestCtl) ctl = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *tsv = NULL;
  const char *argv[] = { "add", "-", NULL };

  if (fx->daemon == NULL)
    return;
  for (guint i = 0; i < 150; i++)
    g_ptr_array_add (texts, big_text (i));
  input = lines_bytes (texts);
  ctl = md_test_ctl_spawn (md_test_daemon_get_address (fx->daemon), input, argv, &error);
  g_assert_no_error (error);
  r = md_test_ctl_wait (ctl, BIG_CLIENT_TIMEOUT_MS);
  assert_exit (r, 0);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, texts->len);
  for (guint i = 0; i < texts->len; i++)
    g_assert_cmpstr (record_at (records, i)->text, ==, texts->pdata[i]);
  wire = md_test_records_to_wire (records);
  g_assert_cmpuint (strlen (wire), >, 100 * 1024);
  tsv = history (fx, "tsv");
  g_assert_cmpuint (strlen (tsv), ==, strlen (wire));
  g_assert_cmpstr (tsv, ==, wire);
}

/* ---- many clients at once ---- */

static char *
client_text (guint client, guint note)
{
  return g_strdup_printf ("client %u note %u", client, note);
}

static GPtrArray *
run_clients (Fixture *fx, guint n_clients, guint n_notes)
{
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  g_autofree const char *const **argvs = g_new0 (const char *const *, n_clients);
  const char *argv[] = { "add", "-", NULL };

  for (guint c = 0; c < n_clients; c++)
    {
      g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

      for (guint n = 0; n < n_notes; n++)
        g_ptr_array_add (texts, client_text (c, n));
      g_ptr_array_add (inputs, lines_bytes (texts));
      argvs[c] = argv;
    }
  return md_test_ctl_run_many (md_test_daemon_get_address (fx->daemon), n_clients, argvs,
                               (GBytes *const *)inputs->pdata, BIG_CLIENT_TIMEOUT_MS);
}

/* Every note exactly once, each client's notes in the order it sent them,
 * ids 1, 2, 3, ... without gaps. */
static void
assert_clients_stored (GPtrArray *records, guint n_clients, guint n_notes)
{
  g_autofree guint *next = g_new0 (guint, n_clients);

  g_assert_cmpuint (records->len, ==, n_clients * n_notes);
  for (guint i = 0; i < records->len; i++)
    {
      MdTestRecord *record = records->pdata[i];
      guint client = 0, note = 0;
      g_autofree char *expected = NULL;

      g_assert_cmpuint (record->id, ==, i + 1);
      g_assert_cmpint (sscanf (record->text, "client %u note %u", &client, &note), ==, 2);
      g_assert_cmpuint (client, <, n_clients);
      expected = client_text (client, next[client]);
      g_assert_cmpstr (record->text, ==, expected);
      next[client]++;
    }
  for (guint c = 0; c < n_clients; c++)
    g_assert_cmpuint (next[c], ==, n_notes);
}

static guint
count_lines (const char *s)
{
  guint n = 0;

  for (const char *p = strchr (s, '\n'); p != NULL; p = strchr (p + 1, '\n'))
    n++;
  return n;
}

static void
check_concurrent (Fixture *fx, guint n_clients, guint n_notes)
{
  g_autoptr (GPtrArray) results = NULL;
  g_autoptr (GPtrArray) records = NULL;

  if (fx->daemon == NULL)
    return;
  results = run_clients (fx, n_clients, n_notes);
  for (guint c = 0; c < n_clients; c++)
    {
      MdTestCtlResult *r = results->pdata[c];

      assert_exit (r, 0);
      g_assert_cmpuint (count_lines (r->out), ==, n_notes);
    }
  records = read_records (fx);
  assert_clients_stored (records, n_clients, n_notes);
  assert_history_is_file (fx);
}

static void
test_concurrent_ten (Fixture *fx, gconstpointer data)
{
  check_concurrent (fx, 10, 200);
}

static void
test_concurrent_two (Fixture *fx, gconstpointer data)
{
  check_concurrent (fx, 2, 1000);
}

/* ---- restarts ---- */

static void
restart (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  md_test_daemon_stop (fx->daemon, &error);
  g_assert_no_error (error);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
}

static void
test_restart_keeps_notes (Fixture *fx, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (fx->daemon == NULL)
    return;
  add_note (fx, "before the restart");
  add_note (fx, "重启之前");
  before = history (fx, "tsv");
  restart (fx);
  after = history (fx, "tsv");
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (add_note (fx, "after the restart"), ==, 3);
  assert_history_is_file (fx);
}

static void
append_torn_tail (Fixture *fx, const char *tail)
{
  g_autoptr (GFile) file = g_file_new_for_path (md_test_daemon_get_notes_path (fx->daemon));
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileOutputStream) out = g_file_append_to (file, G_FILE_CREATE_NONE, NULL, &error);

  g_assert_no_error (error);
  g_output_stream_write_all (G_OUTPUT_STREAM (out), tail, strlen (tail), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error);
  g_assert_no_error (error);
}

static void
test_restart_torn_tail (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (fx->daemon == NULL)
    return;
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("complete record %u", i);

      add_note (fx, text);
    }
  before = history (fx, "tsv");
  md_test_daemon_stop (fx->daemon, &error);
  g_assert_no_error (error);
  /* What a crash in the middle of a write leaves: a record without its '\n'. */
  append_torn_tail (fx, "4\t2026-11-24T19:42:57Z\t-\t@127.0.0.1\tthis record was torn in hal");
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  after = history (fx, "tsv");
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (add_note (fx, "written after recovery"), ==, 4);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 4);
  g_assert_cmpstr (record_at (records, 3)->text, ==, "written after recovery");
  assert_history_is_file (fx);
}

/* ---- rejected notes ---- */

static void
assert_nothing_stored (Fixture *fx)
{
  g_autoptr (GPtrArray) records = read_records (fx);
  g_autofree char *tsv = history (fx, "tsv");

  g_assert_cmpuint (records->len, ==, 0);
  g_assert_cmpstr (tsv, ==, "");
}

static void
assert_rejected (Fixture *fx, MdTestCtlResult *r, const char *problem)
{
  g_autofree char *err = g_utf8_strdown (r->err, -1);

  assert_exit (r, 1);
  g_assert_cmpstr (r->out, ==, "");
  if (strstr (err, problem) == NULL)
    show_result (r);
  /* The contract's form: "mydailyctl: note rejected: <the server's reason>". */
  g_assert_nonnull (strstr (err, "note rejected: "));
  g_assert_nonnull (strstr (err, problem));
  assert_nothing_stored (fx);
}

/* Each bad note is refused with its reason, and nothing is stored. */
static void
test_reject_bad_notes (Fixture *fx, gconstpointer data)
{
  g_autofree char *too_long = g_strnfill (1001, 'x');
  const struct
  {
    const char *stdin_text; /* for "add -", or NULL */
    const char *argument;
    const char *problem;
  } cases[] = {
    { NULL, "", "empty" },
    { NULL, too_long, "1000" },
    { "caf\xe9 au lait \xff\xfe\n", "-", "utf-8" },
    { NULL, "\x1b[31mred alert", "control" },
  };

  if (fx->daemon == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MdTestCtlResult) r
          = md_test_ctl_runv (fx->daemon, cases[i].stdin_text, "add", cases[i].argument, NULL);

      g_test_message ("bad note: %s", cases[i].problem);
      assert_rejected (fx, r, cases[i].problem);
    }
}

/* A script that reruns "add --key=K" after a crash must not store twice,
 * and a key reused for other text must be refused, not reported as added. */
static void
test_add_with_key (Fixture *fx, gconstpointer data)
{
  const char *key = "7d0c5a1e-2b3f-4c6d-8e9f-a0b1c2d3e4f5";
  g_autoptr (MdTestCtlResult) first = NULL;
  g_autoptr (MdTestCtlResult) again = NULL;
  g_autoptr (MdTestCtlResult) other = NULL;
  g_autoptr (GPtrArray) records = NULL;

  if (fx->daemon == NULL)
    return;
  first = md_test_ctl_runv (fx->daemon, NULL, "add", "--key", key, "run", "once", NULL);
  assert_exit (first, 0);
  again = md_test_ctl_runv (fx->daemon, NULL, "add", "--key", key, "run", "once", NULL);
  assert_exit (again, 0);
  g_assert_cmpstr (again->out, ==, first->out);
  other = md_test_ctl_runv (fx->daemon, NULL, "add", "--key", key, "something else", NULL);
  assert_exit (other, 1);
  g_assert_nonnull (strstr (other->err, "note rejected: its key already names note 1"));

  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpstr (record_at (records, 0)->key, ==, key);
  g_assert_cmpstr (record_at (records, 0)->text, ==, "run once");
}

static void
test_accept_limits (Fixture *fx, gconstpointer data)
{
  g_autofree char *ascii = g_strnfill (1000, 'y');
  g_autoptr (GString) wide = g_string_new (NULL);
  g_autoptr (GPtrArray) records = NULL;

  if (fx->daemon == NULL)
    return;
  /* 333 three-byte characters and one byte: exactly 1000 bytes. */
  for (guint i = 0; i < 333; i++)
    g_string_append (wide, "记");
  g_string_append_c (wide, '!');
  g_assert_cmpuint (wide->len, ==, 1000);
  g_assert_cmpuint (add_note (fx, ascii), ==, 1);
  g_assert_cmpuint (add_note (fx, wide->str), ==, 2);
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpstr (record_at (records, 0)->text, ==, ascii);
  g_assert_cmpstr (record_at (records, 1)->text, ==, wide->str);
  assert_history_is_file (fx);
}

/* ---- no server, status ---- */

static void
test_no_server (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autofree char *server = NULL;
  g_autofree char *timeout = g_strdup_printf ("--timeout=%d", NO_SERVER_TIMEOUT_S);
  const char *argv[] = { timeout, "--no-queue", "add", "into the void", NULL };
  guint16 port;
  gint64 started;

  if (fx->daemon == NULL)
    return;
  port = md_test_free_udp_port (&error);
  g_assert_no_error (error);
  server = g_strdup_printf ("127.0.0.1:%u", port);
  started = g_get_monotonic_time ();
  r = md_test_ctl_run (server, NULL, argv, 30000);
  assert_exit (r, 2);
  g_assert_nonnull (strstr (r->err, server));
  /* --timeout bounds the whole request, give or take one backoff step. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 5 * G_TIME_SPAN_SECOND);
}

static void
test_status (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdTestCtlResult) r = NULL;
  g_auto (GStrv) lines = NULL;

  if (fx->daemon == NULL)
    return;
  for (guint i = 0; i < 3; i++)
    add_note (fx, "counted");
  r = md_test_ctl_runv (fx->daemon, NULL, "status", NULL);
  assert_exit (r, 0);
  lines = g_strsplit (r->out, "\n", -1);
  g_assert_true (g_strv_contains ((const char *const *)lines, "notes: 3"));
}

static gboolean
status_counts_three (gpointer data)
{
  const char *status = md_test_daemon_get_status (data);

  return status != NULL && g_regex_match_simple ("(^|[^0-9])3([^0-9]|$)", status, 0, 0);
}

/* sd_notify: STATUS= carries the note count; SIGTERM brings STOPPING=1. */
static void
test_notify (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (fx->daemon == NULL)
    return;
  for (guint i = 0; i < 3; i++)
    add_note (fx, "counted");
  if (!md_test_pump_until (status_counts_three, fx->daemon, 10000))
    g_test_message ("last STATUS=%s", md_test_daemon_get_status (fx->daemon));
  g_assert_true (status_counts_three (fx->daemon));
  g_assert_false (md_test_daemon_get_stopping (fx->daemon));
  md_test_daemon_stop (fx->daemon, &error);
  g_assert_no_error (error);
  g_assert_true (md_test_daemon_get_stopping (fx->daemon));
}

/* ---- a held socket: datagrams wait while the daemon is down ---- */

static gboolean
has_queued_datagram (gpointer data)
{
  return md_test_daemon_get_queued_bytes (data) > 0;
}

static void
test_held_restart_reads_queued (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) ctl = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GPtrArray) records = NULL;
  const char *argv[] = { "add", "sent while the daemon was down", NULL };

  if (fx->daemon == NULL)
    return;
  g_assert_cmpuint (add_note (fx, "before the kill"), ==, 1);
  md_test_daemon_kill (fx->daemon, SIGKILL, &error);
  g_assert_no_error (error);
  ctl = md_test_ctl_spawn (md_test_daemon_get_address (fx->daemon), NULL, argv, &error);
  g_assert_no_error (error);
  g_assert_true (md_test_poll_until (has_queued_datagram, fx->daemon, 10, 10000));
  md_test_daemon_restart (fx->daemon, &error);
  g_assert_no_error (error);
  r = md_test_ctl_wait (ctl, 30000);
  assert_exit (r, 0);
  g_assert_cmpstr (r->out, ==, "added note 2\n");
  records = read_records (fx);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpstr (record_at (records, 1)->text, ==, argv[1]);
  g_assert_cmpuint (md_test_daemon_get_start_count (fx->daemon), ==, 2);
}

typedef struct
{
  Fixture *fx;
  guint at_least;
} GrowthWait;

static gboolean
has_records (gpointer data)
{
  GrowthWait *wait = data;
  g_autoptr (GPtrArray) records
      = md_test_read_notes (md_test_daemon_get_notes_path (wait->fx->daemon), NULL, NULL);

  return records != NULL && records->len >= wait->at_least;
}

typedef struct
{
  MdTestDaemon *daemon;
  guint started;
} RestartWait;

static gboolean
was_restarted (gpointer data)
{
  RestartWait *wait = data;

  return md_test_daemon_get_start_count (wait->daemon) > wait->started;
}

/* SIGKILL in the middle of a client's adds, restarted like Restart=always:
 * the client's retries make every note land exactly once, in order. */
static void
test_held_kill_exactly_once (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) input = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) ctl = NULL;
  g_autoptr (MdTestCtlResult) r = NULL;
  g_autoptr (GPtrArray) records = NULL;
  const char *argv[] = { "add", "-", NULL };
  GrowthWait wait = { fx, 0 };

  if (fx->daemon == NULL)
    return;
  for (guint n = 0; n < 300; n++)
    g_ptr_array_add (texts, client_text (0, n));
  input = lines_bytes (texts);
  md_test_daemon_set_auto_restart (fx->daemon, TRUE);
  ctl = md_test_ctl_spawn (md_test_daemon_get_address (fx->daemon), input, argv, &error);
  g_assert_no_error (error);
  for (guint kill_at = 50; kill_at <= 200; kill_at += 75)
    {
      RestartWait restart = { fx->daemon, md_test_daemon_get_start_count (fx->daemon) };

      wait.at_least = kill_at;
      g_assert_true (md_test_poll_until (has_records, &wait, 5, 60000));
      md_test_daemon_signal (fx->daemon, SIGKILL);
      /* The next kill must hit the successor, not the corpse. */
      g_assert_true (md_test_pump_until (was_restarted, &restart, 30000));
    }
  r = md_test_ctl_wait (ctl, BIG_CLIENT_TIMEOUT_MS);
  assert_exit (r, 0);
  records = read_records (fx);
  assert_clients_stored (records, 1, 300);
  g_assert_cmpuint (md_test_daemon_get_start_count (fx->daemon), ==, 4);
}

/* ---- registration ---- */

/* Modes named on the command line ("listen activated held"), else all. */
static gboolean wanted_modes[MD_TEST_DAEMON_HELD + 1];

static void
choose_modes (int argc, char **argv)
{
  for (int m = 0; m <= MD_TEST_DAEMON_HELD; m++)
    {
      wanted_modes[m] = argc <= 1;
      for (int i = 1; i < argc; i++)
        wanted_modes[m] |= g_str_equal (argv[i], md_test_daemon_mode_name (m));
    }
}

static void
add_case (MdTestDaemonMode mode, const char *name, FixtureTest test)
{
  g_autofree char *path
      = g_strdup_printf ("/integration/%s/%s", md_test_daemon_mode_name (mode), name);

  if (wanted_modes[mode])
    g_test_add (path, Fixture, GINT_TO_POINTER (mode), fixture_setup, test, fixture_teardown);
}

static void
add_both (const char *name, FixtureTest test)
{
  add_case (MD_TEST_DAEMON_LISTEN, name, test);
  add_case (MD_TEST_DAEMON_SOCKET_ACTIVATE, name, test);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  choose_modes (argc, argv);

  add_both ("round-trip/ascii", test_round_trip_ascii);
  add_both ("round-trip/chinese", test_round_trip_chinese);
  add_both ("round-trip/stdin", test_round_trip_stdin);
  add_both ("history/filters", test_history_filters);
  add_both ("history/large", test_history_large);
  add_both ("history/authors", test_history_authors);
  add_both ("concurrent/ten-clients", test_concurrent_ten);
  add_both ("concurrent/two-clients-1000", test_concurrent_two);
  add_both ("restart/keeps-notes", test_restart_keeps_notes);
  add_both ("restart/torn-tail", test_restart_torn_tail);
  add_both ("reject/bad-notes", test_reject_bad_notes);
  add_both ("accept/limits", test_accept_limits);
  add_both ("add/key", test_add_with_key);
  add_both ("no-server", test_no_server);
  add_both ("status", test_status);
  add_both ("notify", test_notify);
  add_case (MD_TEST_DAEMON_HELD, "round-trip/ascii", test_round_trip_ascii);
  add_case (MD_TEST_DAEMON_HELD, "kill/restart-reads-queued", test_held_restart_reads_queued);
  add_case (MD_TEST_DAEMON_HELD, "kill/exactly-once", test_held_kill_exactly_once);

  return g_test_run ();
}
