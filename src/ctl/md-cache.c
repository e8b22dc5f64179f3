#include "config.h"

#include "md-cache.h"

#include "md-error.h"
#include "md-private-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTES_NAME "notes"
#define META_NAME "meta"
#define LOCK_NAME "lock"
#define DAMAGED_NAME "notes.damaged"
#define REPLACED_NAME "notes.replaced"
/* The meta file holds two short lines; anything bigger is not ours. */
#define META_MAX_BYTES 4096
/* md_cache_find_notebook looks at no more entries than this. */
#define MAX_SCANNED_ENTRIES 1000

struct _MdCache
{
  char *notebook;
  char *path; /* DIR/NOTEBOOK, for messages */
  int dir_fd;
  int lock_fd;
  int notes_fd;
  dev_t notes_dev;
  ino_t notes_ino;
  char *map; /* the notes file, read-only and shared */
  gsize map_len;
  GArray *starts; /* guint64; entry i is where note i + 1 starts */
  guint64 size;   /* bytes of checked, complete lines */
  gint64 last_time;
  char *repair;
  char *server;
  gint64 fetched;
};

typedef enum
{
  SCAN_OK,
  SCAN_TORN, /* ends inside a line */
  SCAN_BAD,
} MdScanResult;

char *
md_cache_default_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "mydaily", NULL);
}

static gboolean
lock_cache (MdCache *cache, GError **error)
{
  while (flock (cache->lock_fd, LOCK_EX) != 0)
    {
      if (errno != EINTR)
        {
          md_error_set_errno (error, errno, "flock");
          return FALSE;
        }
    }
  return TRUE;
}

static void
unlock_cache (MdCache *cache)
{
  flock (cache->lock_fd, LOCK_UN);
}

static void
unmap_notes (MdCache *cache)
{
  if (cache->map != NULL)
    munmap (cache->map, cache->map_len);
  cache->map = NULL;
  cache->map_len = 0;
}

static gboolean
map_notes (MdCache *cache, gsize len, GError **error)
{
  void *map;

  unmap_notes (cache);
  if (len == 0)
    return TRUE;
  map = mmap (NULL, len, PROT_READ, MAP_SHARED, cache->notes_fd, 0);
  if (map == MAP_FAILED)
    {
      md_error_set_errno (error, errno, "mmap");
      return FALSE;
    }
  cache->map = map;
  cache->map_len = len;
  return TRUE;
}

/* Forgets the notes file: the state of a cache with nothing loaded. */
static void
close_notes (MdCache *cache)
{
  unmap_notes (cache);
  if (cache->notes_fd >= 0)
    close (cache->notes_fd);
  cache->notes_fd = -1;
  g_array_set_size (cache->starts, 0);
  cache->size = 0;
  cache->last_time = G_MININT64;
}

static gboolean
scan_fail (GError **error, guint64 line, const char *reason)
{
  g_autofree char *line_text = g_strdup_printf ("%" G_GUINT64_FORMAT, line);

  /* TRANSLATORS: the first %s is a line number of the cache file, the second why it is bad */
  g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("line %s: %s"), line_text, reason);
  return FALSE;
}

/* Checks one complete line as the note after @last_id and @last_time. */
static gboolean
check_line (const char *line, gsize len, guint64 *last_id, gint64 *last_time, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  MdNoteLine note;

  if (!md_note_parse_wire_line (line, len, &note, &parse_error))
    return scan_fail (error, *last_id + 1, parse_error->message);
  if (note.id != *last_id + 1)
    return scan_fail (error, *last_id + 1, _ ("the ids are out of order"));
  if (note.time < *last_time)
    return scan_fail (error, *last_id + 1, _ ("the time goes backwards"));
  *last_id = note.id;
  *last_time = note.time;
  return TRUE;
}

/* Checks the lines of @data as the notes after @last_id, adding where each
 * starts (plus @base) to @starts.  *@good_len is what passed. */
