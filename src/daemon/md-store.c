#include "config.h"

#include "md-store.h"

#include "md-error.h"
#include "md-log.h"
#include "md-note.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* Longest file record: id, time, key, text, three tabs and the newline. */
#define MD_STORE_MAX_RECORD (20 + 1 + 20 + 1 + MD_NOTE_KEY_LEN + 1 + MD_NOTE_MAX_BYTES + 1)
/* Start-up reads the file in slices this large: few syscalls per million notes. */
#define MD_STORE_SCAN_BUFFER (1024 * 1024)
/* Body reads fetch at most this much of the file per pread. */
#define MD_STORE_READ_CHUNK (64 * 1024)

/* ---- keys: an open-addressing table of 128-bit UUIDs ---------------------- */

typedef struct
{
  guint64 hi;
  guint64 lo;
} MdKey;

typedef struct
{
  MdKey key;
  guint64 id; /* 0: empty slot */
} MdKeySlot;

typedef struct
{
  MdKeySlot *slots;
  gsize mask; /* capacity - 1, capacity a power of two */
  gsize used;
  guint64 seed[2];
} MdKeyTable;

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

/* Parses 8-4-4-4-12 hex digits in either case; the binary form makes the
 * case irrelevant to lookups. */
static gboolean
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

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static inline void
sip_round (guint64 v[4])
{
  v[0] += v[1], v[1] = ROTL64 (v[1], 13), v[1] ^= v[0], v[0] = ROTL64 (v[0], 32);
  v[2] += v[3], v[3] = ROTL64 (v[3], 16), v[3] ^= v[2];
  v[0] += v[3], v[3] = ROTL64 (v[3], 21), v[3] ^= v[0];
  v[2] += v[1], v[1] = ROTL64 (v[1], 17), v[1] ^= v[2], v[2] = ROTL64 (v[2], 32);
}

static inline void
sip_absorb (guint64 v[4], guint64 m)
{
  v[3] ^= m;
  sip_round (v);
  sip_round (v);
  v[0] ^= m;
}

/* SipHash-2-4 of the two key words under a per-process random seed: keys are
 * chosen by clients, so a fixed hash would let one flood a probe chain. */
