#include "config.h"

#include "md-cache-search.h"

#include "md-error.h"
#include "md-terminal.h"

#include <glib/gi18n.h>
#include <string.h>

void
md_cache_query_init (MdCacheQuery *query)
{
  g_return_if_fail (query != NULL);

  query->after = 0;
  md_time_range_init (&query->range);
  query->grep = NULL;
  query->author = NULL;
  query->limit = 0;
}

void
md_cache_query_clear (MdCacheQuery *query)
{
  g_return_if_fail (query != NULL);

  g_clear_pointer (&query->grep, g_regex_unref);
  g_clear_pointer (&query->author, g_free);
}

gboolean
md_cache_query_set_author (MdCacheQuery *query, const char *author, GError **error)
{
  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (author != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!md_note_author_is_valid (author, strlen (author))
      && !g_str_equal (author, MD_NOTE_AUTHOR_UNKNOWN))
    {
      g_autofree char *shown = md_terminal_dup_safe (author, -1, MD_TERMINAL_NONE);

      /* TRANSLATORS: --author is the option, do not translate it; %s is what was given */
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("--author: no note has the author “%s”: an author is a key's name or "
                      "“@” and an address"),
                   shown);
      return FALSE;
    }
  g_free (query->author);
  query->author = g_strdup (author);
  return TRUE;
}

gboolean
md_cache_query_set_grep (MdCacheQuery *query, const char *pattern, gboolean caseless,
                         GError **error)
{
  GRegexCompileFlags flags = G_REGEX_OPTIMIZE | (caseless ? G_REGEX_CASELESS : 0);
  GRegex *regex;

  g_return_val_if_fail (query != NULL, FALSE);
  g_return_val_if_fail (pattern != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  regex = g_regex_new (pattern, flags, 0, error);
  if (regex == NULL)
    {
      /* TRANSLATORS: --grep is the option, do not translate it */
      g_prefix_error (error, "%s", _ ("--grep: "));
      return FALSE;
    }
  g_clear_pointer (&query->grep, g_regex_unref);
  query->grep = regex;
  return TRUE;
}

/* A note that cannot be read (another program broke the file since it was
 * checked) sorts after everything: it is never in a range. */
static gint64
note_time (MdCache *cache, guint64 id)
{
  MdNoteLine note;

  return md_cache_get_note (cache, id, &note) ? note.time : G_MAXINT64;
}

guint64
md_cache_find_time (MdCache *cache, gint64 unix_time)
{
  guint64 lo = 1, hi;

  g_return_val_if_fail (cache != NULL, 0);

  hi = md_cache_get_count (cache) + 1;
  /* The answer lies in [lo, hi]. */
  while (lo < hi)
    {
      guint64 mid = lo + (hi - lo) / 2;

      if (note_time (cache, mid) < unix_time)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static gboolean
is_by (const MdNoteLine *note, const char *author)
{
  return author == NULL
         || (note->author_len == strlen (author)
             && memcmp (note->author, author, note->author_len) == 0);
}

static gboolean
matches (MdCache *cache, const MdCacheQuery *query, guint64 id)
{
  MdNoteLine note;

  if (query->grep == NULL && query->author == NULL)
    return TRUE;
  return md_cache_get_note (cache, id, &note) && is_by (&note, query->author)
         && (query->grep == NULL
             || g_regex_match_full (query->grep, note.text, (gssize)note.text_len, 0, 0, NULL,
                                    NULL));
}

static void
reverse (GArray *ids)
{
  for (guint i = 0, j = ids->len; i + 1 < j; i++, j--)
    {
      guint64 t = g_array_index (ids, guint64, i);

      g_array_index (ids, guint64, i) = g_array_index (ids, guint64, j - 1);
      g_array_index (ids, guint64, j - 1) = t;
    }
}

/* Ids in [first, last]: every match, or the last @limit of them. */
static GArray *
collect (MdCache *cache, const MdCacheQuery *query, guint64 first, guint64 last)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint64));

  if (query->limit == 0)
    {
      for (guint64 id = first; id <= last; id++)
        if (matches (cache, query, id))
          g_array_append_val (ids, id);
      return ids;
    }
  for (guint64 id = last; id >= first && ids->len < query->limit; id--)
    if (matches (cache, query, id))
      g_array_append_val (ids, id);
  reverse (ids);
  return ids;
}

GArray *
md_cache_query_run (MdCache *cache, const MdCacheQuery *query)
{
  guint64 first, last;

  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (query != NULL, NULL);

  first = md_cache_find_time (cache, query->range.since);
  if (query->after >= first)
    first = query->after + 1;
  last = query->range.until == MD_TIME_RANGE_MAX
             ? md_cache_get_count (cache)
             : md_cache_find_time (cache, query->range.until + 1) - 1;
  if (first == 0 || first > last)
    return g_array_new (FALSE, FALSE, sizeof (guint64));
  return collect (cache, query, first, last);
}
