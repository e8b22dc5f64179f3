#include "config.h"

#include <editline/readline.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "md-client-add.h"
#include "md-ctl-printer.h"
#include "md-ctl-watch.h"
#include "md-outbox.h"
#include "md-terminal.h"
#include <string.h>
#include "mydailyctl.h"

#define PROMPT "> "
#define DEFAULT_ROWS 24
/* Rows kept free below the past notes: the summary line and the prompt. */
#define RESERVED_ROWS 3
/* While the server does not answer, the oldest queued line is sent again
 * this often. */
#define RETRY_INTERVAL_S 5

/* The interactive notebook: the newest screenful of notes, then one note
 * per typed line, while the notes of others appear above the prompt.
 *
 * Everything runs on the main loop: a line is queued and stored in the
 * background, one at a time and in order, so typing never waits for the
 * server, and Ctrl-C cancels the request that is waiting.  With standard
 * output a terminal, libedit edits the line; otherwise (mydailyctl | tee)
 * the terminal's own line editing reads it and no prompt is drawn. */
typedef struct
{
  MdCtlOptions *options;
  MdClient *client;
  MdCtlPrinter *printer;
  GMainLoop *loop;
  gboolean editing; /* libedit owns the terminal */
  gboolean reading; /* the prompt is on screen */
  gboolean ready;   /* the past notes are printed */
  GError *start_error;
  GQueue lines;             /* typed Lines not yet stored, oldest first */
  GCancellable *pending;    /* the add in flight, if any */
  MdOutbox *outbox;         /* where unanswered lines are kept; NULL: --no-queue */
  char *server;             /* md_ctl_server_name() */
  guint retry;              /* the server did not answer: the timer to try again */
  guint n_queued;           /* lines in the outbox not stored yet */
  gboolean end_of_input;    /* quit once the queue is empty */
  GSource *interrupt;       /* options->cancellable */
  GDataInputStream *plain;  /* without libedit */
  GCancellable *plain_stop; /* cancels its read */
} Notebook;

/* A typed line, under the key it is stored with, even when sent again. */
typedef struct
{
  char *key;
  char *text;
  gboolean queued; /* kept in the outbox too */
} Line;

static void
line_free (gpointer data)
{
  Line *line = data;

  g_free (line->key);
  g_free (line->text);
  g_free (line);
}

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

/* Output while a line is being typed: clear the prompt line, print, then
 * draw the prompt and the typed text again. */
static void
begin_output (gpointer data)
{
  Notebook *self = data;

  if (self->reading && self->editing)
    {
      fputs ("\r\033[K", stdout);
      fflush (stdout);
    }
}

static void
end_output (gpointer data)
{
  Notebook *self = data;

  fflush (stdout);
  if (self->reading && self->editing)
    rl_forced_update_display ();
}

static void print_message (Notebook *self, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
print_message (Notebook *self, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  begin_output (self);
  fputs (message, stdout);
  end_output (self);
}

static void
print_failure (Notebook *self, const GError *error)
{
  begin_output (self);
  md_ctl_fail (error);
  end_output (self);
}

static void
on_started (guint64 latest_id, gpointer data)
{
  guint rows = terminal_rows ();
  guint64 shown = rows > RESERVED_ROWS ? rows - RESERVED_ROWS : 1;
  g_autofree char *count = NULL;

  if (latest_id <= shown)
    return;
  count = g_strdup_printf ("%" G_GUINT64_FORMAT, latest_id - shown);
  /* TRANSLATORS: shown above the newest notes; %s is a number */
  printf (ngettext ("%s earlier note; mydailyctl history shows them\n",
                    "%s earlier notes; mydailyctl history shows them\n",
                    (unsigned long)MIN (latest_id - shown, G_MAXULONG)),
          count);
}

static void
on_ready (const GError *error, gpointer data)
{
  Notebook *self = data;

  self->ready = TRUE;
  if (error != NULL)
    self->start_error = g_error_copy (error);
  g_main_loop_quit (self->loop);
}

static void send_next (Notebook *self);

/* Keeps @line in the outbox and marks it on screen; FALSE if it cannot be
 * kept (--no-queue, or the outbox failed). */
static gboolean
queue_line (Notebook *self, Line *line)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *safe = NULL;

  if (line->queued)
    return TRUE;
  if (self->outbox == NULL
      || !md_ctl_keep_note (self->outbox, self->server, line->key, line->text, strlen (line->text),
                            &error))
    {
      if (error != NULL)
        print_failure (self, error);
      return FALSE;
    }
  line->queued = TRUE;
  self->n_queued++;
  safe = md_terminal_dup_safe (line->text, -1, MD_TERMINAL_NONE);
  /* TRANSLATORS: the mark of a line kept in the outbox in the interactive
   * notebook; %s is the line */
  print_message (self, _ ("%s  [queued: sent when the server answers]\n"), safe);
  return TRUE;
}

