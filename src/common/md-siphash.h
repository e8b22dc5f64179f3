/* SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed hash of every table
 * whose keys a client chooses (note keys, peers, source addresses).  Under a
 * random key nobody can pick keys that share one hash chain.
 *
 * The 16-byte form is inline because the key table hashes a million keys at
 * start-up. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 k[2];
} MdSipKey;

/* A key from the kernel's CSPRNG (getrandom), or GLib's generator if that
 * fails, with a warning. */
void md_siphash_key_init (MdSipKey *key);

/* SipHash-2-4 of @len bytes. */
guint64 md_siphash (const MdSipKey *key, const void *data, gsize len);

#define MD_SIPHASH_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static inline void
md_siphash_round (guint64 v[4])
{
  v[0] += v[1], v[1] = MD_SIPHASH_ROTL (v[1], 13), v[1] ^= v[0], v[0] = MD_SIPHASH_ROTL (v[0], 32);
  v[2] += v[3], v[3] = MD_SIPHASH_ROTL (v[3], 16), v[3] ^= v[2];
  v[0] += v[3], v[3] = MD_SIPHASH_ROTL (v[3], 21), v[3] ^= v[0];
  v[2] += v[1], v[1] = MD_SIPHASH_ROTL (v[1], 17), v[1] ^= v[2], v[2] = MD_SIPHASH_ROTL (v[2], 32);
}

static inline void
md_siphash_init_state (const MdSipKey *key, guint64 v[4])
{
  v[0] = key->k[0] ^ G_GUINT64_CONSTANT (0x736f6d6570736575);
  v[1] = key->k[1] ^ G_GUINT64_CONSTANT (0x646f72616e646f6d);
  v[2] = key->k[0] ^ G_GUINT64_CONSTANT (0x6c7967656e657261);
  v[3] = key->k[1] ^ G_GUINT64_CONSTANT (0x7465646279746573);
}

static inline void
md_siphash_absorb (guint64 v[4], guint64 m)
{
  v[3] ^= m;
  md_siphash_round (v);
  md_siphash_round (v);
  v[0] ^= m;
}

static inline guint64
md_siphash_finish (guint64 v[4])
{
  v[2] ^= 0xff;
  for (int i = 0; i < 4; i++)
    md_siphash_round (v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The same as md_siphash() of the 16 bytes that are @a then @b in
 * little-endian order. */
static inline guint64
md_siphash_2u64 (const MdSipKey *key, guint64 a, guint64 b)
{
  guint64 v[4];

  md_siphash_init_state (key, v);
  md_siphash_absorb (v, a);
  md_siphash_absorb (v, b);
  md_siphash_absorb (v, (guint64)16 << 56);
  return md_siphash_finish (v);
}

G_END_DECLS