static guint64
md_key_hash (const MdKeyTable *table, const MdKey *key)
{
  guint64 v[4] = {
    table->seed[0] ^ G_GUINT64_CONSTANT (0x736f6d6570736575),
    table->seed[1] ^ G_GUINT64_CONSTANT (0x646f72616e646f6d),
    table->seed[0] ^ G_GUINT64_CONSTANT (0x6c7967656e657261),
    table->seed[1] ^ G_GUINT64_CONSTANT (0x7465646279746573),
  };

  sip_absorb (v, key->hi);
  sip_absorb (v, key->lo);
  sip_absorb (v, (guint64)16 << 56);
  v[2] ^= 0xff;
  for (int i = 0; i < 4; i++)
    sip_round (v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Tables from this size on get pages of their own (see md_key_slots_new). */
#define MD_KEY_TABLE_MMAP_BYTES (2 * 1024 * 1024)

/* Zeroed slots.  A big table is its own mapping with transparent huge pages
 * where the kernel offers them: every key access is random, and with 4 KiB
 * pages nearly each one would also miss the TLB (doubly costly in a VM). */
static MdKeySlot *
md_key_slots_new (gsize capacity)
{
  gsize bytes = capacity * sizeof (MdKeySlot);

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
  return g_new0 (MdKeySlot, capacity);
}

static void
md_key_slots_free (MdKeySlot *slots, gsize capacity)
{
  gsize bytes = capacity * sizeof (MdKeySlot);

  if (bytes >= MD_KEY_TABLE_MMAP_BYTES)
    munmap (slots, bytes);
  else
    g_free (slots);
}

static void
md_key_table_init (MdKeyTable *table, gsize capacity)
{
  table->slots = md_key_slots_new (capacity);
  table->mask = capacity - 1;
  table->used = 0;
  table->seed[0] = ((guint64)g_random_int () << 32) | g_random_int ();
  table->seed[1] = ((guint64)g_random_int () << 32) | g_random_int ();
}

/* The slot holding @key (whose hash is @hash), or the empty slot where it
 * would go. */
static gsize
md_key_table_find_slot_hashed (const MdKeyTable *table, const MdKey *key, guint64 hash)
{
  gsize i = hash & table->mask;

  while (table->slots[i].id != 0
         && (table->slots[i].key.hi != key->hi || table->slots[i].key.lo != key->lo))
    i = (i + 1) & table->mask;
  return i;
}

static gsize
md_key_table_find_slot (const MdKeyTable *table, const MdKey *key)
{
  return md_key_table_find_slot_hashed (table, key, md_key_hash (table, key));
}

/* Needs a free slot: callers reserve first. */
static void
md_key_table_insert_hashed (MdKeyTable *table, const MdKeySlot *entry, guint64 hash)
{
  gsize i = md_key_table_find_slot_hashed (table, &entry->key, hash);

  if (table->slots[i].id == 0)
    table->used++;
  table->slots[i] = *entry;
}

/* How many entries ahead md_key_table_insert_many fetches slots. */
#define MD_KEY_PREFETCH_DISTANCE 16

/* Inserts the entries of @entries[0, n) that are in use (id != 0), in order.
 * In a table of a million keys nearly every slot is a cache miss, so each
 * entry's slot is fetched a few entries ahead: the misses then overlap
 * instead of waiting one after the other. */
static void
md_key_table_insert_many (MdKeyTable *table, const MdKeySlot *entries, gsize n)
{
  guint64 hashes[MD_KEY_PREFETCH_DISTANCE];

  for (gsize i = 0; i < n + MD_KEY_PREFETCH_DISTANCE; i++)
    {
      gsize slot = i % MD_KEY_PREFETCH_DISTANCE;

      if (i >= MD_KEY_PREFETCH_DISTANCE && entries[i - MD_KEY_PREFETCH_DISTANCE].id != 0)
        md_key_table_insert_hashed (table, &entries[i - MD_KEY_PREFETCH_DISTANCE], hashes[slot]);
      if (i < n && entries[i].id != 0)
        {
          hashes[slot] = md_key_hash (table, &entries[i].key);
          __builtin_prefetch (&table->slots[hashes[slot] & table->mask], 1);
        }
    }
}

static void
md_key_table_resize (MdKeyTable *table, gsize capacity)
{
  MdKeySlot *old = table->slots;
  gsize old_capacity = table->mask + 1;

  table->slots = md_key_slots_new (capacity);
  table->mask = capacity - 1;
  table->used = 0;
  md_key_table_insert_many (table, old, old_capacity);
  md_key_slots_free (old, old_capacity);
}

/* The smallest power-of-two capacity that holds @n keys below a load of 3/4,
 * where linear probing stays short. */
static gsize
md_key_table_capacity_for (gsize n)
{
  gsize capacity = 64;

  while ((n + 1) * 4 > capacity * 3)
    capacity *= 2;
  return capacity;
}

/* Grows to hold @n keys in one step: start-up knows roughly how many keys
 * are coming and would otherwise rehash at every doubling. */
static void
md_key_table_reserve (MdKeyTable *table, gsize n)
{
  gsize capacity = md_key_table_capacity_for (n);

  if (capacity > table->mask + 1)
    md_key_table_resize (table, capacity);
}

/* Undoes a reservation that guessed far too many keys. */
static void
md_key_table_shrink_to_fit (MdKeyTable *table)
{
  gsize capacity = md_key_table_capacity_for (table->used);

  if (capacity * 4 <= table->mask + 1)
    md_key_table_resize (table, capacity);
}

static void
md_key_table_insert (MdKeyTable *table, const MdKey *key, guint64 id)
{
  MdKeySlot entry = { *key, id };

  /* Doubling keeps appends amortised O(1). */
  if ((table->used + 1) * 4 > (table->mask + 1) * 3)
    md_key_table_resize (table, (table->mask + 1) * 2);
  md_key_table_insert_hashed (table, &entry, md_key_hash (table, key));
}

static guint64
md_key_table_lookup (const MdKeyTable *table, const MdKey *key)
{
  return table->slots[md_key_table_find_slot (table, key)].id;
}

/* TRUE if the entry at @home may fill the hole at @hole: its probe start lies
 * cyclically outside (hole, here]. */
static gboolean
md_key_slot_may_move (gsize home, gsize hole, gsize here)
{
  if (hole <= here)
    return home <= hole || home > here;
  return home <= hole && home > here;
}

/* Backward-shift deletion keeps every remaining key reachable without
 * tombstones. */
static void
md_key_table_remove (MdKeyTable *table, const MdKey *key)
{
  gsize hole = md_key_table_find_slot (table, key);
  gsize here = hole;

  if (table->slots[hole].id == 0)
    return;
  table->used--;
  for (;;)
    {
      here = (here + 1) & table->mask;
      if (table->slots[here].id == 0)
        break;
      if (md_key_slot_may_move (md_key_hash (table, &table->slots[here].key) & table->mask, hole,
                                here))
        {
          table->slots[hole] = table->slots[here];
          hole = here;
        }
    }
  table->slots[hole].id = 0;
}

/* ---- the store ------------------------------------------------------------ */

struct _MdStore
{
  char *path;
  int fd;
  /* Entry i belongs to note i + 1: where its record starts in the file and
   * where its wire line starts in the body of GET /notes. */
  GArray *file_offsets;
  GArray *wire_offsets;
  MdKeyTable keys;
  GArray *pending_keys; /* MdKey of keyed appends since the last commit */
  guint64 durable_count;
  guint64 durable_size;      /* file size at the last commit */
  guint64 durable_wire_size; /* body size of the durable notes */
  guint64 file_size;         /* including pending appends */
  guint64 wire_size;
  GString *record;  /* reused for formatting appends */
  guint8 *read_buf; /* MD_STORE_READ_CHUNK + MD_STORE_MAX_RECORD */
  char *broken;     /* why appends are refused, after a failed undo */
  MdStoreRecovery recovery;
};

static guint64
offset_at (GArray *offsets, guint64 index)
{
  return g_array_index (offsets, guint64, index);
}

static guint64
md_store_index_size (MdStore *self)
{
  return self->file_offsets->len;
}

static guint64
md_store_record_end (MdStore *self, guint64 index)
{
  if (index + 1 < md_store_index_size (self))
    return offset_at (self->file_offsets, index + 1);
  return self->file_size;
}

static guint64
md_store_wire_end (MdStore *self, guint64 index)
{
  if (index + 1 < md_store_index_size (self))
    return offset_at (self->wire_offsets, index + 1);
  return self->wire_size;
}

static void
md_store_index_add (MdStore *self, guint64 file_offset, guint64 record_len, guint64 wire_len)
{
  g_array_append_val (self->file_offsets, file_offset);
  g_array_append_val (self->wire_offsets, self->wire_size);
  self->file_size = file_offset + record_len;
  self->wire_size += wire_len;
}

void
md_store_free (MdStore *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    g_close (self->fd, NULL);
  g_free (self->path);
  g_array_unref (self->file_offsets);
  g_array_unref (self->wire_offsets);
  g_array_unref (self->pending_keys);
  md_key_slots_free (self->keys.slots, self->keys.mask + 1);
  g_string_free (self->record, TRUE);
  g_free (self->read_buf);
  g_free (self->broken);
  g_free (self);
}

static MdStore *
md_store_new (const char *directory)
{
  MdStore *self = g_new0 (MdStore, 1);

  self->path = g_build_filename (directory, "notes", NULL);
  self->fd = -1;
  self->file_offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->wire_offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->pending_keys = g_array_new (FALSE, FALSE, sizeof (MdKey));
  md_key_table_init (&self->keys, 64);
  self->record = g_string_sized_new (MD_STORE_MAX_RECORD);
  self->read_buf = g_malloc (MD_STORE_READ_CHUNK + MD_STORE_MAX_RECORD);
  return self;
}

const char *
md_store_get_path (MdStore *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

guint64
md_store_get_count (MdStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->durable_count;
}

guint64
md_store_get_last_id (MdStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return md_store_index_size (self);
}

gboolean
md_store_has_pending (MdStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return md_store_index_size (self) > self->durable_count;
}

/* ---- opening: files and directories -------------------------------------- */

static gboolean
fsync_directory (const char *directory, GError **error)
{
  int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) < 0)
    {
      int saved_errno = errno;
      g_autofree char *prefix = g_strdup_printf ("cannot sync directory %s", directory);

      if (fd >= 0)
        close (fd);
      md_error_set_errno (error, saved_errno, prefix);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static gboolean
ensure_directory (const char *directory, GError **error)
{
  g_autofree char *parent = NULL;

  if (g_mkdir (directory, 0750) == 0)
    {
      parent = g_path_get_dirname (directory);
      return fsync_directory (parent, error);
    }
  if (errno == EEXIST)
    return TRUE;
  /* Missing parents are rare (the state directory's parent normally
   * exists), so only then pay for the recursive form. */
  if (errno == ENOENT && g_mkdir_with_parents (directory, 0750) == 0)
    return TRUE;
  {
    int saved_errno = errno;
    g_autofree char *prefix = g_strdup_printf ("cannot create directory %s", directory);

    md_error_set_errno (error, saved_errno, prefix);
    return FALSE;
  }
}

/* Opens the notes file, creating it (and making its name durable) if it is
 * missing. */
static int
open_notes_file (const char *directory, const char *path, GError **error)
{
  const int flags = O_RDWR | O_APPEND | O_CLOEXEC;
  int fd = open (path, flags);

  if (fd < 0 && errno == ENOENT)
    {
      fd = open (path, flags | O_CREAT | O_EXCL, 0640);
      if (fd >= 0 && !fsync_directory (directory, error))
        {
          close (fd);
          return -1;
        }
      if (fd < 0 && errno == EEXIST)
        fd = open (path, flags);
    }
  if (fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *prefix = g_strdup_printf ("cannot open %s", path);

      md_error_set_errno (error, saved_errno, prefix);
    }
  return fd;
}

/* Two writers appending to one file would interleave records. */
static gboolean
lock_notes_file (MdStore *self, GError **error)
{
  if (flock (self->fd, LOCK_EX | LOCK_NB) == 0)
    return TRUE;
  if (errno == EWOULDBLOCK)
    g_set_error (error, MD_ERROR, MD_ERROR_IO, "notes file %s is in use by another process",
                 self->path);
  else
    md_error_set_errno (error, errno, "cannot lock the notes file");
  return FALSE;
}

/* ---- opening: parsing records -------------------------------------------- */

static gboolean
parse_id (const char *s, gsize len, guint64 *id)
{
  guint64 value = 0;

  if (len == 0 || len > 20 || s[0] == '0')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      guint digit = (guint)(s[i] - '0');

      if (digit > 9 || value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }
  *id = value;
  return TRUE;
}

typedef struct
{
  gboolean has_key; /* FALSE for "-" */
  MdKey key;
  gsize key_field_len;
} MdRecordInfo;

/* md_key_parse accepts exactly what md_note_key_is_valid does, so one pass
 * both checks and decodes the key. */
static gboolean
parse_key_field (const char *s, gsize len, MdRecordInfo *info, GError **error)
{
  info->key_field_len = len;
  info->has_key = !(len == 1 && s[0] == '-');
  if (info->has_key && !md_key_parse (s, len, &info->key))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "key is not a UUID or \"-\"");
      return FALSE;
    }
  return TRUE;
}

static const char *
next_field (const char *s, const char *end, gsize *len)
{
  const char *tab = memchr (s, '\t', (gsize)(end - s));

  if (tab == NULL)
    return NULL;
  *len = (gsize)(tab - s);
  return tab + 1;
}

/* Checks one record @line (without its '\n') that should be note @expected. */
static gboolean
parse_record (const char *line, gsize len, guint64 expected, MdRecordInfo *info, GError **error)
{
  const char *end = line + len;
  const char *time_field, *key_field, *text;
  gsize id_len, time_len, key_len;
  guint64 id;

  time_field = next_field (line, end, &id_len);
  key_field = time_field ? next_field (time_field, end, &time_len) : NULL;
  text = key_field ? next_field (key_field, end, &key_len) : NULL;
  if (text == NULL)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "record has fewer than 4 fields");
      return FALSE;
    }
  if (!parse_id (line, id_len, &id) || id != expected)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                   "id %.*s where %" G_GUINT64_FORMAT " was expected", (int)MIN (id_len, 24), line,
                   expected);
      return FALSE;
    }
  /* Only the form matters here; converting would cost time for nothing. */
  if (!md_note_parse_time (time_field, time_len, NULL))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "time is not YYYY-MM-DDTHH:MM:SSZ");
      return FALSE;
    }
  return parse_key_field (key_field, key_len, info, error)
         && md_note_validate (text, (gsize)(end - text), error);
}

