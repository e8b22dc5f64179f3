#include "config.h"

#include "md-client-add.h"

#include <glib/gi18n.h>
#include <string.h>

#include "md-client-exchange.h"
#include "md-error.h"
#include "md-note.h"
#include "md-protocol.h"

typedef struct
{
  GBytes *text;
  guint64 id;
} AddNote;

static void
add_note_free (gpointer data)
{
  AddNote *add = data;

  g_bytes_unref (add->text);
  g_free (add);
}

static gboolean
check_stored_line (const MdClientResponse *response, GBytes *text, guint64 *id, GError **error)
{
  gsize line_len = 0, len = 0;
  const char *line = g_bytes_get_data (response->payload, &line_len);
  const char *wanted = g_bytes_get_data (text, &len);
  MdNoteLine note;

  if (line == NULL || !md_note_parse_wire_line (line, line_len, &note, NULL))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                   _ ("the server stored the note but did not say under which id"));
      return FALSE;
    }
  if (note.text_len != len || memcmp (note.text, wanted, len) != 0)
    {
      g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, note.id);

      /* TRANSLATORS: %s is the number of an existing note */
      g_set_error (error, MD_ERROR, MD_ERROR_REJECTED,
                   _ ("note rejected: its key already names note %s, which says something else"),
                   id_text);
      return FALSE;
    }
  *id = note.id;
  return TRUE;
}

static void
on_stored (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  AddNote *add = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (MdClientResponse) response = md_client_request_finish (NULL, result, &error);

  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* 4.12: an earlier transmission of this very request was stored. */
  if (response->code == MD_COAP_CREATED || response->code == MD_COAP_PRECONDITION_FAILED)
    {
      if (check_stored_line (response, add->text, &add->id, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      return;
    }
  md_client_response_set_error (response, &error);
  g_prefix_error (&error, _ ("note rejected: "));
  g_task_return_error (task, error);
}

void
md_client_add_note_async (MdClient *client, const char *key, const char *text, gsize len,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *path = NULL;
  AddNote *add;
  GError *error = NULL;

  g_return_if_fail (client != NULL);
  g_return_if_fail (key != NULL && md_note_key_is_valid (key, strlen (key)));
  g_return_if_fail (text != NULL || len == 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, md_client_add_note_async);
  add = g_new0 (AddNote, 1);
  add->text = g_bytes_new (text, len);
  g_task_set_task_data (task, add, add_note_free);
  if (!md_note_validate (text, len, &error))
    {
      g_prefix_error (&error, _ ("note rejected: "));
      g_task_return_error (task, error);
      return;
    }
  path = g_strconcat (MD_PROTOCOL_PATH_NOTES_PREFIX, key, NULL);
  md_client_request_async (client,
                           &(MdClientRequest){
                               .method = MD_COAP_PUT,
                               .path = path,
                               .if_none_match = TRUE,
                               .payload = text,
                               .payload_len = len,
                           },
                           cancellable, on_stored, g_steal_pointer (&task));
}

gboolean
md_client_add_note_finish (MdClient *client, GAsyncResult *result, guint64 *id, GError **error)
{
  AddNote *add;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  add = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (id != NULL)
    *id = add->id;
  return TRUE;
}
