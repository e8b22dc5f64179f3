#include "config.h"

#include "md-log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The writer is installed once (GLib refuses a second g_log_set_writer_func),
 * but main() learns --verbose and the config file only after it has logged
 * its first errors, so later calls just change the verbosity. */
static gboolean log_installed;
static gboolean log_verbose;
static gboolean log_to_journal;
static gboolean log_colour;
/* Lines held back between md_log_hold() and md_log_release(). */
static GString *log_held;
static gboolean log_holding;

/* A batch's events cost one write, not one each; beyond this, they go. */
#define MD_LOG_HELD_MAX (16 * 1024)

/* Fields worth showing on a terminal too; the journal keeps all of them. */
static const char *const shown_fields[] = { MD_PROTOCOL_FIELD_NOTE_ID,
                                            MD_PROTOCOL_FIELD_NOTE_AUTHOR,
                                            MD_PROTOCOL_FIELD_NOTE_KEY,
                                            MD_PROTOCOL_FIELD_PEER,
                                            MD_PROTOCOL_FIELD_COAP_CODE,
                                            MD_PROTOCOL_FIELD_REASON,
                                            NULL };

static const GLogField *
find_field (const GLogField *fields, gsize n_fields, const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, key) == 0)
      return &fields[i];
  return NULL;
}

static gsize
field_length (const GLogField *field)
{
  return field->length < 0 ? strlen (field->value) : (gsize)field->length;
}

/* Debug lines (every datagram in verbose mode) are only for someone who asked. */
static gboolean
should_drop (GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  const GLogField *domain;

  if ((level & G_LOG_LEVEL_DEBUG) == 0 || log_verbose)
    return FALSE;
  domain = find_field (fields, n_fields, "GLIB_DOMAIN");
  return g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, domain ? domain->value : NULL);
}

/* g_log_structured() sets PRIORITY from the level; callers of
 * g_log_structured_array() may set their own (main.c's fatal errors are
 * syslog "err" without being fatal criticals). */
static int
message_priority (GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  const GLogField *priority = find_field (fields, n_fields, "PRIORITY");

  if (priority != NULL && field_length (priority) == 1)
    return ((const char *)priority->value)[0] - '0';
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return 3;
  if (level & G_LOG_LEVEL_WARNING)
    return 4;
  if (level & G_LOG_LEVEL_DEBUG)
    return 7;
  return 6;
}

static void
append_level (GString *line, int priority)
{
  const char *label = NULL;
  const char *colour = NULL;

  if (priority <= 3)
    label = "error", colour = "\033[1;31m";
  else if (priority == 4)
    label = "warning", colour = "\033[1;33m";
  else if (priority >= 7)
    label = "debug", colour = "\033[2m";
  if (label == NULL)
    return;
  if (log_colour)
    g_string_append_printf (line, "%s%s\033[0m: ", colour, label);
  else
    g_string_append_printf (line, "%s: ", label);
}

/* Appends the key fields whose values the message does not already show. */
static void
append_fields (GString *line, gsize message_start, const GLogField *fields, gsize n_fields)
{
  g_autofree char *message = g_strdup (line->str + message_start);

  for (guint i = 0; shown_fields[i] != NULL; i++)
    {
      const GLogField *field = find_field (fields, n_fields, shown_fields[i]);
      g_autofree char *value = NULL;

      if (field == NULL)
        continue;
      value = g_strndup (field->value, field_length (field));
      if (*value == '\0' || strstr (message, value) != NULL)
        continue;
      g_string_append_printf (line, " %s=%s", field->key, value);
    }
}

static void
flush_held (void)
{
  if (log_held == NULL || log_held->len == 0)
    return;
  fwrite (log_held->str, 1, log_held->len, stderr);
  fflush (stderr);
  g_string_truncate (log_held, 0);
}

/* Held lines wait for the release, or for trouble: a warning (priority 4)
 * or worse goes at once, after what was held. */
static void
emit_line (const GString *line, int priority)
{
  if (log_holding && priority > 4)
    {
      g_string_append_len (log_held, line->str, (gssize)line->len);
      if (log_held->len >= MD_LOG_HELD_MAX)
        flush_held ();
      return;
    }
  flush_held ();
  fputs (line->str, stderr);
  fflush (stderr);
}

void
md_log_hold (void)
{
  if (log_held == NULL)
    log_held = g_string_sized_new (MD_LOG_HELD_MAX);
  log_holding = TRUE;
}

void
md_log_release (void)
{
  log_holding = FALSE;
  flush_held ();
}

static GLogWriterOutput
write_stderr (GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  const GLogField *message = find_field (fields, n_fields, "MESSAGE");
  const char *prgname = g_get_prgname ();
  g_autoptr (GString) line = g_string_new (NULL);
  gsize message_start;

  g_string_append_printf (line, "%s: ", prgname != NULL ? prgname : "mydailyd");
  append_level (line, message_priority (level, fields, n_fields));
  message_start = line->len;
  if (message != NULL)
    g_string_append_len (line, message->value, field_length (message));
  append_fields (line, message_start, fields, n_fields);
  g_string_append_c (line, '\n');
  emit_line (line, message_priority (level, fields, n_fields));
  return G_LOG_WRITER_HANDLED;
}

static GLogWriterOutput
md_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (should_drop (level, fields, n_fields))
    return G_LOG_WRITER_HANDLED;
  if (log_to_journal
      && g_log_writer_journald (level, fields, n_fields, NULL) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  return write_stderr (level, fields, n_fields);
}

static gboolean
colour_wanted (void)
{
  const char *no_colour = g_getenv ("NO_COLOR");

  /* https://no-color.org: any non-empty value turns colour off. */
  if (no_colour != NULL && *no_colour != '\0')
    return FALSE;
  return isatty (fileno (stderr));
}

void
md_log_init (gboolean verbose)
{
  log_verbose = verbose;
  if (log_installed)
    return;
  log_installed = TRUE;
  log_to_journal = g_log_writer_is_journald (fileno (stderr));
  log_colour = !log_to_journal && colour_wanted ();
  g_log_set_writer_func (md_log_writer, NULL, NULL);
}
