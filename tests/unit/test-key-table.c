#include "config.h"

#include "md-key-table.h"
#include "md-note.h"

#include <string.h>

/* A distinct valid key per @i, with varied digits in every group. */
static char *
key_for (guint i)
{
  return g_strdup_printf ("%08x-%04x-4abc-8def-%012x", i * 2654435761u, i & 0xffff, i);
}

static MdKey
parsed_key_for (guint i)
{
  g_autofree char *text = key_for (i);
  MdKey key = { 0, 0 };

  g_assert_true (md_key_parse (text, strlen (text), &key));
  return key;
}

/* ---- md_key_parse --------------------------------------------------------- */

static void
test_key_parse_value (void)
{
  const char *text = "0123abcd-EF45-4678-9abc-DEF012345678";
  MdKey key;

  g_assert_true (md_key_parse (text, strlen (text), &key));
  g_assert_cmphex (key.hi, ==, G_GUINT64_CONSTANT (0x0123abcdef454678));
  g_assert_cmphex (key.lo, ==, G_GUINT64_CONSTANT (0x9abcdef012345678));
  g_assert_false (md_key_parse (text, strlen (text) - 1, &key));
  g_assert_false (md_key_parse ("-", 1, &key));
}

/* Every byte at every place of a key: a lookup finds the note exactly when
 * the changed key is still a UUID equal to the stored one but for case. */
static void
test_key_parse_every_byte (void)
{
  const char *stored = "0123abcd-ef45-4678-9abc-def012345678";
  char key[MD_NOTE_KEY_LEN + 1];
  MdKeyTable table;
  MdKey k;

  md_key_table_init (&table);
  g_assert_true (md_key_parse (stored, MD_NOTE_KEY_LEN, &k));
  md_key_table_insert (&table, &k, 1);
  for (guint i = 0; i < MD_NOTE_KEY_LEN; i++)
    for (guint b = 1; b < 256; b++)
      {
        gboolean expected, found;
        guint64 id = 0;

        memcpy (key, stored, sizeof key);
        key[i] = (char)b;
        expected
            = md_note_key_is_valid (key, MD_NOTE_KEY_LEN) && g_ascii_strcasecmp (key, stored) == 0;
        found
            = md_key_parse (key, strlen (key), &k) && (id = md_key_table_lookup (&table, &k)) != 0;
        if (found != expected)
          g_test_fail_printf ("key with byte 0x%02x at %u: found %d", b, i, !expected);
        if (expected)
          g_assert_cmpuint (id, ==, 1);
      }
  md_key_table_clear (&table);
}

/* ---- the table ------------------------------------------------------------ */

static void
assert_keys (const MdKeyTable *table, guint n, gboolean (*present) (guint i))
{
  for (guint i = 1; i <= n; i++)
    {
      MdKey key = parsed_key_for (i);

      g_assert_cmpuint (md_key_table_lookup (table, &key), ==, present (i) ? i : 0);
    }
}

static gboolean
all (guint i)
{
  return TRUE;
}

static gboolean
odd (guint i)
{
  return i % 2 == 1;
}

/* Growing by doubling from the smallest table, then removing every other
 * key: removal from the middle of probe chains must keep the rest found. */
static void
test_table_insert_remove (void)
{
  const guint n = 5000;
  MdKeyTable table;

  md_key_table_init (&table);
  for (guint i = 1; i <= n; i++)
    {
      MdKey key = parsed_key_for (i);

      md_key_table_insert (&table, &key, i);
    }
  g_assert_cmpuint (md_key_table_get_count (&table), ==, n);
  assert_keys (&table, n, all);
  for (guint i = 2; i <= n; i += 2)
    {
      MdKey key = parsed_key_for (i);

      md_key_table_remove (&table, &key);
      md_key_table_remove (&table, &key); /* absent: no change */
    }
  g_assert_cmpuint (md_key_table_get_count (&table), ==, n / 2);
  assert_keys (&table, n, odd);
  md_key_table_clear (&table);
}

/* The smallest table filled to its limit, emptied in random order with every
 * remaining key checked after each removal: long probe chains that wrap
 * around the end of the table.  Each table has its own random seed, so many
 * rounds see many layouts. */
static void
test_table_remove_full (void)
{
  const guint n = 47, rounds = 300; /* 47 keys: just under 3/4 of 64 slots */
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261124);
  gboolean present[48];

  for (guint round = 0; round < rounds; round++)
    {
      MdKeyTable table;

      md_key_table_init (&table);
      for (guint i = 1; i <= n; i++)
        {
          MdKey key = parsed_key_for (i);

          md_key_table_insert (&table, &key, i);
          present[i] = TRUE;
        }
      for (guint left = n; left > 0; left--)
        {
          guint victim = (guint)g_rand_int_range (rand, 1, (gint32)n + 1);
          MdKey key;

          while (!present[victim])
            victim = victim % n + 1;
          key = parsed_key_for (victim);
          md_key_table_remove (&table, &key);
          present[victim] = FALSE;
          for (guint i = 1; i <= n; i++)
            {
              MdKey k = parsed_key_for (i);

              g_assert_cmpuint (md_key_table_lookup (&table, &k), ==, present[i] ? i : 0);
            }
        }
      g_assert_cmpuint (md_key_table_get_count (&table), ==, 0);
      md_key_table_clear (&table);
    }
}

