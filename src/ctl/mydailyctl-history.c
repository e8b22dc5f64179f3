#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "md-cache-search.h"
#include "md-client-notes.h"
#include "md-outbox.h"
#include "md-client-status.h"
#include "md-ctl-printer.h"
#include "mydailyctl.h"

typedef struct
{
  gint64 last_n; /* -1: all */
  gint64 after;
  gboolean no_pager;
  gboolean follow;
  gboolean no_cache;
  gboolean caseless;
  char *grep;
  char *author;
  char *since;
  char *until;
  MdCacheQuery query; /* from the above, for the cache */
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
  if (!find_start (client, args, &after, error))
    return FALSE;
  md_client_read_notes_async (client, after, NULL, NULL, md_ctl_printer_feed, printer,
                              options->cancellable, md_ctl_keep_result, &result);
  return md_client_read_notes_finish (client, md_ctl_wait (&result), error)
         && md_ctl_printer_flush (printer, error);
}

static gboolean
print_cached (MdCache *cache, const HistoryArgs *args, MdCtlPrinter *printer, GError **error)
{
  g_autoptr (GArray) ids = md_cache_query_run (cache, &args->query);

  for (guint i = 0; i < ids->len; i++)
    {
      gsize len = 0;
      const char *line = md_cache_get_line (cache, g_array_index (ids, guint64, i), &len);

      if (!md_ctl_printer_feed ((const guint8 *)line, len, printer, error))
        return FALSE;
    }
  return md_ctl_printer_flush (printer, error);
}

/* The server is away: the cache it last filled, if any, says its age. */
static gboolean
print_offline (const char *server, const HistoryArgs *args, MdCtlPrinter *printer, GError **error)
{
  g_autofree char *notebook = md_ctl_cached_notebook (server);
  g_autoptr (MdCache) cache = notebook != NULL ? md_ctl_open_cache (notebook) : NULL;

  if (cache == NULL || md_cache_get_fetched (cache) == 0)
    return FALSE;
  g_clear_error (error);
  md_ctl_print_cache_age (cache, server);
  return print_cached (cache, args, printer, error);
}

/* Queued notes first (they belong to the history), then what is new into
 * the cache, then the answer from the cache. */
static gboolean
cached_history (MdCtlOptions *options, const HistoryArgs *args, MdCtlPrinter *printer,
                GError **error)
{
  g_autoptr (MdClient) client = md_ctl_connect (options, error);
  g_autofree char *server = md_ctl_server_name (options->server);
  g_autofree char *notebook = NULL;
  g_autoptr (MdOutbox) outbox = NULL;
  g_autoptr (MdCache) cache = NULL;

  if (client == NULL)
    return FALSE;
  if (!md_ctl_learn_notebook (client, &notebook, NULL, error))
    {
      if (md_ctl_is_no_answer (*error))
        return print_offline (server, args, printer, error);
      /* A server that names no notebook (an older daemon) is read without
       * a cache: there is nothing to key one by. */
      g_debug ("no cache: %s", (*error)->message);
      if (args->grep != NULL || args->author != NULL || args->since != NULL || args->until != NULL)
        {
          g_prefix_error (error, _ ("--grep, --author, --since and --until need the cache: "));
          return FALSE;
        }
      g_clear_error (error);
      return fetch_history (options, args, printer, error);
    }
  outbox = md_ctl_open_outbox ();
  if (outbox != NULL && !md_outbox_is_empty (outbox))
    {
      g_autoptr (GError) flush_error = NULL;

      if (!md_ctl_flush_outbox (client, outbox, server, notebook, NULL, &flush_error))
        md_ctl_print_error ("%s", flush_error->message);
    }
  cache = md_ctl_open_cache (notebook);
  if (cache == NULL)
    return fetch_history (options, args, printer, error);
  if (!md_ctl_cache_update (client, cache, server, options->cancellable, error))
    return md_ctl_is_no_answer (*error) && print_offline (server, args, printer, error);
  return print_cached (cache, args, printer, error);
}

