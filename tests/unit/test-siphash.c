#include "config.h"

#include "md-siphash.h"

/* The test vector of the SipHash paper (appendix A): key 00..0f, message
 * 00..0e. */
static void
test_siphash_vector (void)
{
  MdSipKey key
      = { { G_GUINT64_CONSTANT (0x0706050403020100), G_GUINT64_CONSTANT (0x0f0e0d0c0b0a0908) } };
  guint8 message[15];

  for (guint i = 0; i < sizeof message; i++)
    message[i] = (guint8)i;
  g_assert_cmphex (md_siphash (&key, message, sizeof message), ==,
                   G_GUINT64_CONSTANT (0xa129ca6149be45e5));
}

/* The inline 16-byte form is the same function. */
static void
test_siphash_two_words (void)
{
  MdSipKey key;
  guint64 words[2] = { GUINT64_TO_LE (G_GUINT64_CONSTANT (0x0123456789abcdef)),
                       GUINT64_TO_LE (G_GUINT64_CONSTANT (0xfedcba9876543210)) };

  md_siphash_key_init (&key);
  g_assert_cmphex (md_siphash_2u64 (&key, G_GUINT64_CONSTANT (0x0123456789abcdef),
                                    G_GUINT64_CONSTANT (0xfedcba9876543210)),
                   ==, md_siphash (&key, words, sizeof words));
}

static void
test_siphash_keys_differ (void)
{
  MdSipKey a, b;

  md_siphash_key_init (&a);
  md_siphash_key_init (&b);
  g_assert_true (a.k[0] != b.k[0] || a.k[1] != b.k[1]);
  g_assert_cmphex (md_siphash (&a, "127.0.0.2", 9), !=, md_siphash (&b, "127.0.0.2", 9));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/siphash/vector", test_siphash_vector);
  g_test_add_func ("/siphash/two-words", test_siphash_two_words);
  g_test_add_func ("/siphash/keys-differ", test_siphash_keys_differ);
  return g_test_run ();
}
