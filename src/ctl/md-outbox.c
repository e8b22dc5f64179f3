#include "config.h"

#include "md-outbox.h"

#include "md-error.h"
#include "md-note.h"
#include "md-private-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENTRY_SUFFIX ".note"
#define DAMAGED_SUFFIX ".damaged"
#define REJECTED_SUFFIX ".rejected"
#define LOCK_SUFFIX ".lock"
#define BIND_LOCK_NAME "bind.lock"
#define ENTRY_HEADER "mydaily-outbox 1"
#define UNBOUND "-"
/* An entry is a note of at most 1000 bytes and five short fields. */
#define ENTRY_MAX_BYTES 4096
/* A listing reads no more names than this, whatever else the directory
 * holds. */
#define MAX_LISTED_NAMES (4 * MD_OUTBOX_MAX_ENTRIES)

struct _MdOutbox
{
  int dir_fd;
  GPtrArray *warnings;
};

struct _MdOutboxLock
{
  int fd;
};

void
md_outbox_entry_free (MdOutboxEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->key);
  g_free (entry->notebook);
  g_free (entry->server);
  g_free (entry->text);
  g_free (entry);
}

char *
md_outbox_default_dir (void)
{
  return g_build_filename (g_get_user_state_dir (), "mydaily", "outbox", NULL);
}

MdOutbox *
md_outbox_open (const char *dir, GError **error)
{
  MdOutbox *outbox;
  int fd;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fd = md_private_dir_open (dir, error);
  if (fd < 0)
    {
      g_prefix_error (error, _ ("outbox: "));
      return NULL;
    }
  outbox = g_new0 (MdOutbox, 1);
  outbox->dir_fd = fd;
  outbox->warnings = g_ptr_array_new_with_free_func (g_free);
  return outbox;
}

void
md_outbox_free (MdOutbox *outbox)
{
  if (outbox == NULL)
    return;
  close (outbox->dir_fd);
  g_ptr_array_unref (outbox->warnings);
  g_free (outbox);
}

const GPtrArray *
md_outbox_get_warnings (MdOutbox *outbox)
{
  g_return_val_if_fail (outbox != NULL, NULL);

  return outbox->warnings;
}

static gboolean
is_uuid (const char *s)
{
  return s != NULL && md_note_key_is_valid (s, strlen (s));
}

/* Server addresses obey the note rules: printable, one line, bounded. */
static gboolean
is_server (const char *s)
{
  return s != NULL && md_note_validate (s, strlen (s), NULL);
}

static char *
entry_name (const char *key)
{
  return g_strconcat (key, ENTRY_SUFFIX, NULL);
}

static GString *
format_entry (const MdOutboxEntry *entry)
{
  GString *out = g_string_new (ENTRY_HEADER "\n");

  g_string_append_printf (out, "key=%s\nnotebook=%s\nserver=%s\nqueued=%" G_GINT64_FORMAT "\n",
                          entry->key, entry->notebook != NULL ? entry->notebook : UNBOUND,
                          entry->server, entry->queued);
  g_string_append_printf (out, "text=%s\n", entry->text);
  return out;
}

/* The value of line @line if it is "@field=VALUE", else NULL. */
static const char *
field_value (const char *line, const char *field)
{
  gsize len = strlen (field);

  if (strncmp (line, field, len) != 0 || line[len] != '=')
    return NULL;
  return line + len + 1;
}

static gboolean
fill_entry (MdOutboxEntry *entry, char **lines)
{
  const char *key = field_value (lines[1], "key");
  const char *notebook = field_value (lines[2], "notebook");
  const char *server = field_value (lines[3], "server");
  const char *queued = field_value (lines[4], "queued");
  const char *text = field_value (lines[5], "text");
  gint64 when = 0;

  if (!is_uuid (key) || notebook == NULL || (strcmp (notebook, UNBOUND) != 0 && !is_uuid (notebook))
      || !is_server (server) || queued == NULL
      || !g_ascii_string_to_signed (queued, 10, 0, G_MAXINT64, &when, NULL) || text == NULL
      || !md_note_validate (text, strlen (text), NULL))
    return FALSE;
  entry->key = g_ascii_strdown (key, -1);
  entry->notebook = strcmp (notebook, UNBOUND) == 0 ? NULL : g_ascii_strdown (notebook, -1);
  entry->server = g_strdup (server);
  entry->queued = when;
  entry->text = g_strdup (text);
  entry->text_len = strlen (text);
  return TRUE;
}

