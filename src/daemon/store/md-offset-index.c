#include "config.h"

#include "md-offset-index.h"

/* Which of the two offsets of a note: its record's or its wire line's. */
typedef enum
{
  MD_OFFSET_FILE,
  MD_OFFSET_WIRE,
} MdOffsetKind;

static guint64
block_offset (const MdOffsetIndex *index, guint64 b, MdOffsetKind kind)
{
  const MdOffsetIndexBlock *block = &g_array_index (index->blocks, MdOffsetIndexBlock, b);

  return kind == MD_OFFSET_FILE ? block->file_offset : block->wire_offset;
}

static guint64
len_at (const MdOffsetIndex *index, guint64 i, MdOffsetKind kind)
{
  const MdOffsetIndexLens *lens = &g_array_index (index->lens, MdOffsetIndexLens, i);

  return kind == MD_OFFSET_FILE ? lens->record_len : lens->wire_len;
}

static guint64
total (const MdOffsetIndex *index, MdOffsetKind kind)
{
  return kind == MD_OFFSET_FILE ? index->file_size : index->wire_size;
}

void
md_offset_index_init (MdOffsetIndex *index)
{
  index->lens = g_array_new (FALSE, FALSE, sizeof (MdOffsetIndexLens));
  index->blocks = g_array_new (FALSE, FALSE, sizeof (MdOffsetIndexBlock));
  index->file_size = 0;
  index->wire_size = 0;
}

void
md_offset_index_clear (MdOffsetIndex *index)
{
  g_clear_pointer (&index->lens, g_array_unref);
  g_clear_pointer (&index->blocks, g_array_unref);
}

guint64
md_offset_index_get_count (const MdOffsetIndex *index)
{
  return index->lens->len;
}

guint64
md_offset_index_get_file_size (const MdOffsetIndex *index)
{
  return index->file_size;
}

/* Where entry @i starts: its block's offset plus the lengths before it in
 * the block.  At @i == count, where the next one would: the total. */
static guint64
start_at (const MdOffsetIndex *index, guint64 i, MdOffsetKind kind)
{
  guint64 b = i / MD_OFFSET_INDEX_BLOCK;
  guint64 offset;

  if (i >= index->lens->len)
    return total (index, kind);
  offset = block_offset (index, b, kind);
  for (guint64 j = b * MD_OFFSET_INDEX_BLOCK; j < i; j++)
    offset += len_at (index, j, kind);
  return offset;
}

static guint64
end_at (const MdOffsetIndex *index, guint64 i, MdOffsetKind kind)
{
  return start_at (index, i, kind) + len_at (index, i, kind);
}

void
md_offset_index_truncate (MdOffsetIndex *index, guint64 count)
{
  g_return_if_fail (count <= md_offset_index_get_count (index));

  index->file_size = md_offset_index_record_start (index, count);
  index->wire_size = md_offset_index_wire_start (index, count);
  g_array_set_size (index->lens, (guint)count);
  g_array_set_size (index->blocks,
                    (guint)((count + MD_OFFSET_INDEX_BLOCK - 1) / MD_OFFSET_INDEX_BLOCK));
}

guint64
md_offset_index_record_start (const MdOffsetIndex *index, guint64 i)
{
  return start_at (index, i, MD_OFFSET_FILE);
}

guint64
md_offset_index_record_end (const MdOffsetIndex *index, guint64 i)
{
  return i < index->lens->len ? end_at (index, i, MD_OFFSET_FILE) : index->file_size;
}

guint64
md_offset_index_wire_start (const MdOffsetIndex *index, guint64 i)
{
  return start_at (index, i, MD_OFFSET_WIRE);
}

guint64
md_offset_index_wire_end (const MdOffsetIndex *index, guint64 i)
{
  return i < index->lens->len ? end_at (index, i, MD_OFFSET_WIRE) : index->wire_size;
}

/* The last block among the first @n_blocks starting at or before @pos, or 0. */
static guint64
find_block (const MdOffsetIndex *index, guint64 n_blocks, guint64 pos, MdOffsetKind kind)
{
  guint64 lo = 0, hi = n_blocks;

  while (hi - lo > 1)
    {
      guint64 mid = lo + (hi - lo) / 2;

      if (block_offset (index, mid, kind) <= pos)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

/* The last entry in [0, count) starting at or before @pos: bisect the
 * blocks, then walk the one found. */
static guint64
find_last_at_or_before (const MdOffsetIndex *index, guint64 count, guint64 pos, MdOffsetKind kind)
{
  guint64 n_blocks = (count + MD_OFFSET_INDEX_BLOCK - 1) / MD_OFFSET_INDEX_BLOCK;
  guint64 i, offset;

  if (count == 0)
    return 0;
  i = find_block (index, n_blocks, pos, kind) * MD_OFFSET_INDEX_BLOCK;
  offset = block_offset (index, i / MD_OFFSET_INDEX_BLOCK, kind);
  while (i + 1 < count && offset + len_at (index, i, kind) <= pos)
    offset += len_at (index, i++, kind);
  return i;
}

guint64
md_offset_index_find_record (const MdOffsetIndex *index, guint64 count, guint64 pos)
{
  return find_last_at_or_before (index, count, pos, MD_OFFSET_FILE);
}

guint64
md_offset_index_find_wire (const MdOffsetIndex *index, guint64 count, guint64 pos)
{
  return find_last_at_or_before (index, count, pos, MD_OFFSET_WIRE);
}
