/* A record: one line of the notes file, "ID\tTIME\tKEY\tTEXT\n".
 *
 * ID counts from 1 without leading zeros, TIME is "YYYY-MM-DDTHH:MM:SSZ",
 * KEY a UUID (written in lower case, read in either) or "-", TEXT a valid
 * note.  The wire line of a note is its record without the key field. */
#pragma once

#include "md-key.h"

#include "md-note.h"

G_BEGIN_DECLS

/* Longest record: id, time, key, text, three tabs and the newline. */
#define MD_RECORD_MAX_LEN (20 + 1 + 20 + 1 + MD_NOTE_KEY_LEN + 1 + MD_NOTE_MAX_BYTES + 1)

/* What the store keeps of a parsed record. */
typedef struct
{
  gboolean has_key; /* FALSE for "-" */
  MdKey key;
} MdRecordInfo;

/* The length of a key field: a UUID, or "-". */
static inline gsize
md_record_key_field_len (gboolean has_key)
{
  return has_key ? MD_NOTE_KEY_LEN : 1;
}

/* Checks one record @line (without its '\n') that should be note @expected
 * and fills @info.  The error (MD_ERROR_MALFORMED) says which field is bad. */
gboolean md_record_parse (const char *line, gsize len, guint64 expected, MdRecordInfo *info,
                          GError **error);

/* Sets @out to the record of a note; @key is a valid UUID or NULL (written
 * in lower case: the one place keys are lowercased), @unix_time one for
 * which md_note_time_is_valid holds. */
void md_record_format (GString *out, guint64 id, const char *key, const char *text, gsize text_len,
                       gint64 unix_time);

/* The length of a record's wire line: the record without the key field and
 * the tab after it. */
static inline gsize
md_record_wire_len (gsize record_len, gboolean has_key)
{
  return record_len - md_record_key_field_len (has_key) - 1;
}

/* Splits the record @rec (with its '\n') around the key field into its wire
 * parts, "ID\tTIME\t" (@head_len bytes from @rec) and "TEXT\n" (from @tail
 * to the end).  The store knows the wire length of each record it indexed:
 * a record that does not match @wire_len was changed behind its back, and is
 * MD_ERROR_CORRUPT_STORE. */
gboolean md_record_split_wire (const guint8 *rec, gsize len, gsize wire_len, gsize *head_len,
                               const guint8 **tail, GError **error);

G_END_DECLS
