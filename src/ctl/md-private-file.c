#include "config.h"

#include "md-private-file.h"

#include "md-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRIVATE_DIR_MODE 0700
#define PRIVATE_FILE_MODE 0600

/* Sets @error for a failed open of @name and keeps errno for the caller. */
static int
fail_open (GError **error, int errno_value, const char *name)
{
  if (errno_value == ELOOP)
    g_set_error (error, MD_ERROR, MD_ERROR_IO,
                 /* TRANSLATORS: %s is a file or directory name */
                 _ ("“%s” is a symbolic link; mydailyctl does not follow it there"), name);
  else
    md_error_set_errno (error, errno_value, name);
  errno = errno_value;
  return -1;
}

static int
fail_refuse (GError **error, int fd, const char *name, const char *reason)
{
  g_set_error (error, MD_ERROR, MD_ERROR_IO, "“%s”: %s", name, reason);
  close (fd);
  errno = EPERM;
  return -1;
}

/* The checks every private fd passes: the right type, the user's own, and
 * no permission for anyone else. */
static int
check_private (int fd, const char *name, mode_t type, GError **error)
{
  struct stat st;
  mode_t wanted = type == S_IFDIR ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;

  if (fstat (fd, &st) != 0)
    {
      int saved = errno;

      close (fd);
      return fail_open (error, saved, name);
    }
  if ((st.st_mode & S_IFMT) != type)
    return fail_refuse (error, fd, name,
                        type == S_IFDIR ? _ ("not a directory") : _ ("not a regular file"));
  if (st.st_uid != geteuid ())
    return fail_refuse (error, fd, name, _ ("owned by another user"));
  if ((st.st_mode & 077) != 0 && fchmod (fd, st.st_mode & wanted) != 0)
    return fail_refuse (error, fd, name, _ ("cannot take away other users' access"));
  return fd;
}

/* O_NOFOLLOW | O_DIRECTORY on a symbolic link fails with ENOTDIR, not
 * ELOOP; say which it was. */
static int
dir_open_errno (int dirfd, const char *name, int errno_value)
{
  struct stat st;

  if (errno_value == ENOTDIR && fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
      && S_ISLNK (st.st_mode))
    return ELOOP;
  return errno_value;
}

int
md_private_dir_open (const char *path, GError **error)
{
  int fd;

  g_return_val_if_fail (path != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (g_mkdir_with_parents (path, PRIVATE_DIR_MODE) != 0 && errno != EEXIST)
    return fail_open (error, errno, path);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return fail_open (error, dir_open_errno (AT_FDCWD, path, errno), path);
  return check_private (fd, path, S_IFDIR, error);
}

int
md_private_dir_open_at (int dirfd, const char *name, GError **error)
{
  int fd;

  g_return_val_if_fail (dirfd >= 0, -1);
  g_return_val_if_fail (name != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (mkdirat (dirfd, name, PRIVATE_DIR_MODE) != 0 && errno != EEXIST)
    return fail_open (error, errno, name);
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return fail_open (error, dir_open_errno (dirfd, name, errno), name);
  return check_private (fd, name, S_IFDIR, error);
}

int
md_private_file_open_at (int dirfd, const char *name, int flags, GError **error)
{
  int fd;

  g_return_val_if_fail (dirfd >= 0, -1);
  g_return_val_if_fail (name != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  /* O_NONBLOCK: a FIFO planted in place of the file must not hang the open;
   * the type check then refuses it. */
  fd = openat (dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, PRIVATE_FILE_MODE);
  if (fd < 0)
    return fail_open (error, errno, name);
  fd = check_private (fd, name, S_IFREG, error);
  if (fd >= 0)
    fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

static gboolean
read_all (int fd, char *buf, gsize len, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = read (fd, buf + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          md_error_set_errno (error, errno, "read");
          return FALSE;
        }
      if (n == 0)
        break;
      done += (gsize)n;
    }
  if (done != len)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_IO, _ ("file shrank while being read"));
      return FALSE;
    }
  return TRUE;
}

char *
md_private_file_read_at (int dirfd, const char *name, gsize max_len, gsize *len, GError **error)
{
  int fd;
  struct stat st;
  g_autofree char *buf = NULL;

  g_return_val_if_fail (len != NULL, NULL);

  fd = md_private_file_open_at (dirfd, name, O_RDONLY, error);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) != 0 || (guint64)st.st_size > max_len)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("“%s” is larger than %zu bytes"), name,
                   max_len);
      close (fd);
      errno = EFBIG;
      return NULL;
    }
  buf = g_malloc ((gsize)st.st_size + 1);
  if (!read_all (fd, buf, (gsize)st.st_size, error))
    {
      g_prefix_error (error, "%s: ", name);
      close (fd);
      errno = EIO;
      return NULL;
    }
  close (fd);
  buf[st.st_size] = '\0';
  *len = (gsize)st.st_size;
  return g_steal_pointer (&buf);
}

gboolean
md_private_write_all (int fd, const char *data, gsize len, GError **error)
{
  gsize done = 0;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  while (done < len)
    {
      ssize_t n = write (fd, data + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          md_error_set_errno (error, errno, "write");
          return FALSE;
        }
      done += (gsize)n;
    }
  return TRUE;
}

gboolean
md_private_dir_sync (int dirfd, GError **error)
{
  if (fsync (dirfd) != 0)
    {
      md_error_set_errno (error, errno, "fsync");
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_temp (int dirfd, const char *temp, const char *data, gsize len, GError **error)
{
  int fd = md_private_file_open_at (dirfd, temp, O_WRONLY | O_CREAT | O_EXCL, error);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = md_private_write_all (fd, data, len, error);
  if (ok && fsync (fd) != 0)
    {
      md_error_set_errno (error, errno, "fsync");
      ok = FALSE;
    }
  close (fd);
  return ok;
}

gboolean
md_private_file_replace_at (int dirfd, const char *name, const char *data, gsize len,
                            GError **error)
{
  /* A name of its own per writer: two processes replacing the same file
   * must not write into one temporary.  The pid keeps forked children,
   * which share the parent's random state, apart. */
  g_autofree char *temp
      = g_strdup_printf (".%s.%d.%08x.tmp", name, (int)getpid (), g_random_int ());

  g_return_val_if_fail (dirfd >= 0, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!write_temp (dirfd, temp, data, len, error))
    {
      unlinkat (dirfd, temp, 0);
      return FALSE;
    }
  if (renameat (dirfd, temp, dirfd, name) != 0)
    {
      md_error_set_errno (error, errno, name);
      unlinkat (dirfd, temp, 0);
      return FALSE;
    }
  return md_private_dir_sync (dirfd, error);
}
