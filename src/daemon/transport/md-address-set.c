#include "config.h"

#include "md-address-set.h"

#include "md-error.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  guint8 bytes[16];
  guint8 len;    /* 4 or 16 */
  guint8 prefix; /* leading bits that must match */
} MdNetwork;

struct _MdAddressSet
{
  GArray *networks; /* of MdNetwork */
};

static const guint8 v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static gboolean
parse_prefix (const char *text, guint max, guint *prefix)
{
  char *end = NULL;
  guint64 value;

  if (!g_ascii_isdigit (text[0]))
    return FALSE;
  value = g_ascii_strtoull (text, &end, 10);
  if (*end != '\0' || value > max)
    return FALSE;
  *prefix = (guint)value;
  return TRUE;
}

/* "ADDRESS[/LENGTH]" into @net; a mapped IPv6 network becomes IPv4. */
static gboolean
parse_network (const char *item, MdNetwork *net)
{
  g_autofree char *address = g_strdup (item);
  char *slash = strchr (address, '/');
  guint prefix;

  memset (net, 0, sizeof *net);
  if (slash != NULL)
    *slash = '\0';
  if (inet_pton (AF_INET, address, net->bytes) == 1)
    net->len = 4;
  else if (inet_pton (AF_INET6, address, net->bytes) == 1)
    net->len = 16;
  else
    return FALSE;
  prefix = net->len * 8;
  if (slash != NULL && !parse_prefix (slash + 1, net->len * 8, &prefix))
    return FALSE;
  if (net->len == 16 && prefix >= 96 && memcmp (net->bytes, v4_mapped_prefix, 12) == 0)
    {
      memmove (net->bytes, net->bytes + 12, 4);
      net->len = 4;
      prefix -= 96;
    }
  net->prefix = (guint8)prefix;
  return TRUE;
}

MdAddressSet *
md_address_set_new (const char *const *items, GError **error)
{
  g_autoptr (MdAddressSet) self = g_new0 (MdAddressSet, 1);

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self->networks = g_array_new (FALSE, FALSE, sizeof (MdNetwork));
  for (gsize i = 0; items != NULL && items[i] != NULL; i++)
    {
      MdNetwork net;

      if (!parse_network (items[i], &net))
        {
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                       "“%s” is not an address or a network (ADDRESS/LENGTH)", items[i]);
          return NULL;
        }
      g_array_append_val (self->networks, net);
    }
  return g_steal_pointer (&self);
}

void
md_address_set_free (MdAddressSet *self)
{
  if (self == NULL)
    return;
  if (self->networks != NULL)
    g_array_unref (self->networks);
  g_free (self);
}

static gboolean
network_contains (const MdNetwork *net, const guint8 *host, gsize len)
{
  guint whole = net->prefix / 8;
  guint rest = net->prefix % 8;
  guint8 mask = (guint8)(0xff << (8 - rest));

  if (len != net->len || memcmp (net->bytes, host, whole) != 0)
    return FALSE;
  return rest == 0 || ((net->bytes[whole] ^ host[whole]) & mask) == 0;
}

gboolean
md_address_set_contains (const MdAddressSet *self, const MdPeer *peer)
{
  guint8 host[16];
  gsize len;

  g_return_val_if_fail (self != NULL && peer != NULL, FALSE);

  len = md_peer_host_bytes (peer, host);
  for (guint i = 0; i < self->networks->len; i++)
    if (network_contains (&g_array_index (self->networks, MdNetwork, i), host, len))
      return TRUE;
  return FALSE;
}
