#include "config.h"

#include "md-reliability.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define RELAY_START_TIMEOUT_MS 20000
#define RELAY_STOP_TIMEOUT_MS 10000

static guint tests_run;
static guint tests_skipped;

/* ---- running ---- */

void
md_rel_skip (const char *reason)
{
  tests_skipped++;
  g_test_skip (reason);
}

static void
run_counted (gconstpointer data)
{
  void (*func) (void) = (void (*) (void))data;

  tests_run++;
  func ();
}

void
md_rel_add (const char *path, void (*func) (void))
{
  g_test_add_data_func (path, (gconstpointer)func, run_counted);
}

int
md_rel_run (void)
{
  int status = g_test_run ();

  /* A run that only skipped must not look like a pass. */
  if (status == 0 && tests_run > 0 && tests_skipped == tests_run)
    return 77;
  return status;
}

guint32
md_rel_seed (const char *test)
{
  const char *text = g_getenv ("MD_TEST_SEED");
  guint64 seed = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32, &seed, NULL))
    seed = g_random_int ();
  g_test_message ("%s: seed %" G_GUINT64_FORMAT " (repeat with MD_TEST_SEED=%" G_GUINT64_FORMAT ")",
                  test, seed, seed);
  return (guint32)seed;
}

double
md_rel_seconds_since (gint64 start)
{
  return (double)(g_get_monotonic_time () - start) / G_TIME_SPAN_SECOND;
}

/* ---- the workload ---- */

char *
md_rel_note_text (guint client, guint note)
{
  return g_strdup_printf ("client %u note %u", client, note);
}

GBytes *
md_rel_client_input (guint client, guint n_notes)
{
  GString *input = g_string_new (NULL);

  for (guint note = 1; note <= n_notes; note++)
    g_string_append_printf (input, "client %u note %u\n", client, note);
  return g_string_free_to_bytes (input);
}

static gboolean
parse_note_text (const char *text, guint *client, guint *note)
{
  int consumed = 0;

  return sscanf (text, "client %u note %u%n", client, note, &consumed) == 2
         && text[consumed] == '\0';
}

static void
check_record (MdTestRecord *record, guint index, GHashTable *keys, guint *next_note,
              guint n_clients, guint n_notes)
{
  guint client = 0, note = 0;

  g_assert_cmpuint (record->id, ==, index + 1);
  if (!parse_note_text (record->text, &client, &note) || client >= n_clients || note == 0
      || note > n_notes)
    g_error ("record %" G_GUINT64_FORMAT " holds a note nobody sent: \"%s\"", record->id,
             record->text);
  /* Each client sends its next note only after the last was acknowledged, so
   * exactly-once plus order means the notes of a client come 1, 2, 3, ... */
  if (note != next_note[client])
    g_error ("record %" G_GUINT64_FORMAT " is \"%s\" but client %u's next note is %u (%s)",
             record->id, record->text, client, next_note[client],
             note < next_note[client] ? "stored twice" : "a note was skipped or reordered");
  next_note[client]++;
  g_assert_cmpuint (strlen (record->key), ==, 36);
  if (!g_hash_table_add (keys, record->key))
    g_error ("key %s stored twice", record->key);
}

void
md_rel_assert_exactly_once (GPtrArray *records, guint n_clients, guint n_notes)
{
  g_autofree guint *next_note = g_new (guint, n_clients);
  g_autoptr (GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint c = 0; c < n_clients; c++)
    next_note[c] = 1;
  for (guint i = 0; i < records->len; i++)
    check_record (records->pdata[i], i, keys, next_note, n_clients, n_notes);
  for (guint c = 0; c < n_clients; c++)
    if (next_note[c] != n_notes + 1)
      g_error ("client %u: only notes 1..%u of %u are stored", c, next_note[c] - 1, n_notes);
  g_assert_cmpuint (records->len, ==, (guint64)n_clients * n_notes);
}

static void
check_printed_id (const char *line, GPtrArray *records, guint client, guint note)
{
  g_autofree char *expected = md_rel_note_text (client, note);
  guint64 id = 0;
  MdTestRecord *record;

  if (!g_str_has_prefix (line, "added note ")
      || !g_ascii_string_to_unsigned (line + strlen ("added note "), 10, 1, records->len, &id,
                                      NULL))
    g_error ("client %u printed \"%s\" for note %u", client, line, note);
  record = records->pdata[id - 1];
  if (!g_str_equal (record->text, expected))
    g_error ("client %u printed \"%s\" for \"%s\", but that record is \"%s\"", client, line,
             expected, record->text);
}

