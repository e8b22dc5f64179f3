/* A record: one line of the notes file, "ID\tTIME\tKEY\tAUTHOR\tTEXT\n".
 *
 * ID counts from 1 without leading zeros, TIME is "YYYY-MM-DDTHH:MM:SSZ",
 * KEY a UUID (written in lower case, read in either) or "-", AUTHOR a valid
 * author (md_note_author_is_valid), TEXT a valid note.  The wire line of a
 * note is its record without the key field.
 *
 * Records written before authors existed have four fields,
 * "ID\tTIME\tKEY\tTEXT\n", and stay as they are: their wire line has the
 * author "-" where the key was.  A record tells which it is by its tabs:
 * neither an author nor a text holds one, so after the key a tab means an
 * author field and no tab means an old record. */
#pragma once

#include "md-key.h"

#include "md-note.h"

G_BEGIN_DECLS

/* Longest record: id, time, key, author, text, four tabs and the newline. */
#define MD_RECORD_MAX_LEN                                                                          \
  (20 + 1 + 20 + 1 + MD_NOTE_KEY_LEN + 1 + MD_NOTE_AUTHOR_MAX_LEN + 1 + MD_NOTE_MAX_BYTES + 1)

/* What the store keeps of a parsed record. */
typedef struct
{
  gboolean has_key;    /* FALSE for "-" */
  gboolean has_author; /* FALSE for an old four-field record */
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
 * in lower case: the one place keys are lowercased), @author a valid author,
 * @unix_time one for which md_note_time_is_valid holds. */
void md_record_format (GString *out, guint64 id, const char *key, const char *author,
                       const char *text, gsize text_len, gint64 unix_time);

/* What an old record's wire line has in place of its key field. */
#define MD_RECORD_UNKNOWN_AUTHOR_FIELD MD_NOTE_AUTHOR_UNKNOWN "\t"
#define MD_RECORD_UNKNOWN_AUTHOR_FIELD_LEN 2

/* The length of a record's wire line: the record without the key field and
 * the tab after it, plus "-\t" for an old record. */
static inline gsize
md_record_wire_len (gsize record_len, gboolean has_key, gboolean has_author)
{
  return record_len - md_record_key_field_len (has_key) - 1
         + (has_author ? 0 : MD_RECORD_UNKNOWN_AUTHOR_FIELD_LEN);
}

/* A record's wire line in parts: "ID\tTIME\t" (@head_len bytes from the
 * record), then "-\t" if @unknown_author, then from @tail to the record's
 * end ("AUTHOR\tTEXT\n", or "TEXT\n" for an old record). */
typedef struct
{
  gsize head_len;
  gboolean unknown_author;
  const guint8 *tail;
} MdRecordWire;

/* Splits the record @rec (with its '\n') around the key field into its wire
 * parts.  The store knows the wire length of each record it indexed, which
 * also tells an old record from a new one: a record that does not match
 * @wire_len was changed behind its back, and is MD_ERROR_CORRUPT_STORE. */
gboolean md_record_split_wire (const guint8 *rec, gsize len, gsize wire_len, MdRecordWire *parts,
                               GError **error);

G_END_DECLS
