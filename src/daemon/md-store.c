#include "config.h"

#include "md-store.h"

#include "md-error.h"
#include "md-log.h"
#include "md-note.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
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

/* Where the 32 hex digits of a canonical UUID sit. */
static const guint8 uuid_digit_positions[32] = {
  0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11, 12, 14, 15, 16, 17,
  19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
};

/* Hex digit value plus one; 0 for anything else.  A table, because start-up
 * parses one key per keyed note. */
static const guint8 hex_value_plus_one[256] = {
  ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
  ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Parses 8-4-4-4-12 hex digits in either case; the binary form makes the
 * case irrelevant to lookups. */
static gboolean
md_key_parse (const char *s, gsize len, MdKey *key)
{
  guint64 words[2] = { 0, 0 };

  if (len != MD_NOTE_KEY_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return FALSE;
  for (guint i = 0; i < 32; i++)
    {
      guint v = hex_value_plus_one[(guint8)s[uuid_digit_positions[i]]];

      if (v == 0)
        return FALSE;
      words[i / 16] = (words[i / 16] << 4) | (v - 1);
    }
  key->hi = words[0];
  key->lo = words[1];
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

static void
md_key_table_init (MdKeyTable *table, gsize capacity)
{
  table->slots = g_new0 (MdKeySlot, capacity);
  table->mask = capacity - 1;
  table->used = 0;
  table->seed[0] = ((guint64)g_random_int () << 32) | g_random_int ();
  table->seed[1] = ((guint64)g_random_int () << 32) | g_random_int ();
}

/* The slot holding @key, or the empty slot where it would go. */
static gsize
md_key_table_find_slot (const MdKeyTable *table, const MdKey *key)
{
  gsize i = md_key_hash (table, key) & table->mask;

  while (table->slots[i].id != 0
         && (table->slots[i].key.hi != key->hi || table->slots[i].key.lo != key->lo))
    i = (i + 1) & table->mask;
  return i;
}

static void md_key_table_insert (MdKeyTable *table, const MdKey *key, guint64 id);

static void
md_key_table_grow (MdKeyTable *table)
{
  MdKeySlot *old = table->slots;
  gsize old_capacity = table->mask + 1;
  gsize capacity = old_capacity * 2;

  table->slots = g_new0 (MdKeySlot, capacity);
  table->mask = capacity - 1;
  table->used = 0;
  for (gsize i = 0; i < old_capacity; i++)
    if (old[i].id != 0)
      md_key_table_insert (table, &old[i].key, old[i].id);
  g_free (old);
}

static void
md_key_table_insert (MdKeyTable *table, const MdKey *key, guint64 id)
{
  gsize i;

  /* Linear probing stays short below a load of 3/4. */
  if ((table->used + 1) * 4 > (table->mask + 1) * 3)
    md_key_table_grow (table);
  i = md_key_table_find_slot (table, key);
  if (table->slots[i].id == 0)
    table->used++;
  table->slots[i].key = *key;
  table->slots[i].id = id;
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
  g_free (self->keys.slots);
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
  const char *key; /* NULL for "-" */
  gsize key_field_len;
} MdRecordInfo;

static gboolean
parse_key_field (const char *s, gsize len, MdRecordInfo *info, GError **error)
{
  MdKey unused;

  info->key_field_len = len;
  info->key = NULL;
  if (len == 1 && s[0] == '-')
    return TRUE;
  if (!md_note_key_is_valid (s, len) || !md_key_parse (s, len, &unused))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "key is not a UUID or \"-\"");
      return FALSE;
    }
  info->key = s;
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
  gint64 unix_time;

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
  if (!md_note_parse_time (time_field, time_len, &unix_time))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, "time is not YYYY-MM-DDTHH:MM:SSZ");
      return FALSE;
    }
  return parse_key_field (key_field, key_len, info, error)
         && md_note_validate (text, (gsize)(end - text), error);
}

/* Where the first bad line of the scan starts, and why it is bad. */
typedef struct
{
  guint64 offset;
  guint64 line_no;
  GError *error;
} MdBadLine;

/* Parses the complete records at the start of @data, adding them to the
 * index; returns how many bytes they took.  Stops at the first bad record
 * (filling @bad) or at an unfinished line. */
static gsize
md_store_scan_records (MdStore *self, const char *data, gsize len, MdBadLine *bad)
{
  const char *p = data, *end = data + len;
  const char *nl;

  while ((nl = memchr (p, '\n', (gsize)(end - p))) != NULL)
    {
      guint64 expected = md_store_index_size (self) + 1;
      gsize line_len = (gsize)(nl - p);
      MdRecordInfo info;

      if (!parse_record (p, line_len, expected, &info, &bad->error))
        break;
      if (info.key != NULL)
        {
          MdKey key;

          md_key_parse (info.key, MD_NOTE_KEY_LEN, &key);
          md_key_table_insert (&self->keys, &key, expected);
        }
      md_store_index_add (self, self->file_size, line_len + 1, line_len - info.key_field_len);
      p = nl + 1;
    }
  if (nl == NULL && (gsize)(end - p) >= MD_STORE_MAX_RECORD)
    g_set_error (&bad->error, MD_ERROR, MD_ERROR_MALFORMED, "record is longer than %d bytes",
                 MD_STORE_MAX_RECORD);
  return (gsize)(p - data);
}

/* Reads the whole file once, in large slices, indexing every good record. */
static gboolean
md_store_scan (MdStore *self, guint64 file_size, MdBadLine *bad, GError **error)
{
  g_autofree char *buf = g_malloc (MD_STORE_SCAN_BUFFER);
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
      used = md_store_scan_records (self, buf, fill, bad);
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
