#include "config.h"

#include "md-credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md-error.h"
#include "md-private-file.h"
#include "md-psk.h"

#define FILE_NAME "credentials"
#define FILE_HEADER                                                                                \
  "# mydaily credentials, written by “mydailyctl login”: keep it private (mode 0600).\n"       \
  "# HOST:PORT NOTEBOOK NAME KEY\n"
#define FIELDS 4
/* Next to the file: held around a load, edit and save. */
#define LOCK_SUFFIX ".lock"

struct _MdCredentials
{
  GPtrArray *items; /* MdCredential */
};

/* ---- one credential ---------------------------------------------------------- */

MdCredential *
md_credential_new (const char *host, const char *notebook, const char *name, const char *key)
{
  MdCredential *credential = g_new0 (MdCredential, 1);

  credential->host = g_strdup (host);
  credential->notebook = g_strdup (notebook);
  credential->name = g_strdup (name);
  credential->key = g_strdup (key);
  return credential;
}

MdCredential *
md_credential_copy (const MdCredential *credential)
{
  g_return_val_if_fail (credential != NULL, NULL);

  return md_credential_new (credential->host, credential->notebook, credential->name,
                            credential->key);
}

void
md_credential_free (MdCredential *credential)
{
  if (credential == NULL)
    return;
  g_free (credential->host);
  g_free (credential->notebook);
  g_free (credential->name);
  md_psk_secret_free (credential->key);
  g_free (credential);
}

/* ---- the set ----------------------------------------------------------------- */

MdCredentials *
md_credentials_new (void)
{
  MdCredentials *self = g_new0 (MdCredentials, 1);

  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify)md_credential_free);
  return self;
}

void
md_credentials_free (MdCredentials *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->items);
  g_free (self);
}

guint
md_credentials_get_count (MdCredentials *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->items->len;
}

static MdCredential *
item (MdCredentials *self, guint i)
{
  return g_ptr_array_index (self->items, i);
}

const MdCredential *
md_credentials_lookup_host (MdCredentials *self, const char *host_key)
{
  g_return_val_if_fail (self != NULL && host_key != NULL, NULL);

  for (guint i = 0; i < self->items->len; i++)
    if (g_str_equal (item (self, i)->host, host_key))
      return item (self, i);
  return NULL;
}

/* "HOST" of a stored "HOST:PORT" (brackets kept), compared without a copy. */
static gboolean
host_part_is (const char *host_key, const char *host)
{
  const char *colon = strrchr (host_key, ':');

  return colon != NULL && (gsize)(colon - host_key) == strlen (host)
         && g_ascii_strncasecmp (host_key, host, strlen (host)) == 0;
}

const MdCredential *
md_credentials_lookup_bare_host (MdCredentials *self, const char *host)
{
  g_autofree char *bracketed = NULL;

  g_return_val_if_fail (self != NULL && host != NULL, NULL);

  if (strchr (host, ':') != NULL && host[0] != '[')
    host = bracketed = g_strdup_printf ("[%s]", host);
  for (guint i = 0; i < self->items->len; i++)
    if (host_part_is (item (self, i)->host, host))
      return item (self, i);
  return NULL;
}

const MdCredential *
md_credentials_lookup_notebook (MdCredentials *self, const char *notebook)
{
  g_return_val_if_fail (self != NULL && notebook != NULL, NULL);

  for (guint i = 0; i < self->items->len; i++)
    if (item (self, i)->notebook != NULL
        && g_ascii_strcasecmp (item (self, i)->notebook, notebook) == 0)
      return item (self, i);
  return NULL;
}

gboolean
md_credentials_remove (MdCredentials *self, const char *host_key)
{
  const MdCredential *found;

  g_return_val_if_fail (self != NULL && host_key != NULL, FALSE);

  found = md_credentials_lookup_host (self, host_key);
  return found != NULL && g_ptr_array_remove (self->items, (gpointer)found);
}

void
md_credentials_set (MdCredentials *self, const MdCredential *credential)
{
  g_return_if_fail (self != NULL && credential != NULL && credential->host != NULL);

  md_credentials_remove (self, credential->host);
  g_ptr_array_add (self->items, md_credential_copy (credential));
}

/* ---- HOST:PORT --------------------------------------------------------------- */

static gboolean
is_host_char (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '-' || c == '_';
}

static gboolean
is_valid_host (const char *host)
{
  if (*host == '\0')
    return FALSE;
  if (g_hostname_is_ip_address (host))
    return TRUE;
  for (const char *p = host; *p != '\0'; p++)
    if (!is_host_char (*p))
      return FALSE;
  return TRUE;
}

