/* What a note is, and its text forms.
 *
 * A note is one line of 1 to MD_NOTE_MAX_BYTES bytes of valid UTF-8 with no
 * control characters (C0, DEL, C1).  The server gives it an id (1, 2, ...), a
 * UTC time and its author.  On the wire a note is "ID\tTIME\tAUTHOR\tTEXT\n"
 * with TIME in RFC 3339 UTC with seconds ("2026-11-24T19:42:57Z").  The notes
 * file adds the client's key (md-record.h).
 *
 * AUTHOR is who wrote it: a PSK name (md-psk.h's name rules) for a note
 * that came over DTLS, "@" and the source address for one over plain CoAP,
 * "-" on the wire for a note stored before authors existed.  None of the
 * three forms holds a tab, a space or a control character. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_NOTE_MAX_BYTES 1000
/* A key is a UUID in its canonical 36-character form. */
#define MD_NOTE_KEY_LEN 36
/* A time's RFC 3339 form, "YYYY-MM-DDTHH:MM:SSZ". */
#define MD_NOTE_TIME_LEN 20
/* Longest author: a PSK name (MD_PSK_NAME_MAX) is longer than "@" and an
 * IPv6 address (46). */
#define MD_NOTE_AUTHOR_MAX_LEN 64
/* The author of a note stored before authors existed. */
#define MD_NOTE_AUTHOR_UNKNOWN "-"
/* Longest wire line: id (20), time (20), author, text, three tabs and the
 * newline. */
#define MD_NOTE_MAX_WIRE_LINE (20 + 1 + 20 + 1 + MD_NOTE_AUTHOR_MAX_LEN + 1 + MD_NOTE_MAX_BYTES + 1)

typedef struct
{
  guint64 id;
  gint64 time;        /* seconds since the epoch, UTC */
  const char *author; /* not NUL-terminated; points into the parsed line */
  gsize author_len;
  const char *text; /* the same */
  gsize text_len;
} MdNoteLine;

/* Checks the note rules; on failure sets MD_ERROR_INVALID_NOTE with a short
 * reason a person can act on ("note is empty", "note is longer than 1000
 * bytes", "note is not valid UTF-8", "note contains a control character"). */
gboolean md_note_validate (const char *text, gsize len, GError **error);

/* TRUE if @author is one a note is stored with: a PSK name, or "@" and an
 * address (hex digits, '.' and ':'; "@?" when the address had no text form).
 * "-" is not: it is only ever served, for old notes. */
gboolean md_note_author_is_valid (const char *author, gsize len);

/* TRUE if @key is a UUID in canonical form (8-4-4-4-12 hex digits). */
gboolean md_note_key_is_valid (const char *key, gsize len);

/* TRUE if @unix_time has an RFC 3339 form: years 0000 to 9999. */
gboolean md_note_time_is_valid (gint64 unix_time);
/* Appends "YYYY-MM-DDTHH:MM:SSZ" for @unix_time, which must be valid. */
void md_note_append_time (GString *out, gint64 unix_time);
/* Parses exactly that form; FALSE on anything else. */
gboolean md_note_parse_time (const char *s, gsize len, gint64 *unix_time);

/* Parses a decimal id >= 1: digits only, no sign, no leading zero, fits 64
 * bits.  FALSE on anything else. */
gboolean md_note_parse_id (const char *s, gsize len, guint64 *id);

/* Appends the wire line "ID\tTIME\tAUTHOR\tTEXT\n". */
void md_note_append_wire_line (GString *out, guint64 id, gint64 unix_time, const char *author,
                               const char *text, gsize text_len);

/* Parses one wire line (with or without its trailing '\n'); AUTHOR is a
 * valid author or "-". */
gboolean md_note_parse_wire_line (const char *line, gsize len, MdNoteLine *note, GError **error);

G_END_DECLS
