#include "config.h"

#include "md-offset-index.h"

static guint64
offset_at (GArray *offsets, guint64 i)
{
  return g_array_index (offsets, guint64, i);
}

void
md_offset_index_init (MdOffsetIndex *index)
{
  index->file_offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  index->wire_offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  index->file_size = 0;
  index->wire_size = 0;
}

void
md_offset_index_clear (MdOffsetIndex *index)
{
  g_clear_pointer (&index->file_offsets, g_array_unref);
  g_clear_pointer (&index->wire_offsets, g_array_unref);
}

guint64
md_offset_index_get_count (const MdOffsetIndex *index)
{
  return index->file_offsets->len;
}

guint64
md_offset_index_get_file_size (const MdOffsetIndex *index)
{
  return index->file_size;
}

guint64
md_offset_index_get_wire_size (const MdOffsetIndex *index)
{
  return index->wire_size;
}

void
md_offset_index_truncate (MdOffsetIndex *index, guint64 count, guint64 file_size, guint64 wire_size)
{
  g_return_if_fail (count <= md_offset_index_get_count (index));

  g_array_set_size (index->file_offsets, (guint)count);
  g_array_set_size (index->wire_offsets, (guint)count);
  index->file_size = file_size;
  index->wire_size = wire_size;
}

guint64
md_offset_index_record_start (const MdOffsetIndex *index, guint64 i)
{
  return offset_at (index->file_offsets, i);
}

guint64
md_offset_index_record_end (const MdOffsetIndex *index, guint64 i)
{
  if (i + 1 < md_offset_index_get_count (index))
    return offset_at (index->file_offsets, i + 1);
  return index->file_size;
}

guint64
md_offset_index_wire_start (const MdOffsetIndex *index, guint64 i)
{
  return offset_at (index->wire_offsets, i);
}

guint64
md_offset_index_wire_end (const MdOffsetIndex *index, guint64 i)
{
  if (i + 1 < md_offset_index_get_count (index))
    return offset_at (index->wire_offsets, i + 1);
  return index->wire_size;
}

/* The last entry in @offsets[0, count) at or before @pos. */
static guint64
find_last_at_or_before (GArray *offsets, guint64 count, guint64 pos)
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
md_offset_index_find_record (const MdOffsetIndex *index, guint64 count, guint64 pos)
{
  return find_last_at_or_before (index->file_offsets, count, pos);
}

guint64
md_offset_index_find_wire (const MdOffsetIndex *index, guint64 count, guint64 pos)
{
  return find_last_at_or_before (index->wire_offsets, count, pos);
}
