#include "config.h"

#include <editline/readline.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "md-ctl-printer.h"
#include "md-ctl-watch.h"
#include "mydailyctl.h"

#define PROMPT "> "
#define DEFAULT_ROWS 24
/* Rows kept free below the past notes: the summary line and the prompt. */
#define RESERVED_ROWS 3

typedef struct
{
  MdClient *client;
  MdCtlPrinter *printer;
  GMainLoop *loop;
  gboolean reading; /* the line editor owns the current terminal line */
} Notebook;

/* libedit's line callback takes no user data. */
static Notebook *notebook;

static guint
terminal_rows (void)
{
  struct winsize size = { 0 };

  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0)
    return size.ws_row;
  return DEFAULT_ROWS;
}

static void
print_earlier (guint64 earlier)
{
  g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, earlier);

  /* TRANSLATORS: shown above the newest notes; %s is a number */
  printf (ngettext ("%s earlier note; mydailyctl history shows them\n",
                    "%s earlier notes; mydailyctl history shows them\n",
                    (unsigned long)MIN (earlier, G_MAXULONG)),
          count);
}

/* All notes if they fit the terminal, else the newest screenful. */
static gboolean
show_past_notes (Notebook *self, GError **error)
{
  guint64 last_id = 0, after = 0;
  guint rows = terminal_rows ();
  g_autofree char *query = NULL;

  /* Ids run 1, 2, ... without gaps: the newest id is the number of notes. */
  if (!md_ctl_get_status_number (self->client, "last-id", &last_id, error))
    return FALSE;
  if (rows > RESERVED_ROWS && last_id > rows - RESERVED_ROWS)
    {
      after = last_id - (rows - RESERVED_ROWS);
      print_earlier (after);
      query = g_strdup_printf ("after=%" G_GUINT64_FORMAT, after);
    }
  md_ctl_printer_set_last_id (self->printer, after);
  return md_client_get_body (self->client, "notes", query, md_ctl_printer_feed, self->printer,
                             error)
         && md_ctl_printer_flush (self->printer, error);
}

/* Notes of others arrive while a line is being typed: clear the prompt
 * line, print them, and draw the prompt and the typed text again. */
static void
begin_output (gpointer data)
{
  Notebook *self = data;

  if (self->reading)
    {
      fputs ("\r\033[K", stdout);
      fflush (stdout);
    }
}

static void
end_output (gpointer data)
{
  Notebook *self = data;

  if (self->reading)
    rl_forced_update_display ();
}

static void
store_line (Notebook *self, const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id_text = NULL;
  guint64 id = 0;

  if (!md_ctl_add_note (self->client, NULL, line, strlen (line), &id, &error))
    {
      md_ctl_fail (error);
      return;
    }
  md_ctl_printer_skip_id (self->printer, id);
  id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
  /* TRANSLATORS: confirmation in the interactive notebook; %s is the note's number */
  printf (_ ("note %s stored\n"), id_text);
  fflush (stdout);
}

static void
on_line (char *line)
{
  if (line == NULL)
    {
      g_main_loop_quit (notebook->loop);
      return;
    }
  if (*line != '\0')
    {
      add_history (line);
      store_line (notebook, line);
    }
  free (line);
  /* libedit leaves character-at-a-time mode after a line; without it the
   * next read would block the main loop until the next Enter. */
  rl_callback_handler_install (PROMPT, on_line);
}

static gboolean
on_input (gint fd, GIOCondition condition, gpointer data)
{
  Notebook *self = data;

  /* libedit reports a closed terminal as nothing read, not as end of line. */
  if (condition & (G_IO_HUP | G_IO_ERR))
    {
      g_main_loop_quit (self->loop);
      return G_SOURCE_REMOVE;
    }
  rl_callback_read_char ();
  return G_SOURCE_CONTINUE;
}

static gboolean
on_resize (gpointer data)
{
  rl_resize_terminal ();
  return G_SOURCE_CONTINUE;
}

static void
read_lines (Notebook *self, GCancellable *cancellable)
{
  g_autoptr (GSource) cancelled = md_ctl_quit_on_cancel (cancellable, self->loop);
  guint input_id, resize_id;

  input_id = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, self);
  resize_id = g_unix_signal_add (SIGWINCH, on_resize, NULL);
  /* Signals stay with mydailyctl: Ctrl-C ends the session cleanly. */
  rl_catch_signals = 0;
  rl_readline_name = "mydailyctl";
  using_history ();
  rl_callback_handler_install (PROMPT, on_line);
  self->reading = TRUE;
  g_main_loop_run (self->loop);
  self->reading = FALSE;
  rl_callback_handler_remove ();
  putchar ('\n');
  g_source_remove (resize_id);
  g_source_remove (input_id);
  g_source_destroy (cancelled);
}

static int
run_notebook (MdCtlOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autoptr (MdCtlPrinter) printer = NULL;
  g_autoptr (MdCtlWatch) watch = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Notebook self = { .client = client, .loop = loop };

  if (client == NULL)
    return md_ctl_fail (error);
  printer = md_ctl_printer_new (stdout, MD_CTL_FORMAT_SHORT, md_ctl_use_color (STDOUT_FILENO));
  self.printer = printer;
  md_ctl_printer_set_hooks (printer, begin_output, end_output, &self);
  if (!show_past_notes (&self, &error))
    return md_ctl_fail (error);
  watch = md_ctl_watch_new (client, printer, options->cancellable);
  if (!md_ctl_watch_start (watch, FALSE, &error))
    return md_ctl_fail (error);
  notebook = &self;
  read_lines (&self, options->cancellable);
  notebook = NULL;
  return MD_CTL_EXIT_OK;
}

int
md_ctl_notebook (MdCtlOptions *options)
{
  if (!isatty (STDIN_FILENO))
    return md_ctl_add_lines (options, stdin);
  md_ctl_signals_set_graceful ();
  return run_notebook (options);
}
