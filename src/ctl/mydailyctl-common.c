#include "config.h"

#include "mydailyctl.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "md-error.h"
#include "md-protocol.h"

int
md_ctl_fail (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return MD_CTL_EXIT_OK;
  md_ctl_print_error ("%s", error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    return MD_CTL_EXIT_USAGE;
  /* A refused key is the server's answer "not you", and fails like no
   * answer: nothing was done, and nothing waits in the outbox. */
  if (g_error_matches (error, MD_ERROR, MD_ERROR_TIMEOUT)
      || g_error_matches (error, MD_ERROR, MD_ERROR_UNAUTHENTICATED)
      || error->domain == G_RESOLVER_ERROR)
    return MD_CTL_EXIT_NO_ANSWER;
  return MD_CTL_EXIT_REJECTED;
}

int
md_ctl_usage_error (const char *command, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  md_ctl_print_error_valist (format, args);
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
  MdClient *client = md_ctl_server_connect (options->target, options->timeout_s, error);

  if (client != NULL && options->trace != NULL)
    md_ctl_trace_attach (options->trace, client);
  return client;
}

gboolean
md_ctl_choose_server (MdCtlOptions *options, const char *server, GError **error)
{
  g_autofree char *path = md_credentials_get_path ();
  g_autoptr (MdCredentials) credentials = md_credentials_load (path, error);

  if (credentials == NULL)
    return FALSE;
  if (server == NULL)
    server = g_getenv ("MYDAILY_SERVER");
  options->target = md_ctl_server_choose (server, options->key_file, credentials, error);
  if (options->target == NULL)
    return FALSE;
  options->server = options->target->host_port;
  return TRUE;
}

void
md_ctl_keep_result (GObject *source, GAsyncResult *result, gpointer data)
{
  GAsyncResult **kept = data;

  *kept = g_object_ref (result);
}

GAsyncResult *
md_ctl_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

gboolean
md_ctl_parse_lines (const char *command, const char *text, gint64 *last_n)
{
  guint64 value = 0;

  if (text == NULL)
    return TRUE;
  if (g_str_equal (text, "all"))
    {
      *last_n = -1;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &value, NULL))
    {
      md_ctl_usage_error (command, _ ("-n needs a number of 0 or more, or “all”"));
      return FALSE;
    }
  *last_n = (gint64)value;
  return TRUE;
}
