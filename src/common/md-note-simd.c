#include "config.h"

/* The UTF-8 part follows the idea of Keiser and Lemire ("Validating UTF-8 in
 * less than one instruction per byte", 2021): nearly every error is visible
 * in a pair of bytes, and three 16-entry tables, looked up by the high and
 * low nibble of the first byte and the high nibble of the second, give for
 * each pair a set of error bits whose AND is not empty exactly when the pair
 * is wrong.  The tables here are our own, with a bit for the C1 controls
 * (0xC2 0x80-0x9F); bytes that are never valid (0xC0, 0xC1, 0xF5-0xFF) and
 * the C0/DEL controls are checked byte by byte instead. */

#include "md-note-simd.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define MD_NOTE_SIMD 1
#include <tmmintrin.h>
#endif

#ifdef MD_NOTE_SIMD

/* The error bits of a byte pair (first, second). */
#define TOO_SHORT 0x01  /* a lead byte, then no continuation byte */
#define TOO_LONG 0x02   /* ASCII, then a continuation byte */
#define C1_CONTROL 0x04 /* 0xC2 0x80-0x9F: U+0080-U+009F */
#define TOO_LARGE 0x08  /* 0xF4 0x90-0xBF: above U+10FFFF */
#define OVERLONG_3 0x10 /* 0xE0 0x80-0x9F */
#define SURROGATE 0x20  /* 0xED 0xA0-0xBF: U+D800-U+DFFF */
#define OVERLONG_4 0x40 /* 0xF0 0x80-0x8F */
#define TWO_CONTS                                                                                  \
  0x80 /* two continuation bytes: wrong unless a 3- or 4-byte character needs them */
#define ANY_LOW (TOO_SHORT | TOO_LONG | TWO_CONTS)

#define REPEAT4(x) x, x, x, x

/* By the high nibble of the first byte. */
static const gint8 first_high[16] = {
  REPEAT4 (TOO_LONG),
  REPEAT4 (TOO_LONG),
  REPEAT4 ((gint8)TWO_CONTS),
  TOO_SHORT | C1_CONTROL,             /* 0xC_ */
  TOO_SHORT,                          /* 0xD_ */
  TOO_SHORT | OVERLONG_3 | SURROGATE, /* 0xE_ */
  TOO_SHORT | TOO_LARGE | OVERLONG_4, /* 0xF_ */
};

/* By the low nibble of the first byte. */
static const gint8 first_low[16] = {
  (gint8)(ANY_LOW | OVERLONG_3 | OVERLONG_4), /* 0x_0 */
  (gint8)ANY_LOW,
  (gint8)(ANY_LOW | C1_CONTROL), /* 0x_2 */
  (gint8)ANY_LOW,
  (gint8)(ANY_LOW | TOO_LARGE), /* 0x_4 */
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
  (gint8)(ANY_LOW | SURROGATE), /* 0x_D */
  (gint8)ANY_LOW,
  (gint8)ANY_LOW,
};

/* By the high nibble of the second byte. */
static const gint8 second_high[16] = {
  REPEAT4 (TOO_SHORT),
  REPEAT4 (TOO_SHORT),
  (gint8)(TOO_LONG | TWO_CONTS | C1_CONTROL | OVERLONG_3 | OVERLONG_4), /* 0x8_ */
  (gint8)(TOO_LONG | TWO_CONTS | C1_CONTROL | OVERLONG_3 | TOO_LARGE),  /* 0x9_ */
  (gint8)(TOO_LONG | TWO_CONTS | SURROGATE | TOO_LARGE),                /* 0xA_ */
  (gint8)(TOO_LONG | TWO_CONTS | SURROGATE | TOO_LARGE),                /* 0xB_ */
  REPEAT4 (TOO_SHORT),
};

typedef struct
{
  __m128i first_high, first_low, second_high;
} Tables;

/* Bytes of @x that are at least @n (unsigned): all ones, else zero. */
__attribute__ ((target ("ssse3"))) static inline __m128i
bytes_at_least (__m128i x, guint8 n)
{
  return _mm_cmpeq_epi8 (_mm_max_epu8 (x, _mm_set1_epi8 ((char)n)), x);
}

