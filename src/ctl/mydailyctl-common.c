#include "config.h"

#include "mydailyctl.h"

#include <glib/gi18n.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "md-error.h"
#include "md-note.h"
#include "md-terminal.h"

static gint graceful_signals;

static gpointer
signal_thread (gpointer data)
{
  GCancellable *cancellable = data;
  sigset_t set;
  int signum = 0;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  while (sigwait (&set, &signum) == 0)
    {
      if (g_atomic_int_get (&graceful_signals))
        {
          g_cancellable_cancel (cancellable);
          continue;
        }
      /* Die of the signal, as if it had never been blocked. */
      signal (signum, SIG_DFL);
      pthread_sigmask (SIG_UNBLOCK, &set, NULL);
      raise (signum);
    }
  return NULL;
}

GCancellable *
md_ctl_signals_init (void)
{
  GCancellable *cancellable = g_cancellable_new ();
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  pthread_sigmask (SIG_BLOCK, &set, NULL);
  /* A pager that quits early must end the output quietly, not kill us. */
  signal (SIGPIPE, SIG_IGN);
  g_thread_unref (g_thread_new ("signals", signal_thread, g_object_ref (cancellable)));
  return cancellable;
}

void
md_ctl_signals_set_graceful (void)
{
  g_atomic_int_set (&graceful_signals, TRUE);
}

gboolean
md_ctl_use_color (int fd)
{
  return isatty (fd) && g_getenv ("NO_COLOR") == NULL;
}

static void print_error_valist (const char *format, va_list args) G_GNUC_PRINTF (1, 0);

static void
print_error_valist (const char *format, va_list args)
{
  g_autofree char *raw = g_strdup_vprintf (format, args);
  /* Messages carry server diagnostics, addresses and file names. */
  g_autofree char *message = md_terminal_dup_safe (raw, -1, MD_TERMINAL_NONE);
  gboolean color = md_ctl_use_color (STDERR_FILENO);

  fflush (stdout);
  fprintf (stderr, "%smydailyctl:%s %s\n", color ? "\033[1;31m" : "", color ? "\033[0m" : "",
           message);
}

void
md_ctl_print_error (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  print_error_valist (format, args);
  va_end (args);
}