/* The id field of a good record: the digits of @expected, then a tab.
 * Returns where the next field starts, or NULL.  Up to 19 digits cannot
 * overflow 64 bits; longer ids are left to parse_id. */
static const char *
skip_expected_id (const char *s, const char *end, guint64 expected)
{
  guint64 value = 0;
  const char *p = s;

  if (p == end || *p == '0')
    return NULL;
  for (; p < end && p - s < 19; p++)
    {
      guint digit = (guint)(*p - '0');

      if (digit > 9)
        break;
      value = value * 10 + digit;
    }
  return p < end && *p == '\t' && p > s && value == expected ? p + 1 : NULL;
}

#define TIME_FIELD_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* parse_record for good records, without searching for tabs: the fields
 * before the text are digits or have fixed widths, and each field's own
 * check shows that it holds no tab, so the fields found here are the ones
 * parse_record would split.  FALSE means "not sure": parse_record then
 * decides, and words the error. */
static gboolean
parse_record_fast (const char *line, gsize len, guint64 expected, MdRecordInfo *info)
{
  const char *end = line + len;
  const char *p = skip_expected_id (line, end, expected);

  if (p == NULL || end - p < TIME_FIELD_LEN + 3 || p[TIME_FIELD_LEN] != '\t'
      || !md_note_parse_time (p, TIME_FIELD_LEN, NULL))
    return FALSE;
  p += TIME_FIELD_LEN + 1;
  if (p[0] == '-' && p[1] == '\t')
    {
      info->has_key = FALSE;
      info->key_field_len = 1;
    }
  else if (end - p > MD_NOTE_KEY_LEN && p[MD_NOTE_KEY_LEN] == '\t'
           && md_key_parse (p, MD_NOTE_KEY_LEN, &info->key))
    {
      info->has_key = TRUE;
      info->key_field_len = MD_NOTE_KEY_LEN;
    }
  else
    return FALSE;
  p += info->key_field_len + 1;
  return md_note_validate (p, (gsize)(end - p), NULL);
}

