#include "config.h"

#include "md-key-table.h"

#include <sys/mman.h>

/* SipHash-2-4 of the two key words under the table's seed. */
static guint64
md_key_table_hash (const MdKeyTable *table, const MdKey *key)
{
  return md_siphash_2u64 (&table->seed, key->hi, key->lo);
}

/* Tables from this size on get pages of their own (see md_key_table_new_slots). */
#define MD_KEY_TABLE_MMAP_BYTES (2 * 1024 * 1024)

/* Zeroed slots.  A big table is its own mapping with transparent huge pages
 * where the kernel offers them: every key access is random, and with 4 KiB
 * pages nearly each one would also miss the TLB (doubly costly in a VM). */
static MdKeyEntry *
md_key_table_new_slots (gsize capacity)
{
  gsize bytes = capacity * sizeof (MdKeyEntry);

  if (bytes >= MD_KEY_TABLE_MMAP_BYTES)
    {
      void *mem = mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

      if (mem == MAP_FAILED)
        g_error ("cannot allocate %" G_GSIZE_FORMAT " bytes for the key table", bytes);
#ifdef MADV_HUGEPAGE
      madvise (mem, bytes, MADV_HUGEPAGE); /* only a hint */
#endif
      return mem;
    }
  return g_new0 (MdKeyEntry, capacity);
}

static void
md_key_table_free_slots (MdKeyEntry *slots, gsize capacity)
{
  gsize bytes = capacity * sizeof (MdKeyEntry);

  if (bytes >= MD_KEY_TABLE_MMAP_BYTES)
    munmap (slots, bytes);
  else
    g_free (slots);
}

static gsize
md_key_table_capacity (const MdKeyTable *table)
{
  return table->capacity;
}

/* The smallest table: a new one, and the floor of shrinking. */
#define MD_KEY_TABLE_MIN_CAPACITY 64

/* A capacity that holds @n keys at a load of 3/4, where linear probing stays
 * short.  Not rounded to a power of two: that would waste up to half the
 * table, the biggest part of the daemon's memory. */
static gsize
md_key_table_capacity_for (gsize n)
{
  return MAX (MD_KEY_TABLE_MIN_CAPACITY, n / 3 * 4 + n % 3 * 2 + 2);
}

/* Whether @n keys would fill @capacity beyond 7/8.  Between 3/4 and 7/8 the
 * table does not grow: start-up's guesses of the key count wobble by a few
 * percent, and each would otherwise cost a rehash. */
static gboolean
md_key_table_overfull (gsize n, gsize capacity)
{
  return n > capacity / 8 * 7 + capacity % 8 * 7 / 8;
}

/* The slot where the probe for @hash starts: the high bits of the hash
 * scaled to the capacity, which need not be a power of two. */
static inline gsize
md_key_table_home (const MdKeyTable *table, guint64 hash)
{
#ifdef __SIZEOF_INT128__
  return (gsize)(((unsigned __int128)hash * table->capacity) >> 64);
#else
  return (gsize)(((hash >> 32) * table->capacity) >> 32);
#endif
}

static inline gsize
md_key_table_next (const MdKeyTable *table, gsize i)
{
  return i + 1 == table->capacity ? 0 : i + 1;
}

void
md_key_table_init (MdKeyTable *table)
{
  gsize capacity = md_key_table_capacity_for (0);

  table->slots = md_key_table_new_slots (capacity);
  table->capacity = capacity;
  table->used = 0;
  md_siphash_key_init (&table->seed);
}

void
md_key_table_clear (MdKeyTable *table)
{
  if (table->slots != NULL)
    md_key_table_free_slots (table->slots, md_key_table_capacity (table));
  table->slots = NULL;
  table->capacity = 0;
  table->used = 0;
}

gsize
md_key_table_get_count (const MdKeyTable *table)
{
  return table->used;
}

/* The slot holding @key (whose hash is @hash), or the empty slot where it
 * would go. */
static gsize
md_key_table_find_slot_hashed (const MdKeyTable *table, const MdKey *key, guint64 hash)
{
  gsize i = md_key_table_home (table, hash);

  while (table->slots[i].id != 0 && !md_key_equal (&table->slots[i].key, key))
    i = md_key_table_next (table, i);
  return i;
}

static gsize
md_key_table_find_slot (const MdKeyTable *table, const MdKey *key)
{
  return md_key_table_find_slot_hashed (table, key, md_key_table_hash (table, key));
}