/* Parses the entry file of @key: exactly the six lines, in order. */
static MdOutboxEntry *
parse_entry (const char *data, gsize len, const char *key)
{
  g_autoptr (MdOutboxEntry) entry = g_new0 (MdOutboxEntry, 1);
  g_auto (GStrv) lines = NULL;

  if (len == 0 || strlen (data) != len || data[len - 1] != '\n')
    return NULL;
  lines = g_strsplit (data, "\n", 8);
  if (g_strv_length (lines) != 7 || strcmp (lines[0], ENTRY_HEADER) != 0 || *lines[6] != '\0'
      || !fill_entry (entry, lines) || g_ascii_strcasecmp (entry->key, key) != 0)
    return NULL;
  return g_steal_pointer (&entry);
}

static void
set_aside_damaged (MdOutbox *outbox, const char *name)
{
  g_autofree char *aside = g_strconcat (name, DAMAGED_SUFFIX, NULL);

  if (renameat (outbox->dir_fd, name, outbox->dir_fd, aside) != 0)
    return;
  g_ptr_array_add (
      outbox->warnings,
      /* TRANSLATORS: %s and %s are file names in the outbox */
      g_strdup_printf (_ ("a queued note (%s) is damaged: kept as %s, not sent"), name, aside));
}

/* The entry in file @name (KEY.note), or NULL: gone (another run sent it),
 * damaged (set aside), or unreadable for now (kept for a later run). */
static MdOutboxEntry *
read_entry (MdOutbox *outbox, const char *name)
{
  g_autofree char *key = g_strndup (name, MD_NOTE_KEY_LEN);
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  MdOutboxEntry *entry;
  gsize len = 0;

  data = md_private_file_read_at (outbox->dir_fd, name, ENTRY_MAX_BYTES, &len, &error);
  if (data == NULL)
    {
      if (errno == ELOOP || errno == EPERM || errno == EFBIG)
        set_aside_damaged (outbox, name);
      else if (errno != ENOENT)
        g_ptr_array_add (outbox->warnings, g_strdup (error->message));
      return NULL;
    }
  entry = parse_entry (data, len, key);
  if (entry == NULL)
    set_aside_damaged (outbox, name);
  return entry;
}

/* TRUE for "KEY.note" with KEY in lower case, as md_outbox_add names
 * them: md_outbox_remove finds an entry by that name. */
static gboolean
is_entry_name (const char *name)
{
  if (strlen (name) != MD_NOTE_KEY_LEN + strlen (ENTRY_SUFFIX)
      || !md_note_key_is_valid (name, MD_NOTE_KEY_LEN)
      || strcmp (name + MD_NOTE_KEY_LEN, ENTRY_SUFFIX) != 0)
    return FALSE;
  for (guint i = 0; i < MD_NOTE_KEY_LEN; i++)
    if (g_ascii_isupper (name[i]))
      return FALSE;
  return TRUE;
}

/* The names of the entry files, at most MAX_LISTED_NAMES looked at. */
static GPtrArray *
list_names (MdOutbox *outbox)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  int fd = dup (outbox->dir_fd);
  DIR *dir = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *ent;

  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      return names;
    }
  rewinddir (dir);
  for (guint n = 0; n < MAX_LISTED_NAMES && (ent = readdir (dir)) != NULL; n++)
    if (is_entry_name (ent->d_name))
      g_ptr_array_add (names, g_strdup (ent->d_name));
  closedir (dir);
  return names;
}

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  const MdOutboxEntry *x = *(const MdOutboxEntry *const *)a;
  const MdOutboxEntry *y = *(const MdOutboxEntry *const *)b;

  if (x->queued != y->queued)
    return x->queued < y->queued ? -1 : 1;
  return strcmp (x->key, y->key);
}

/* Every readable entry, oldest first. */
static GPtrArray *
load_entries (MdOutbox *outbox)
{
  g_autoptr (GPtrArray) names = list_names (outbox);
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify)md_outbox_entry_free);

  for (guint i = 0; i < names->len; i++)
    {
      MdOutboxEntry *entry = read_entry (outbox, names->pdata[i]);

      if (entry != NULL)
        g_ptr_array_add (entries, entry);
    }
  g_ptr_array_sort (entries, compare_entries);
  return entries;
}

static gboolean
fail_argument (GError **error, const char *what)
{
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("outbox: bad %s"), what);
  return FALSE;
}

