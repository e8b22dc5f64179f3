/* The index of the notes file: for each note, where its record starts in the
 * file and where its wire line starts in the body of GET /notes.
 *
 * This is all the memory the store spends on notes: the texts stay in the
 * file.  Each note costs two 16-bit lengths, and every MD_OFFSET_INDEX_BLOCK
 * notes a block holds the two 64-bit offsets where that run starts: about
 * 4.5 bytes a note instead of 16, and offsets beyond 4 GiB stay exact.  A
 * start is its block's offset plus at most MD_OFFSET_INDEX_BLOCK - 1
 * lengths; a search bisects the blocks, then walks one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Notes per block: a start sums at most this many lengths less one. */
#define MD_OFFSET_INDEX_BLOCK 32

/* The lengths of one note's record and wire line; records are far shorter
 * than 64 KiB (MD_RECORD_MAX_LEN). */
typedef struct
{
  guint16 record_len;
  guint16 wire_len;
} MdOffsetIndexLens;

/* Where the records and wire lines of a block's first note start. */
typedef struct
{
  guint64 file_offset;
  guint64 wire_offset;
} MdOffsetIndexBlock;

/* Embedded by value in its owner; the fields are private. */
typedef struct
{
  GArray *lens;      /* of MdOffsetIndexLens; entry i belongs to note i + 1 */
  GArray *blocks;    /* of MdOffsetIndexBlock; block b starts at entry b * BLOCK */
  guint64 file_size; /* where the next record goes */
  guint64 wire_size; /* where the next wire line goes */
} MdOffsetIndex;

void md_offset_index_init (MdOffsetIndex *index);
void md_offset_index_clear (MdOffsetIndex *index);

/* Notes indexed, the last one's id. */
guint64 md_offset_index_get_count (const MdOffsetIndex *index);
guint64 md_offset_index_get_file_size (const MdOffsetIndex *index);

/* Indexes the next note, whose record of @record_len bytes starts at the end
 * of the last one and whose wire line is @wire_len bytes long; both are
 * below 64 KiB.  Inline: start-up calls it for every note in the file. */
static inline void
md_offset_index_add (MdOffsetIndex *index, guint64 record_len, guint64 wire_len)
{
  MdOffsetIndexLens lens = { (guint16)record_len, (guint16)wire_len };

  g_return_if_fail (record_len <= G_MAXUINT16 && wire_len <= G_MAXUINT16);

  if (index->lens->len % MD_OFFSET_INDEX_BLOCK == 0)
    {
      MdOffsetIndexBlock block = { index->file_size, index->wire_size };

      g_array_append_val (index->blocks, block);
    }
  g_array_append_val (index->lens, lens);
  index->file_size += record_len;
  index->wire_size += wire_len;
}
/* Forgets every note after the first @count: the next one goes where note
 * @count + 1 was. */
void md_offset_index_truncate (MdOffsetIndex *index, guint64 count);

/* Where the record and wire line of entry @i (note @i + 1) start and end.
 * The start of entry @i == count is where the next note would go: the file
 * (or body) size of the first @i notes. */
guint64 md_offset_index_record_start (const MdOffsetIndex *index, guint64 i);
guint64 md_offset_index_record_end (const MdOffsetIndex *index, guint64 i);
guint64 md_offset_index_wire_start (const MdOffsetIndex *index, guint64 i);
guint64 md_offset_index_wire_end (const MdOffsetIndex *index, guint64 i);

/* The last entry among the first @count whose record (or wire line) starts
 * at or before @pos; 0 if none does. */
guint64 md_offset_index_find_record (const MdOffsetIndex *index, guint64 count, guint64 pos);
guint64 md_offset_index_find_wire (const MdOffsetIndex *index, guint64 count, guint64 pos);

G_END_DECLS
