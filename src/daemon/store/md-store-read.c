#include "config.h"

/* Reading notes back: single wire lines, and the body of GET /notes, from
 * the file through the offset index, so a read costs the same however long
 * the history is. */

#include "md-store-private.h"

#include "md-notes-file.h"
#include "md-record.h"

#include <string.h>

/* A wire line as at most three segments of bytes: the record's head, "-\t"
 * for an old record, the record's tail. */
typedef struct
{
  const guint8 *data[3];
  gsize len[3];
} MdWireSegments;

/* Splits the record of entry @i, at @rec, into its wire segments, checking
 * it against the lengths the index holds. */
static gboolean
md_store_split_record (MdStore *self, guint64 i, const guint8 *rec, MdWireSegments *segments,
                       GError **error)
{
  const MdOffsetIndex *index = &self->index;
  gsize rec_len = md_offset_index_record_end (index, i) - md_offset_index_record_start (index, i);
  gsize wire_len = md_offset_index_wire_end (index, i) - md_offset_index_wire_start (index, i);
  MdRecordWire parts;

  if (!md_record_split_wire (rec, rec_len, wire_len, &parts, error))
    return FALSE;
  segments->data[0] = rec;
  segments->len[0] = parts.head_len;
  segments->data[1] = (const guint8 *)MD_RECORD_UNKNOWN_AUTHOR_FIELD;
  segments->len[1] = parts.unknown_author ? MD_RECORD_UNKNOWN_AUTHOR_FIELD_LEN : 0;
  segments->data[2] = parts.tail;
  segments->len[2] = (gsize)(rec + rec_len - parts.tail);
  return TRUE;
}

gboolean
md_store_append_wire_line (MdStore *self, guint64 id, GString *out, GError **error)
{
  const MdOffsetIndex *index = &self->index;
  guint64 start;
  MdWireSegments segments;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (id >= 1 && id <= md_offset_index_get_count (index), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  start = md_offset_index_record_start (index, id - 1);
  if (!md_notes_file_pread (self->fd, self->read_buf,
                            md_offset_index_record_end (index, id - 1) - start, start, error)
      || !md_store_split_record (self, id - 1, self->read_buf, &segments, error))
    return FALSE;
  for (guint s = 0; s < G_N_ELEMENTS (segments.data); s++)
    g_string_append_len (out, (const char *)segments.data[s], (gssize)segments.len[s]);
  return TRUE;
}

guint64
md_store_get_body_size (MdStore *self, guint64 after)
{
  g_return_val_if_fail (self != NULL, 0);

  if (after >= self->durable_count)
    return 0;
  return md_offset_index_wire_start (&self->index, self->durable_count)
         - md_offset_index_wire_start (&self->index, after);
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

/* Copies the wire form of entry @i, whose record is at @rec, into @w. */
static gboolean
copy_record_into_window (MdStore *self, guint64 i, const guint8 *rec, const MdWindow *w,
                         GError **error)
{
  guint64 wire_pos = md_offset_index_wire_start (&self->index, i);
  MdWireSegments segments;

  if (!md_store_split_record (self, i, rec, &segments, error))
    return FALSE;
  for (guint s = 0; s < G_N_ELEMENTS (segments.data); s++)
    {
      copy_into_window (w, segments.data[s], segments.len[s], wire_pos);
      wire_pos += segments.len[s];
    }
  return TRUE;
}

/* The last durable entry from @first on that the chunk read at its record
 * takes: as many as fit one chunk, but none past the window. */
static guint64
md_store_last_in_chunk (MdStore *self, guint64 first, const MdWindow *w)
{
  const MdOffsetIndex *index = &self->index;
  guint64 chunk_start = md_offset_index_record_start (index, first);
  guint64 last
      = md_offset_index_find_record (index, self->durable_count, chunk_start + MD_STORE_READ_CHUNK);

  last = MAX (last, first);
  return MIN (last, md_offset_index_find_wire (index, self->durable_count, w->end - 1));
}

/* Reads records @first.. (as many as fit one chunk) and copies their wire
 * form into @w; returns the index after the last record used, 0 on error. */
static guint64
md_store_read_chunk (MdStore *self, guint64 first, const MdWindow *w, GError **error)
{
  guint64 chunk_start = md_offset_index_record_start (&self->index, first);
  guint64 last = md_store_last_in_chunk (self, first, w);
  guint64 chunk_end = md_offset_index_record_end (&self->index, last);

  if (!md_notes_file_pread (self->fd, self->read_buf, chunk_end - chunk_start, chunk_start, error))
    return 0;
  for (guint64 i = first; i <= last; i++)
    {
      const guint8 *rec
          = self->read_buf + (md_offset_index_record_start (&self->index, i) - chunk_start);

      if (!copy_record_into_window (self, i, rec, w, error))
        return 0;
    }
  return last + 1;
}

gssize
md_store_read_body (MdStore *self, guint64 after, guint64 offset, guint8 *buf, gsize len,
                    GError **error)
{
  guint64 size, i;
  MdWindow w;

  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (buf != NULL || len == 0, -1);
  g_return_val_if_fail (len <= G_MAXSSIZE, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  size = md_store_get_body_size (self, after);
  if (offset >= size || len == 0)
    return 0;
  len = (gsize)MIN ((guint64)len, size - offset);
  w.start = md_offset_index_wire_start (&self->index, after) + offset;
  w.end = w.start + len;
  w.buf = buf;
  i = md_offset_index_find_wire (&self->index, self->durable_count, w.start);
  while (i < self->durable_count && md_offset_index_wire_start (&self->index, i) < w.end)
    {
      i = md_store_read_chunk (self, i, &w, error);
      if (i == 0)
        return -1;
    }
  return (gssize)len;
}