/* Queueing a key twice: the same note is fine, another is not. */
static gboolean
check_existing (MdOutbox *outbox, const MdOutboxEntry *entry, gboolean *exists, GError **error)
{
  g_autofree char *name = entry_name (entry->key);
  g_autoptr (MdOutboxEntry) old = NULL;
  struct stat st;

  *exists = FALSE;
  if (fstatat (outbox->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return TRUE;
  old = read_entry (outbox, name);
  if (old == NULL)
    return TRUE;
  if (strcmp (old->text, entry->text) != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("key %s is queued already with another note"), entry->key);
      return FALSE;
    }
  *exists = TRUE;
  return TRUE;
}

static gboolean
check_room (MdOutbox *outbox, GError **error)
{
  g_autoptr (GPtrArray) names = list_names (outbox);

  if (names->len < MD_OUTBOX_MAX_ENTRIES)
    return TRUE;
  g_set_error (error, MD_ERROR, MD_ERROR_NO_SPACE, _ ("the outbox is full (%u notes wait)"),
               names->len);
  return FALSE;
}

static gboolean
write_entry (MdOutbox *outbox, const MdOutboxEntry *entry, GError **error)
{
  g_autofree char *name = entry_name (entry->key);
  g_autoptr (GString) data = format_entry (entry);

  return md_private_file_replace_at (outbox->dir_fd, name, data->str, data->len, error);
}

gboolean
md_outbox_add (MdOutbox *outbox, const char *notebook, const char *server, const char *key,
               const char *text, gsize text_len, gint64 queued, GError **error)
{
  g_autoptr (MdOutboxEntry) entry = NULL;
  gboolean exists = FALSE;

  g_return_val_if_fail (outbox != NULL, FALSE);
  g_return_val_if_fail (text != NULL || text_len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!is_uuid (key))
    return fail_argument (error, "key");
  if (notebook != NULL && !is_uuid (notebook))
    return fail_argument (error, "notebook");
  if (!is_server (server) || queued < 0)
    return fail_argument (error, "server or time");
  if (!md_note_validate (text, text_len, error))
    return FALSE;
  entry = g_new0 (MdOutboxEntry, 1);
  entry->key = g_ascii_strdown (key, -1);
  entry->notebook = notebook != NULL ? g_ascii_strdown (notebook, -1) : NULL;
  entry->server = g_strdup (server);
  entry->queued = queued;
  entry->text = g_strndup (text, text_len);
  entry->text_len = text_len;
  if (!check_existing (outbox, entry, &exists, error))
    return FALSE;
  if (exists)
    return TRUE;
  return check_room (outbox, error) && write_entry (outbox, entry, error);
}

GPtrArray *
md_outbox_list (MdOutbox *outbox, const char *notebook, GError **error)
{
  g_autoptr (GPtrArray) all = NULL;
  g_autofree char *wanted = NULL;
  GPtrArray *entries;

  g_return_val_if_fail (outbox != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_uuid (notebook))
    {
      fail_argument (error, "notebook");
      return NULL;
    }
  wanted = g_ascii_strdown (notebook, -1);
  all = load_entries (outbox);
  entries = g_ptr_array_new_with_free_func ((GDestroyNotify)md_outbox_entry_free);
  for (guint i = 0; i < all->len; i++)
    {
      MdOutboxEntry *entry = all->pdata[i];

      if (g_strcmp0 (entry->notebook, wanted) == 0)
        g_ptr_array_add (entries, g_steal_pointer (&all->pdata[i]));
    }
  return entries;
}

gboolean
md_outbox_is_empty (MdOutbox *outbox)
{
  g_autoptr (GPtrArray) all = NULL;

  g_return_val_if_fail (outbox != NULL, TRUE);

  all = load_entries (outbox);
  return all->len == 0;
}

guint
md_outbox_count (MdOutbox *outbox, const char *notebook, const char *server)
{
  g_autoptr (GPtrArray) all = NULL;
  g_autofree char *wanted = NULL;
  guint count = 0;

  g_return_val_if_fail (outbox != NULL, 0);

  wanted = notebook != NULL ? g_ascii_strdown (notebook, -1) : NULL;
  all = load_entries (outbox);
  for (guint i = 0; i < all->len; i++)
    {
      const MdOutboxEntry *entry = all->pdata[i];

      if (entry->notebook != NULL ? g_strcmp0 (entry->notebook, wanted) == 0
                                  : g_strcmp0 (entry->server, server) == 0)
        count++;
    }
  return count;
}

static int
open_lock (MdOutbox *outbox, const char *name, GError **error)
{
  int fd = md_private_file_open_at (outbox->dir_fd, name, O_RDWR | O_CREAT, error);

  if (fd < 0)
    g_prefix_error (error, _ ("outbox: "));
  return fd;
}

static gboolean
lock_fd (int fd, int how, GError **error)
{
  while (flock (fd, how) != 0)
    {
      if (errno == EINTR)
        continue;
      if (errno == EWOULDBLOCK)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                             _ ("another mydailyctl is sending the queued notes"));
      else
        md_error_set_errno (error, errno, "flock");
      return FALSE;
    }
  return TRUE;
}

