#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "md-client-status.h"
#include "md-outbox.h"
#include "md-terminal.h"
#include "mydailyctl.h"

/* "queued: N": the notes waiting in the outbox for this server's notebook
 * (@notebook NULL: the one last seen there). */
static void
print_queued (MdCtlOptions *options, const char *notebook)
{
  g_autoptr (MdOutbox) outbox = md_ctl_open_outbox ();
  g_autofree char *server = md_ctl_server_name (options->server);
  g_autofree char *cached = notebook == NULL ? md_ctl_cached_notebook (server) : NULL;
  g_autofree char *count = NULL;

  if (outbox == NULL)
    return;
  count = g_strdup_printf ("%u",
                           md_outbox_count (outbox, notebook != NULL ? notebook : cached, server));
  /* TRANSLATORS: a line of "mydailyctl status"; %s is a number of notes */
  printf (_ ("queued: %s\n"), count);
}

static int
print_status (MdCtlOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GString) text = NULL;
  g_autofree char *notebook = NULL;
  gsize len = 0;
  const char *data;

  if (client == NULL)
    return md_ctl_fail (error);
  md_client_get_status_async (client, NULL, md_ctl_keep_result, &result);
  body = md_client_get_status_finish (client, md_ctl_wait (&result), &error);
  if (body == NULL)
    {
      print_queued (options, NULL);
      fflush (stdout);
      return md_ctl_fail (error);
    }
  data = g_bytes_get_data (body, &len);
  /* Lines for people, wherever they go: shown safe, even into a pipe. */
  text = g_string_sized_new (len + 1);
  md_terminal_append_safe (text, data, len, MD_TERMINAL_KEEP_NEWLINE);
  if (text->len > 0 && text->str[text->len - 1] != '\n')
    g_string_append_c (text, '\n');
  fwrite (text->str, 1, text->len, stdout);
  notebook = md_client_status_get_string (body, MD_PROTOCOL_STATUS_NOTEBOOK, NULL);
  print_queued (options, notebook);
  return fflush (stdout) == 0 ? MD_CTL_EXIT_OK : MD_CTL_EXIT_REJECTED;
}

int
md_ctl_status (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;

  context = md_ctl_option_context_new (
      "status", NULL,
      _ ("Print the daemon's status: version, number of notes, "
         "newest id, uptime, observers, and how many notes wait in the outbox."));
  if (!md_ctl_parse_options (context, "status", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("status", _ ("unexpected argument “%s”"), argv[1]);
  return print_status (options);
}
