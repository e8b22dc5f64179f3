#include "config.h"

#include "md-coaps.h"

#include "md-dtls-transport.h"
#include "md-keys.h"
#include "md-log-dtls.h"

#include <glib-unix.h>
#include <signal.h>

struct _MdCoaps
{
  char *path;
  gboolean path_given; /* by --keys: then it must exist */
  gboolean credential; /* under $CREDENTIALS_DIRECTORY */
  MdKeys *keys;
  GPtrArray *transports; /* of MdTransport, owned by the server */
  guint sighup_id;
};

static const char *
lookup_key (const char *name, gpointer user_data)
{
  MdCoaps *self = user_data;

  return md_keys_lookup (self->keys, name);
}

/* The keys of the file, an empty set when it is missing and was not named
 * by --keys, or NULL. */
static MdKeys *
load_keys (MdCoaps *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  MdKeys *keys = self->credential ? md_keys_load_credential (self->path, &local_error)
                                  : md_keys_load (self->path, &local_error);

  if (keys != NULL)
    return keys;
  if (!self->path_given && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_info ("no keys file %s: nobody can use coaps until one is made", self->path);
      return md_keys_new_empty ();
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

MdCoaps *
md_coaps_new (const char *keys_option, GError **error)
{
  g_autoptr (MdCoaps) self = g_new0 (MdCoaps, 1);

  self->path = md_keys_resolve_path (keys_option);
  self->path_given = keys_option != NULL;
  self->credential = !self->path_given && g_getenv ("CREDENTIALS_DIRECTORY") != NULL
                     && *g_getenv ("CREDENTIALS_DIRECTORY") != '\0';
  self->transports = g_ptr_array_new ();
  self->keys = load_keys (self, error);
  if (self->keys == NULL)
    return NULL;
  md_log_keys_loaded (self->path, md_keys_get_count (self->keys), 0);
  return g_steal_pointer (&self);
}

void
md_coaps_free (MdCoaps *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->sighup_id, g_source_remove);
  g_ptr_array_unref (self->transports);
  md_keys_free (self->keys);
  g_free (self->path);
  g_free (self);
}

gboolean
md_coaps_reload (MdCoaps *self)
{
  g_autoptr (GError) error = NULL;
  MdKeys *keys;
  guint ended = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  keys = load_keys (self, &error);
  if (keys == NULL)
    {
      md_log_keys_refused (self->path, error->message);
      return FALSE;
    }
  md_keys_free (self->keys);
  self->keys = keys;
  for (guint i = 0; i < self->transports->len; i++)
    ended += md_dtls_transport_check_keys (self->transports->pdata[i]);
  md_log_keys_loaded (self->path, md_keys_get_count (keys), ended);
  return TRUE;
}

static gboolean
on_sighup (gpointer user_data)
{
  md_coaps_reload (user_data);
  return G_SOURCE_CONTINUE;
}

gboolean
md_coaps_serve (MdCoaps *self, MdServer *server, GArray *fds, GError **error)
{
  g_return_val_if_fail (self != NULL && server != NULL && fds != NULL, FALSE);

  for (guint i = 0; i < fds->len; i++)
    {
      MdTransport *transport
          = md_dtls_transport_new (g_array_index (fds, int, i), lookup_key, self, error);

      if (transport == NULL)
        return FALSE;
      g_ptr_array_add (self->transports, transport);
      md_server_add_transport (server, transport);
    }
  if (self->sighup_id == 0)
    self->sighup_id = g_unix_signal_add (SIGHUP, on_sighup, self);
  return TRUE;
}