/* Where the first bad line of the scan starts, and why it is bad. */
typedef struct
{
  guint64 offset;
  guint64 line_no;
  GError *error;
} MdBadLine;

/* Parses the complete records at the start of @data, adding them to the
 * index and their keys to @keys; returns how many bytes they took.  Stops at
 * the first bad record (filling @bad) or at an unfinished line. */
static gsize
md_store_scan_records (MdStore *self, const char *data, gsize len, GArray *keys, MdBadLine *bad)
{
  const char *p = data, *end = data + len;
  const char *nl;

  while ((nl = memchr (p, '\n', (gsize)(end - p))) != NULL)
    {
      guint64 expected = md_store_index_size (self) + 1;
      gsize line_len = (gsize)(nl - p);
      MdRecordInfo info;

      if (!parse_record_fast (p, line_len, expected, &info)
          && !parse_record (p, line_len, expected, &info, &bad->error))
        break;
      if (info.has_key)
        {
          MdKeySlot entry = { info.key, expected };

          g_array_append_val (keys, entry);
        }
      md_store_index_add (self, self->file_size, line_len + 1, line_len - info.key_field_len);
      p = nl + 1;
    }
  if (nl == NULL && (gsize)(end - p) >= MD_STORE_MAX_RECORD)
    g_set_error (&bad->error, MD_ERROR, MD_ERROR_MALFORMED, "record is longer than %d bytes",
                 MD_STORE_MAX_RECORD);
  return (gsize)(p - data);
}

