/* The keys of the stored notes: an open-addressing hash table from 128-bit
 * key to note id, with linear probing.
 *
 * A slot is 24 bytes.  The table is sized for a load of 3/4 and grows
 * beyond 7/8, where probe chains still stay short; its capacity is not a
 * power of two, so it wastes no more than that.
 *
 * Keys are chosen by clients, so the hash is SipHash under a random seed
 * per table: nobody can pick keys that share one probe chain. */
#pragma once

#include "md-key.h"
#include "md-siphash.h"

G_BEGIN_DECLS

typedef struct
{
  MdKey key;
  guint64 id; /* note id, >= 1; 0 marks an empty slot or an unused entry */
} MdKeyEntry;

/* Embedded by value in its owner; the fields are private. */
typedef struct
{
  MdKeyEntry *slots;
  gsize capacity; /* slots */
  gsize used;
  MdSipKey seed;
} MdKeyTable;

void md_key_table_init (MdKeyTable *table);
void md_key_table_clear (MdKeyTable *table);

gsize md_key_table_get_count (const MdKeyTable *table);

/* Adds or replaces @key, growing the table as needed. */
void md_key_table_insert (MdKeyTable *table, const MdKey *key, guint64 id);
/* Adds the entries of @entries[0, @n) whose id is not 0, in order: much
 * faster than one insert each for a big table. */
void md_key_table_insert_many (MdKeyTable *table, const MdKeyEntry *entries, gsize n);
/* Grows the table at once to hold @n keys. */
void md_key_table_reserve (MdKeyTable *table, gsize n);
/* Gives back most of a reservation that turned out far too big. */
void md_key_table_shrink_to_fit (MdKeyTable *table);

/* The id of @key, or 0 if it is not in the table. */
guint64 md_key_table_lookup (const MdKeyTable *table, const MdKey *key);
/* Removes @key if present. */
void md_key_table_remove (MdKeyTable *table, const MdKey *key);

G_END_DECLS
