#include "config.h"

#include "md-listen.h"

#include "md-error.h"
#include "md-peer.h"
#include "md-udp-transport.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

const char *
md_listen_describe (int fd, char out[64])
{
  MdPeer local = { .fd = fd, .addr_len = sizeof local.addr };

  g_return_val_if_fail (out != NULL, NULL);

  if (getsockname (fd, (struct sockaddr *)&local.addr, &local.addr_len) < 0)
    {
      g_strlcpy (out, "?", 64);
      return out;
    }
  return md_peer_to_string (&local, out);
}

static void
add_socket (GArray *fds, int fd)
{
  char address[64];

  g_array_append_val (fds, fd);
  g_info ("listening on %s", md_listen_describe (fd, address));
}

/* ---- sockets from systemd ----------------------------------------------- */

/* Appends the @n_fds sockets systemd passed to @fds, each checked to be an
 * IPv4 or IPv6 UDP socket: the one check of a socket the daemon did not
 * make itself. */
static gboolean
md_listen_adopt (int n_fds, GArray *fds, GError **error)
{
  g_return_val_if_fail (n_fds >= 0, FALSE);
  g_return_val_if_fail (fds != NULL, FALSE);

  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n_fds; fd++)
    {
      if (!md_udp_socket_check (fd, NULL))
        {
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                       _ ("file descriptor %d from systemd is not an IPv4 or IPv6 UDP socket"), fd);
          return FALSE;
        }
      add_socket (fds, fd);
    }
  return TRUE;
}

/* ---- --listen ----------------------------------------------------------- */

static gboolean
set_bad_spec (const char *spec, GError **error)
{
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
               _ ("bad --listen=%s: expected ADDR:PORT, as in 127.0.0.1:5683 or [::1]:5683"), spec);
  return FALSE;
}

/* "[::1]:5683" or "[::1]"; FALSE on anything after the bracket but a port. */
static gboolean
split_bracketed (const char *spec, char **host, char **port)
{
  const char *close = strchr (spec, ']');

  if (close == NULL || (close[1] != '\0' && close[1] != ':'))
    return FALSE;
  *host = g_strndup (spec + 1, close - spec - 1);
  *port = g_strdup (close[1] == ':' ? close + 2 : MD_LISTEN_DEFAULT_PORT);
  return TRUE;
}

static void
split_plain (const char *spec, char **host, char **port)
{
  const char *colon = strrchr (spec, ':');
  const char *end = colon != NULL ? colon : spec + strlen (spec);

  *host = g_strndup (spec, end - spec);
  *port = g_strdup (colon != NULL ? colon + 1 : MD_LISTEN_DEFAULT_PORT);
}

gboolean
md_listen_split (const char *spec, char **host, char **port, GError **error)
{
  const char *colon;

  g_return_val_if_fail (spec != NULL && host != NULL && port != NULL, FALSE);

  /* An empty --listen= is a slip (an unset shell variable), not a wish to
   * listen everywhere: ":5683" says that. */
  if (*spec == '\0')
    return set_bad_spec (spec, error);
  colon = strrchr (spec, ':');
  if (spec[0] == '[')
    {
      if (!split_bracketed (spec, host, port))
        return set_bad_spec (spec, error);
    }
  else if (colon != NULL && strchr (spec, ':') != colon)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("bad --listen=%s: write an IPv6 address in brackets, as in [::1]:5683"),
                   spec);
      return FALSE;
    }
  else
    split_plain (spec, host, port);
  if (g_ascii_string_to_unsigned (*port, 10, 0, G_MAXUINT16, NULL, NULL))
    return TRUE;
  g_clear_pointer (host, g_free);
  g_clear_pointer (port, g_free);
  return set_bad_spec (spec, error);
}

static struct addrinfo *
resolve (const char *spec, GError **error)
{
  const struct addrinfo hints = {
    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_DGRAM,
    .ai_protocol = IPPROTO_UDP,
  };
  g_autofree char *host = NULL;
  g_autofree char *port = NULL;
  struct addrinfo *result = NULL;
  int r;

  if (!md_listen_split (spec, &host, &port, error))
    return NULL;
  r = getaddrinfo (*host != '\0' ? host : NULL, port, &hints, &result);
  if (r != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("bad --listen=%s: %s"), spec,
                   r == EAI_SYSTEM ? g_strerror (errno) : gai_strerror (r));
      return NULL;
    }
  return result;
}

static int
fail_socket (int fd, const char *what, GError **error)
{
  md_error_set_errno (error, errno, what);
  if (fd >= 0)
    close (fd);
  return -1;
}

static int
bind_address (const struct addrinfo *ai, GError **error)
{
  int fd = socket (ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;

  if (fd < 0)
    return fail_socket (fd, "socket", error);
  /* One socket per address: [::] must not also take the IPv4 port. */
  if (ai->ai_family == AF_INET6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    return fail_socket (fd, "setsockopt(IPV6_V6ONLY)", error);
  if (bind (fd, ai->ai_addr, ai->ai_addrlen) < 0)
    return fail_socket (fd, "bind", error);
  return fd;
}

gboolean
md_listen_bind (const char *spec, GArray *fds, GError **error)
{
  g_autoptr (GError) first_error = NULL;
  struct addrinfo *result;
  guint bound = 0;

  g_return_val_if_fail (spec != NULL && fds != NULL, FALSE);

  result = resolve (spec, error);
  if (result == NULL)
    return FALSE;
  for (const struct addrinfo *ai = result; ai != NULL; ai = ai->ai_next)
    {
      g_autoptr (GError) local_error = NULL;
      int fd = bind_address (ai, &local_error);

      if (fd >= 0)
        {
          add_socket (fds, fd);
          bound++;
        }
      else if (first_error == NULL)
        first_error = g_steal_pointer (&local_error);
    }
  freeaddrinfo (result);
  if (bound > 0)
    return TRUE;
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("cannot listen on %s: %s"), spec,
               first_error->message);
  return FALSE;
}

/* ---- either ------------------------------------------------------------- */

gboolean
md_listen_open (const char *const *specs, GArray *fds, GError **error)
{
  int n_fds;

  g_return_val_if_fail (fds != NULL, FALSE);

  n_fds = sd_listen_fds (TRUE);
  if (n_fds < 0)
    {
      md_error_set_errno (error, -n_fds, "sd_listen_fds");
      return FALSE;
    }
  if (n_fds > 0)
    {
      if (specs != NULL)
        g_info ("using the %d socket(s) from systemd, not --listen", n_fds);
      return md_listen_adopt (n_fds, fds, error);
    }
  if (specs == NULL || specs[0] == NULL)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                           _ ("no socket: pass --listen=ADDR:PORT or start via mydaily.socket"));
      return FALSE;
    }
  for (guint i = 0; specs[i] != NULL; i++)
    if (!md_listen_bind (specs[i], fds, error))
      return FALSE;
  return TRUE;
}