/* A guess reserves at most one key per this many bytes of file.  A table for
 * n keys takes at most 64 n bytes (24-byte slots, load above 3/8), so a
 * wrong guess costs at most a quarter of the file size. */
#define MD_STORE_GUESS_BYTES_PER_KEY 256

/* Adds the keys of one slice to the table.  The file so far predicts how
 * many keys the whole file holds; reserving for them at once saves the
 * rehash at every doubling.  md_store_load shrinks the table if the guess
 * was far too high (a file whose keyed notes all come first). */
static void
md_store_add_scanned_keys (MdStore *self, GArray *keys, guint64 file_size)
{
  gsize known = self->keys.used + keys->len;
  double per_byte = self->file_size > 0 ? (double)known / (double)self->file_size : 0;
  double guess
      = MIN (per_byte * (double)file_size, (double)file_size / MD_STORE_GUESS_BYTES_PER_KEY);

  /* Where gsize is 32 bits, a huge file must not overflow the capacity. */
  guess = MIN (guess, (double)(G_MAXSIZE / 64));

  md_key_table_reserve (&self->keys, MAX (known, (gsize)guess));
  md_key_table_insert_many (&self->keys, (const MdKeySlot *)keys->data, keys->len);
  g_array_set_size (keys, 0);
}

/* Reads the whole file once, in large slices, indexing every good record. */
static gboolean
md_store_scan (MdStore *self, guint64 file_size, MdBadLine *bad, GError **error)
{
  g_autofree char *buf = g_malloc (MD_STORE_SCAN_BUFFER);
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (MdKeySlot));
  gsize fill = 0;
  guint64 remaining = file_size;

  while (bad->error == NULL && remaining > 0)
    {
      gssize n = read (self->fd, buf + fill, MIN (MD_STORE_SCAN_BUFFER - fill, remaining));
      gsize used;

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          md_error_set_errno (error, n < 0 ? errno : EIO, "cannot read the notes file");
          return FALSE;
        }
      remaining -= (guint64)n;
      fill += (gsize)n;
      used = md_store_scan_records (self, buf, fill, keys, bad);
      md_store_add_scanned_keys (self, keys, file_size);
      memmove (buf, buf + used, fill - used);
      fill -= used;
    }
  if (bad->error == NULL && fill > 0)
    g_set_error_literal (&bad->error, MD_ERROR, MD_ERROR_MALFORMED, "last record is unfinished");
  bad->offset = self->file_size;
  bad->line_no = md_store_index_size (self) + 1;
  return TRUE;
}

/* Whether the bad line starting at @offset is the file's last line. */
static gboolean
md_store_is_last_line (MdStore *self, guint64 offset, guint64 file_size, GError **error)
{
  char buf[4096];

  while (offset < file_size)
    {
      gssize n = pread (self->fd, buf, MIN (sizeof buf, file_size - offset), (off_t)offset);
      const char *nl;

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          md_error_set_errno (error, n < 0 ? errno : EIO, "cannot read the notes file");
          return FALSE;
        }
      nl = memchr (buf, '\n', (gsize)n);
      if (nl != NULL)
        return offset + (guint64)(nl - buf) + 1 == file_size;
      offset += (guint64)n;
    }
  return TRUE;
}

