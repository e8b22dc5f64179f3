#include "config.h"

#include "md-notes-file.h"

#include "md-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/* Creates @directory with @mode and, if they are missing, its parents,
 * making each new entry durable by syncing the directory that holds it. */
static gboolean
ensure_directory (const char *directory, int mode, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (directory);
  g_autofree char *prefix = NULL;
  int saved_errno;

  if (g_mkdir (directory, mode) == 0)
    return md_notes_file_sync_directory (parent, error);
  if (errno == EEXIST)
    return TRUE;
  /* Missing parents are rare (the state directory's parent normally
   * exists), so only then pay for the recursion.  The root and "." exist,
   * so it ends. */
  if (errno == ENOENT && strcmp (parent, directory) != 0)
    {
      if (!ensure_directory (parent, 0755, error))
        return FALSE;
      if (g_mkdir (directory, mode) == 0)
        return md_notes_file_sync_directory (parent, error);
      if (errno == EEXIST)
        return TRUE;
    }
  saved_errno = errno;
  prefix = g_strdup_printf ("cannot create directory %s", directory);
  md_error_set_errno (error, saved_errno, prefix);
  return FALSE;
}

/* Anyone who can write the state directory can replace the notes file, or
 * put a link where it will be created: refuse rather than serve from it.
 * The daemon's own directory is made 0700 whatever the umask or an older
 * version left (systemd's StateDirectory= makes it 0755). */
static gboolean
check_directory (const char *directory, GError **error)
{
  struct stat st;

  if (stat (directory, &st) < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot stat the state directory %s", directory);

      md_error_set_errno (error, errno, prefix);
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "state directory %s is not a directory",
                   directory);
      return FALSE;
    }
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "state directory %s is writable by others (mode %04o): anyone could replace"
                   " the notes; make it private (chmod 700) or choose another",
                   directory, (guint)(st.st_mode & 07777));
      return FALSE;
    }
  if (st.st_uid == geteuid () && (st.st_mode & 07777) != 0700 && chmod (directory, 0700) < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot make %s private", directory);

      md_error_set_errno (error, errno, prefix);
      return FALSE;
    }
  return TRUE;
}

/* Only a regular file of ours, readable by nobody else.  The mode is set
 * rather than left to the umask of whoever started the daemon. */
static gboolean
check_notes_file (int fd, const char *path, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    {
      md_error_set_errno (error, errno, "cannot stat the notes file");
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "notes file %s is not a regular file", path);
      return FALSE;
    }
  if (st.st_uid == geteuid () && (st.st_mode & 07777) != 0600 && fchmod (fd, 0600) < 0)
    {
      g_autofree char *prefix = g_strdup_printf ("cannot make %s private", path);

      md_error_set_errno (error, errno, prefix);
      return FALSE;
    }
  return TRUE;
}

static void
set_open_error (const char *path, int errno_value, GError **error)
{
  g_autofree char *prefix = NULL;

  /* What O_NOFOLLOW answers for a symbolic link. */
  if (errno_value == ELOOP)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "notes file %s is a symbolic link: refusing to open it, since writing"
                   " through it would change the file it points to; put the notes file"
                   " itself there",
                   path);
      return;
    }
  prefix = g_strdup_printf ("cannot open %s", path);
  md_error_set_errno (error, errno_value, prefix);
}

/* Opens the notes file, creating it (and making its name durable) if it is
 * missing.  Never through a symbolic link: truncating a torn tail through
 * one would cut the file it points to. */
static int
open_or_create (const char *directory, const char *path, GError **error)
{
  const int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  int fd = open (path, flags);

  if (fd < 0 && errno == ENOENT)
    {
      fd = open (path, flags | O_CREAT | O_EXCL, 0600);
      if (fd >= 0 && !md_notes_file_sync_directory (directory, error))
        {
          close (fd);
          return -1;
        }
      if (fd < 0 && errno == EEXIST)
        fd = open (path, flags);
    }
  if (fd < 0 && (error == NULL || *error == NULL))
    set_open_error (path, errno, error);
  if (fd >= 0 && !check_notes_file (fd, path, error))
    {
      close (fd);
      return -1;
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

  if (!ensure_directory (directory, 0700, error) || !check_directory (directory, error))
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
