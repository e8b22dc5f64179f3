#include "config.h"

#include "md-ctl-watch.h"

#include <glib/gi18n.h>

#include "md-error.h"
#include "md-note.h"
#include "mydailyctl.h"

#define MAX_NOTIFICATIONS_PER_WAKEUP 64

struct _MdCtlWatch
{
  MdClient *requests;
  MdClient *observer;
  MdCtlPrinter *printer;
  GCancellable *stop;
  GSocket *watched;
  GSource *source;
  guint refresh_id;
};

/* Trouble with the server is passing (the next doorbell or refresh tries
 * again); output that went away ends the watch. */
static void
report (MdCtlWatch *watch, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    g_cancellable_cancel (watch->stop);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    md_ctl_printer_print_error (watch->printer, error->message);
}

/* The id of the newest note in a representation of /latest.  The first
 * block of a long note may end inside a character: only the valid part of
 * it is parsed then. */
static gboolean
parse_latest (const MdClientResponse *response, guint64 *id)
{
  gsize len = 0;
  const char *line = g_bytes_get_data (response->payload, &len);
  MdNoteLine note;

  if (len == 0)
    return FALSE;
  if (response->has_block2 && response->block2.more)
    {
      const char *valid_end = NULL;

      g_utf8_validate_len (line, len, &valid_end);
      len = (gsize)(valid_end - line);
    }
  if (!md_note_parse_wire_line (line, len, &note, NULL))
    return FALSE;
  *id = note.id;
  return TRUE;
}

static void
fetch_gap (MdCtlWatch *watch)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *query
      = g_strdup_printf ("after=%" G_GUINT64_FORMAT, md_ctl_printer_get_last_id (watch->printer));

  if (!md_client_get_body (watch->requests, "notes", query, md_ctl_printer_feed, watch->printer,
                           &error)
      || !md_ctl_printer_flush (watch->printer, &error))
    report (watch, error);
}

/* The id in a notification only says how far the notes go. */
static void
ring_doorbell (MdCtlWatch *watch, const MdClientResponse *response)
{
  gsize len = 0;
  const char *line = g_bytes_get_data (response->payload, &len);
  guint64 last = md_ctl_printer_get_last_id (watch->printer);
  guint64 id = 0;

  if (response->code != MD_COAP_CONTENT || !parse_latest (response, &id) || id <= last)
    return;
  if (id == last + 1 && line[len - 1] == '\n' && !response->block2.more)
    {
      g_autoptr (GError) error = NULL;

      if (!md_ctl_printer_feed ((const guint8 *)line, len, watch->printer, &error)
          || !md_ctl_printer_flush (watch->printer, &error))
        report (watch, error);
      return;
    }
  fetch_gap (watch);
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  MdCtlWatch *watch = data;

  for (guint i = 0; i < MAX_NOTIFICATIONS_PER_WAKEUP; i++)
    {
      g_autoptr (MdClientResponse) response = md_client_receive_notification (watch->observer);

      if (response == NULL)
        break;
      ring_doorbell (watch, response);
    }
  return G_SOURCE_CONTINUE;
}

/* The observer's socket changes when it moves to another address. */
static void
watch_socket (MdCtlWatch *watch)
{
  GSocket *socket = md_client_get_socket (watch->observer);

  if (socket == watch->watched)
    return;
  if (watch->source != NULL)
    g_source_destroy (watch->source);
  g_clear_pointer (&watch->source, g_source_unref);
  watch->watched = socket;
  if (socket == NULL)
    return;
  watch->source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (watch->source, G_SOURCE_FUNC (on_readable), watch, NULL);
  g_source_attach (watch->source, g_main_context_get_thread_default ());
}

static MdClientResponse *
register_observer (MdCtlWatch *watch, GError **error)
{
  g_autoptr (MdClientResponse) response = md_client_observe (watch->observer, "latest", error);

  watch_socket (watch);
  if (response == NULL)
    return NULL;
  if (response->code != MD_COAP_CONTENT)
    {
      md_client_response_set_error (response, error);
      return NULL;
    }
  if (!response->has_observe)
    g_debug ("the server did not register the observation; polling every %d s",
             MD_CLIENT_OBSERVE_REFRESH_S);
  return g_steal_pointer (&response);
}

static gboolean
refresh (gpointer data)
{
  MdCtlWatch *watch = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClientResponse) response = register_observer (watch, &error);

  if (response != NULL)
    ring_doorbell (watch, response);
  else
    report (watch, error);
  return G_SOURCE_CONTINUE;
}

MdCtlWatch *
md_ctl_watch_new (MdClient *requests, MdCtlPrinter *printer, GCancellable *stop)
{
  MdCtlWatch *watch;

  g_return_val_if_fail (requests != NULL, NULL);
  g_return_val_if_fail (printer != NULL, NULL);
  g_return_val_if_fail (G_IS_CANCELLABLE (stop), NULL);

  watch = g_new0 (MdCtlWatch, 1);
  watch->requests = requests;
  watch->observer = md_client_new_sibling (requests);
  watch->printer = printer;
  watch->stop = g_object_ref (stop);
  return watch;
}

void
md_ctl_watch_free (MdCtlWatch *watch)
{
  if (watch == NULL)
    return;
  if (watch->refresh_id != 0)
    g_source_remove (watch->refresh_id);
  if (watch->source != NULL)
    g_source_destroy (watch->source);
  g_clear_pointer (&watch->source, g_source_unref);
  md_client_free (watch->observer);
  g_object_unref (watch->stop);
  g_free (watch);
}

gboolean
md_ctl_watch_start (MdCtlWatch *watch, gboolean from_latest, GError **error)
{
  g_autoptr (MdClientResponse) response = NULL;

  g_return_val_if_fail (watch != NULL, FALSE);

  response = register_observer (watch, error);
  if (response == NULL)
    return FALSE;
  if (from_latest)
    {
      guint64 id = 0;

      if (parse_latest (response, &id))
        md_ctl_printer_set_last_id (watch->printer, id);
    }
  ring_doorbell (watch, response);
  watch->refresh_id = g_timeout_add_seconds (MD_CLIENT_OBSERVE_REFRESH_S, refresh, watch);
  return TRUE;
}
