#include "config.h"

#include "md-client-notes.h"

#include <glib/gi18n.h>
#include <string.h>

#include "md-protocol.h"

G_DEFINE_QUARK (md - client - notes - error - quark, md_client_notes_error)

typedef struct
{
  char *expected; /* NULL once checked, or without a check */
  GString *first; /* the first line as it arrives */
  MdClientBodyFunc func;
  gpointer func_data;
} ReadNotes;

static void
read_notes_free (gpointer data)
{
  ReadNotes *read = data;

  g_free (read->expected);
  g_string_free (read->first, TRUE);
  g_free (read);
}

static gboolean
changed (GError **error)
{
  g_set_error (error, MD_CLIENT_NOTES_ERROR, MD_CLIENT_NOTES_ERROR_CHANGED,
               _ ("the server's notes differ from the cached ones"));
  return FALSE;
}

/* Compares the first line, then passes everything after it through. */
static gboolean
check_first_line (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  ReadNotes *read = user_data;
  const guint8 *newline;
  gsize take;

  if (read->expected == NULL)
    return read->func (data, len, read->func_data, error);
  newline = memchr (data, '\n', len);
  take = newline != NULL ? (gsize)(newline - data) : len;
  g_string_append_len (read->first, (const char *)data, (gssize)take);
  if (read->first->len > strlen (read->expected))
    return changed (error);
  if (newline == NULL)
    return TRUE;
  if (!g_str_equal (read->first->str, read->expected))
    return changed (error);
  g_clear_pointer (&read->expected, g_free);
  return take + 1 == len || read->func (newline + 1, len - take - 1, read->func_data, error);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  ReadNotes *read = g_task_get_task_data (task);
  GError *error = NULL;

  if (!md_client_get_body_finish (NULL, result, NULL, &error))
    g_task_return_error (task, error);
  else if (read->expected != NULL && !changed (&error))
    g_task_return_error (task, error); /* the body ended before note N did */
  else
    g_task_return_boolean (task, TRUE);
}

void
md_client_read_notes_async (MdClient *client, guint64 after, const char *expected_line,
                            const MdClientBodyLimits *limits, MdClientBodyFunc func,
                            gpointer func_data, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  ReadNotes *read;
  guint64 from;
  g_autofree char *query = NULL;

  g_return_if_fail (client != NULL);
  g_return_if_fail (func != NULL);
  g_return_if_fail (expected_line == NULL || after > 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, md_client_read_notes_async);
  read = g_new0 (ReadNotes, 1);
  read->expected = g_strdup (expected_line);
  read->first = g_string_new (NULL);
  read->func = func;
  read->func_data = func_data;
  g_task_set_task_data (task, read, read_notes_free);
  from = expected_line != NULL ? after - 1 : after;
  if (from > 0)
    query = g_strdup_printf (MD_PROTOCOL_QUERY_AFTER "=%" G_GUINT64_FORMAT, from);
  md_client_get_body_async (client, MD_PROTOCOL_PATH_NOTES, query, limits, check_first_line, read,
                            cancellable, on_read, task);
}

gboolean
md_client_read_notes_finish (MdClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
