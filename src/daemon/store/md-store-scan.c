#include "config.h"

/* Start-up: reading the notes file once, indexing every record, and
 * recovering from a crash that tore the last ones. */

#include "md-store-scan.h"

#include "md-error.h"
#include "md-log.h"
#include "md-notes-file.h"
#include "md-record.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* Start-up reads the file in slices this large: few syscalls per million notes. */
#define MD_STORE_SCAN_BUFFER (1024 * 1024)

/* A guess reserves at most one key per this many bytes of file.  A table for
 * n keys takes about 32 n bytes (24-byte slots, load 3/4), so a wrong guess
 * costs at most an eighth of the file size. */
#define MD_STORE_GUESS_BYTES_PER_KEY 256

/* What the scan works on: the store's file and index, not the store. */
typedef struct
{
  int fd;
  const char *path;
  MdOffsetIndex *index;
  MdKeyTable *keys;
} MdScan;

/* Where the first bad line of the scan starts, and why it is bad. */
typedef struct
{
  guint64 offset;
  guint64 line_no;
  GError *error;
} MdBadLine;

/* Indexes note @id, whose good record is @line_len bytes plus its '\n',
 * collecting its key in @keys for one batch insert per slice. */
static void
index_record (MdScan *self, gsize line_len, guint64 id, const MdRecordInfo *info, GArray *keys)
{
  if (info->has_key)
    {
      MdKeyEntry entry = { info->key, id };

      g_array_append_val (keys, entry);
    }
  md_offset_index_add (self->index, line_len + 1,
                       md_record_wire_len (line_len + 1, info->has_key, info->has_author));
}

/* Parses the complete records at the start of @data, adding them to the
 * index and their keys to @keys; returns how many bytes they took.  Stops at
 * the first bad record (filling @bad) or at an unfinished line. */
static gsize
index_records_in (MdScan *self, const char *data, gsize len, GArray *keys, MdBadLine *bad)
{
  const char *p = data, *end = data + len;
  const char *nl;
  guint64 id = md_offset_index_get_count (self->index) + 1;

  while ((nl = memchr (p, '\n', (gsize)(end - p))) != NULL)
    {
      gsize line_len = (gsize)(nl - p);
      MdRecordInfo info;

      if (!md_record_parse (p, line_len, id, &info, &bad->error))
        break;
      index_record (self, line_len, id++, &info, keys);
      p = nl + 1;
    }
  if (nl == NULL && (gsize)(end - p) >= MD_RECORD_MAX_LEN)
    g_set_error (&bad->error, MD_ERROR, MD_ERROR_MALFORMED, "record is longer than %d bytes",
                 MD_RECORD_MAX_LEN);
  return (gsize)(p - data);
}

/* How many keys the whole file of @file_size bytes probably holds, judged
 * by the part indexed so far, which holds @known. */
static gsize
guess_key_count (MdScan *self, gsize known, guint64 file_size)
{
  guint64 indexed = md_offset_index_get_file_size (self->index);
  double per_byte = indexed > 0 ? (double)known / (double)indexed : 0;
  double guess
      = MIN (per_byte * (double)file_size, (double)file_size / MD_STORE_GUESS_BYTES_PER_KEY);

  /* Where gsize is 32 bits, a huge file must not overflow the capacity. */
  guess = MIN (guess, (double)(G_MAXSIZE / 64));
  return MAX (known, (gsize)guess);
}

/* Adds the keys of one slice to the table.  Reserving for the keys the whole
 * file probably holds saves the rehash at every doubling; md_store_scan
 * shrinks the table if the guess was far too high (a file whose keyed notes
 * all come first). */
static void
add_slice_keys (MdScan *self, GArray *keys, guint64 file_size)
{
  gsize known = md_key_table_get_count (self->keys) + keys->len;

  md_key_table_reserve (self->keys, guess_key_count (self, known, file_size));
  md_key_table_insert_many (self->keys, (const MdKeyEntry *)keys->data, keys->len);
  g_array_set_size (keys, 0);
}

/* Reads the whole file once, in large slices, indexing every good record.
 * A bad or unfinished line ends the scan and is described in @bad. */