static void
log_recovery (MdStore *self, const MdStoreRecovery *recovery, const GError *reason)
{
  g_autofree char *dropped = g_strdup_printf ("%" G_GUINT64_FORMAT, recovery->dropped_bytes);
  g_autofree char *kept = g_strdup_printf ("%" G_GUINT64_FORMAT, recovery->kept_records);

  /* A torn tail is the expected trace of a crash, not an operator error. */
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE_ID", MD_MESSAGE_ID_RECOVERED,
                    "DROPPED_BYTES", dropped, "KEPT_RECORDS", kept, "REASON", reason->message,
                    "MESSAGE", "notes file %s: dropped a torn tail of %s bytes (%s), kept %s notes",
                    self->path, dropped, reason->message, kept);
}

/* Cuts the torn tail away for good, so it can never reappear after appends. */
static gboolean
md_store_drop_tail (MdStore *self, guint64 file_size, const GError *reason, GError **error)
{
  MdStoreRecovery recovery = { md_store_index_size (self), file_size - self->file_size };

  if (ftruncate (self->fd, (off_t)self->file_size) < 0 || fdatasync (self->fd) < 0)
    {
      md_error_set_errno (error, errno, "cannot truncate the torn tail of the notes file");
      return FALSE;
    }
  log_recovery (self, &recovery, reason);
  self->recovery = recovery;
  return TRUE;
}

/* A bad last line is a torn tail; a bad line before it is damage that
 * truncation would turn into lost acknowledged notes. */
static gboolean
md_store_handle_bad_line (MdStore *self, MdBadLine *bad, guint64 file_size, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!md_store_is_last_line (self, bad->offset, file_size, &local_error))
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE,
                     "notes file %s is damaged at line %" G_GUINT64_FORMAT ": %s", self->path,
                     bad->line_no, bad->error->message);
      return FALSE;
    }
  return md_store_drop_tail (self, file_size, bad->error, error);
}

static gboolean
md_store_load (MdStore *self, GError **error)
{
  MdBadLine bad = { 0, 0, NULL };
  struct stat st;
  gboolean ok;

  if (fstat (self->fd, &st) < 0)
    {
      md_error_set_errno (error, errno, "cannot stat the notes file");
      return FALSE;
    }
  posix_fadvise (self->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  ok = md_store_scan (self, (guint64)st.st_size, &bad, error);
  if (ok && bad.error != NULL)
    ok = md_store_handle_bad_line (self, &bad, (guint64)st.st_size, error);
  /* Records a killed daemon wrote but never synced are acknowledged by
   * nobody yet; syncing them now makes everything served from here durable. */
  else if (ok && fdatasync (self->fd) < 0)
    {
      md_error_set_errno (error, errno, "cannot sync the notes file");
      ok = FALSE;
    }
  g_clear_error (&bad.error);
  md_key_table_shrink_to_fit (&self->keys);
  self->durable_count = md_store_index_size (self);
  self->durable_size = self->file_size;
  self->durable_wire_size = self->wire_size;
  return ok;
}

MdStore *
md_store_open (const char *directory, MdStoreRecovery *recovery, GError **error)
{
  g_autoptr (MdStore) self = NULL;

  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!ensure_directory (directory, error))
    return NULL;
  self = md_store_new (directory);
  self->fd = open_notes_file (directory, self->path, error);
  if (self->fd < 0 || !lock_notes_file (self, error) || !md_store_load (self, error))
    return NULL;
  self->recovery.kept_records = self->durable_count;
  if (recovery != NULL)
    *recovery = self->recovery;
  return g_steal_pointer (&self);
}

/* ---- appending and committing -------------------------------------------- */

static void
md_store_break (MdStore *self, int errno_value)
{
  g_free (self->broken);
  self->broken = g_strdup_printf ("notes file %s could not be restored after a failed write (%s);"
                                  " restart the daemon",
                                  self->path, g_strerror (errno_value));
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", MD_MESSAGE_ID_STORAGE_ERROR,
                    "MESSAGE", "%s", self->broken);
}

/* Undoes writes past @size; if even that fails, later appends would land
 * after garbage, so the store refuses them. */
static void
md_store_truncate_to (MdStore *self, guint64 size)
{
  int result;

  do
    result = ftruncate (self->fd, (off_t)size);
  while (result < 0 && errno == EINTR);
  if (result < 0)
    md_store_break (self, errno);
}

static gboolean
write_all (int fd, const char *data, gsize len, int *errno_out)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          *errno_out = n < 0 ? errno : EIO;
          return FALSE;
        }
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

static gboolean
md_store_check_usable (MdStore *self, GError **error)
{
  if (self->broken == NULL)
    return TRUE;
  g_set_error_literal (error, MD_ERROR, MD_ERROR_IO, self->broken);
  return FALSE;
}