/* A reserved table's capacity is no power of two (4/3 of 100 keys), and it
 * takes keys up to 7/8 of it before growing: filled that far and emptied in
 * random order, every remaining key stays reachable across the wrap. */
static void
test_table_remove_reserved (void)
{
  const guint n = 117, rounds = 100; /* 7/8 of the 134 slots reserved for 100 */
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261201);
  gboolean present[118];

  for (guint round = 0; round < rounds; round++)
    {
      MdKeyTable table;

      md_key_table_init (&table);
      md_key_table_reserve (&table, 100);
      for (guint i = 1; i <= n; i++)
        {
          MdKey key = parsed_key_for (i);

          md_key_table_insert (&table, &key, i);
          present[i] = TRUE;
        }
      for (guint left = n; left > 0; left--)
        {
          guint victim = (guint)g_rand_int_range (rand, 1, (gint32)n + 1);
          MdKey key;

          while (!present[victim])
            victim = victim % n + 1;
          key = parsed_key_for (victim);
          md_key_table_remove (&table, &key);
          present[victim] = FALSE;
          for (guint i = 1; i <= n; i++)
            {
              MdKey k = parsed_key_for (i);

              g_assert_cmpuint (md_key_table_lookup (&table, &k), ==, present[i] ? i : 0);
            }
        }
      g_assert_cmpuint (md_key_table_get_count (&table), ==, 0);
      md_key_table_clear (&table);
    }
}

static void
test_table_insert_replaces (void)
{
  MdKey key = parsed_key_for (7);
  MdKeyTable table;

  md_key_table_init (&table);
  md_key_table_insert (&table, &key, 3);
  md_key_table_insert (&table, &key, 4);
  g_assert_cmpuint (md_key_table_get_count (&table), ==, 1);
  g_assert_cmpuint (md_key_table_lookup (&table, &key), ==, 4);
  md_key_table_clear (&table);
}

/* Batch insert skips unused entries (id 0) and keeps order: a later entry
 * for the same key wins, as with single inserts. */
static void
test_table_insert_many (void)
{
  const guint n = 3000;
  g_autofree MdKeyEntry *entries = g_new0 (MdKeyEntry, n + 1);
  MdKeyTable table;

  for (guint i = 0; i < n; i++)
    {
      entries[i].key = parsed_key_for (i + 1);
      entries[i].id = odd (i + 1) ? i + 1 : 0;
    }
  entries[n].key = parsed_key_for (1);
  entries[n].id = 99999;
  md_key_table_init (&table);
  md_key_table_insert_many (&table, entries, n + 1);
  g_assert_cmpuint (md_key_table_get_count (&table), ==, n / 2);
  g_assert_cmpuint (md_key_table_lookup (&table, &entries[0].key), ==, 99999);
  entries[n].id = 1;
  md_key_table_insert_many (&table, &entries[n], 1);
  assert_keys (&table, n, odd);
  md_key_table_clear (&table);
}

/* A reservation big enough for a table in its own mapping, then shrunk back
 * to a small one when few keys came: both keep every key. */
static void
test_table_reserve_shrink (void)
{
  const guint n = 1000;
  MdKeyTable table;

  md_key_table_init (&table);
  md_key_table_reserve (&table, 200000);
  for (guint i = 1; i <= n; i++)
    {
      MdKey key = parsed_key_for (i);

      md_key_table_insert (&table, &key, i);
    }
  assert_keys (&table, n, all);
  md_key_table_shrink_to_fit (&table);
  g_assert_cmpuint (md_key_table_get_count (&table), ==, n);
  assert_keys (&table, n, all);
  md_key_table_reserve (&table, 10); /* never shrinks */
  assert_keys (&table, n, all);
  md_key_table_clear (&table);
  md_key_table_clear (&table); /* twice is harmless */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/key/parse/value", test_key_parse_value);
  g_test_add_func ("/key/parse/every-byte", test_key_parse_every_byte);
  g_test_add_func ("/key-table/insert-remove", test_table_insert_remove);
  g_test_add_func ("/key-table/remove-full", test_table_remove_full);
  g_test_add_func ("/key-table/insert-replaces", test_table_insert_replaces);
  g_test_add_func ("/key-table/insert-many", test_table_insert_many);
  g_test_add_func ("/key-table/reserve-shrink", test_table_reserve_shrink);
  g_test_add_func ("/key-table/remove-reserved", test_table_remove_reserved);
  return g_test_run ();
}