static gboolean
index_all_records (MdScan *self, guint64 file_size, MdBadLine *bad, GError **error)
{
  g_autofree char *buf = g_malloc (MD_STORE_SCAN_BUFFER);
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (MdKeyEntry));
  gsize fill = 0, got, used;
  guint64 offset = 0;

  while (bad->error == NULL && offset < file_size)
    {
      got = (gsize)MIN (MD_STORE_SCAN_BUFFER - fill, file_size - offset);
      if (!md_notes_file_pread (self->fd, (guint8 *)buf + fill, got, offset, error))
        return FALSE;
      offset += got;
      fill += got;
      used = index_records_in (self, buf, fill, keys, bad);
      add_slice_keys (self, keys, file_size);
      memmove (buf, buf + used, fill - used);
      fill -= used;
    }
  if (bad->error == NULL && fill > 0)
    g_set_error_literal (&bad->error, MD_ERROR, MD_ERROR_MALFORMED, "last record is unfinished");
  bad->offset = md_offset_index_get_file_size (self->index);
  bad->line_no = md_offset_index_get_count (self->index) + 1;
  return TRUE;
}

/* Whether the bad line starting at @offset runs to the end of the file
 * without a newline: the only thing a crash in the middle of an append
 * leaves. */
static gboolean
is_unfinished (MdScan *self, guint64 offset, guint64 file_size, GError **error)
{
  guint8 buf[4096];

  while (offset < file_size)
    {
      gsize n = (gsize)MIN (sizeof buf, file_size - offset);
      const guint8 *nl;

      if (!md_notes_file_pread (self->fd, buf, n, offset, error))
        return FALSE;
      nl = memchr (buf, '\n', n);
      if (nl != NULL)
        return FALSE;
      offset += n;
    }
  return TRUE;
}

/* Cuts the torn tail away for good, so it can never reappear after appends. */
static gboolean
drop_torn_tail (MdScan *self, guint64 file_size, const GError *reason, MdStoreRecovery *recovery,
                GError **error)
{
  guint64 kept_size = md_offset_index_get_file_size (self->index);
  int saved_errno;

  if (!md_notes_file_truncate (self->fd, kept_size, &saved_errno))
    {
      md_error_set_errno (error, saved_errno, "cannot truncate the torn tail of the notes file");
      return FALSE;
    }
  if (!md_notes_file_sync (self->fd, error))
    return FALSE;
  recovery->dropped_bytes = file_size - kept_size;
  md_log_recovered (self->path, recovery->dropped_bytes, recovery->kept_records, reason->message);
  return TRUE;
}

/* An unfinished last line is a torn tail.  A complete line that does not
 * parse is damage, even the last one (a hand edit, a bad disk): truncating it
 * would lose an acknowledged note. */
static gboolean
handle_bad_line (MdScan *self, MdBadLine *bad, guint64 file_size, MdStoreRecovery *recovery,
                 GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!is_unfinished (self, bad->offset, file_size, &local_error))
    {
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE,
                     "notes file %s is damaged at line %" G_GUINT64_FORMAT ": %s", self->path,
                     bad->line_no, bad->error->message);
      return FALSE;
    }
  return drop_torn_tail (self, file_size, bad->error, recovery, error);
}

gboolean
md_store_scan (int fd, const char *path, MdOffsetIndex *index, MdKeyTable *keys,
               MdStoreRecovery *recovery, GError **error)
{
  MdScan scan = { fd, path, index, keys };
  MdScan *self = &scan;
  MdBadLine bad = { 0, 0, NULL };
  struct stat st;
  gboolean ok;

  if (fstat (self->fd, &st) < 0)
    {
      md_error_set_errno (error, errno, "cannot stat the notes file");
      return FALSE;
    }
  posix_fadvise (self->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  ok = index_all_records (self, (guint64)st.st_size, &bad, error);
  recovery->kept_records = md_offset_index_get_count (self->index);
  recovery->dropped_bytes = 0;
  if (ok && bad.error != NULL)
    ok = handle_bad_line (self, &bad, (guint64)st.st_size, recovery, error);
  /* Records a killed daemon wrote but never synced are acknowledged by
   * nobody yet; syncing them now makes everything served from here durable. */
  else if (ok)
    ok = md_notes_file_sync (self->fd, error);
  g_clear_error (&bad.error);
  md_key_table_shrink_to_fit (self->keys);
  return ok;
}