char *
md_credentials_host_key (const char *host_port, guint16 default_port, GError **error)
{
  g_autoptr (GSocketConnectable) address = NULL;
  g_autofree char *host = NULL;
  guint16 port;

  g_return_val_if_fail (host_port != NULL, NULL);

  address = g_network_address_parse (host_port, default_port, NULL);
  if (address != NULL)
    {
      host = g_ascii_strdown (g_network_address_get_hostname (G_NETWORK_ADDRESS (address)), -1);
      port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
    }
  if (address == NULL || !is_valid_host (host) || port == 0)
    {
      /* TRANSLATORS: %s is what was given for HOST[:PORT] */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _ ("“%s” is not a HOST[:PORT]"),
                   host_port);
      return NULL;
    }
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

/* ---- the file's text --------------------------------------------------------- */

static gboolean
check_host_field (const char *field, GError **error)
{
  g_autofree char *normal = md_credentials_host_key (field, 0, NULL);

  if (normal != NULL && g_str_equal (normal, field))
    return TRUE;
  g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                       _ ("the server is not a lower-case HOST:PORT"));
  return FALSE;
}

static gboolean
check_notebook_field (const char *field, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (field, -1);

  if (g_str_equal (field, "-") || (g_uuid_string_is_valid (field) && g_str_equal (lower, field)))
    return TRUE;
  g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                       _ ("the notebook is neither a lower-case UUID nor “-”"));
  return FALSE;
}

/* The runs of non-blanks of @line. */
static GPtrArray *
split_fields (const char *line)
{
  g_auto (MdPskSecretStrv) parts = g_strsplit_set (line, " \t", -1);
  GPtrArray *fields = g_ptr_array_new_with_free_func ((GDestroyNotify)md_psk_secret_free);

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_ptr_array_add (fields, g_strdup (parts[i]));
  return fields;
}

/* One line: NULL with no @error for a comment or a blank line. */
static MdCredential *
parse_line (const char *line, GError **error)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (MdPskSecret) pair = NULL;
  g_autofree char *name = NULL;
  g_autoptr (MdPskSecret) key = NULL;
  const char *p = line + strspn (line, " \t");
  char **fields;

  if (*p == '\0' || *p == '#')
    return NULL;
  list = split_fields (p);
  fields = (char **)list->pdata;
  if (list->len != FIELDS)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                           _ ("expected “HOST:PORT NOTEBOOK NAME KEY”"));
      return NULL;
    }
  pair = g_strdup_printf ("%s %s", fields[2], fields[3]);
  if (!check_host_field (fields[0], error) || !check_notebook_field (fields[1], error)
      || !md_psk_parse_line (pair, &name, &key, error))
    return NULL;
  return md_credential_new (fields[0], g_str_equal (fields[1], "-") ? NULL : fields[1], name, key);
}

static gboolean
add_line (MdCredentials *self, const char *line, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MdCredential) credential = parse_line (line, &local_error);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (credential == NULL)
    return TRUE;
  if (md_credentials_lookup_host (self, credential->host) != NULL)
    {
      /* TRANSLATORS: %s is a server, HOST:PORT */
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("a second credential for %s"),
                   credential->host);
      return FALSE;
    }
  g_ptr_array_add (self->items, g_steal_pointer (&credential));
  return TRUE;
}

MdCredentials *
md_credentials_parse (const char *text, gsize len, const char *origin, GError **error)
{
  g_autoptr (MdCredentials) self = md_credentials_new ();
  g_auto (MdPskSecretStrv) lines = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (text != NULL && origin != NULL, NULL);

  if (memchr (text, '\0', len) != NULL || !g_utf8_validate (text, (gssize)len, NULL))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s: not a text file"), origin);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize n = strlen (lines[i]);

      if (n > 0 && lines[i][n - 1] == '\r')
        lines[i][n - 1] = '\0';
      if (!add_line (self, lines[i], &local_error))
        {
          /* TRANSLATORS: file name, line number, what is wrong */
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s:%u: %s"), origin, i + 1,
                       local_error->message);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

static gsize
text_size (MdCredentials *self)
{
  gsize size = strlen (FILE_HEADER) + 1;

  for (guint i = 0; i < self->items->len; i++)
    {
      const MdCredential *c = item (self, i);

      size += strlen (c->host) + (c->notebook != NULL ? strlen (c->notebook) : 1) + strlen (c->name)
              + strlen (c->key) + 4;
    }
  return size;
}

char *
md_credentials_to_text (MdCredentials *self)
{
  GString *text;

  g_return_val_if_fail (self != NULL, NULL);

  /* Sized once: a GString that grows leaves copies of the keys behind. */
  text = g_string_sized_new (text_size (self));
  g_string_append (text, FILE_HEADER);
  for (guint i = 0; i < self->items->len; i++)
    {
      const MdCredential *c = item (self, i);

      g_string_append_printf (text, "%s %s %s %s\n", c->host,
                              c->notebook != NULL ? c->notebook : "-", c->name, c->key);
    }
  return g_string_free (text, FALSE);
}

/* ---- the file ---------------------------------------------------------------- */

char *
md_credentials_get_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "mydaily", FILE_NAME, NULL);
}

/* Secrets: the user's own regular file, which nobody else may read or
 * write.  Unlike the cache, not quietly tightened: a key others could
 * read is a key to replace. */
