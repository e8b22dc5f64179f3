#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "md-ctl-printer.h"
#include "md-ctl-watch.h"
#include "mydailyctl.h"

static gboolean
quit_loop (GCancellable *cancellable, gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Runs until a termination signal, which is a normal end (exit 0). */
static int
run_follow (MdCtlOptions *options, MdCtlFormat format)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autoptr (MdCtlPrinter) printer = NULL;
  g_autoptr (MdCtlWatch) watch = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GSource) cancelled = NULL;

  if (client == NULL)
    return md_ctl_fail (error);
  printer = md_ctl_printer_new (stdout, format, md_ctl_use_color (STDOUT_FILENO));
  watch = md_ctl_watch_new (client, printer, options->cancellable);
  if (!md_ctl_watch_start (watch, TRUE, &error))
    return md_ctl_fail (error);
  loop = g_main_loop_new (NULL, FALSE);
  cancelled = g_cancellable_source_new (options->cancellable);
  g_source_set_callback (cancelled, G_SOURCE_FUNC (quit_loop), loop, NULL);
  g_source_attach (cancelled, NULL);
  g_main_loop_run (loop);
  g_source_destroy (cancelled);
  return MD_CTL_EXIT_OK;
}

int
md_ctl_follow (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *format_name = NULL;
  MdCtlFormat format = MD_CTL_FORMAT_SHORT;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_STRING, &format_name,
      /* TRANSLATORS: help of "follow -o"; short, tsv and json are not translated */
      N_ ("Output format: short (default), tsv or json"), N_ ("FORMAT") },
    { NULL },
  };

  context = md_ctl_option_context_new ("follow", NULL,
                                       _ ("Print new notes as they arrive, until interrupted "
                                          "(Ctrl-C)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!md_ctl_parse_options (context, "follow", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("follow", _ ("unexpected argument “%s”"), argv[1]);
  if (format_name != NULL && !md_ctl_format_from_string (format_name, &format))
    return md_ctl_usage_error ("follow", _ ("unknown output format “%s”; use short, tsv or json"),
                               format_name);
  md_ctl_signals_set_graceful ();
  return run_follow (options, format);
}
