#include "config.h"

#include "md-author.h"

#include "md-dtls-rate.h"

#include <arpa/inet.h>

const char *
md_author_from_datagram (const MdDatagram *datagram, char out[MD_AUTHOR_MAX])
{
  guint8 host[16];
  char text[INET6_ADDRSTRLEN];
  gsize len;

  g_return_val_if_fail (datagram != NULL && out != NULL, NULL);

  if (datagram->identity != NULL)
    {
      g_strlcpy (out, datagram->identity, MD_AUTHOR_MAX);
      return out;
    }
  /* IPv4-mapped addresses of a dual-stack socket as the IPv4 they are. */
  len = md_dtls_peer_host (&datagram->peer, host);
  if (len == 0 || inet_ntop (len == 4 ? AF_INET : AF_INET6, host, text, sizeof text) == NULL)
    g_strlcpy (text, "?", sizeof text);
  g_snprintf (out, MD_AUTHOR_MAX, "@%s", text);
  return out;
}