/* FALSE if @unix_time has no RFC 3339 form: such a record would not parse. */
static gboolean
md_store_format_record (MdStore *self, guint64 id, const char *key, const char *text,
                        gsize text_len, gint64 unix_time)
{
  GString *r = self->record;
  gsize time_start;

  g_string_printf (r, "%" G_GUINT64_FORMAT "\t", id);
  time_start = r->len;
  md_note_append_time (r, unix_time);
  if (!md_note_parse_time (r->str + time_start, r->len - time_start, NULL))
    return FALSE;
  g_string_append_c (r, '\t');
  if (key != NULL)
    {
      for (gsize i = 0; i < MD_NOTE_KEY_LEN; i++)
        g_string_append_c (r, g_ascii_tolower (key[i]));
    }
  else
    g_string_append_c (r, '-');
  g_string_append_c (r, '\t');
  g_string_append_len (r, text, (gssize)text_len);
  g_string_append_c (r, '\n');
  return TRUE;
}

static void
md_store_remember_key (MdStore *self, const char *key, guint64 id)
{
  MdKey k;

  if (key == NULL)
    return;
  md_key_parse (key, MD_NOTE_KEY_LEN, &k);
  md_key_table_insert (&self->keys, &k, id);
  g_array_append_val (self->pending_keys, k);
}

gboolean
md_store_append (MdStore *self, const char *key, const char *text, gsize text_len, gint64 unix_time,
                 guint64 *id, GError **error)
{
  guint64 new_id, size_before;
  gsize key_field_len = key != NULL ? MD_NOTE_KEY_LEN : 1;
  gboolean formatted;
  int saved_errno;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (key == NULL || md_note_key_is_valid (key, strlen (key)), FALSE);
  g_return_val_if_fail (key == NULL || !md_store_lookup_key (self, key, NULL), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A line break in the text would split the record: check even though the
   * caller should have. */
  if (!md_store_check_usable (self, error) || !md_note_validate (text, text_len, error))
    return FALSE;
  new_id = md_store_index_size (self) + 1;
  size_before = self->file_size;
  formatted = md_store_format_record (self, new_id, key, text, text_len, unix_time);
  g_return_val_if_fail (formatted, FALSE);
  if (!write_all (self->fd, self->record->str, self->record->len, &saved_errno))
    {
      md_store_truncate_to (self, size_before);
      md_error_set_errno (error, saved_errno, "cannot write to the notes file");
      return FALSE;
    }
  md_store_index_add (self, size_before, self->record->len, self->record->len - key_field_len - 1);
  md_store_remember_key (self, key, new_id);
  if (id != NULL)
    *id = new_id;
  return TRUE;
}

/* Forgets every append since the last commit. */
static void
md_store_rollback (MdStore *self)
{
  md_store_truncate_to (self, self->durable_size);
  for (guint i = 0; i < self->pending_keys->len; i++)
    md_key_table_remove (&self->keys, &g_array_index (self->pending_keys, MdKey, i));
  g_array_set_size (self->pending_keys, 0);
  g_array_set_size (self->file_offsets, self->durable_count);
  g_array_set_size (self->wire_offsets, self->durable_count);
  self->file_size = self->durable_size;
  self->wire_size = self->durable_wire_size;
}

gboolean
md_store_commit (MdStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!md_store_has_pending (self))
    return TRUE;
  if (fdatasync (self->fd) < 0)
    {
      int saved_errno = errno;

      md_store_rollback (self);
      md_error_set_errno (error, saved_errno, "cannot sync the notes file");
      return FALSE;
    }
  g_array_set_size (self->pending_keys, 0);
  self->durable_count = md_store_index_size (self);
  self->durable_size = self->file_size;
  self->durable_wire_size = self->wire_size;
  return TRUE;
}

gboolean
md_store_lookup_key (MdStore *self, const char *key, guint64 *id)
{
  MdKey k;
  guint64 found;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (!md_key_parse (key, strlen (key), &k))
    return FALSE;
  found = md_key_table_lookup (&self->keys, &k);
  if (found == 0)
    return FALSE;
  if (id != NULL)
    *id = found;
  return TRUE;
}

/* ---- reading --------------------------------------------------------------- */

static gboolean
pread_all (MdStore *self, guint8 *buf, gsize len, guint64 offset, GError **error)
{
  while (len > 0)
    {
      gssize n = pread (self->fd, buf, len, (off_t)offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          md_error_set_errno (error, n < 0 ? errno : EIO, "cannot read the notes file");
          return FALSE;
        }
      buf += n;
      len -= (gsize)n;
      offset += (guint64)n;
    }
  return TRUE;
}

/* Splits a record into its wire parts: "ID\tTIME\t" and "TEXT\n" around the
 * key field.  FALSE if the file changed behind the store's back. */
static gboolean
split_record (const guint8 *rec, gsize len, gsize wire_len, gsize *head_len, const guint8 **tail,
              GError **error)
{
  const guint8 *end = rec + len;
  const guint8 *tab1 = memchr (rec, '\t', len);
  const guint8 *tab2 = tab1 ? memchr (tab1 + 1, '\t', (gsize)(end - tab1 - 1)) : NULL;
  const guint8 *tab3 = tab2 ? memchr (tab2 + 1, '\t', (gsize)(end - tab2 - 1)) : NULL;

  if (tab3 == NULL || len - (gsize)(tab3 - tab2) != wire_len || end[-1] != '\n')
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_CORRUPT_STORE,
                           "the notes file changed while the daemon was running");
      return FALSE;
    }
  *head_len = (gsize)(tab2 + 1 - rec);
  *tail = tab3 + 1;
  return TRUE;
}

