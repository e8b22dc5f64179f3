#include "config.h"

#include "md-notes-file.h"

#include "md-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

gboolean
md_notes_file_sync_directory (const char *directory, GError **error)
{
  int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) < 0)
    {
      int saved_errno = errno;
      g_autofree char *prefix = g_strdup_printf ("cannot sync directory %s", directory);

      if (fd >= 0)
        close (fd);
      md_error_set_errno (error, saved_errno, prefix);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Creates @directory and, if they are missing, its parents, making each new
 * entry durable by syncing the directory that holds it. */
static gboolean
ensure_directory (const char *directory, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (directory);
  g_autofree char *prefix = NULL;
  int saved_errno;

  if (g_mkdir (directory, 0750) == 0)
    return md_notes_file_sync_directory (parent, error);
  if (errno == EEXIST)
    return TRUE;
  /* Missing parents are rare (the state directory's parent normally
   * exists), so only then pay for the recursion.  The root and "." exist,
   * so it ends. */
  if (errno == ENOENT && strcmp (parent, directory) != 0)
    {
      if (!ensure_directory (parent, error))
        return FALSE;
      if (g_mkdir (directory, 0750) == 0)
        return md_notes_file_sync_directory (parent, error);
      if (errno == EEXIST)
        return TRUE;
    }
  saved_errno = errno;
  prefix = g_strdup_printf ("cannot create directory %s", directory);
  md_error_set_errno (error, saved_errno, prefix);
  return FALSE;
}

/* Opens the notes file, creating it (and making its name durable) if it is
 * missing. */
static int
open_or_create (const char *directory, const char *path, GError **error)
{
  const int flags = O_RDWR | O_APPEND | O_CLOEXEC;
  int fd = open (path, flags);

  if (fd < 0 && errno == ENOENT)
    {
      fd = open (path, flags | O_CREAT | O_EXCL, 0640);
      if (fd >= 0 && !md_notes_file_sync_directory (directory, error))
        {
          close (fd);
          return -1;
        }
      if (fd < 0 && errno == EEXIST)
        fd = open (path, flags);
    }
  if (fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *prefix = g_strdup_printf ("cannot open %s", path);

      md_error_set_errno (error, saved_errno, prefix);
    }
  return fd;
}

/* Two writers appending to one file would interleave records. */
static gboolean
lock_exclusively (int fd, const char *path, GError **error)
{
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    return TRUE;
  if (errno == EWOULDBLOCK)
    g_set_error (error, MD_ERROR, MD_ERROR_IO, "notes file %s is in use by another process", path);
  else
    md_error_set_errno (error, errno, "cannot lock the notes file");
  return FALSE;
}

int
md_notes_file_open (const char *directory, const char *path, GError **error)
{
  int fd;

  if (!ensure_directory (directory, error))
    return -1;
  fd = open_or_create (directory, path, error);
  if (fd >= 0 && !lock_exclusively (fd, path, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

gboolean
md_notes_file_write (int fd, const char *data, gsize len, GError **error)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          md_error_set_errno (error, n < 0 ? errno : EIO, "cannot write to the notes file");
          return FALSE;
        }
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

gboolean
md_notes_file_pread (int fd, guint8 *buf, gsize len, guint64 offset, GError **error)
{
  while (len > 0)
    {
      gssize n = pread (fd, buf, len, (off_t)offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          md_error_set_errno (error, n < 0 ? errno : EIO, "cannot read the notes file");
          return FALSE;
        }
      buf += n;
      len -= (gsize)n;
      offset += (guint64)n;
    }
  return TRUE;
}

gboolean
md_notes_file_truncate (int fd, guint64 size, int *errno_out)
{
  int result;

  do
    result = ftruncate (fd, (off_t)size);
  while (result < 0 && errno == EINTR);
  if (result < 0)
    *errno_out = errno;
  return result == 0;
}

gboolean
md_notes_file_sync (int fd, GError **error)
{
  if (fdatasync (fd) == 0)
    return TRUE;
  md_error_set_errno (error, errno, "cannot sync the notes file");
  return FALSE;
}
