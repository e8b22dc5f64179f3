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
  MdClient *client;
  char *path;
  GBytes *text;
  guint64 id;
  gint64 busy_until; /* clock time past which a rate limit is not waited out */
  guint retry_timer;
} AddNote;

static void
add_note_free (gpointer data)
{
  AddNote *add = data;

  md_client_clock_clear_timer (md_client_get_clock (add->client), &add->retry_timer);
  md_client_unref (add->client);
  g_free (add->path);
  g_bytes_unref (add->text);
  g_free (add);
}

static void on_stored (GObject *source, GAsyncResult *result, gpointer data);

static void
send_put (GTask *task)
{
  AddNote *add = g_task_get_task_data (task);
  gsize len = 0;
  const char *text = g_bytes_get_data (add->text, &len);

  md_client_request_async (add->client,
                           &(MdClientRequest){
                               .method = MD_COAP_PUT,
                               .path = add->path,
                               .if_none_match = TRUE,
                               .payload = text,
                               .payload_len = len,
                           },
                           g_task_get_cancellable (task), on_stored, task);
}

static void
retry_put (gpointer data)
{
  GTask *task = data;
  AddNote *add = g_task_get_task_data (task);

  add->retry_timer = 0;
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  send_put (task);
}

/* 5.03 with Max-Age is the server's rate limit: an answer that says when to
 * come back, not a refusal.  The same PUT (same key) goes again then, so
 * the note is still stored once.  FALSE when the wait would pass the
 * budget (MD_CLIENT_ADD_MAX_BUSY_WAIT_S). */
static gboolean
wait_out_rate_limit (GTask *task, const MdClientResponse *response)
{
  AddNote *add = g_task_get_task_data (task);
  MdClientClock *clock = md_client_get_clock (add->client);
  gint64 due;

  if (response->code != MD_COAP_SERVICE_UNAVAILABLE || !response->has_max_age)
    return FALSE;
  due = md_client_clock_now (clock) + (gint64)MAX (response->max_age, 1) * G_TIME_SPAN_SECOND;
  if (due > add->busy_until)
    return FALSE;
  g_debug ("rate limited: retrying %s in %u s", add->path, response->max_age);
  add->retry_timer = md_client_clock_add_timer (clock, due, retry_put, g_object_ref (task));
  return TRUE;
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
  if (wait_out_rate_limit (task, response))
    return;
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
  AddNote *add;
  GError *error = NULL;

  g_return_if_fail (client != NULL);
  g_return_if_fail (key != NULL && md_note_key_is_valid (key, strlen (key)));
  g_return_if_fail (text != NULL || len == 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, md_client_add_note_async);
  add = g_new0 (AddNote, 1);
  add->client = md_client_ref (client);
  add->path = g_strconcat (MD_PROTOCOL_PATH_NOTES_PREFIX, key, NULL);
  add->text = g_bytes_new (text, len);
  add->busy_until = md_client_clock_now (md_client_get_clock (client))
                    + MD_CLIENT_ADD_MAX_BUSY_WAIT_S * G_TIME_SPAN_SECOND;
  g_task_set_task_data (task, add, add_note_free);
  if (!md_note_validate (text, len, &error))
    {
      g_prefix_error (&error, _ ("note rejected: "));
      g_task_return_error (task, error);
      return;
    }
  send_put (g_steal_pointer (&task));
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