/* Non-zero bytes where @input breaks a rule, given the 16 bytes before it. */
__attribute__ ((target ("ssse3"))) static inline __m128i
block_errors (const Tables *t, __m128i input, __m128i before)
{
  const __m128i nibble = _mm_set1_epi8 (0x0f);
  __m128i prev1 = _mm_alignr_epi8 (input, before, 15);
  __m128i prev2 = _mm_alignr_epi8 (input, before, 14);
  __m128i prev3 = _mm_alignr_epi8 (input, before, 13);
  __m128i pairs = _mm_and_si128 (
      _mm_and_si128 (
          _mm_shuffle_epi8 (t->first_high, _mm_and_si128 (_mm_srli_epi16 (prev1, 4), nibble)),
          _mm_shuffle_epi8 (t->first_low, _mm_and_si128 (prev1, nibble))),
      _mm_shuffle_epi8 (t->second_high, _mm_and_si128 (_mm_srli_epi16 (input, 4), nibble)));
  /* The high bit is set where the third or fourth byte of a character must
   * be a continuation byte: two bytes after 0xE0+, three after 0xF0+. */
  __m128i needs_cont = _mm_and_si128 (_mm_or_si128 (_mm_subs_epu8 (prev2, _mm_set1_epi8 (0x60)),
                                                    _mm_subs_epu8 (prev3, _mm_set1_epi8 (0x70))),
                                      _mm_set1_epi8 ((char)0x80));
  /* C0 (below 0x20), DEL, and the bytes no valid text holds. */
  __m128i control
      = _mm_or_si128 (_mm_cmpeq_epi8 (_mm_min_epu8 (input, _mm_set1_epi8 (0x1f)), input),
                      _mm_cmpeq_epi8 (input, _mm_set1_epi8 (0x7f)));
  __m128i never = _mm_or_si128 (_mm_cmpeq_epi8 (_mm_and_si128 (input, _mm_set1_epi8 ((char)0xfe)),
                                                _mm_set1_epi8 ((char)0xc0)),
                                bytes_at_least (input, 0xf5));

  return _mm_or_si128 (_mm_xor_si128 (pairs, needs_cont), _mm_or_si128 (control, never));
}

/* Shuffle indices: loaded from 16 - n, the first n pick the last n bytes of
 * a block, the rest (0x80) pick zero. */
static const gint8 tail_indices[32] = {
  0,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  REPEAT4 (-128),
  REPEAT4 (-128),
  REPEAT4 (-128),
  REPEAT4 (-128),
};

/* The last @rest (< 16) bytes of @text[0, @len), then spaces.  A text of 16
 * bytes or more yields them from one load of its last 16, without a copy:
 * every note at start-up comes here. */
__attribute__ ((target ("ssse3"))) static inline __m128i
last_block (const char *text, gsize len, gsize rest)
{
  const __m128i spaces = _mm_set1_epi8 (' ');
  __m128i indices, picked;
  char last[16];

  if (len < 16)
    {
      memset (last, ' ', sizeof last);
      memcpy (last, text, len);
      return _mm_loadu_si128 ((const __m128i *)last);
    }
  indices = _mm_loadu_si128 ((const __m128i *)(tail_indices + 16 - rest));
  picked = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *)(text + len - 16)), indices);
  return _mm_or_si128 (picked,
                       _mm_and_si128 (_mm_cmplt_epi8 (indices, _mm_setzero_si128 ()), spaces));
}

/* The text in blocks of 16, the last one padded with spaces; at least one
 * space follows the text, so a character cut off at its end is TOO_SHORT. */
__attribute__ ((target ("ssse3"))) gboolean
md_note_simd_is_printable_utf8 (const char *text, gsize len)
{
  Tables t = { _mm_loadu_si128 ((const __m128i *)first_high),
               _mm_loadu_si128 ((const __m128i *)first_low),
               _mm_loadu_si128 ((const __m128i *)second_high) };
  __m128i before = _mm_setzero_si128 (), errors = _mm_setzero_si128 (), input;
  gsize i = 0;

  for (; i + 16 <= len; i += 16)
    {
      input = _mm_loadu_si128 ((const __m128i *)(text + i));
      errors = _mm_or_si128 (errors, block_errors (&t, input, before));
      before = input;
    }
  input = last_block (text, len, len - i);
  errors = _mm_or_si128 (errors, block_errors (&t, input, before));
  return _mm_movemask_epi8 (_mm_cmpeq_epi8 (errors, _mm_setzero_si128 ())) == 0xffff;
}

gboolean
md_note_simd_available (void)
{
  return __builtin_cpu_supports ("ssse3");
}

#else

gboolean
md_note_simd_is_printable_utf8 (const char *text, gsize len)
{
  g_return_val_if_reached (FALSE);
}

gboolean
md_note_simd_available (void)
{
  return FALSE;
}

#endif