static gboolean
check_secret_file (int fd, const char *path, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) != 0)
    {
      md_error_set_errno (error, errno, path);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_uid != geteuid ())
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s: not a file of your own"), path);
      return FALSE;
    }
  if ((st.st_mode & 077) != 0)
    {
      /* TRANSLATORS: a path, its mode in octal and the path again */
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("%s: others may read or write it (mode %04o); after “chmod 600 %s”, "
                      "replace the keys it holds"),
                   path, (unsigned)(st.st_mode & 07777), path);
      return FALSE;
    }
  return TRUE;
}

/* The whole of a private file, or NULL; *@missing when it does not exist. */
static char *
read_secret_file (const char *path, gsize *len, gboolean *missing, GError **error)
{
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  char *text;

  *missing = fd < 0 && errno == ENOENT;
  if (fd < 0)
    {
      md_error_set_errno (error, errno, path);
      return NULL;
    }
  if (!check_secret_file (fd, path, error))
    {
      close (fd);
      return NULL;
    }
  mapped = g_mapped_file_new_from_fd (fd, FALSE, &local_error);
  close (fd);
  if (mapped == NULL)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_IO, "%s: %s", path, local_error->message);
      return NULL;
    }
  *len = g_mapped_file_get_length (mapped);
  if (*len > MD_CREDENTIALS_MAX_SIZE)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s: too large"), path);
      return NULL;
    }
  text = g_malloc (*len + 1);
  if (*len > 0)
    memcpy (text, g_mapped_file_get_contents (mapped), *len);
  text[*len] = '\0';
  return text;
}

char *
md_credentials_read_secret (const char *path, gsize *len, GError **error)
{
  gboolean missing = FALSE;

  g_return_val_if_fail (path != NULL && len != NULL, NULL);

  return read_secret_file (path, len, &missing, error);
}

MdCredentials *
md_credentials_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gboolean missing = FALSE;
  gsize len = 0;
  MdCredentials *self;

  g_return_val_if_fail (path != NULL, NULL);

  text = read_secret_file (path, &len, &missing, error);
  if (text == NULL && missing)
    {
      g_clear_error (error);
      return md_credentials_new ();
    }
  if (text == NULL)
    return NULL;
  self = md_credentials_parse (text, len, path, error);
  explicit_bzero (text, len);
  return self;
}

gboolean
md_credentials_save (MdCredentials *self, const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *text = NULL;
  gboolean ok;
  int dirfd;

  g_return_val_if_fail (self != NULL && path != NULL, FALSE);

  dirfd = md_private_dir_open (dir, error);
  if (dirfd < 0)
    return FALSE;
  text = md_credentials_to_text (self);
  ok = md_private_file_replace_at (dirfd, base, text, strlen (text), error);
  explicit_bzero (text, strlen (text));
  close (dirfd);
  return ok;
}

int
md_credentials_lock (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *lock_name = g_strconcat (name, LOCK_SUFFIX, NULL);
  int dirfd;
  int fd;

  g_return_val_if_fail (path != NULL, -1);

  dirfd = md_private_dir_open (dir, error);
  if (dirfd < 0)
    return -1;
  fd = md_private_file_open_at (dirfd, lock_name, O_RDWR | O_CREAT, error);
  close (dirfd);
  if (fd >= 0 && flock (fd, LOCK_EX) != 0)
    {
      md_error_set_errno (error, errno, lock_name);
      close (fd);
      return -1;
    }
  return fd;
}

void
md_credentials_unlock (int fd)
{
  if (fd >= 0)
    close (fd);
}

/* ---- a script's key file ----------------------------------------------------- */

static MdCredential *
parse_key_file (const char *text, const char *path, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (MdCredential) found = NULL;
  g_autoptr (GError) local_error = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *key = NULL;

      if (md_psk_parse_line (lines[i], &name, &key, &local_error) && name != NULL && found != NULL)
        g_set_error_literal (&local_error, MD_ERROR, MD_ERROR_FAILED,
                             _ ("a key file holds one “NAME KEY” line"));
      if (local_error != NULL)
        {
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s:%u: %s"), path, i + 1,
                       local_error->message);
          return NULL;
        }
      if (name != NULL)
        found = md_credential_new (NULL, NULL, name, key);
    }
  if (found == NULL)
    g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s: no “NAME KEY” line"), path);
  return g_steal_pointer (&found);
}

MdCredential *
md_credentials_read_key_file (const char *path, GError **error)
{
  gboolean missing = FALSE;
  gsize len = 0;
  g_autofree char *text = NULL;
  MdCredential *credential;

  g_return_val_if_fail (path != NULL, NULL);

  text = read_secret_file (path, &len, &missing, error);
  if (text == NULL)
    return NULL;
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s: not a text file"), path);
      return NULL;
    }
  credential = parse_key_file (text, path, error);
  explicit_bzero (text, len);
  return credential;
}
