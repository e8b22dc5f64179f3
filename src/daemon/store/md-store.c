#include "config.h"

/* The store itself: its life, its appends and commits, and key lookups.
 * Opening scans the file (md-store-scan.h); reads are in md-store-read.c. */

#include "md-store-private.h"

#include "md-error.h"
#include "md-log.h"
#include "md-notebook-id.h"
#include "md-notes-sync.h"
#include "md-note.h"
#include "md-notes-file.h"
#include "md-record.h"

#include <string.h>

#include <glib/gstdio.h>

void
md_store_free (MdStore *self)
{
  if (self == NULL)
    return;
  /* Before the file closes: the worker may be syncing it. */
  md_notes_sync_free (self->sync);
  if (self->fd >= 0)
    g_close (self->fd, NULL);
  g_free (self->path);
  g_free (self->notebook_id);
  md_offset_index_clear (&self->index);
  md_key_table_clear (&self->keys);
  g_array_unref (self->pending_keys);
  g_string_free (self->record, TRUE);
  g_free (self->read_buf);
  g_free (self->broken);
  g_free (self);
}

static MdStore *
md_store_new (const char *directory)
{
  MdStore *self = g_new0 (MdStore, 1);

  self->path = g_build_filename (directory, MD_STORE_NOTES_FILE, NULL);
  self->fd = -1;
  self->max_size = G_MAXUINT64;
  md_offset_index_init (&self->index);
  md_key_table_init (&self->keys);
  self->pending_keys = g_array_new (FALSE, FALSE, sizeof (MdKeyEntry));
  self->record = g_string_sized_new (MD_RECORD_MAX_LEN);
  self->read_buf = g_malloc (MD_STORE_READ_CHUNK + MD_RECORD_MAX_LEN);
  return self;
}

/* Declares every note indexed so far durable. */
static void
md_store_mark_durable (MdStore *self)
{
  g_array_set_size (self->pending_keys, 0);
  self->durable_count = md_offset_index_get_count (&self->index);
}

/* The TIME of the newest note in the file, for appends to follow. */
static gboolean
md_store_load_last_time (MdStore *self, GError **error)
{
  guint64 count = md_offset_index_get_count (&self->index);
  g_autoptr (GString) line = NULL;
  MdNoteLine note;

  if (count == 0)
    return TRUE;
  line = g_string_new (NULL);
  if (!md_store_append_wire_line (self, count, line, error)
      || !md_note_parse_wire_line (line->str, line->len, &note, error))
    return FALSE;
  self->last_time = note.time;
  return TRUE;
}

MdStore *
md_store_open (const char *directory, MdStoreRecovery *recovery, GError **error)
{
  g_autoptr (MdStore) self = NULL;
  MdStoreRecovery found;

  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = md_store_new (directory);
  self->fd = md_notes_file_open (directory, self->path, error);
  if (self->fd < 0)
    return NULL;
  self->sync = md_notes_sync_new (self->fd);
  /* After the notes file: opening it creates the directory. */
  self->notebook_id = md_notebook_id_load (directory, error);
  if (self->notebook_id == NULL
      || !md_store_scan (self->fd, self->path, &self->index, &self->keys, &found, error))
    return NULL;
  md_store_mark_durable (self);
  if (!md_store_load_last_time (self, error))
    return NULL;
  if (recovery != NULL)
    *recovery = found;
  return g_steal_pointer (&self);
}

