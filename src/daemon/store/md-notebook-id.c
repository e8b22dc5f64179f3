#include "config.h"

#include "md-notebook-id.h"

#include "md-error.h"
#include "md-notes-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* Longer than any good file, so that a long one is seen as damaged. */
#define MD_NOTEBOOK_ID_READ_MAX 128

/* "UUID\n", and nothing else. */
static gboolean
parse_id (const char *data, gsize len, char **id)
{
  g_autofree char *text = NULL;

  if (len != MD_NOTEBOOK_ID_LEN + 1 || data[MD_NOTEBOOK_ID_LEN] != '\n')
    return FALSE;
  text = g_strndup (data, MD_NOTEBOOK_ID_LEN);
  if (!g_uuid_string_is_valid (text))
    return FALSE;
  *id = g_ascii_strdown (text, -1);
  return TRUE;
}

/* The identity in @path; FALSE with no error when the file does not exist. */
static gboolean
read_id (const char *path, char **id, GError **error)
{
  char data[MD_NOTEBOOK_ID_READ_MAX];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  gssize len;

  if (fd < 0 && errno == ENOENT)
    return FALSE;
  if (fd < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot open %s", path);

      md_error_set_errno (error, errno, prefix);
      return FALSE;
    }
  do
    len = read (fd, data, sizeof data);
  while (len < 0 && errno == EINTR);
  if (len < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot read %s", path);

      md_error_set_errno (error, errno, prefix);
    }
  else if (!parse_id (data, (gsize)len, id))
    g_set_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE,
                 "notebook identity %s is damaged: expected one UUID line; restore it from a"
                 " backup rather than delete it, or clients will take this for a new notebook",
                 path);
  close (fd);
  return *id != NULL;
}

/* Writes @line to a new file @tmp_path and makes its contents durable. */
static gboolean
write_synced (const char *tmp_path, const char *line, GError **error)
{
  int fd = open (tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  gboolean ok;

  if (fd < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot create %s", tmp_path);

      md_error_set_errno (error, errno, prefix);
      return FALSE;
    }
  ok = md_notes_file_write (fd, line, strlen (line), error) && md_notes_file_sync (fd, error);
  close (fd);
  return ok;
}

/* A fresh identity, in place only once whole and durable. */
static char *
create_id (const char *directory, const char *path, GError **error)
{
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *line = g_strconcat (id, "\n", NULL);
  g_autofree char *tmp_path = g_strconcat (path, ".tmp", NULL);

  if (!write_synced (tmp_path, line, error))
    {
      g_unlink (tmp_path);
      return NULL;
    }
  if (g_rename (tmp_path, path) < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot rename %s", tmp_path);

      md_error_set_errno (error, errno, prefix);
      g_unlink (tmp_path);
      return NULL;
    }
  if (!md_notes_file_sync_directory (directory, error))
    return NULL;
  return g_steal_pointer (&id);
}

char *
md_notebook_id_load (const char *directory, GError **error)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) local_error = NULL;
  char *id = NULL;

  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  path = g_build_filename (directory, MD_NOTEBOOK_ID_FILE, NULL);
  if (read_id (path, &id, &local_error))
    return id;
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return create_id (directory, path, error);
}
