#include "config.h"

#include "md-siphash.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

void
md_siphash_key_init (MdSipKey *key)
{
  gsize filled = 0;
  guint8 *bytes = (guint8 *)key->k;

  g_return_if_fail (key != NULL);

  while (filled < sizeof key->k)
    {
      ssize_t n = getrandom (bytes + filled, sizeof key->k - filled, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      filled += (gsize)n;
    }
  if (filled == sizeof key->k)
    return;
  /* Only a kernel before 3.17: still unpredictable enough for a hash key. */
  g_warning ("getrandom failed (%s); hash key made with g_random", g_strerror (errno));
  key->k[0] = ((guint64)g_random_int () << 32) | g_random_int ();
  key->k[1] = ((guint64)g_random_int () << 32) | g_random_int ();
}

static guint64
load_le64 (const guint8 *p, gsize n)
{
  guint64 m = 0;

  for (gsize i = 0; i < n; i++)
    m |= (guint64)p[i] << (8 * i);
  return m;
}

guint64
md_siphash (const MdSipKey *key, const void *data, gsize len)
{
  const guint8 *p = data;
  gsize whole = len & ~(gsize)7;
  guint64 v[4];

  g_return_val_if_fail (key != NULL, 0);
  g_return_val_if_fail (data != NULL || len == 0, 0);

  md_siphash_init_state (key, v);
  for (gsize i = 0; i < whole; i += 8)
    md_siphash_absorb (v, load_le64 (p + i, 8));
  md_siphash_absorb (v, ((guint64)len << 56) | load_le64 (p + whole, len - whole));
  return md_siphash_finish (v);
}