static MdScanResult
scan_lines (const char *data, gsize len, guint64 base, guint64 *last_id, gint64 *last_time,
            GArray *starts, gsize *good_len, GError **error)
{
  gsize pos = 0;
  MdScanResult result = SCAN_OK;

  while (pos < len)
    {
      gsize rest = len - pos;
      const char *nl = memchr (data + pos, '\n', MIN (rest, MD_NOTE_MAX_WIRE_LINE));
      guint64 start = base + pos;

      if (nl == NULL && rest < MD_NOTE_MAX_WIRE_LINE)
        {
          result = SCAN_TORN;
          break;
        }
      if (nl == NULL)
        {
          scan_fail (error, *last_id + 1, _ ("the line is too long"));
          result = SCAN_BAD;
          break;
        }
      if (!check_line (data + pos, (gsize)(nl + 1 - (data + pos)), last_id, last_time, error))
        {
          result = SCAN_BAD;
          break;
        }
      g_array_append_val (starts, start);
      pos = (gsize)(nl + 1 - data);
    }
  *good_len = pos;
  return result;
}

/* Removes the meta file: it described notes that are gone. */
static void
forget_meta (MdCache *cache)
{
  unlinkat (cache->dir_fd, META_NAME, 0);
  g_clear_pointer (&cache->server, g_free);
  cache->fetched = 0;
}

/* Opens the notes file with @flags (O_CREAT, O_EXCL) and notes which file
 * it is.  Holds the lock. */
static gboolean
open_notes (MdCache *cache, int flags, gsize *size, GError **error)
{
  struct stat st;

  close_notes (cache);
  cache->notes_fd = md_private_file_open_at (cache->dir_fd, NOTES_NAME, O_RDWR | flags, error);
  if (cache->notes_fd < 0)
    return FALSE;
  if (fstat (cache->notes_fd, &st) != 0)
    {
      md_error_set_errno (error, errno, NOTES_NAME);
      return FALSE;
    }
  cache->notes_dev = st.st_dev;
  cache->notes_ino = st.st_ino;
  *size = (gsize)st.st_size;
  return TRUE;
}

/* Renames the notes file to @name and starts an empty one.  O_EXCL: the
 * new file is this process's own, empty, so nothing needs checking. */
static gboolean
set_aside (MdCache *cache, const char *name, GError **error)
{
  gsize size = 0;

  close_notes (cache);
  if (renameat (cache->dir_fd, NOTES_NAME, cache->dir_fd, name) != 0 && errno != ENOENT)
    {
      md_error_set_errno (error, errno, NOTES_NAME);
      return FALSE;
    }
  forget_meta (cache);
  return open_notes (cache, O_CREAT | O_EXCL, &size, error)
         && md_private_dir_sync (cache->dir_fd, error);
}

static gboolean
set_aside_damaged (MdCache *cache, const GError *damage, GError **error)
{
  g_autofree char *aside = g_build_filename (cache->path, DAMAGED_NAME, NULL);

  g_free (cache->repair);
  cache->repair = g_strdup_printf (
      /* TRANSLATORS: %s is the notebook identity, then the reason */
      _ ("the cache of notebook %s was damaged (%s); it was set aside as %s and is rebuilt"),
      cache->notebook, damage->message, aside);
  return set_aside (cache, DAMAGED_NAME, error);
}

/* Cuts a torn last line off: a crash during an append left it. */
static gboolean
drop_torn_tail (MdCache *cache, GError **error)
{
  if (ftruncate (cache->notes_fd, (off_t)cache->size) != 0 || fdatasync (cache->notes_fd) != 0)
    {
      md_error_set_errno (error, errno, NOTES_NAME);
      return FALSE;
    }
  return TRUE;
}

/* Whether @data starts with a line the previous version cached, before notes
 * had authors: "ID\tTIME\tTEXT\n", one tab fewer than a line now. */
