#include "config.h"

#include "md-write-proof.h"

#include "md-transport.h"

#include <string.h>

/* 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 on a dual-stack socket. */
static gboolean
is_loopback (const MdPeer *peer)
{
  static const guint8 v6_loopback[16] = { [15] = 1 };
  guint8 host[16];
  gsize len = md_peer_host_bytes (peer, host);

  if (len == 4)
    return host[0] == 127;
  return len == 16 && memcmp (host, v6_loopback, sizeof v6_loopback) == 0;
}

/* POST and PUT add notes; any other method but GET is taken as a write
 * too, so a method added later (corrections) is covered from the start. */
static gboolean
is_write (const MdCoapMessage *request)
{
  return request->code != MD_COAP_GET;
}

gboolean
md_write_needs_proven_address (const MdCoapMessage *request, const MdPeer *peer)
{
  g_return_val_if_fail (request != NULL && peer != NULL, FALSE);

  return is_write (request) && !md_transport_proves_address (peer) && !is_loopback (peer);
}

/* No diagnostic: a challenge is the normal first step, not a refusal to
 * log (md-server.c), and the smaller it is the less it reflects. */
static gboolean
challenge (MdEcho *echo, const MdPeer *peer, gint64 now_us, MdCoapMessage *response)
{
  guint8 value[MD_ECHO_VALUE_LEN];

  md_coap_message_reset (response, MD_COAP_UNAUTHORIZED);
  md_echo_make_value (echo, peer, now_us, value);
  if (!md_coap_message_add_option (response, MD_COAP_OPTION_ECHO, value, sizeof value))
    g_warning ("no room for Echo in a 4.01");
  return FALSE;
}

gboolean
md_write_proof_check (MdEcho *echo, const MdCoapMessage *request, const MdPeer *peer, gint64 now_us,
                      MdCoapMessage *response)
{
  g_return_val_if_fail (echo != NULL && request != NULL && peer != NULL, FALSE);
  g_return_val_if_fail (response != NULL, FALSE);

  if (!md_write_needs_proven_address (request, peer) || md_echo_is_verified (echo, peer, now_us))
    return TRUE;
  return challenge (echo, peer, now_us, response);
}
