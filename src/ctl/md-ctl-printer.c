#include "config.h"

#include "md-ctl-printer.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "md-ctl-console.h"
#include "md-note.h"
#include "md-ctl-signals.h"
#include "md-error.h"
#include "md-terminal.h"

#define DEFAULT_PAGER "less -FRSX"
/* Dim times and cyan authors: the text stays in the terminal's own colour. */
#define COLOR_TIME "\033[2m"
#define COLOR_AUTHOR "\033[36m"
#define COLOR_RESET "\033[0m"

struct _MdCtlPrinter
{
  FILE *out;
  MdCtlFormat format;
  gboolean color;
  gboolean terminal; /* the output is a terminal, or a pager on one */
  gboolean want_pager;
  GPid pager;
  GString *partial; /* an incomplete line from the previous block */
  guint64 last_id;
  GHashTable *skip; /* ids this client stored itself */
  guint malformed;
  MdCtlPrinterHook begin;
  MdCtlPrinterHook end;
  gpointer hook_data;
  gboolean in_batch;
};

gboolean
md_ctl_format_from_string (const char *name, MdCtlFormat *format)
{
  static const struct
  {
    const char *name;
    MdCtlFormat format;
  } formats[] = {
    { "short", MD_CTL_FORMAT_SHORT },
    { "tsv", MD_CTL_FORMAT_TSV },
    { "json", MD_CTL_FORMAT_JSON },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_str_equal (name, formats[i].name))
      {
        *format = formats[i].format;
        return TRUE;
      }
  return FALSE;
}

MdCtlPrinter *
md_ctl_printer_new (FILE *out, MdCtlFormat format, gboolean color)
{
  MdCtlPrinter *printer = g_new0 (MdCtlPrinter, 1);

  printer->out = out;
  printer->format = format;
  printer->color = color;
  /* Decided before a pager takes the output over. */
  printer->terminal = isatty (fileno (out));
  printer->partial = g_string_new (NULL);
  printer->skip = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  return printer;
}

void
md_ctl_printer_free (MdCtlPrinter *printer)
{
  if (printer == NULL)
    return;
  md_ctl_printer_close (printer);
  g_string_free (printer->partial, TRUE);
  g_hash_table_unref (printer->skip);
  g_free (printer);
}

void
md_ctl_printer_use_pager (MdCtlPrinter *printer)
{
  printer->want_pager = TRUE;
}

void
md_ctl_printer_set_hooks (MdCtlPrinter *printer, MdCtlPrinterHook begin, MdCtlPrinterHook end,
                          gpointer user_data)
{
  printer->begin = begin;
  printer->end = end;
  printer->hook_data = user_data;
}

guint64
md_ctl_printer_get_last_id (MdCtlPrinter *printer)
{
  return printer->last_id;
}

void
md_ctl_printer_set_last_id (MdCtlPrinter *printer, guint64 id)
{
  printer->last_id = id;
}

void
md_ctl_printer_skip_id (MdCtlPrinter *printer, guint64 id)
{
  g_hash_table_add (printer->skip, g_memdup2 (&id, sizeof id));
}

/* The pager gets the signals and SIGPIPE back that mydailyctl redirects. */
static void
reset_signals (gpointer data)
{
  sigset_t set;

  sigemptyset (&set);
  sigprocmask (SIG_SETMASK, &set, NULL);
  signal (SIGPIPE, SIG_DFL);
}

static void
start_pager (MdCtlPrinter *printer)
{
  const char *pager = g_getenv ("PAGER");
  g_autoptr (GError) error = NULL;
  int input = -1;

  printer->want_pager = FALSE;
  if (pager == NULL)
    pager = DEFAULT_PAGER;
  if (*pager == '\0' || g_str_equal (pager, "cat"))
    return;
  fflush (printer->out);
  if (!g_spawn_async_with_pipes (NULL, (char *[]){ "/bin/sh", "-c", (char *)pager, NULL }, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD, reset_signals, NULL, &printer->pager,
                                 &input, NULL, NULL, &error))
    {
      md_ctl_print_error (_ ("cannot start the pager: %s"), error->message);
      return;
    }
  dup2 (input, fileno (printer->out));
  close (input);
  /* The pager shares our process group, so Ctrl-C reaches both: it must
   * end the fetch (CANCELLED, a normal end) rather than kill us while the
   * pager still owns the terminal; md_ctl_printer_close() then waits. */
  md_ctl_signals_set_graceful ();
}

