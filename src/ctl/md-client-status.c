#include "config.h"

#include "md-client-status.h"

#include <glib/gi18n.h>
#include <string.h>

#include "md-client-blockwise.h"
#include "md-error.h"
#include "md-protocol.h"

void
md_client_get_status_async (MdClient *client, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  md_client_get_bytes_async (client, MD_PROTOCOL_PATH_STATUS, NULL, cancellable, callback,
                             user_data);
}

GBytes *
md_client_get_status_finish (MdClient *client, GAsyncResult *result, GError **error)
{
  return md_client_get_bytes_finish (client, result, error);
}

static char *
find_string (GBytes *status, const char *key)
{
  g_autofree char *body = g_strndup (g_bytes_get_data (status, NULL), g_bytes_get_size (status));
  g_auto (GStrv) lines = g_strsplit (body, "\n", -1);
  gsize key_len = strlen (key);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];

      if (strncmp (line, key, key_len) == 0 && line[key_len] == ':')
        return g_strdup (g_strstrip (line + key_len + 1));
    }
  return NULL;
}

static void
set_missing (GError **error, const char *key)
{
  /* TRANSLATORS: %s is a field of GET /status such as "last-id" */
  g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server's status lacks “%s”"), key);
}

char *
md_client_status_get_string (GBytes *status, const char *key, GError **error)
{
  char *value;

  g_return_val_if_fail (status != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  value = find_string (status, key);
  if (value == NULL)
    set_missing (error, key);
  return value;
}

gboolean
md_client_status_get_number (GBytes *status, const char *key, guint64 *value, GError **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (status != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  text = find_string (status, key);
  if (text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, value, NULL))
    return TRUE;
  set_missing (error, key);
  return FALSE;
}