void
md_rel_assert_client_ok (MdTestCtlResult *result, GPtrArray *records, guint client, guint n_notes)
{
  g_auto (GStrv) lines = NULL;

  if (result->exit_status != 0)
    g_error ("client %u exited %d; stderr:\n%s", client, result->exit_status, result->err);
  lines = g_strsplit (result->out, "\n", -1);
  /* n_notes lines and the empty piece after the last '\n'. */
  g_assert_cmpuint (g_strv_length (lines), ==, n_notes + 1);
  for (guint i = 0; i < n_notes; i++)
    check_printed_id (lines[i], records, client, i + 1);
}

/* ---- the lossy relay ---- */

struct _MdRelRelay
{
  GSubprocess *process;
  GDataInputStream *output;
  char *address;
  char *first_line;
  gboolean line_done;
  gboolean exited;
};

static const char *
relay_binary (void)
{
  const char *path = g_getenv ("MD_LOSSY_RELAY");

  return path != NULL && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ? path : NULL;
}

gboolean
md_rel_relay_available (char **reason)
{
  if (relay_binary () != NULL)
    return TRUE;
  if (reason != NULL)
    *reason = g_strdup ("MD_LOSSY_RELAY is not set or not built");
  return FALSE;
}

static GStrv
relay_argv (const char *binary, const char *upstream, const char *const *args)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *upstream_arg = g_strdup_printf ("--upstream=%s", upstream);

  g_strv_builder_add_many (builder, binary, "--listen=127.0.0.1:0", upstream_arg, NULL);
  g_strv_builder_addv (builder, (const char **)args);
  return g_strv_builder_end (builder);
}

static void
on_line_read (GObject *source, GAsyncResult *result, gpointer data)
{
  MdRelRelay *relay = data;

  relay->first_line
      = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  relay->line_done = TRUE;
}

static gboolean
is_line_done (gpointer data)
{
  return ((MdRelRelay *)data)->line_done;
}

static gboolean
read_address (MdRelRelay *relay, GError **error)
{
  const char *prefix = "listening on ";

  g_data_input_stream_read_line_async (relay->output, G_PRIORITY_DEFAULT, NULL, on_line_read,
                                       relay);
  md_test_pump_until (is_line_done, relay, RELAY_START_TIMEOUT_MS);
  if (relay->first_line == NULL || !g_str_has_prefix (relay->first_line, prefix))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "md-lossy-relay did not say where it listens (first line: %s)",
                   relay->first_line != NULL ? relay->first_line : "none");
      return FALSE;
    }
  relay->address = g_strdup (relay->first_line + strlen (prefix));
  return TRUE;
}

MdRelRelay *
md_rel_relay_start (const char *upstream, const char *const *args, GError **error)
{
  const char *binary = relay_binary ();
  g_autoptr (MdRelRelay) relay = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_auto (GStrv) argv = NULL;

  g_return_val_if_fail (binary != NULL, NULL);
  relay = g_new0 (MdRelRelay, 1);
  argv = relay_argv (binary, upstream, args);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* A failed assertion aborts before md_rel_relay_free(): the relay must not
   * outlive the test. */
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  relay->process = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv, error);
  if (relay->process == NULL)
    return NULL;
  relay->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (relay->process));
  if (!read_address (relay, error))
    return NULL;
  g_test_message ("md-lossy-relay on %s to %s", relay->address, upstream);
  return g_steal_pointer (&relay);
}

const char *
md_rel_relay_get_address (MdRelRelay *relay)
{
  g_return_val_if_fail (relay != NULL, NULL);
  return relay->address;
}

static void
on_relay_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *)data = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *)data;
}

char *
md_rel_relay_stop (MdRelRelay *relay)
{
  g_autoptr (GBytes) rest = NULL;
  gboolean exited = FALSE;

  g_return_val_if_fail (relay != NULL, NULL);
  g_subprocess_send_signal (relay->process, SIGTERM);
  g_subprocess_wait_async (relay->process, NULL, on_relay_exited, &exited);
  if (!md_test_pump_until (is_true, &exited, RELAY_STOP_TIMEOUT_MS))
    {
      g_subprocess_force_exit (relay->process);
      md_test_pump_until (is_true, &exited, RELAY_STOP_TIMEOUT_MS);
      return g_strdup ("md-lossy-relay did not end on SIGTERM");
    }
  relay->exited = TRUE;
  /* It has exited, so the pipe ends and this read cannot block. */
  rest = g_input_stream_read_bytes (G_INPUT_STREAM (relay->output), 65536, NULL, NULL);
  if (rest == NULL)
    return g_strdup ("");
  return g_strndup (g_bytes_get_data (rest, NULL), g_bytes_get_size (rest));
}

void
md_rel_relay_free (MdRelRelay *relay)
{
  if (relay == NULL)
    return;
  if (relay->process != NULL && !relay->exited)
    g_subprocess_force_exit (relay->process);
  g_clear_object (&relay->output);
  g_clear_object (&relay->process);
  g_free (relay->address);
  g_free (relay->first_line);
  g_free (relay);
}
