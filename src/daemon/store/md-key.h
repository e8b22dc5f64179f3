/* A note's key: the client's UUID as 128 bits.
 *
 * The binary form makes the case of the hex digits irrelevant to lookups and
 * takes a third of the text's memory in the key table. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 hi; /* the first 16 hex digits */
  guint64 lo; /* the last 16 */
} MdKey;

/* Parses 8-4-4-4-12 hex digits in either case.  Accepts exactly what
 * md_note_key_is_valid does, so one pass both checks and decodes a key. */
gboolean md_key_parse (const char *s, gsize len, MdKey *key);

static inline gboolean
md_key_equal (const MdKey *a, const MdKey *b)
{
  return a->hi == b->hi && a->lo == b->lo;
}

G_END_DECLS
