#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "md-client-status.h"
#include "mydailyctl.h"

static int
print_status (MdCtlOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) body = NULL;
  gsize len = 0;
  const char *data;

  if (client == NULL)
    return md_ctl_fail (error);
  md_client_get_status_async (client, NULL, md_ctl_keep_result, &result);
  body = md_client_get_status_finish (client, md_ctl_wait (&result), &error);
  if (body == NULL)
    return md_ctl_fail (error);
  data = g_bytes_get_data (body, &len);
  fwrite (data, 1, len, stdout);
  if (len > 0 && data[len - 1] != '\n')
    putchar ('\n');
  return fflush (stdout) == 0 ? MD_CTL_EXIT_OK : MD_CTL_EXIT_REJECTED;
}

int
md_ctl_status (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;

  context = md_ctl_option_context_new ("status", NULL,
                                       _ ("Print the daemon's status: version, number of notes, "
                                          "newest id, uptime and observers."));
  if (!md_ctl_parse_options (context, "status", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("status", _ ("unexpected argument “%s”"), argv[1]);
  return print_status (options);
}
