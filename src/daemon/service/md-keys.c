#include "config.h"

#include "md-keys.h"

#include "md-error.h"
#include "md-psk.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _MdKeys
{
  GHashTable *secrets; /* name -> key, both owned */
};

char *
md_keys_resolve_path (const char *option)
{
  const char *credentials = g_getenv ("CREDENTIALS_DIRECTORY");

  if (option != NULL)
    return g_strdup (option);
  if (credentials != NULL && credentials[0] != '\0')
    return g_build_filename (credentials, MD_KEYS_CREDENTIAL, NULL);
  return g_strdup (MD_KEYS_DEFAULT_FILE);
}

/* A key is wiped before its memory goes back. */
static void
free_secret (gpointer secret)
{
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

MdKeys *
md_keys_new_empty (void)
{
  MdKeys *self = g_new0 (MdKeys, 1);

  self->secrets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_secret);
  return self;
}

void
md_keys_free (MdKeys *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->secrets);
  g_free (self);
}

const char *
md_keys_lookup (const MdKeys *self, const char *name)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (self->secrets, name);
}

guint
md_keys_get_count (const MdKeys *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return g_hash_table_size (self->secrets);
}

static gboolean
set_file_error (GError **error, int errno_value, const char *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno_value),
               _ ("cannot read the keys file %s: %s"), path, g_strerror (errno_value));
  return FALSE;
}

/* Regular, owner-only, and small: checked on the open file, so a rename in
 * between cannot swap another file in. */
static gboolean
check_file (int fd, const char *path, gboolean check_mode, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return set_file_error (error, errno, path);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the keys file %s is not a regular file"),
                   path);
      return FALSE;
    }
  if (check_mode && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("the keys file %s may be read or changed by others (mode %04o): "
                      "run “chmod 600 %s”"),
                   path, (unsigned)(st.st_mode & 07777), path);
      return FALSE;
    }
  if (st.st_size > MD_KEYS_FILE_MAX)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the keys file %s is larger than %d bytes"),
                   path, MD_KEYS_FILE_MAX);
      return FALSE;
    }
  return TRUE;
}

/* Up to @size bytes of @fd into @buffer; -1 with errno on failure. */
static gssize
read_all (int fd, char *buffer, gsize size)
{
  gsize len = 0;

  while (len < size)
    {
      ssize_t n = read (fd, buffer + len, size - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      len += (gsize)n;
    }
  return (gssize)len;
}

/* The whole file, NUL-terminated, if it passes check_file(). */
static char *
read_file (const char *path, gboolean check_mode, GError **error)
{
  g_autofree char *text = NULL;
  gssize len;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

  if (fd < 0)
    {
      set_file_error (error, errno, path);
      return NULL;
    }
  if (!check_file (fd, path, check_mode, error))
    {
      close (fd);
      return NULL;
    }
  /* One byte more than allowed tells a file that grew since fstat(). */
  text = g_malloc (MD_KEYS_FILE_MAX + 2);
  len = read_all (fd, text, MD_KEYS_FILE_MAX + 1);
  if (len < 0)
    set_file_error (error, errno, path);
  close (fd);
  if (len < 0)
    return NULL;
  if (len > MD_KEYS_FILE_MAX)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the keys file %s is larger than %d bytes"),
                   path, MD_KEYS_FILE_MAX);
      return NULL;
    }
  /* A NUL would hide the lines after it. */
  if (memchr (text, '\0', (gsize)len) != NULL)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the keys file %s holds a NUL byte"), path);
      return NULL;
    }
  text[len] = '\0';
  return g_steal_pointer (&text);
}

static gboolean
fail_at_line (GError **error, const char *path, guint line, const char *message)
{
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "%s:%u: %s", path, line, message);
  return FALSE;
}

/* Adds line @number of the file to @self. */
static gboolean
add_line (MdKeys *self, const char *text, const char *path, guint number, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = NULL;
  char *secret = NULL;

  if (!md_psk_parse_line (text, &name, &secret, &local_error))
    return fail_at_line (error, path, number, local_error->message);
  if (name == NULL)
    return TRUE;
  if (g_hash_table_contains (self->secrets, name))
    {
      g_autofree char *message = g_strdup_printf (_ ("the name “%s” has a key already"), name);

      free_secret (secret);
      return fail_at_line (error, path, number, message);
    }
  g_hash_table_insert (self->secrets, g_steal_pointer (&name), secret);
  return TRUE;
}

static gboolean
add_lines (MdKeys *self, char *text, const char *path, GError **error)
{
  guint number = 1;

  for (char *line = text; line != NULL; number++)
    {
      char *newline = strchr (line, '\n');

      if (newline != NULL)
        *newline = '\0';
      if (!add_line (self, line, path, number, error))
        return FALSE;
      line = newline != NULL ? newline + 1 : NULL;
    }
  return TRUE;
}

static MdKeys *
load (const char *path, gboolean check_mode, GError **error)
{
  g_autoptr (MdKeys) self = NULL;
  char *text;
  gboolean ok;

  text = read_file (path, check_mode, error);
  if (text == NULL)
    return NULL;
  self = md_keys_new_empty ();
  ok = add_lines (self, text, path, error);
  explicit_bzero (text, strlen (text));
  g_free (text);
  return ok ? g_steal_pointer (&self) : NULL;
}

MdKeys *
md_keys_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return load (path, TRUE, error);
}

MdKeys *
md_keys_load_credential (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return load (path, FALSE, error);
}
