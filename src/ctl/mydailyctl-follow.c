#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "md-ctl-printer.h"
#include "md-ctl-watch.h"
#include "mydailyctl.h"

typedef struct
{
  GMainLoop *loop;
  int status;
} Follow;

static void
on_ready (const GError *error, gpointer data)
{
  Follow *follow = data;

  if (error == NULL)
    return;
  follow->status = md_ctl_fail (error);
  g_main_loop_quit (follow->loop);
}

/* Runs until a termination signal, which is a normal end (exit 0). */
int
md_ctl_run_follow (MdCtlOptions *options, gint64 last_n, MdCtlFormat format)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = NULL;
  g_autoptr (MdCtlPrinter) printer = NULL;
  g_autoptr (MdCtlWatch) watch = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GSource) cancelled = NULL;
  Follow follow = { .loop = loop, .status = MD_CTL_EXIT_OK };

  md_ctl_signals_set_graceful ();
  client = md_ctl_connect (options, &error);
  if (client == NULL)
    return md_ctl_fail (error);
  printer = md_ctl_printer_new (stdout, format, md_ctl_use_color (STDOUT_FILENO));
  watch = md_ctl_watch_new (client, printer, options->cancellable);
  md_ctl_watch_start (watch, last_n, on_ready, &follow);
  cancelled = md_ctl_quit_on_cancel (options->cancellable, loop);
  g_main_loop_run (loop);
  g_source_destroy (cancelled);
  return follow.status;
}

int
md_ctl_follow (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *format_name = NULL;
  g_autofree char *lines = NULL;
  MdCtlFormat format = MD_CTL_FORMAT_SHORT;
  gint64 last_n = MD_CTL_DEFAULT_FOLLOW_LINES;
  const GOptionEntry entries[] = {
    { "lines", 'n', 0, G_OPTION_ARG_STRING, &lines,
      /* TRANSLATORS: help of "follow -n"; "all" is not translated */
      N_ ("First print the newest N notes (default 10; “all”: every note)"), N_ ("N") },
    md_ctl_output_option (&format_name),
    { NULL },
  };

  context = md_ctl_option_context_new ("follow", NULL,
                                       _ ("Print the newest notes, then new notes as they "
                                          "arrive, until interrupted (Ctrl-C)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!md_ctl_parse_options (context, "follow", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("follow", _ ("unexpected argument “%s”"), argv[1]);
  if (!md_ctl_parse_lines ("follow", lines, &last_n)
      || !md_ctl_parse_format ("follow", format_name, &format))
    return MD_CTL_EXIT_USAGE;
  return md_ctl_run_follow (options, last_n, format);
}
