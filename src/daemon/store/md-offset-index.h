/* The index of the notes file: for each note, where its record starts in the
 * file and where its wire line starts in the body of GET /notes.
 *
 * Sixteen bytes per note is all the memory the store spends on notes: the
 * texts stay in the file, and the two offsets find any note's record or any
 * byte of the body by binary search. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Embedded by value in its owner; the fields are private. */
typedef struct
{
  /* Entry i belongs to note i + 1. */
  GArray *file_offsets;
  GArray *wire_offsets;
  guint64 file_size; /* where the next record goes */
  guint64 wire_size; /* where the next wire line goes */
} MdOffsetIndex;

void md_offset_index_init (MdOffsetIndex *index);
void md_offset_index_clear (MdOffsetIndex *index);

/* Notes indexed, the last one's id. */
guint64 md_offset_index_get_count (const MdOffsetIndex *index);
guint64 md_offset_index_get_file_size (const MdOffsetIndex *index);

/* Indexes the next note, whose record of @record_len bytes starts at the end
 * of the last one and whose wire line is @wire_len bytes long.  Inline:
 * start-up calls it for every note in the file. */
static inline void
md_offset_index_add (MdOffsetIndex *index, guint64 record_len, guint64 wire_len)
{
  g_array_append_val (index->file_offsets, index->file_size);
  g_array_append_val (index->wire_offsets, index->wire_size);
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
