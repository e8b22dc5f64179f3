/* The questions `history` asks the cache: a time range, a pattern, an
 * author, the last N, after an id.
 *
 * The server never gives a note a time earlier than the one before it, and
 * the cache checks that, so a time range is two binary searches over the
 * notes, not a scan.  Only --grep and --author read the notes, and with -n
 * they read backwards from the end of the range and stop after N matches. */
#pragma once

#include "md-cache.h"
#include "md-time-range.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 after;     /* only notes with a larger id (--after); 0: all */
  MdTimeRange range; /* --since, --until */
  GRegex *grep;      /* only notes whose text matches (--grep); NULL: all */
  char *author;      /* only notes by exactly this author (--author); NULL: all */
  guint64 limit;     /* only the last this many that match (-n); 0: all */
} MdCacheQuery;

/* A query for every note. */
void md_cache_query_init (MdCacheQuery *query);
void md_cache_query_clear (MdCacheQuery *query);

/* Sets the --grep pattern, a Perl-style regular expression (GRegex), matched
 * anywhere in the text; @caseless for -i.  On a bad pattern the error names
 * it and says what is wrong. */
gboolean md_cache_query_set_grep (MdCacheQuery *query, const char *pattern, gboolean caseless,
                                  GError **error);

/* Sets the --author filter: notes whose AUTHOR is exactly @author, a valid
 * author or "-" (the notes from before authors); else the error says that
 * no note can have it. */
gboolean md_cache_query_set_author (MdCacheQuery *query, const char *author, GError **error);

/* The first note whose TIME is @unix_time or later; count + 1 if none. */
guint64 md_cache_find_time (MdCache *cache, gint64 unix_time);

/* The ids (guint64) of the notes @query selects, oldest first. */
GArray *md_cache_query_run (MdCache *cache, const MdCacheQuery *query);

G_END_DECLS