const char *
md_store_get_path (MdStore *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

const char *
md_store_get_notebook_id (MdStore *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->notebook_id;
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
  return md_offset_index_get_count (&self->index);
}

gboolean
md_store_has_pending (MdStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return md_offset_index_get_count (&self->index) > self->durable_count;
}

void
md_store_set_max_size (MdStore *self, guint64 max_size)
{
  g_return_if_fail (self != NULL);
  self->max_size = max_size;
}

guint64
md_store_get_max_size (MdStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_size;
}

guint64
md_store_get_size (MdStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return md_offset_index_get_file_size (&self->index);
}

/* ---- appending and committing -------------------------------------------- */

/* Checked before the write, so the file never grows past the cap. */
static gboolean
md_store_check_room (MdStore *self, gsize record_len, GError **error)
{
  guint64 size = md_offset_index_get_file_size (&self->index);

  if (size <= self->max_size && record_len <= self->max_size - size)
    return TRUE;
  g_set_error (error, MD_ERROR, MD_ERROR_NOTEBOOK_FULL,
               "notebook full: the notes file is at its size limit (%" G_GUINT64_FORMAT
               " of %" G_GUINT64_FORMAT " bytes)",
               size, self->max_size);
  return FALSE;
}

static void
md_store_break (MdStore *self, int errno_value)
{
  g_free (self->broken);
  self->broken = g_strdup_printf ("notes file %s could not be restored after a failed write (%s);"
                                  " restart the daemon",
                                  self->path, g_strerror (errno_value));
  md_log_store_broken (self->broken);
}

/* Undoes writes past @size; if even that fails, later appends would land
 * after garbage, so the store refuses them. */
void
md_store_truncate_to (MdStore *self, guint64 size)
{
  int saved_errno;

  if (!md_notes_file_truncate (self->fd, size, &saved_errno))
    md_store_break (self, saved_errno);
}

static gboolean
md_store_check_usable (MdStore *self, GError **error)
{
  if (self->broken == NULL)
    return TRUE;
  g_set_error_literal (error, MD_ERROR, MD_ERROR_IO, self->broken);
  return FALSE;
}

static void
md_store_remember_key (MdStore *self, const char *key, guint64 id)
{
  MdKeyEntry entry = { .id = id };

  if (key == NULL)
    return;
  md_key_parse (key, MD_NOTE_KEY_LEN, &entry.key);
  md_key_table_insert (&self->keys, &entry.key, id);
  g_array_append_val (self->pending_keys, entry);
}

/* Writes the formatted record of note @id; a failed write leaves nothing of
 * it in the file (or breaks the store). */
static gboolean
md_store_write_record (MdStore *self, guint64 id, const char *key, GError **error)
{
  guint64 size_before = md_offset_index_get_file_size (&self->index);
  gsize len = self->record->len;

  if (!md_notes_file_write (self->fd, self->record->str, len, error))
    {
      md_store_truncate_to (self, size_before);
      return FALSE;
    }
  md_offset_index_add (&self->index, len, md_record_wire_len (len, key != NULL, TRUE));
  md_store_remember_key (self, key, id);
  return TRUE;
}

gboolean
md_store_append (MdStore *self, const char *key, const char *author, const char *text,
                 gsize text_len, gint64 unix_time, guint64 *id, GError **error)
{
  guint64 new_id;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (author != NULL && md_note_author_is_valid (author, strlen (author)), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (key == NULL || md_note_key_is_valid (key, strlen (key)), FALSE);
  g_return_val_if_fail (key == NULL || !md_store_lookup_key (self, key, NULL), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A line break in the text would split the record: check even though the
   * caller should have. */
  if (!md_store_check_usable (self, error) || !md_note_validate (text, text_len, error))
    return FALSE;
  /* A clock set far off has no four-digit year: such a record would not
   * parse. */
  if (!md_note_time_is_valid (unix_time))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "the clock is out of range: %" G_GINT64_FORMAT
                   " seconds since 1970 is not in the years 0000 to 9999",
                   unix_time);
      return FALSE;
    }
  /* TIME never goes backwards from one note to the next (ARCHITECTURE.md),
   * so a clock stepped back does not reorder the notebook and a date range
   * stays a binary search. */
  unix_time = MAX (unix_time, self->last_time);
  new_id = md_offset_index_get_count (&self->index) + 1;
  md_record_format (self->record, new_id, key, author, text, text_len, unix_time);
  if (!md_store_check_room (self, self->record->len, error)
      || !md_store_write_record (self, new_id, key, error))
    return FALSE;
  self->last_time = unix_time;
  if (id != NULL)
    *id = new_id;
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
