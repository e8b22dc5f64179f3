#include "config.h"

/* Making appends durable: group commit, one fdatasync for every append
 * since the last one, either on the main loop (md_store_commit) or
 * pipelined, in md-notes-sync.h's worker while the next appends are made.
 *
 * Either way a commit covers the notes appended when it started; a failed
 * one undoes every append not yet durable, including those made while it
 * ran, since the file is cut back to its last durable size. */

#include "md-store-private.h"

#include "md-notes-file.h"

/* Notes up to @count are durable: their keys are no longer pending. */
static void
md_store_mark_durable_up_to (MdStore *self, guint64 count)
{
  guint n = 0;

  while (n < self->pending_keys->len
         && g_array_index (self->pending_keys, MdKeyEntry, n).id <= count)
    n++;
  g_array_remove_range (self->pending_keys, 0, n);
  self->durable_count = count;
}

/* Forgets every append that is not durable. */
static void
md_store_rollback (MdStore *self)
{
  md_store_truncate_to (self, md_offset_index_record_start (&self->index, self->durable_count));
  for (guint i = 0; i < self->pending_keys->len; i++)
    md_key_table_remove (&self->keys, &g_array_index (self->pending_keys, MdKeyEntry, i).key);
  g_array_set_size (self->pending_keys, 0);
  md_offset_index_truncate (&self->index, self->durable_count);
}

static gboolean
md_store_end_commit (MdStore *self, guint64 count, gboolean synced)
{
  if (synced)
    md_store_mark_durable_up_to (self, count);
  else
    md_store_rollback (self);
  return synced;
}

gboolean
md_store_commit_start (MdStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!md_notes_sync_is_running (self->sync), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!md_store_has_pending (self))
    return TRUE;
  if (!md_notes_sync_start (self->sync, error))
    return FALSE;
  self->syncing_count = md_offset_index_get_count (&self->index);
  return TRUE;
}

gboolean
md_store_commit_is_running (MdStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return md_notes_sync_is_running (self->sync);
}

int
md_store_commit_get_fd (MdStore *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return md_notes_sync_get_fd (self->sync);
}

gboolean
md_store_commit_finish (MdStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (md_notes_sync_is_running (self->sync), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return md_store_end_commit (self, self->syncing_count, md_notes_sync_finish (self->sync, error));
}

gboolean
md_store_commit (MdStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (md_notes_sync_is_running (self->sync) && !md_store_commit_finish (self, error))
    return FALSE;
  if (!md_store_has_pending (self))
    return TRUE;
  return md_store_end_commit (self, md_offset_index_get_count (&self->index),
                              md_notes_file_sync (self->fd, error));
}
