/* The cache in the commands: bringing a notebook's cache up to date with
 * one verified read, and saying how old it is when the server is away
 * (md-cache.h has the files and the rules). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "md-cache.h"
#include "md-client-notes.h"
#include "md-error.h"
#include "mydailyctl.h"

/* Served lines are handed to the cache in batches of about this size:
 * each append ends in fdatasync, so not one per datagram. */
#define CACHE_BATCH_BYTES (1024 * 1024)

typedef struct
{
  MdCache *cache;
  GString *pending; /* served bytes not yet appended */
} CacheSink;

/* The length up to and with the last '\n': the complete lines. */
static gsize
complete_lines (const GString *text)
{
  gsize len = text->len;

  while (len > 0 && text->str[len - 1] != '\n')
    len--;
  return len;
}

static gboolean
sink_append (CacheSink *sink, gboolean all, GError **error)
{
  gsize len = complete_lines (sink->pending);

  if (len == 0 || (!all && len < CACHE_BATCH_BYTES))
    return TRUE;
  if (!md_cache_append (sink->cache, sink->pending->str, len, error))
    return FALSE;
  g_string_erase (sink->pending, 0, (gssize)len);
  return TRUE;
}

static gboolean
sink_feed (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  CacheSink *sink = user_data;

  g_string_append_len (sink->pending, (const char *)data, (gssize)len);
  return sink_append (sink, FALSE, error);
}

/* What is new since the last cached note, checking in the same read that
 * the server still serves that note unchanged. */
static gboolean
read_new (MdClient *client, MdCache *cache, GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) pending = g_string_new (NULL);
  CacheSink sink = { cache, pending };
  g_autoptr (GAsyncResult) result = NULL;
  guint64 count = md_cache_get_count (cache);
  g_autofree char *expected = NULL;

  if (count > 0)
    {
      gsize len = 0;
      const char *line = md_cache_get_line (cache, count, &len);

      expected = g_strndup (line, len - 1);
    }
  md_client_read_notes_async (client, count, expected, NULL, sink_feed, &sink, cancellable,
                              md_ctl_keep_result, &result);
  if (!md_client_read_notes_finish (client, md_ctl_wait (&result), error))
    {
      /* What came whole before the failure is good: keep it. */
      sink_append (&sink, TRUE, NULL);
      return FALSE;
    }
  return sink_append (&sink, TRUE, error);
}

static gboolean
is_mismatch (const GError *error)
{
  return g_error_matches (error, MD_CLIENT_NOTES_ERROR, MD_CLIENT_NOTES_ERROR_CHANGED)
         || g_error_matches (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
}

gboolean
md_ctl_cache_update (MdClient *client, MdCache *cache, const char *server,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!read_new (client, cache, cancellable, &local))
    {
      if (!is_mismatch (local))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* Same identity, other notes (a notebook restored from an old
       * backup): never mix the two, start over. */
      md_ctl_print_error (_ ("the server's notes no longer match the cache; rebuilding it"));
      if (!md_cache_reset (cache, error) || !read_new (client, cache, cancellable, error))
        return FALSE;
    }
  return md_cache_set_fetched (cache, server, g_get_real_time () / G_USEC_PER_SEC, error);
}

MdCache *
md_ctl_open_cache (const char *notebook)
{
  g_autofree char *dir = md_cache_default_dir ();
  g_autoptr (GError) error = NULL;
  MdCache *cache = md_cache_open (dir, notebook, &error);

  if (cache == NULL)
    {
      md_ctl_print_error ("%s", error->message);
      return NULL;
    }
  if (md_cache_get_repair (cache) != NULL)
    md_ctl_print_error ("%s", md_cache_get_repair (cache));
  return cache;
}

static char *
format_age (gint64 seconds)
{
  gulong n;

  if (seconds < 120)
    {
      n = (gulong)MAX (seconds, 0);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%lu second", "%lu seconds", n), n);
    }
  if (seconds < 2 * 3600)
    {
      n = (gulong)(seconds / 60);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%lu minute", "%lu minutes", n), n);
    }
  if (seconds < 2 * 86400)
    {
      n = (gulong)(seconds / 3600);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%lu hour", "%lu hours", n), n);
    }
  n = (gulong)(seconds / 86400);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%lu day", "%lu days", n), n);
}

void
md_ctl_print_cache_age (MdCache *cache, const char *server)
{
  gint64 fetched = md_cache_get_fetched (cache);
  g_autofree char *age = format_age (g_get_real_time () / G_USEC_PER_SEC - fetched);

  /* TRANSLATORS: the first %s is the server, the second an age ("5 minutes") */
  md_ctl_print_error (_ ("no answer from %s; showing its notes as cached %s ago"), server, age);
}