/* Needs a free slot: callers reserve first. */
static void
md_key_table_insert_hashed (MdKeyTable *table, const MdKeyEntry *entry, guint64 hash)
{
  gsize i = md_key_table_find_slot_hashed (table, &entry->key, hash);

  if (table->slots[i].id == 0)
    table->used++;
  table->slots[i] = *entry;
}

/* How many entries ahead md_key_table_insert_reserved fetches slots. */
#define MD_KEY_TABLE_PREFETCH_DISTANCE 16

/* md_key_table_insert_many into a table with room for every entry.  In a
 * table of a million keys nearly every slot is a cache miss, so each entry's
 * slot is fetched a few entries ahead: the misses then overlap instead of
 * waiting one after the other. */
static void
md_key_table_insert_reserved (MdKeyTable *table, const MdKeyEntry *entries, gsize n)
{
  const gsize ahead = MD_KEY_TABLE_PREFETCH_DISTANCE;
  guint64 hashes[MD_KEY_TABLE_PREFETCH_DISTANCE];

  for (gsize i = 0; i < n + ahead; i++)
    {
      gsize slot = i % ahead;

      if (i >= ahead && entries[i - ahead].id != 0)
        md_key_table_insert_hashed (table, &entries[i - ahead], hashes[slot]);
      if (i < n && entries[i].id != 0)
        {
          hashes[slot] = md_key_table_hash (table, &entries[i].key);
          __builtin_prefetch (&table->slots[md_key_table_home (table, hashes[slot])], 1);
        }
    }
}

static void
md_key_table_resize (MdKeyTable *table, gsize capacity)
{
  MdKeyEntry *old = table->slots;
  gsize old_capacity = md_key_table_capacity (table);

  table->slots = md_key_table_new_slots (capacity);
  table->capacity = capacity;
  table->used = 0;
  md_key_table_insert_reserved (table, old, old_capacity);
  md_key_table_free_slots (old, old_capacity);
}

/* Start-up knows roughly how many keys are coming and would otherwise rehash
 * at every growth. */
void
md_key_table_reserve (MdKeyTable *table, gsize n)
{
  if (md_key_table_overfull (n, md_key_table_capacity (table)))
    md_key_table_resize (table, md_key_table_capacity_for (n));
}

void
md_key_table_shrink_to_fit (MdKeyTable *table)
{
  gsize capacity = md_key_table_capacity_for (table->used);

  if (capacity * 4 <= md_key_table_capacity (table))
    md_key_table_resize (table, capacity);
}

void
md_key_table_insert_many (MdKeyTable *table, const MdKeyEntry *entries, gsize n)
{
  md_key_table_reserve (table, table->used + n);
  md_key_table_insert_reserved (table, entries, n);
}

void
md_key_table_insert (MdKeyTable *table, const MdKey *key, guint64 id)
{
  MdKeyEntry entry = { *key, id };

  /* Growing by half again the keys keeps appends amortised O(1). */
  if (md_key_table_overfull (table->used + 1, md_key_table_capacity (table)))
    md_key_table_resize (table, md_key_table_capacity_for (table->used + table->used / 2 + 1));
  md_key_table_insert_hashed (table, &entry, md_key_table_hash (table, key));
}

guint64
md_key_table_lookup (const MdKeyTable *table, const MdKey *key)
{
  return table->slots[md_key_table_find_slot (table, key)].id;
}

/* TRUE if the entry whose probe starts at @home may fill the hole at @hole:
 * its start lies cyclically outside (hole, here]. */
static gboolean
md_key_table_may_move (gsize home, gsize hole, gsize here)
{
  if (hole <= here)
    return home <= hole || home > here;
  return home <= hole && home > here;
}

/* Backward-shift deletion keeps every remaining key reachable without
 * tombstones. */
void
md_key_table_remove (MdKeyTable *table, const MdKey *key)
{
  gsize hole = md_key_table_find_slot (table, key);
  gsize here = hole;

  if (table->slots[hole].id == 0)
    return;
  table->used--;
  for (;;)
    {
      gsize home;

      here = md_key_table_next (table, here);
      if (table->slots[here].id == 0)
        break;
      home = md_key_table_home (table, md_key_table_hash (table, &table->slots[here].key));
      if (md_key_table_may_move (home, hole, here))
        {
          table->slots[hole] = table->slots[here];
          hole = here;
        }
    }
  table->slots[hole].id = 0;
}