static gboolean
on_retry (gpointer data)
{
  Notebook *self = data;

  self->retry = 0;
  send_next (self);
  return G_SOURCE_REMOVE;
}

/* No answer: the line waits in the outbox, and so do the lines typed after
 * it, until a retry is answered. */
static gboolean
wait_for_server (Notebook *self, Line *line)
{
  if (!queue_line (self, line))
    return FALSE;
  for (GList *l = self->lines.head; l != NULL; l = l->next)
    queue_line (self, l->data);
  g_queue_push_head (&self->lines, line);
  self->retry = g_timeout_add_seconds (RETRY_INTERVAL_S, on_retry, self);
  return TRUE;
}

static void
settle_queued (Notebook *self, Line *line)
{
  g_autoptr (GError) error = NULL;

  if (!line->queued)
    return;
  self->n_queued--;
  if (!md_outbox_remove (self->outbox, line->key, &error))
    print_failure (self, error);
}

static void
on_stored (GObject *source, GAsyncResult *result, gpointer data)
{
  Notebook *self = data;
  Line *line = g_queue_pop_head (&self->lines);
  g_autoptr (GError) error = NULL;
  g_autofree char *id_text = NULL;
  guint64 id = 0;

  g_clear_object (&self->pending);
  /* The notebook ended and dropped its lines. */
  if (line == NULL)
    return;
  if (!md_client_add_note_finish (self->client, result, &id, &error))
    {
      if (md_ctl_is_no_answer (error) && wait_for_server (self, line))
        {
          send_next (self);
          return;
        }
      /* Cancelled, it may have been stored: a queued copy is sent again. */
      if (!md_ctl_is_no_answer (error)
          && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        settle_queued (self, line);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        /* TRANSLATORS: after Ctrl-C in the interactive notebook */
        print_message (self, "%s\n", _ ("cancelled; the server may still have stored the note"));
      else
        print_failure (self, error);
    }
  else
    {
      settle_queued (self, line);
      md_ctl_printer_skip_id (self->printer, id);
      id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
      /* TRANSLATORS: confirmation in the interactive notebook; %s is the note's number */
      print_message (self, _ ("note %s stored\n"), id_text);
    }
  line_free (line);
  send_next (self);
}

/* One add at a time keeps the notes in the order they were typed. */
/* The line stays at the head of the queue while it is in flight.  At the
 * end of input with the server away, what is left is in the outbox. */
static void
send_next (Notebook *self)
{
  Line *line;

  if (self->pending != NULL)
    return;
  if (self->end_of_input && (g_queue_is_empty (&self->lines) || self->retry != 0))
    {
      g_main_loop_quit (self->loop);
      return;
    }
  if (self->retry != 0 || g_queue_is_empty (&self->lines))
    return;
  line = g_queue_peek_head (&self->lines);
  self->pending = g_cancellable_new ();
  md_client_add_note_async (self->client, line->key, line->text, strlen (line->text), self->pending,
                            on_stored, self);
}

static void
take_line (Notebook *self, const char *text)
{
  Line *line;

  if (*text == '\0')
    return;
  line = g_new0 (Line, 1);
  line->key = g_uuid_string_random ();
  line->text = g_strdup (text);
  g_queue_push_tail (&self->lines, line);
  /* Behind a queued line, a new one is queued at once (and marked). */
  if (self->retry != 0)
    queue_line (self, line);
  send_next (self);
}

static void
end_input (Notebook *self)
{
  self->end_of_input = TRUE;
  send_next (self);
}

static void
on_line (char *line)
{
  if (line == NULL)
    {
      /* libedit has drawn the Ctrl-D as "^D" on the prompt line. */
      fputs ("\r\033[K" PROMPT, stdout);
      notebook->reading = FALSE;
      end_input (notebook);
      return;
    }
  if (*line != '\0')
    add_history (line);
  take_line (notebook, line);
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
      end_input (self);
      return G_SOURCE_REMOVE;
    }
  rl_callback_read_char ();
  return G_SOURCE_CONTINUE;
}

static void
on_plain_line (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                     result, NULL, &error);
  Notebook *self = data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      if (error != NULL)
        print_failure (self, error);
      end_input (self);
      return;
    }
  g_strchomp (line);
  take_line (self, line);
  g_data_input_stream_read_line_async (self->plain, G_PRIORITY_DEFAULT, self->plain_stop,
                                       on_plain_line, self);
}