gboolean
md_store_append_wire_line (MdStore *self, guint64 id, GString *out, GError **error)
{
  guint64 index = id - 1;
  gsize rec_len, wire_len, head_len;
  const guint8 *tail;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (id >= 1 && id <= md_store_index_size (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  rec_len = md_store_record_end (self, index) - offset_at (self->file_offsets, index);
  wire_len = md_store_wire_end (self, index) - offset_at (self->wire_offsets, index);
  if (!pread_all (self, self->read_buf, rec_len, offset_at (self->file_offsets, index), error)
      || !split_record (self->read_buf, rec_len, wire_len, &head_len, &tail, error))
    return FALSE;
  g_string_append_len (out, (const char *)self->read_buf, (gssize)head_len);
  g_string_append_len (out, (const char *)tail, (gssize)(self->read_buf + rec_len - tail));
  return TRUE;
}

/* The index of the last entry in @offsets[0, count) at or before @pos. */
static guint64
find_index (GArray *offsets, guint64 count, guint64 pos)
{
  guint64 lo = 0, hi = count;

  while (hi - lo > 1)
    {
      guint64 mid = lo + (hi - lo) / 2;

      if (offset_at (offsets, mid) <= pos)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

guint64
md_store_get_body_size (MdStore *self, guint64 after)
{
  g_return_val_if_fail (self != NULL, 0);

  if (after >= self->durable_count)
    return 0;
  return self->durable_wire_size - offset_at (self->wire_offsets, after);
}

/* The wanted window of the body, in absolute wire positions. */
typedef struct
{
  guint64 start;
  guint64 end;
  guint8 *buf;
} MdWindow;

/* Copies the part of @seg (at absolute wire position @pos) inside @w. */
static void
copy_into_window (const MdWindow *w, const guint8 *seg, gsize len, guint64 pos)
{
  guint64 from = MAX (pos, w->start);
  guint64 to = MIN (pos + len, w->end);

  if (from < to)
    memcpy (w->buf + (from - w->start), seg + (from - pos), (gsize)(to - from));
}

/* Reads records @first.. (as many as fit one chunk) and copies their wire
 * form into @w; returns the index after the last record used, 0 on error. */
static guint64
md_store_read_chunk (MdStore *self, guint64 first, const MdWindow *w, GError **error)
{
  guint64 chunk_start = offset_at (self->file_offsets, first);
  guint64 last
      = find_index (self->file_offsets, self->durable_count, chunk_start + MD_STORE_READ_CHUNK);
  guint64 chunk_end;

  last = MAX (last, first);
  /* Records past the window are not needed. */
  last = MIN (last, find_index (self->wire_offsets, self->durable_count, w->end - 1));
  chunk_end = md_store_record_end (self, last);
  if (!pread_all (self, self->read_buf, chunk_end - chunk_start, chunk_start, error))
    return 0;
  for (guint64 i = first; i <= last; i++)
    {
      const guint8 *rec = self->read_buf + (offset_at (self->file_offsets, i) - chunk_start);
      gsize rec_len = md_store_record_end (self, i) - offset_at (self->file_offsets, i);
      guint64 wire_pos = offset_at (self->wire_offsets, i);
      gsize head_len;
      const guint8 *tail;

      if (!split_record (rec, rec_len, md_store_wire_end (self, i) - wire_pos, &head_len, &tail,
                         error))
        return 0;
      copy_into_window (w, rec, head_len, wire_pos);
      copy_into_window (w, tail, (gsize)(rec + rec_len - tail), wire_pos + head_len);
    }
  return last + 1;
}

gssize
md_store_read_body (MdStore *self, guint64 after, guint64 offset, guint8 *buf, gsize len,
                    GError **error)
{
  guint64 size, index;
  MdWindow w;

  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (buf != NULL || len == 0, -1);
  g_return_val_if_fail (len <= G_MAXSSIZE, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  size = md_store_get_body_size (self, after);
  if (offset >= size || len == 0)
    return 0;
  len = (gsize)MIN ((guint64)len, size - offset);
  w.start = offset_at (self->wire_offsets, after) + offset;
  w.end = w.start + len;
  w.buf = buf;
  index = find_index (self->wire_offsets, self->durable_count, w.start);
  while (index < self->durable_count && offset_at (self->wire_offsets, index) < w.end)
    {
      index = md_store_read_chunk (self, index, &w, error);
      if (index == 0)
        return -1;
    }
  return (gssize)len;
}
