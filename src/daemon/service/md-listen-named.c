#include "config.h"

#include "md-listen-named.h"

#include "md-error.h"
#include "md-listen.h"
#include "md-protocol.h"
#include "md-udp-transport.h"

#include <glib/gi18n.h>
#include <string.h>
#include <systemd/sd-daemon.h>

char *
md_listen_dtls_spec (const char *spec)
{
  const char *bracket;
  const char *after;

  g_return_val_if_fail (spec != NULL, NULL);

  bracket = strrchr (spec, ']');
  after = bracket != NULL ? bracket : spec;
  /* "host" or "[::1]": no port; "::1" is refused by md_listen_split. */
  if (*spec != '\0' && strchr (after, ':') == NULL)
    return g_strconcat (spec, ":" MD_PROTOCOL_PORT_DTLS_STRING, NULL);
  return g_strdup (spec);
}

static gboolean
adopt (int fd, const char *name, GArray *plain_fds, GArray *dtls_fds, GError **error)
{
  char address[64];
  gboolean dtls = g_strcmp0 (name, MD_LISTEN_NAME_DTLS) == 0;

  if (!md_udp_socket_check (fd, NULL))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("file descriptor %d from systemd is not an IPv4 or IPv6 UDP socket"), fd);
      return FALSE;
    }
  g_array_append_val (dtls ? dtls_fds : plain_fds, fd);
  g_info ("listening on %s (%s)", md_listen_describe (fd, address),
          dtls ? MD_LISTEN_NAME_DTLS : MD_LISTEN_NAME_PLAIN);
  return TRUE;
}

static gboolean
adopt_all (int n_fds, char **names, GArray *plain_fds, GArray *dtls_fds, GError **error)
{
  for (int i = 0; i < n_fds; i++)
    if (!adopt (SD_LISTEN_FDS_START + i, names != NULL ? names[i] : NULL, plain_fds, dtls_fds,
                error))
      return FALSE;
  return TRUE;
}

static gboolean
bind_all (const char *const *plain_specs, const char *const *dtls_specs, GArray *plain_fds,
          GArray *dtls_fds, GError **error)
{
  for (guint i = 0; plain_specs != NULL && plain_specs[i] != NULL; i++)
    if (!md_listen_bind (plain_specs[i], plain_fds, error))
      return FALSE;
  for (guint i = 0; dtls_specs != NULL && dtls_specs[i] != NULL; i++)
    {
      g_autofree char *spec = md_listen_dtls_spec (dtls_specs[i]);

      if (!md_listen_bind (spec, dtls_fds, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
md_listen_open_named (const char *const *plain_specs, const char *const *dtls_specs,
                      GArray *plain_fds, GArray *dtls_fds, GError **error)
{
  g_auto (GStrv) names = NULL;
  int n_fds;

  g_return_val_if_fail (plain_fds != NULL && dtls_fds != NULL, FALSE);

  n_fds = sd_listen_fds_with_names (TRUE, &names);
  if (n_fds < 0)
    {
      md_error_set_errno (error, -n_fds, "sd_listen_fds_with_names");
      return FALSE;
    }
  if (n_fds > 0)
    {
      if (plain_specs != NULL || dtls_specs != NULL)
        g_info ("using the %d socket(s) from systemd, not --listen or --listen-dtls", n_fds);
      return adopt_all (n_fds, names, plain_fds, dtls_fds, error);
    }
  if ((plain_specs == NULL || plain_specs[0] == NULL)
      && (dtls_specs == NULL || dtls_specs[0] == NULL))
    {
      g_set_error_literal (
          error, MD_ERROR, MD_ERROR_FAILED,
          _ ("no socket: pass --listen=ADDR:PORT or --listen-dtls=ADDR:PORT, or start via "
             "mydaily.socket"));
      return FALSE;
    }
  return bind_all (plain_specs, dtls_specs, plain_fds, dtls_fds, error);
}