int
md_ctl_fail (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return MD_CTL_EXIT_OK;
  md_ctl_print_error ("%s", error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    return MD_CTL_EXIT_USAGE;
  if (g_error_matches (error, MD_ERROR, MD_ERROR_TIMEOUT) || error->domain == G_RESOLVER_ERROR)
    return MD_CTL_EXIT_NO_ANSWER;
  return MD_CTL_EXIT_REJECTED;
}

int
md_ctl_usage_error (const char *command, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  print_error_valist (format, args);
  va_end (args);
  if (command != NULL)
    /* TRANSLATORS: %s is a subcommand such as "history" */
    fprintf (stderr, _ ("Try “mydailyctl %s --help” for more information.\n"), command);
  else
    fprintf (stderr, _ ("Try “mydailyctl --help” for more information.\n"));
  return MD_CTL_EXIT_USAGE;
}

GOptionContext *
md_ctl_option_context_new (const char *command, const char *parameters, const char *summary)
{
  g_autofree char *prgname = g_strdup_printf ("mydailyctl %s", command);
  GOptionContext *context = g_option_context_new (parameters);

  /* GOption prints "Usage: PRGNAME [OPTION…] PARAMETERS". */
  g_set_prgname (prgname);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_strict_posix (context, TRUE);
  return context;
}

gboolean
md_ctl_parse_options (GOptionContext *context, const char *command, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  if (g_option_context_parse (context, argc, argv, &error))
    return TRUE;
  md_ctl_usage_error (command, "%s", error->message);
  return FALSE;
}

GOptionEntry
md_ctl_output_option (char **name)
{
  return (GOptionEntry){ "output", 'o', 0, G_OPTION_ARG_STRING, name,
                         /* TRANSLATORS: help of "history -o" and "follow -o"; short, tsv and json
                          * are not translated */
                         N_ ("Output format: short (default), tsv or json"), N_ ("FORMAT") };
}

gboolean
md_ctl_parse_format (const char *command, const char *name, MdCtlFormat *format)
{
  if (name == NULL || md_ctl_format_from_string (name, format))
    return TRUE;
  md_ctl_usage_error (command, _ ("unknown output format “%s”; use short, tsv or json"), name);
  return FALSE;
}

static gboolean
quit_loop (GCancellable *cancellable, gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

GSource *
md_ctl_quit_on_cancel (GCancellable *cancellable, GMainLoop *loop)
{
  GSource *source = g_cancellable_source_new (cancellable);

  g_source_set_callback (source, G_SOURCE_FUNC (quit_loop), g_main_loop_ref (loop),
                         (GDestroyNotify)g_main_loop_unref);
  g_source_attach (source, g_main_loop_get_context (loop));
  return source;
}

MdClient *
md_ctl_connect (MdCtlOptions *options, GError **error)
{
  MdClient *client = md_client_new (options->server, options->timeout_s, error);

  if (client != NULL)
    md_client_set_cancellable (client, options->cancellable);
  return client;
}

/* The answer to a create-only PUT carries the stored line.  Under the same
 * key it is our note, unless the caller reused a key (--key) for other
 * text: then nothing was stored, and saying "added" would lose the note. */
static gboolean
check_stored_line (const MdClientResponse *response, const char *text, gsize len, guint64 *id,
                   GError **error)
{
  gsize line_len = 0;
  const char *line = g_bytes_get_data (response->payload, &line_len);
  MdNoteLine note;

  if (line == NULL || !md_note_parse_wire_line (line, line_len, &note, NULL))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                   _ ("the server stored the note but did not say under which id"));
      return FALSE;
    }
  if (note.text_len != len || memcmp (note.text, text, len) != 0)
    {
      g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, note.id);

      /* TRANSLATORS: %s is the number of an existing note */
      g_set_error (error, MD_ERROR, MD_ERROR_REJECTED,
                   _ ("note rejected: its key already names note %s, which says something else"),
                   id_text);
      return FALSE;
    }
  *id = note.id;
  return TRUE;
}

gboolean
md_ctl_add_note (MdClient *client, const char *key, const char *text, gsize len, guint64 *id,
                 GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *random_key = key == NULL ? g_uuid_string_random () : NULL;
  g_autoptr (MdClientResponse) response = NULL;
  MdClientRequest request = {
    .method = MD_COAP_PUT,
    .if_none_match = TRUE,
    .payload = text,
    .payload_len = len,
  };

  if (!md_note_validate (text, len, error))
    {
      g_prefix_error (error, _ ("note rejected: "));
      return FALSE;
    }
  path = g_strdup_printf ("notes/%s", key != NULL ? key : random_key);
  request.path = path;
  response = md_client_request (client, &request, error);
  if (response == NULL)
    return FALSE;
  /* 4.12: an earlier transmission of this very request was stored. */
  if (response->code == MD_COAP_CREATED || response->code == MD_COAP_PRECONDITION_FAILED)
    return check_stored_line (response, text, len, id, error);
  md_client_response_set_error (response, error);
  g_prefix_error (error, _ ("note rejected: "));
  return FALSE;
}

static gboolean
find_status_value (const char *body, const char *key, guint64 *value)
{
  g_auto (GStrv) lines = g_strsplit (body, "\n", -1);
  gsize key_len = strlen (key);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      if (strncmp (line, key, key_len) == 0 && line[key_len] == ':')
        return g_ascii_string_to_unsigned (g_strstrip ((char *)line + key_len + 1), 10, 0,
                                           G_MAXUINT64, value, NULL);
    }
  return FALSE;
}

gboolean
md_ctl_get_status_number (MdClient *client, const char *key, guint64 *value, GError **error)
{
  g_autoptr (GBytes) body = md_client_get (client, "status", NULL, error);
  g_autofree char *text = NULL;

  if (body == NULL)
    return FALSE;
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  if (find_status_value (text, key, value))
    return TRUE;
  /* TRANSLATORS: %s is a field of GET /status such as "last-id" */
  g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server's status lacks “%s”"), key);
  return FALSE;
}
