#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "md-psk.h"
#include "mydailyctl.h"

/* Works offline and prints only: the line goes into the server's keys file
 * (mydailyctl keygen NAME >> /etc/mydaily/keys) and, by a safe channel, to
 * the person. */
static int
print_key_line (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = md_psk_generate_secret (&error);
  int status;

  if (secret == NULL)
    return md_ctl_fail (error);
  printf ("%s %s\n", name, secret);
  status = fflush (stdout) == 0 ? MD_CTL_EXIT_OK : MD_CTL_EXIT_REJECTED;
  explicit_bzero (secret, strlen (secret));
  return status;
}

int
md_ctl_keygen (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;

  context = md_ctl_option_context_new (
      "keygen", _ ("NAME"),
      _ ("Print a keys file line “NAME KEY” with a new random key, for the server's "
         "/etc/mydaily/keys."));
  if (!md_ctl_parse_options (context, "keygen", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc != 2)
    return md_ctl_usage_error ("keygen", _ ("expected one NAME"));
  if (!md_psk_check_name (argv[1], &error))
    return md_ctl_usage_error ("keygen", _ ("bad NAME “%s”: %s"), argv[1], error->message);
  return print_key_line (argv[1]);
}
