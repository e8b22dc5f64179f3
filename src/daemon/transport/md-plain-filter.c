#include "config.h"

#include "md-plain-filter.h"

#include "md-log.h"

struct _MdPlainFilter
{
  MdAddressSet *allowed;
  guint64 refused;
};

MdPlainFilter *
md_plain_filter_new (void)
{
  g_auto (GStrv) networks = g_strsplit (MD_PLAIN_FROM_DEFAULT, " ", -1);
  MdPlainFilter *self = g_new0 (MdPlainFilter, 1);

  self->allowed = md_address_set_new ((const char *const *)networks, NULL);
  g_assert (self->allowed != NULL);
  return self;
}

void
md_plain_filter_free (MdPlainFilter *self)
{
  if (self == NULL)
    return;
  md_address_set_free (self->allowed);
  g_free (self);
}

gboolean
md_plain_filter_set_networks (MdPlainFilter *self, const char *const *networks, GError **error)
{
  MdAddressSet *allowed;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  allowed = md_address_set_new (networks, error);
  if (allowed == NULL)
    {
      g_prefix_error (error, "PlainFrom=: ");
      return FALSE;
    }
  md_address_set_free (self->allowed);
  self->allowed = allowed;
  return TRUE;
}

MdPlainDestination
md_plain_destination_of (const MdPeer *peer)
{
  g_return_val_if_fail (peer != NULL, MD_PLAIN_DESTINATION_UNICAST);

  if (peer->local.family == AF_INET && IN_MULTICAST (g_ntohl (peer->local.addr.v4.s_addr)))
    return MD_PLAIN_DESTINATION_MULTICAST;
  if (peer->local.family == AF_INET6 && IN6_IS_ADDR_MULTICAST (&peer->local.addr.v6))
    return MD_PLAIN_DESTINATION_MULTICAST;
  return MD_PLAIN_DESTINATION_UNICAST;
}

static void
refuse (MdPlainFilter *self, const MdPeer *peer, gint64 now_us)
{
  char address[64];

  self->refused++;
  md_log_plain_refused (md_peer_to_string (peer, address), now_us);
}

MdPlainVerdict
md_plain_filter_check (MdPlainFilter *self, const MdPeer *peer, MdPlainDestination destination,
                       gint64 now_us)
{
  g_return_val_if_fail (self != NULL && peer != NULL, MD_PLAIN_REFUSE);

  /* Discovery answers anyone on the LAN, whatever PlainFrom= says. */
  if (destination == MD_PLAIN_DESTINATION_MULTICAST)
    return MD_PLAIN_DISCOVERY;
  if (md_address_set_contains (self->allowed, peer))
    return MD_PLAIN_ADMIT;
  refuse (self, peer, now_us);
  return MD_PLAIN_REFUSE;
}

guint64
md_plain_filter_get_refused (const MdPlainFilter *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->refused;
}
