#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "md-ctl-printer.h"
#include "md-ctl-watch.h"
#include "mydailyctl.h"

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
  cancelled = md_ctl_quit_on_cancel (options->cancellable, loop);
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
    md_ctl_output_option (&format_name),
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
  if (!md_ctl_parse_format ("follow", format_name, &format))
    return MD_CTL_EXIT_USAGE;
  md_ctl_signals_set_graceful ();
  return run_follow (options, format);
}