static gboolean
read_history (MdCtlOptions *options, const HistoryArgs *args, MdCtlPrinter *printer, GError **error)
{
  /* Nothing to print: no request at all. */
  if (args->last_n == 0)
    return TRUE;
  if (args->no_cache)
    return fetch_history (options, args, printer, error);
  return cached_history (options, args, printer, error);
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
  if (!read_history (options, args, printer, &error))
    {
      /* The reader quit the pager (or closed the pipe) early: that is fine. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
        return MD_CTL_EXIT_OK;
      md_ctl_printer_close (printer);
      return md_ctl_fail (error);
    }
  return MD_CTL_EXIT_OK;
}

/* --grep, --since and --until are answered from the cache. */
static int
check_query (HistoryArgs *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimeZone) tz = g_time_zone_new_local ();
  gboolean searching
      = args->grep != NULL || args->author != NULL || args->since != NULL || args->until != NULL;

  if (searching && (args->no_cache || args->follow))
    return md_ctl_usage_error ("history",
                               _ ("--grep, --author, --since and --until read the cache; "
                                  "they do not go with --no-cache or --follow"));
  if (args->caseless && args->grep == NULL)
    return md_ctl_usage_error ("history", _ ("-i goes with --grep"));
  if (!md_time_range_parse (&args->query.range, args->since, args->until,
                            g_get_real_time () / G_USEC_PER_SEC, tz, &error)
      || (args->grep != NULL
          && !md_cache_query_set_grep (&args->query, args->grep, args->caseless, &error))
      || (args->author != NULL && !md_cache_query_set_author (&args->query, args->author, &error)))
    return md_ctl_usage_error ("history", "%s", error->message);
  args->query.after = (guint64)args->after;
  args->query.limit = args->last_n > 0 ? (guint64)args->last_n : 0;
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
  return check_query (args);
}

static void
history_args_clear (HistoryArgs *args)
{
  g_free (args->grep);
  g_free (args->author);
  g_free (args->since);
  g_free (args->until);
  md_cache_query_clear (&args->query);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HistoryArgs, history_args_clear)

int
md_ctl_history (MdCtlOptions *options, int argc, char **argv)
{
  g_auto (HistoryArgs) args = { .last_n = -1, .after = 0 };
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
    { "grep", 0, 0, G_OPTION_ARG_STRING, &args.grep,
      /* TRANSLATORS: help of "history --grep" */
      N_ ("Show only notes whose text matches PATTERN (a Perl-style regular expression)"),
      N_ ("PATTERN") },
    { "ignore-case", 'i', 0, G_OPTION_ARG_NONE, &args.caseless,
      /* TRANSLATORS: help of "history -i" */
      N_ ("Match --grep's PATTERN regardless of case"), NULL },
    { "author", 0, 0, G_OPTION_ARG_STRING, &args.author,
      /* TRANSLATORS: help of "history --author"; "@" is not translated */
      N_ ("Show only notes by NAME exactly: a key's name, or “@” and an address"), N_ ("NAME") },
    { "since", 0, 0, G_OPTION_ARG_STRING, &args.since,
      /* TRANSLATORS: help of "history --since"; the examples are not translated */
      N_ ("Show only notes from TIME on: 2026-11-24, “2026-11-24 18:00”, yesterday, today, -2h"),
      N_ ("TIME") },
    { "until", 0, 0, G_OPTION_ARG_STRING, &args.until,
      /* TRANSLATORS: help of "history --until" */
      N_ ("Show only notes up to TIME (as for --since)"), N_ ("TIME") },
    { "no-cache", 0, 0, G_OPTION_ARG_NONE, &args.no_cache,
      /* TRANSLATORS: help of "history --no-cache" */
      N_ ("Read every note from the server, neither using nor filling the cache"), NULL },
    { "no-pager", 0, 0, G_OPTION_ARG_NONE, &args.no_pager,
      /* TRANSLATORS: help of "history --no-pager" */
      N_ ("Do not pipe the output through a pager"), NULL },
    { NULL },
  };
  int status;

  md_cache_query_init (&args.query);
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