static gboolean
is_previous_version (const char *data, gsize len)
{
  const char *nl = memchr (data, '\n', MIN (len, MD_NOTE_MAX_WIRE_LINE));
  const char *tab1 = nl ? memchr (data, '\t', (gsize)(nl - data)) : NULL;
  const char *tab2 = tab1 ? memchr (tab1 + 1, '\t', (gsize)(nl - tab1 - 1)) : NULL;
  guint64 id;

  return tab2 != NULL && memchr (tab2 + 1, '\t', (gsize)(nl - tab2 - 1)) == NULL
         && md_note_parse_id (data, (gsize)(tab1 - data), &id)
         && md_note_parse_time (tab1 + 1, (gsize)(tab2 - tab1 - 1), NULL);
}

/* Checks and indexes what the file holds beyond cache->size, up to
 * @file_size.  Holds the lock. */
static gboolean
catch_up (MdCache *cache, gsize file_size, GError **error)
{
  g_autoptr (GError) damage = NULL;
  guint64 last_id = cache->starts->len;
  gsize good = 0;
  MdScanResult result;

  if (!map_notes (cache, file_size, error))
    return FALSE;
  result = scan_lines (cache->map + cache->size, file_size - cache->size, cache->size, &last_id,
                       &cache->last_time, cache->starts, &good, &damage);
  cache->size += good;
  /* A cache from before authors is not damaged, only stale: its lines lack
   * the AUTHOR field, which only the server can fill in.  The simplest
   * correct answer is to set it aside quietly and fetch everything again. */
  if (result == SCAN_BAD && cache->size == 0 && is_previous_version (cache->map, file_size))
    return set_aside (cache, REPLACED_NAME, error);
  if (result == SCAN_BAD)
    return set_aside_damaged (cache, damage, error);
  if (result == SCAN_TORN)
    return drop_torn_tail (cache, error);
  return TRUE;
}

/* Opens and checks the notes file from its start.  Holds the lock. */
static gboolean
load_notes (MdCache *cache, GError **error)
{
  gsize size = 0;

  return open_notes (cache, O_CREAT, &size, error) && catch_up (cache, size, error);
}

/* Takes in what other processes did since: appended lines, or a new file
 * after a reset.  Holds the lock. */
static gboolean
sync_with_disk (MdCache *cache, GError **error)
{
  struct stat st;

  if (cache->notes_fd < 0 || fstatat (cache->dir_fd, NOTES_NAME, &st, AT_SYMLINK_NOFOLLOW) != 0
      || st.st_dev != cache->notes_dev || st.st_ino != cache->notes_ino
      || (guint64)st.st_size < cache->size)
    return load_notes (cache, error);
  if ((guint64)st.st_size > cache->size)
    return catch_up (cache, (gsize)st.st_size, error);
  return TRUE;
}

static gboolean
parse_meta_line (MdCache *cache, const char *line)
{
  if (g_str_has_prefix (line, "server="))
    {
      const char *value = line + strlen ("server=");

      if (!md_note_validate (value, strlen (value), NULL))
        return FALSE;
      g_free (cache->server);
      cache->server = g_strdup (value);
      return TRUE;
    }
  if (g_str_has_prefix (line, "fetched="))
    {
      guint64 value;

      if (!g_ascii_string_to_unsigned (line + strlen ("fetched="), 10, 0, G_MAXINT64, &value, NULL))
        return FALSE;
      cache->fetched = (gint64)value;
      return TRUE;
    }
  return *line == '\0';
}

/* A meta file that does not parse is ignored: all it costs is the age. */
static void
load_meta (MdCache *cache)
{
  gsize len = 0;
  g_autofree char *contents
      = md_private_file_read_at (cache->dir_fd, META_NAME, META_MAX_BYTES, &len, NULL);
  g_auto (GStrv) lines = NULL;

  g_clear_pointer (&cache->server, g_free);
  cache->fetched = 0;
  if (contents == NULL || strlen (contents) != len)
    return;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (!parse_meta_line (cache, lines[i]))
      {
        g_clear_pointer (&cache->server, g_free);
        cache->fetched = 0;
        return;
      }
}

