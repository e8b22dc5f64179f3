/* mydailyctl sync: sends the queued notes of the server's notebook now. */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "md-outbox.h"
#include "mydailyctl.h"

static int
sync_outbox (MdCtlOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autoptr (MdOutbox) outbox = NULL;
  g_autofree char *server = md_ctl_server_name (options->server);
  g_autofree char *notebook = NULL;
  guint sent = 0;

  if (client == NULL)
    return md_ctl_fail (error);
  outbox = md_ctl_open_outbox ();
  if (outbox == NULL)
    return MD_CTL_EXIT_REJECTED;
  if (!md_ctl_learn_notebook (client, &notebook, NULL, &error)
      || !md_ctl_flush_outbox (client, outbox, server, notebook, &sent, &error))
    return md_ctl_fail (error);
  if (md_outbox_count (outbox, notebook, server) > 0)
    {
      /* Another run was sending them: they are on their way. */
      md_ctl_print_error (_ ("another mydailyctl is sending the queued notes"));
      return MD_CTL_EXIT_OK;
    }
  if (sent == 0)
    printf ("%s\n", _ ("no queued notes"));
  return MD_CTL_EXIT_OK;
}

int
md_ctl_sync (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;

  context = md_ctl_option_context_new (
      "sync", NULL, _ ("Send the notes queued for the server's notebook while it did not answer."));
  if (!md_ctl_parse_options (context, "sync", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("sync", _ ("unexpected argument “%s”"), argv[1]);
  return sync_outbox (options);
}