/* Ctrl-C cancels the add in flight; with none, it ends the notebook. */
static gboolean on_interrupt (GCancellable *cancellable, gpointer data);

static void
watch_interrupt (Notebook *self)
{
  self->interrupt = g_cancellable_source_new (self->options->cancellable);
  g_source_set_callback (self->interrupt, G_SOURCE_FUNC (on_interrupt), self, NULL);
  g_source_attach (self->interrupt, NULL);
}

static gboolean
on_interrupt (GCancellable *cancellable, gpointer data)
{
  Notebook *self = data;

  g_clear_pointer (&self->interrupt, g_source_unref);
  if (self->pending == NULL)
    {
      g_main_loop_quit (self->loop);
      return G_SOURCE_REMOVE;
    }
  /* Only the request that waits: the lines typed behind it are notes the
   * person meant to keep, and they go out next. */
  g_cancellable_cancel (self->pending);
  g_cancellable_reset (self->options->cancellable);
  watch_interrupt (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_resize (gpointer data)
{
  rl_resize_terminal ();
  return G_SOURCE_CONTINUE;
}

static void
read_edited_lines (Notebook *self)
{
  guint input_id, resize_id;

  input_id = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, self);
  resize_id = g_unix_signal_add (SIGWINCH, on_resize, NULL);
  /* Signals stay with mydailyctl: Ctrl-C reaches on_interrupt(). */
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
}

static void
read_plain_lines (Notebook *self)
{
  g_autoptr (GInputStream) input = g_unix_input_stream_new (STDIN_FILENO, FALSE);

  self->plain = g_data_input_stream_new (input);
  self->plain_stop = g_cancellable_new ();
  g_data_input_stream_read_line_async (self->plain, G_PRIORITY_DEFAULT, self->plain_stop,
                                       on_plain_line, self);
  g_main_loop_run (self->loop);
  g_cancellable_cancel (self->plain_stop);
  g_clear_object (&self->plain_stop);
  g_clear_object (&self->plain);
}

static void
read_lines (Notebook *self)
{
  notebook = self;
  if (self->editing)
    read_edited_lines (self);
  else
    read_plain_lines (self);
  notebook = NULL;
  if (self->pending != NULL)
    g_cancellable_cancel (self->pending);
  g_clear_object (&self->pending);
  if (self->retry != 0)
    g_source_remove (self->retry);
  self->retry = 0;
  g_queue_clear_full (&self->lines, line_free);
}

/* Prints the newest screenful; FALSE when the server could not be read. */
static gboolean
show_past_notes (Notebook *self, MdCtlWatch *watch)
{
  md_ctl_watch_set_started_func (watch, on_started, self);
  md_ctl_watch_start (watch,
                      terminal_rows () > RESERVED_ROWS ? terminal_rows () - RESERVED_ROWS : 1,
                      on_ready, self);
  g_main_loop_run (self->loop);
  return self->ready && self->start_error == NULL;
}

static int
run_notebook (MdCtlOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autoptr (MdCtlPrinter) printer = NULL;
  g_autoptr (MdCtlWatch) watch = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (MdOutbox) outbox = options->no_queue ? NULL : md_ctl_open_outbox ();
  g_autofree char *server = md_ctl_server_name (options->server);
  Notebook self = {
    .options = options,
    .client = client,
    .loop = loop,
    .outbox = outbox,
    .server = server,
    .editing = isatty (STDOUT_FILENO),
    .lines = G_QUEUE_INIT,
  };
  int status = MD_CTL_EXIT_OK;

  if (client == NULL)
    return md_ctl_fail (error);
  printer = md_ctl_printer_new (stdout, MD_CTL_FORMAT_SHORT, md_ctl_use_color (STDOUT_FILENO));
  self.printer = printer;
  md_ctl_printer_set_hooks (printer, begin_output, end_output, &self);
  watch = md_ctl_watch_new (client, printer, options->cancellable);
  watch_interrupt (&self);
  if (show_past_notes (&self, watch))
    read_lines (&self);
  if (self.n_queued > 0)
    status = MD_CTL_EXIT_QUEUED;
  else if (self.start_error != NULL)
    status = md_ctl_fail (self.start_error);
  if (self.interrupt != NULL)
    g_source_destroy (self.interrupt);
  g_clear_pointer (&self.interrupt, g_source_unref);
  g_clear_error (&self.start_error);
  return status;
}

int
md_ctl_notebook (MdCtlOptions *options)
{
  if (!isatty (STDIN_FILENO))
    return md_ctl_add_lines (options, stdin);
  md_ctl_signals_set_graceful ();
  return run_notebook (options);
}