static MdCache *
cache_new (const char *notebook)
{
  MdCache *cache = g_new0 (MdCache, 1);

  cache->notebook = g_ascii_strdown (notebook, -1);
  cache->dir_fd = -1;
  cache->lock_fd = -1;
  cache->notes_fd = -1;
  cache->starts = g_array_new (FALSE, FALSE, sizeof (guint64));
  cache->last_time = G_MININT64;
  return cache;
}

static gboolean
open_dirs (MdCache *cache, const char *dir, GError **error)
{
  int base_fd = md_private_dir_open (dir, error);

  if (base_fd < 0)
    return FALSE;
  cache->dir_fd = md_private_dir_open_at (base_fd, cache->notebook, error);
  close (base_fd);
  if (cache->dir_fd < 0)
    return FALSE;
  cache->lock_fd = md_private_file_open_at (cache->dir_fd, LOCK_NAME, O_RDWR | O_CREAT, error);
  return cache->lock_fd >= 0;
}

MdCache *
md_cache_open (const char *dir, const char *notebook, GError **error)
{
  g_autoptr (MdCache) cache = NULL;
  gboolean loaded;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (notebook != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!md_note_key_is_valid (notebook, strlen (notebook)))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                   _ ("“%s” is not a notebook identity (a UUID)"), notebook);
      return NULL;
    }
  cache = cache_new (notebook);
  cache->path = g_build_filename (dir, cache->notebook, NULL);
  if (!open_dirs (cache, dir, error) || !lock_cache (cache, error))
    {
      g_prefix_error (error, _ ("cache %s: "), dir);
      return NULL;
    }
  loaded = load_notes (cache, error);
  if (loaded)
    load_meta (cache);
  unlock_cache (cache);
  if (!loaded)
    {
      g_prefix_error (error, _ ("cache %s: "), cache->path);
      return NULL;
    }
  return g_steal_pointer (&cache);
}

void
md_cache_free (MdCache *cache)
{
  if (cache == NULL)
    return;
  close_notes (cache);
  if (cache->lock_fd >= 0)
    close (cache->lock_fd);
  if (cache->dir_fd >= 0)
    close (cache->dir_fd);
  g_array_unref (cache->starts);
  g_free (cache->notebook);
  g_free (cache->path);
  g_free (cache->repair);
  g_free (cache->server);
  g_free (cache);
}

const char *
md_cache_get_notebook (MdCache *cache)
{
  g_return_val_if_fail (cache != NULL, NULL);

  return cache->notebook;
}

const char *
md_cache_get_repair (MdCache *cache)
{
  g_return_val_if_fail (cache != NULL, NULL);

  return cache->repair;
}

guint64
md_cache_get_count (MdCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);

  return cache->starts->len;
}

