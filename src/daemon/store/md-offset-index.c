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

/* Where entry @i of @offsets starts; at @i == its length, where the next
 * one would, @total. */
static guint64
start_at (GArray *offsets, guint64 total, guint64 i)
{
  return i < offsets->len ? offset_at (offsets, i) : total;
}

static guint64
end_at (GArray *offsets, guint64 total, guint64 i)
{
  return start_at (offsets, total, i + 1);
}

void
md_offset_index_truncate (MdOffsetIndex *index, guint64 count)
{
  g_return_if_fail (count <= md_offset_index_get_count (index));

  index->file_size = md_offset_index_record_start (index, count);
  index->wire_size = md_offset_index_wire_start (index, count);
  g_array_set_size (index->file_offsets, (guint)count);
  g_array_set_size (index->wire_offsets, (guint)count);
}

guint64
md_offset_index_record_start (const MdOffsetIndex *index, guint64 i)
{
  return start_at (index->file_offsets, index->file_size, i);
}

guint64
md_offset_index_record_end (const MdOffsetIndex *index, guint64 i)
{
  return end_at (index->file_offsets, index->file_size, i);
}

guint64
md_offset_index_wire_start (const MdOffsetIndex *index, guint64 i)
{
  return start_at (index->wire_offsets, index->wire_size, i);
}

guint64
md_offset_index_wire_end (const MdOffsetIndex *index, guint64 i)
{
  return end_at (index->wire_offsets, index->wire_size, i);
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