static gboolean
bind_locked (MdOutbox *outbox, const char *server, const char *notebook, guint *n_bound,
             GError **error)
{
  g_autoptr (GPtrArray) all = load_entries (outbox);

  for (guint i = 0; i < all->len; i++)
    {
      MdOutboxEntry *entry = all->pdata[i];

      if (entry->notebook != NULL || strcmp (entry->server, server) != 0)
        continue;
      entry->notebook = g_ascii_strdown (notebook, -1);
      if (!write_entry (outbox, entry, error))
        return FALSE;
      (*n_bound)++;
    }
  return TRUE;
}

gboolean
md_outbox_bind (MdOutbox *outbox, const char *server, const char *notebook, guint *n_bound,
                GError **error)
{
  guint bound = 0;
  gboolean ok;
  int fd;

  g_return_val_if_fail (outbox != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!is_server (server) || !is_uuid (notebook))
    return fail_argument (error, "server or notebook");
  fd = open_lock (outbox, BIND_LOCK_NAME, error);
  if (fd < 0)
    return FALSE;
  ok = lock_fd (fd, LOCK_EX, error) && bind_locked (outbox, server, notebook, &bound, error);
  close (fd);
  if (n_bound != NULL)
    *n_bound = bound;
  return ok;
}

gboolean
md_outbox_remove (MdOutbox *outbox, const char *key, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *lower = NULL;

  g_return_val_if_fail (outbox != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!is_uuid (key))
    return fail_argument (error, "key");
  lower = g_ascii_strdown (key, -1);
  name = entry_name (lower);
  if (unlinkat (outbox->dir_fd, name, 0) != 0 && errno != ENOENT)
    {
      md_error_set_errno (error, errno, name);
      return FALSE;
    }
  return md_private_dir_sync (outbox->dir_fd, error);
}

gboolean
md_outbox_reject (MdOutbox *outbox, const char *key, GError **error)
{
  g_autofree char *name = NULL;
  g_autofree char *aside = NULL;
  g_autofree char *lower = NULL;

  g_return_val_if_fail (outbox != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!is_uuid (key))
    return fail_argument (error, "key");
  lower = g_ascii_strdown (key, -1);
  name = entry_name (lower);
  aside = g_strconcat (name, REJECTED_SUFFIX, NULL);
  if (renameat (outbox->dir_fd, name, outbox->dir_fd, aside) != 0 && errno != ENOENT)
    {
      md_error_set_errno (error, errno, name);
      return FALSE;
    }
  return md_private_dir_sync (outbox->dir_fd, error);
}

MdOutboxLock *
md_outbox_try_lock (MdOutbox *outbox, const char *notebook, GError **error)
{
  g_autofree char *lower = NULL;
  g_autofree char *name = NULL;
  MdOutboxLock *lock;
  int fd;

  g_return_val_if_fail (outbox != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!is_uuid (notebook))
    {
      fail_argument (error, "notebook");
      return NULL;
    }
  lower = g_ascii_strdown (notebook, -1);
  name = g_strconcat (lower, LOCK_SUFFIX, NULL);
  fd = open_lock (outbox, name, error);
  if (fd < 0)
    return NULL;
  if (!lock_fd (fd, LOCK_EX | LOCK_NB, error))
    {
      close (fd);
      return NULL;
    }
  lock = g_new0 (MdOutboxLock, 1);
  lock->fd = fd;
  return lock;
}

void
md_outbox_unlock (MdOutboxLock *lock)
{
  if (lock == NULL)
    return;
  /* Closing the only descriptor releases the flock. */
  close (lock->fd);
  g_free (lock);
}
