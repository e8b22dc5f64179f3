#include "config.h"

#include "md-key.h"

#include "md-note.h"

#include <string.h>

#define BYTES_ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define BYTES_HIGH_BITS (BYTES_ONES * 0x80)

/* The high bit of each byte of @x that is >= @n.  Only for bytes below 0x80:
 * then adding 0x80 - @n cannot carry into the next byte. */
static inline guint64
bytes_at_least (guint64 x, guint8 n)
{
  return (x + BYTES_ONES * (guint8)(0x80 - n)) & BYTES_HIGH_BITS;
}

/* Decodes eight hex digits in either case; byte i of @x (little-endian) is
 * digit i, the most significant.  Start-up parses one key per keyed note,
 * so all eight go at once. */
static inline gboolean
hex8_decode (guint64 x, guint32 *value)
{
  /* Setting bit 5 folds 'A'-'F' onto 'a'-'f' and nothing else onto them. */
  guint64 lower = x | BYTES_ONES * 0x20;
  guint64 digit = bytes_at_least (x, '0') & ~bytes_at_least (x, '9' + 1);
  guint64 letter = bytes_at_least (lower, 'a') & ~bytes_at_least (lower, 'f' + 1);
  guint64 v;

  if ((x & BYTES_HIGH_BITS) != 0 || (digit | letter) != BYTES_HIGH_BITS)
    return FALSE;
  /* '0'-'9' and 'a'-'f' end in their value, letters need 9 more. */
  v = (x & BYTES_ONES * 0x0f) + (letter >> 7) * 9;
  /* Pack the nibbles: pairs into bytes, bytes into the low 32 bits, then put
   * digit 0 on top. */
  v = ((v & G_GUINT64_CONSTANT (0x000f000f000f000f)) << 4)
      | ((v & G_GUINT64_CONSTANT (0x0f000f000f000f00)) >> 8);
  v = (v | (v >> 8)) & G_GUINT64_CONSTANT (0x0000ffff0000ffff);
  v = (v | (v >> 16)) & 0xffffffff;
  *value = GUINT32_SWAP_LE_BE ((guint32)v);
  return TRUE;
}

static inline guint64
load_le64 (const char *s)
{
  guint64 x;

  memcpy (&x, s, sizeof x);
  return GUINT64_FROM_LE (x);
}

/* Two runs of four hex digits around a hyphen, as one word of eight. */
static inline guint64
load_le32_pair (const char *first, const char *second)
{
  guint32 a, b;

  memcpy (&a, first, sizeof a);
  memcpy (&b, second, sizeof b);
  return GUINT32_FROM_LE (a) | (guint64)GUINT32_FROM_LE (b) << 32;
}

gboolean
md_key_parse (const char *s, gsize len, MdKey *key)
{
  guint32 w[4];

  if (len != MD_NOTE_KEY_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return FALSE;
  if (!hex8_decode (load_le64 (s), &w[0]) || !hex8_decode (load_le32_pair (s + 9, s + 14), &w[1])
      || !hex8_decode (load_le32_pair (s + 19, s + 24), &w[2])
      || !hex8_decode (load_le64 (s + 28), &w[3]))
    return FALSE;
  key->hi = (guint64)w[0] << 32 | w[1];
  key->lo = (guint64)w[2] << 32 | w[3];
  return TRUE;
}