const char *
md_cache_get_line (MdCache *cache, guint64 id, gsize *len)
{
  guint64 start, end;

  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (id >= 1 && id <= cache->starts->len, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  start = g_array_index (cache->starts, guint64, id - 1);
  end = id < cache->starts->len ? g_array_index (cache->starts, guint64, id) : cache->size;
  *len = (gsize)(end - start);
  return cache->map + start;
}

gboolean
md_cache_get_note (MdCache *cache, guint64 id, MdNoteLine *note)
{
  const char *line;
  gsize len = 0;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (note != NULL, FALSE);

  line = md_cache_get_line (cache, id, &len);
  return line != NULL && md_note_parse_wire_line (line, len, note, NULL);
}

static gsize
strip_newline (const char *line, gsize len)
{
  return len > 0 && line[len - 1] == '\n' ? len - 1 : len;
}

gboolean
md_cache_matches (MdCache *cache, guint64 id, const char *line, gsize len)
{
  const char *cached;
  gsize cached_len = 0;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (line != NULL || len == 0, FALSE);

  if (id < 1 || id > cache->starts->len)
    return FALSE;
  cached = md_cache_get_line (cache, id, &cached_len);
  cached_len = strip_newline (cached, cached_len);
  len = strip_newline (line, len);
  return len == cached_len && memcmp (line, cached, len) == 0;
}

/* The length of the served lines at the start of @lines that the cache
 * holds already, after checking that they are the cached ones. */
static gboolean
skip_known (MdCache *cache, const char *lines, gsize len, gsize *skip, GError **error)
{
  guint64 expected = 0;

  *skip = 0;
  while (*skip < len)
    {
      const char *line = lines + *skip;
      const char *nl = memchr (line, '\n', len - *skip);
      gsize line_len = (gsize)(nl + 1 - line);
      MdNoteLine note;

      /* A line that does not parse is the scan's to report. */
      if (!md_note_parse_wire_line (line, line_len, &note, NULL) || note.id > cache->starts->len
          || (expected != 0 && note.id != expected))
        return TRUE;
      if (!md_cache_matches (cache, note.id, line, line_len))
        {
          g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, note.id);

          /* TRANSLATORS: %s is the number of a note */
          g_set_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE,
                       _ ("note %s on the server differs from the cached one"), id_text);
          return FALSE;
        }
      expected = note.id + 1;
      *skip += line_len;
    }
  return TRUE;
}

/* Writes checked lines at the end of the file; on failure the file is as
 * it was. */
static gboolean
write_lines (MdCache *cache, const char *lines, gsize len, GError **error)
{
  gboolean ok = TRUE;

  if (lseek (cache->notes_fd, (off_t)cache->size, SEEK_SET) < 0)
    {
      md_error_set_errno (error, errno, NOTES_NAME);
      return FALSE;
    }
  if (!md_private_write_all (cache->notes_fd, lines, len, error))
    ok = FALSE;
  else if (fdatasync (cache->notes_fd) != 0)
    {
      md_error_set_errno (error, errno, "fdatasync");
      ok = FALSE;
    }
  if (ok)
    return TRUE;
  if (ftruncate (cache->notes_fd, (off_t)cache->size) != 0)
    g_prefix_error (error, "%s", _ ("a torn line is left for the next open to cut: "));
  return FALSE;
}

static gboolean
append_locked (MdCache *cache, const char *lines, gsize len, GError **error)
{
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 last_id = cache->starts->len;
  gint64 last_time = cache->last_time;
  gsize skip = 0, good = 0;

  if (lines[len - 1] != '\n')
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED,
                           _ ("the served notes end inside a line"));
      return FALSE;
    }
  if (!skip_known (cache, lines, len, &skip, error))
    return FALSE;
  if (skip == len)
    return TRUE;
  if (scan_lines (lines + skip, len - skip, cache->size, &last_id, &last_time, starts, &good, error)
      != SCAN_OK)
    {
      g_prefix_error (error, "%s", _ ("served notes: "));
      return FALSE;
    }
  if (!write_lines (cache, lines + skip, len - skip, error)
      || !map_notes (cache, (gsize)cache->size + good, error))
    return FALSE;
  g_array_append_vals (cache->starts, starts->data, starts->len);
  cache->size += good;
  cache->last_time = last_time;
  return TRUE;
}

gboolean
md_cache_append (MdCache *cache, const char *lines, gsize len, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (lines != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    return TRUE;
  if (!lock_cache (cache, error))
    return FALSE;
  ok = sync_with_disk (cache, error) && append_locked (cache, lines, len, error);
  unlock_cache (cache);
  return ok;
}

gboolean
md_cache_reset (MdCache *cache, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lock_cache (cache, error))
    return FALSE;
  ok = set_aside (cache, REPLACED_NAME, error);
  unlock_cache (cache);
  return ok;
}

