#include "config.h"

#include "md-echo.h"

#include "md-transport.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* An Echo value: the window number (4 bytes, big-endian) followed by the
 * first MD_ECHO_MAC_LEN bytes of HMAC-SHA256(key, window || source IP).
 * 64 bits of MAC are plenty for a value that is only good for one minute. */
#define MD_ECHO_WINDOW_LEN 4
#define MD_ECHO_MAC_LEN (MD_ECHO_VALUE_LEN - MD_ECHO_WINDOW_LEN)
#define MD_ECHO_KEY_LEN 32

/* A verified source address (md_peer_host_bytes: no port). */
typedef struct
{
  guint8 host[16];
  guint8 host_len;
  gint64 verified_us;
  GList link; /* in MdEcho.by_age, data points back to the entry */
} MdEchoVerified;

struct _MdEcho
{
  guint8 key[MD_ECHO_KEY_LEN];
  GHashTable *verified; /* set of MdEchoVerified, keyed by address */
  GQueue by_age;        /* least recently verified first */
};

static guint
md_echo_verified_hash (gconstpointer key)
{
  const MdEchoVerified *entry = key;

  return md_peer_hash_bytes (entry->host, entry->host_len);
}

static gboolean
md_echo_verified_equal (gconstpointer a, gconstpointer b)
{
  const MdEchoVerified *ea = a;
  const MdEchoVerified *eb = b;

  return ea->host_len == eb->host_len && memcmp (ea->host, eb->host, ea->host_len) == 0;
}

/* The key never leaves the process; getrandom() is the kernel CSPRNG.  Only
 * on a kernel without it (before 3.17) fall back to GLib's generator, which is
 * seeded from /dev/urandom but not meant for keys, and say so. */
static void
md_echo_make_key (guint8 key[MD_ECHO_KEY_LEN])
{
  gsize filled = 0;

  while (filled < MD_ECHO_KEY_LEN)
    {
      ssize_t n = getrandom (key + filled, MD_ECHO_KEY_LEN - filled, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      filled += (gsize)n;
    }
  if (filled == MD_ECHO_KEY_LEN)
    return;
  g_warning ("getrandom failed (%s); Echo key made with g_random", g_strerror (errno));
  for (gsize i = 0; i < MD_ECHO_KEY_LEN; i++)
    key[i] = (guint8)g_random_int_range (0, 256);
}

MdEcho *
md_echo_new (void)
{
  MdEcho *self = g_new0 (MdEcho, 1);

  md_echo_make_key (self->key);
  self->verified
      = g_hash_table_new_full (md_echo_verified_hash, md_echo_verified_equal, NULL, g_free);
  g_queue_init (&self->by_age);
  return self;
}

void
md_echo_free (MdEcho *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->verified);
  memset (self->key, 0, sizeof self->key);
  g_free (self);
}

static guint32
md_echo_window_of (gint64 now_us)
{
  return (guint32)(now_us / MD_ECHO_WINDOW_US);
}

static void
md_echo_compute (MdEcho *self, const MdPeer *peer, guint32 window, guint8 value[MD_ECHO_VALUE_LEN])
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, self->key, sizeof self->key);
  guint8 address[16];
  gsize address_len = md_peer_host_bytes (peer, address);
  guint8 digest[32];
  gsize digest_len = sizeof digest;

  value[0] = (guint8)(window >> 24);
  value[1] = (guint8)(window >> 16);
  value[2] = (guint8)(window >> 8);
  value[3] = (guint8)window;
  g_hmac_update (hmac, value, MD_ECHO_WINDOW_LEN);
  g_hmac_update (hmac, address, address_len);
  g_hmac_get_digest (hmac, digest, &digest_len);
  memcpy (value + MD_ECHO_WINDOW_LEN, digest, MD_ECHO_MAC_LEN);
}

void
md_echo_make_value (MdEcho *self, const MdPeer *peer, gint64 now_us,
                    guint8 value[MD_ECHO_VALUE_LEN])
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (peer != NULL);
  g_return_if_fail (value != NULL);

  md_echo_compute (self, peer, md_echo_window_of (now_us), value);
}

/* Timing must not tell an attacker how many leading bytes were right. */
static gboolean
md_echo_equal_constant_time (const guint8 *a, const guint8 *b, gsize len)
{
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

static void
md_echo_forget (MdEcho *self, MdEchoVerified *entry)
{
  g_queue_unlink (&self->by_age, &entry->link);
  g_hash_table_remove (self->verified, entry);
}

static void
md_echo_expire (MdEcho *self, gint64 now_us)
{
  MdEchoVerified *oldest;

  while ((oldest = g_queue_peek_head (&self->by_age)) != NULL
         && now_us - oldest->verified_us >= MD_ECHO_VERIFIED_US)
    md_echo_forget (self, oldest);
}

static MdEchoVerified *
md_echo_lookup (MdEcho *self, const MdPeer *peer, MdEchoVerified *probe)
{
  memset (probe, 0, sizeof *probe);
  probe->host_len = (guint8)md_peer_host_bytes (peer, probe->host);
  return g_hash_table_lookup (self->verified, probe);
}

/* An address verified again moves to the young end; a full table drops
 * the address verified longest ago, which at worst pays one more round
 * trip. */
static void
md_echo_mark_verified (MdEcho *self, const MdPeer *peer, gint64 now_us)
{
  MdEchoVerified probe;
  MdEchoVerified *entry = md_echo_lookup (self, peer, &probe);

  if (entry != NULL)
    g_queue_unlink (&self->by_age, &entry->link);
  else
    {
      if (g_hash_table_size (self->verified) >= MD_ECHO_MAX_VERIFIED)
        md_echo_forget (self, g_queue_peek_head (&self->by_age));
      entry = g_memdup2 (&probe, sizeof probe);
      entry->link.data = entry;
      g_hash_table_add (self->verified, entry);
    }
  entry->verified_us = now_us;
  g_queue_push_tail_link (&self->by_age, &entry->link);
}

gboolean
md_echo_check_value (MdEcho *self, const MdPeer *peer, const guint8 *value, gsize len,
                     gint64 now_us)
{
  guint8 expected[MD_ECHO_VALUE_LEN];
  guint32 window, current;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (value != NULL || len == 0, FALSE);

  if (len != MD_ECHO_VALUE_LEN)
    return FALSE;
  window = (guint32)value[0] << 24 | (guint32)value[1] << 16 | (guint32)value[2] << 8 | value[3];
  current = md_echo_window_of (now_us);
  /* The previous window too, so a value made just before a boundary works. */
  if (window != current && window + 1 != current)
    return FALSE;
  md_echo_compute (self, peer, window, expected);
  if (!md_echo_equal_constant_time (expected, value, MD_ECHO_VALUE_LEN))
    return FALSE;
  md_echo_expire (self, now_us);
  md_echo_mark_verified (self, peer, now_us);
  return TRUE;
}

gboolean
md_echo_is_verified (MdEcho *self, const MdPeer *peer, gint64 now_us)
{
  MdEchoVerified probe;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if (md_transport_proves_address (peer))
    return TRUE;
  md_echo_expire (self, now_us);
  return md_echo_lookup (self, peer, &probe) != NULL;
}