void
md_ctl_printer_close (MdCtlPrinter *printer)
{
  int null_fd;

  fflush (printer->out);
  if (printer->pager == 0)
    return;
  /* The pager ends when its input does. */
  null_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2 (null_fd, fileno (printer->out));
  close (null_fd);
  while (waitpid (printer->pager, NULL, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (printer->pager);
  printer->pager = 0;
}

/* Server text as it came where the format keeps raw bytes (tsv and json
 * into a pipe or a file), else safe for a terminal: md_note_parse_wire_line()
 * lets no control character through, but bidi controls it does. */
static void
print_text (MdCtlPrinter *printer, const char *text, gsize len, MdTerminalFlags flags)
{
  g_autoptr (GString) safe = NULL;

  if (!printer->terminal && printer->format != MD_CTL_FORMAT_SHORT)
    {
      fwrite (text, 1, len, printer->out);
      return;
    }
  safe = g_string_sized_new (len);
  md_terminal_append_safe (safe, text, len, flags);
  fwrite (safe->str, 1, safe->len, printer->out);
}

/* Starts the colour @sequence, if colour is on. */
static void
begin_color (MdCtlPrinter *printer, const char *sequence)
{
  if (printer->color)
    fputs (sequence, printer->out);
}

static void
end_color (MdCtlPrinter *printer)
{
  begin_color (printer, COLOR_RESET);
}

/* "2026-11-24 20:42  alice  text", the time local. */
static void
print_short (MdCtlPrinter *printer, const MdNoteLine *note)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (note->time);
  g_autofree char *when = time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M") : NULL;

  begin_color (printer, COLOR_TIME);
  fputs (when != NULL ? when : "-", printer->out);
  end_color (printer);
  fputs ("  ", printer->out);
  begin_color (printer, COLOR_AUTHOR);
  print_text (printer, note->author, note->author_len, MD_TERMINAL_NONE);
  end_color (printer);
  fputs ("  ", printer->out);
  print_text (printer, note->text, note->text_len, MD_TERMINAL_NONE);
  fputc ('\n', printer->out);
}

static void
print_json (MdCtlPrinter *printer, const MdNoteLine *note)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GString) time = g_string_new (NULL);
  g_autofree char *author = g_strndup (note->author, note->author_len);
  g_autofree char *text = g_strndup (note->text, note->text_len);
  g_autofree char *json = NULL;

  /* The time as on the wire, which md_note_parse_time() takes only in
   * exactly this form. */
  md_note_append_time (time, note->time);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, (gint64)note->id);
  json_builder_set_member_name (builder, "time");
  json_builder_add_string_value (builder, time->str);
  json_builder_set_member_name (builder, "author");
  json_builder_add_string_value (builder, author);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);
  /* json-glib escapes only C0 and DEL; on a terminal C1 and bidi controls
   * become \uXXXX too, which keeps the JSON valid and its meaning. */
  print_text (printer, json, strlen (json), MD_TERMINAL_NONE);
  fputc ('\n', printer->out);
}

static void
begin_output (MdCtlPrinter *printer)
{
  if (printer->want_pager)
    start_pager (printer);
  if (!printer->in_batch && printer->begin != NULL)
    printer->begin (printer->hook_data);
  printer->in_batch = TRUE;
}

static gboolean
check_output (MdCtlPrinter *printer, GError **error)
{
  if (!ferror (printer->out))
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), _ ("cannot write the output: %s"),
               g_strerror (errno));
  return FALSE;
}

/* @line is NUL-terminated, without its newline. */
static gboolean
print_line (MdCtlPrinter *printer, const char *line, gsize len, GError **error)
{
  MdNoteLine note;
  guint64 id;

  if (!md_note_parse_wire_line (line, len, &note, NULL))
    {
      printer->malformed++;
      return TRUE;
    }
  id = note.id;
  if (id <= printer->last_id)
    return TRUE;
  printer->last_id = id;
  if (g_hash_table_remove (printer->skip, &id))
    return TRUE;
  begin_output (printer);
  if (printer->format == MD_CTL_FORMAT_SHORT)
    print_short (printer, &note);
  else if (printer->format == MD_CTL_FORMAT_JSON)
    print_json (printer, &note);
  else
    {
      print_text (printer, line, len, MD_TERMINAL_KEEP_TAB);
      fputc ('\n', printer->out);
    }
  return check_output (printer, error);
}

gboolean
md_ctl_printer_feed (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  MdCtlPrinter *printer = user_data;
  const char *text = (const char *)data;
  const char *end = text + len;

  while (text < end)
    {
      const char *newline = memchr (text, '\n', (gsize)(end - text));

      gsize piece = (gsize)((newline != NULL ? newline : end) - text);

      /* No note line is longer: a body without newlines must not grow the
       * buffer to the size of the whole read. */
      if (printer->partial->len + piece > MD_NOTE_MAX_WIRE_LINE)
        {
          g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                       _ ("the server sent a line longer than any note"));
          return FALSE;
        }
      g_string_append_len (printer->partial, text, piece);
      if (newline == NULL)
        break;
      text = newline + 1;
      if (!print_line (printer, printer->partial->str, printer->partial->len, error))
        return FALSE;
      g_string_truncate (printer->partial, 0);
    }
  return TRUE;
}

static void
end_batch (MdCtlPrinter *printer)
{
  if (printer->in_batch && printer->end != NULL)
    printer->end (printer->hook_data);
  printer->in_batch = FALSE;
}

void
md_ctl_printer_print_error (MdCtlPrinter *printer, const char *message)
{
  if (!printer->in_batch && printer->begin != NULL)
    printer->begin (printer->hook_data);
  printer->in_batch = TRUE;
  md_ctl_print_error ("%s", message);
  end_batch (printer);
  /* Half a line from a failed fetch would be glued to the next fetch's first
   * line; that fetch starts after the last printed id, so it comes again. */
  g_string_truncate (printer->partial, 0);
}

void
md_ctl_printer_discard (MdCtlPrinter *printer)
{
  end_batch (printer);
  g_string_truncate (printer->partial, 0);
}

gboolean
md_ctl_printer_flush (MdCtlPrinter *printer, GError **error)
{
  gboolean ok = TRUE;

  if (printer->partial->len > 0)
    ok = print_line (printer, printer->partial->str, printer->partial->len, error);
  g_string_truncate (printer->partial, 0);
  if (printer->malformed > 0)
    md_ctl_print_error (ngettext ("ignored %u malformed line from the server",
                                  "ignored %u malformed lines from the server", printer->malformed),
                        printer->malformed);
  printer->malformed = 0;
  fflush (printer->out);
  end_batch (printer);
  return ok && check_output (printer, error);
}
