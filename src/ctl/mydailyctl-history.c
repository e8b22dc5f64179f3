#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "md-client-notes.h"
#include "md-client-status.h"
#include "md-ctl-printer.h"
#include "mydailyctl.h"

typedef struct
{
  gint64 last_n; /* -1: all */
  gint64 after;
  gboolean no_pager;
  gboolean follow;
} HistoryArgs;

/* With -n the history starts N before the newest id, which GET /status
 * tells: the client never fetches more than it prints. */
static gboolean
find_start (MdClient *client, const HistoryArgs *args, guint64 *after, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) status = NULL;
  guint64 last_id = 0;

  *after = (guint64)args->after;
  if (args->last_n < 0)
    return TRUE;
  md_client_get_status_async (client, NULL, md_ctl_keep_result, &result);
  status = md_client_get_status_finish (client, md_ctl_wait (&result), error);
  if (status == NULL
      || !md_client_status_get_number (status, MD_PROTOCOL_STATUS_LAST_ID, &last_id, error))
    return FALSE;
  if (last_id > (guint64)args->last_n)
    *after = MAX (*after, last_id - (guint64)args->last_n);
  return TRUE;
}

static gboolean
fetch_history (MdCtlOptions *options, const HistoryArgs *args, MdCtlPrinter *printer,
               GError **error)
{
  g_autoptr (MdClient) client = md_ctl_connect (options, error);
  g_autoptr (GAsyncResult) result = NULL;
  guint64 after = 0;

  if (client == NULL)
    return FALSE;
  /* Nothing to print: no request at all. */
  if (args->last_n == 0)
    return TRUE;
  if (!find_start (client, args, &after, error))
    return FALSE;
  md_client_read_notes_async (client, after, NULL, NULL, md_ctl_printer_feed, printer,
                              options->cancellable, md_ctl_keep_result, &result);
  return md_client_read_notes_finish (client, md_ctl_wait (&result), error)
         && md_ctl_printer_flush (printer, error);
}

static int
run_history (MdCtlOptions *options, const HistoryArgs *args, MdCtlFormat format)
{
  g_autoptr (GError) error = NULL;
  gboolean tty = isatty (STDOUT_FILENO);
  g_autoptr (MdCtlPrinter) printer
      = md_ctl_printer_new (stdout, format, md_ctl_use_color (STDOUT_FILENO));

  if (tty && !args->no_pager)
    md_ctl_printer_use_pager (printer);
  if (!fetch_history (options, args, printer, &error))
    {
      /* The reader quit the pager (or closed the pipe) early: that is fine. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        return MD_CTL_EXIT_OK;
      md_ctl_printer_close (printer);
      return md_ctl_fail (error);
    }
  return MD_CTL_EXIT_OK;
}

static int
check_args (HistoryArgs *args, const char *lines, const char *format_name, MdCtlFormat *format)
{
  if (!md_ctl_parse_lines ("history", lines, &args->last_n))
    return MD_CTL_EXIT_USAGE;
  if (args->after < 0)
    return md_ctl_usage_error ("history", _ ("--after needs a note number of 0 or more"));
  if (args->follow && args->after > 0)
    return md_ctl_usage_error ("history", _ ("--after does not go with --follow; use -n"));
  if (!md_ctl_parse_format ("history", format_name, format))
    return MD_CTL_EXIT_USAGE;
  return MD_CTL_EXIT_OK;
}

int
md_ctl_history (MdCtlOptions *options, int argc, char **argv)
{
  HistoryArgs args = { .last_n = -1, .after = 0 };
  g_autofree char *format_name = NULL;
  g_autofree char *lines = NULL;
  MdCtlFormat format = MD_CTL_FORMAT_SHORT;
  g_autoptr (GOptionContext) context = NULL;
  const GOptionEntry entries[] = {
    { "lines", 'n', 0, G_OPTION_ARG_STRING, &lines,
      /* TRANSLATORS: help of "history -n"; "all" is not translated */
      N_ ("Show only the newest N notes (“all”: every note)"), N_ ("N") },
    { "after", 0, 0, G_OPTION_ARG_INT64, &args.after,
      /* TRANSLATORS: help of "history --after" */
      N_ ("Show only notes with a number above ID"), N_ ("ID") },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &args.follow,
      /* TRANSLATORS: help of "history -f" */
      N_ ("Then print new notes as they arrive, like mydailyctl follow"), NULL },
    md_ctl_output_option (&format_name),
    { "no-pager", 0, 0, G_OPTION_ARG_NONE, &args.no_pager,
      /* TRANSLATORS: help of "history --no-pager" */
      N_ ("Do not pipe the output through a pager"), NULL },
    { NULL },
  };
  int status;

  context = md_ctl_option_context_new ("history", NULL, _ ("Print past notes, oldest first."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!md_ctl_parse_options (context, "history", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("history", _ ("unexpected argument “%s”"), argv[1]);
  if (args.follow && lines == NULL)
    args.last_n = MD_CTL_DEFAULT_FOLLOW_LINES;
  status = check_args (&args, lines, format_name, &format);
  if (status != MD_CTL_EXIT_OK)
    return status;
  if (args.follow)
    return md_ctl_run_follow (options, args.last_n, format);
  return run_history (options, &args, format);
}