gboolean
md_cache_set_fetched (MdCache *cache, const char *server, gint64 now, GError **error)
{
  g_autofree char *contents = NULL;
  gboolean ok;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!md_note_validate (server, strlen (server), NULL) || now < 0)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, "bad server name or time");
      return FALSE;
    }
  contents = g_strdup_printf ("server=%s\nfetched=%" G_GINT64_FORMAT "\n", server, now);
  if (!lock_cache (cache, error))
    return FALSE;
  ok = md_private_file_replace_at (cache->dir_fd, META_NAME, contents, strlen (contents), error);
  unlock_cache (cache);
  if (ok)
    {
      g_free (cache->server);
      cache->server = g_strdup (server);
      cache->fetched = now;
    }
  return ok;
}

gint64
md_cache_get_fetched (MdCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);

  return cache->fetched;
}

const char *
md_cache_get_server (MdCache *cache)
{
  g_return_val_if_fail (cache != NULL, NULL);

  return cache->server;
}

static gboolean
redact_one (MdCache *cache, guint64 id, GError **error)
{
  MdNoteLine note;
  g_autofree char *filler = NULL;
  off_t offset;

  if (!md_cache_get_note (cache, id, &note))
    {
      g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

      /* TRANSLATORS: %s is the number of a note */
      g_set_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE, _ ("cached note %s changed on disk"),
                   id_text);
      return FALSE;
    }
  filler = g_malloc (note.text_len);
  memset (filler, MD_CACHE_REDACTION_FILLER, note.text_len);
  offset = (off_t)(note.text - cache->map);
  if (pwrite (cache->notes_fd, filler, note.text_len, offset) != (ssize_t)note.text_len)
    {
      md_error_set_errno (error, errno, NOTES_NAME);
      return FALSE;
    }
  return TRUE;
}

static gboolean
redact_locked (MdCache *cache, const guint64 *ids, gsize n_ids, GError **error)
{
  for (gsize i = 0; i < n_ids; i++)
    if (ids[i] >= 1 && ids[i] <= cache->starts->len && !redact_one (cache, ids[i], error))
      return FALSE;
  if (fdatasync (cache->notes_fd) != 0)
    {
      md_error_set_errno (error, errno, NOTES_NAME);
      return FALSE;
    }
  return TRUE;
}

gboolean
md_cache_redact (MdCache *cache, const guint64 *ids, gsize n_ids, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (cache != NULL, FALSE);
  g_return_val_if_fail (ids != NULL || n_ids == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lock_cache (cache, error))
    return FALSE;
  ok = sync_with_disk (cache, error) && redact_locked (cache, ids, n_ids, error);
  unlock_cache (cache);
  return ok;
}

/* The fetch time of the cache @name under @dir_fd if it was last fetched
 * from @server, else -1. */
static gint64
fetched_from (int dir_fd, const char *name, const char *server)
{
  g_autoptr (MdCache) probe = NULL;

  if (!md_note_key_is_valid (name, strlen (name)))
    return -1;
  probe = cache_new (name);
  if (strcmp (probe->notebook, name) != 0)
    return -1;
  probe->dir_fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (probe->dir_fd < 0)
    return -1;
  load_meta (probe);
  return g_strcmp0 (probe->server, server) == 0 ? probe->fetched : -1;
}

char *
md_cache_find_notebook (const char *dir, const char *server)
{
  g_autofree char *best = NULL;
  gint64 best_fetched = -1;
  int dir_fd;
  DIR *listing;
  struct dirent *entry;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (server != NULL, NULL);

  dir_fd = md_private_dir_open (dir, NULL);
  if (dir_fd < 0)
    return NULL;
  listing = fdopendir (dir_fd);
  if (listing == NULL)
    {
      close (dir_fd);
      return NULL;
    }
  for (guint n = 0; n < MAX_SCANNED_ENTRIES && (entry = readdir (listing)) != NULL; n++)
    {
      gint64 fetched = fetched_from (dirfd (listing), entry->d_name, server);

      if (fetched > best_fetched)
        {
          g_free (best);
          best = g_strdup (entry->d_name);
          best_fetched = fetched;
        }
    }
  closedir (listing);
  return g_steal_pointer (&best);
}
