#include "config.h"

#include "md-ctl-watch.h"

#include <glib/gi18n.h>

#include "md-client-clock.h"
#include "md-client-notes.h"
#include "md-client-observe.h"
#include "md-error.h"
#include "md-note.h"
#include "md-protocol.h"

typedef enum
{
  FETCH_FIRST, /* the newest notes at the start */
  FETCH_GAP,   /* the doorbell rang */
  FETCH_POLL,  /* the timer */
} FetchReason;

struct _MdCtlWatch
{
  MdClient *client;
  MdCtlPrinter *printer;
  MdClientObservation *observation;
  GCancellable *stop;
  GCancellable *cancellable; /* everything in flight; cancelled by _free */
  MdCtlWatchStartedFunc started;
  gpointer started_data;
  MdCtlWatchReadyFunc ready;
  gpointer ready_data;
  gint64 last_n;
  gboolean fetching;
  gboolean fetch_again;
  gboolean in_outage; /* an error was shown; the next ones are not */
  guint poll_timer;
  guint refresh_timer;
};

static MdClientClock *
watch_clock (MdCtlWatch *watch)
{
  return md_client_get_clock (watch->client);
}

/* Output that went away ends the watch; trouble with the server is shown
 * once and then passes (the next poll tries again). */
static void
report (MdCtlWatch *watch, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    g_cancellable_cancel (watch->stop);
  else if (!watch->in_outage)
    md_ctl_printer_print_error (watch->printer, error->message);
  else
    md_ctl_printer_discard (watch->printer);
  watch->in_outage = TRUE;
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

static void fetch (MdCtlWatch *watch, FetchReason reason);
static void register_again (MdCtlWatch *watch);

typedef struct
{
  MdCtlWatch *watch;
  FetchReason reason;
  guint64 before;
} Fetch;

static void
complete_start (MdCtlWatch *watch, const GError *error)
{
  MdCtlWatchReadyFunc ready = watch->ready;

  watch->ready = NULL;
  if (ready != NULL)
    ready (error, watch->ready_data);
}

static void
on_fetched (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autofree Fetch *fetch_data = data;
  MdCtlWatch *watch = fetch_data->watch;
  g_autoptr (GError) error = NULL;

  if (!md_client_read_notes_finish (NULL, result, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the watch is gone */
  watch->fetching = FALSE;
  if (error == NULL)
    md_ctl_printer_flush (watch->printer, &error);
  if (error != NULL)
    {
      report (watch, error);
      if (fetch_data->reason == FETCH_FIRST)
        complete_start (watch, error);
      return;
    }
  watch->in_outage = FALSE;
  if (fetch_data->reason == FETCH_FIRST)
    complete_start (watch, NULL);
  /* Notes the doorbell did not announce: the daemon forgot us. */
  if (fetch_data->reason == FETCH_POLL
      && md_ctl_printer_get_last_id (watch->printer) > fetch_data->before)
    register_again (watch);
  if (watch->fetch_again)
    fetch (watch, FETCH_GAP);
}

static void
fetch (MdCtlWatch *watch, FetchReason reason)
{
  Fetch *fetch_data = g_new0 (Fetch, 1);

  fetch_data->watch = watch;
  fetch_data->reason = reason;
  fetch_data->before = md_ctl_printer_get_last_id (watch->printer);
  watch->fetching = TRUE;
  watch->fetch_again = FALSE;
  md_client_read_notes_async (watch->client, fetch_data->before, NULL, NULL, md_ctl_printer_feed,
                              watch->printer, watch->cancellable, on_fetched, fetch_data);
}

/* The id in a notification only says how far the notes go; the next note,
 * complete in one datagram, is printed as it is. */
static void
ring_doorbell (MdCtlWatch *watch, const MdClientResponse *response)
{
  gsize len = 0;
  const char *line = g_bytes_get_data (response->payload, &len);
  guint64 last = md_ctl_printer_get_last_id (watch->printer);
  guint64 id = 0;
  g_autoptr (GError) error = NULL;

  if (response->code != MD_COAP_CONTENT || !parse_latest (response, &id) || id <= last)
    return;
  if (watch->fetching)
    {
      watch->fetch_again = TRUE;
      return;
    }
  if (id != last + 1 || line[len - 1] != '\n' || (response->has_block2 && response->block2.more))
    {
      fetch (watch, FETCH_GAP);
      return;
    }
  if (!md_ctl_printer_feed ((const guint8 *)line, len, watch->printer, &error)
      || !md_ctl_printer_flush (watch->printer, &error))
    report (watch, error);
}

static void
on_notification (const MdClientResponse *notification, gpointer data)
{
  ring_doorbell (data, notification);
}

static void
on_registered_again (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClientResponse) response
      = md_client_observation_register_finish (NULL, result, &error);

  if (response != NULL)
    ring_doorbell (data, response);
  /* A failure shows in the next poll. */
}

static void
register_again (MdCtlWatch *watch)
{
  md_client_observation_register_async (watch->observation, watch->cancellable, on_registered_again,
                                        watch);
}

static void on_poll (gpointer data);
static void on_refresh (gpointer data);

static void
arm_timers (MdCtlWatch *watch)
{
  gint64 now = md_client_clock_now (watch_clock (watch));

  if (watch->poll_timer == 0)
    watch->poll_timer = md_client_clock_add_timer (
        watch_clock (watch), now + MD_CTL_WATCH_POLL_MS * G_TIME_SPAN_MILLISECOND, on_poll, watch);
  if (watch->refresh_timer == 0)
    watch->refresh_timer = md_client_clock_add_timer (
        watch_clock (watch), now + MD_CTL_WATCH_REFRESH_S * G_USEC_PER_SEC, on_refresh, watch);
}

static void
on_poll (gpointer data)
{
  MdCtlWatch *watch = data;

  watch->poll_timer = 0;
  arm_timers (watch);
  if (!watch->fetching)
    fetch (watch, FETCH_POLL);
}

static void
on_refresh (gpointer data)
{
  MdCtlWatch *watch = data;

  watch->refresh_timer = 0;
  arm_timers (watch);
  register_again (watch);
}

static guint64
first_after (MdCtlWatch *watch, guint64 latest)
{
  if (watch->last_n < 0)
    return 0;
  return latest > (guint64)watch->last_n ? latest - (guint64)watch->last_n : 0;
}

static void
on_first_registration (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClientResponse) response
      = md_client_observation_register_finish (NULL, result, &error);
  MdCtlWatch *watch = data;
  guint64 latest = 0;

  if (response == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (response != NULL && response->code != MD_COAP_CONTENT)
    md_client_response_set_error (response, &error);
  if (error != NULL)
    {
      complete_start (watch, error);
      return;
    }
  if (!response->has_observe)
    g_debug ("the server did not register the observation; polling");
  parse_latest (response, &latest);
  if (watch->started != NULL)
    watch->started (latest, watch->started_data);
  md_ctl_printer_set_last_id (watch->printer, first_after (watch, latest));
  fetch (watch, FETCH_FIRST);
  arm_timers (watch);
}

MdCtlWatch *
md_ctl_watch_new (MdClient *client, MdCtlPrinter *printer, GCancellable *stop)
{
  MdCtlWatch *watch;

  g_return_val_if_fail (client != NULL, NULL);
  g_return_val_if_fail (printer != NULL, NULL);
  g_return_val_if_fail (G_IS_CANCELLABLE (stop), NULL);

  watch = g_new0 (MdCtlWatch, 1);
  watch->client = md_client_ref (client);
  watch->printer = printer;
  watch->stop = g_object_ref (stop);
  watch->cancellable = g_cancellable_new ();
  watch->observation
      = md_client_observation_new (client, MD_PROTOCOL_PATH_LATEST, on_notification, watch);
  return watch;
}

void
md_ctl_watch_free (MdCtlWatch *watch)
{
  if (watch == NULL)
    return;
  g_cancellable_cancel (watch->cancellable);
  md_client_clock_clear_timer (watch_clock (watch), &watch->poll_timer);
  md_client_clock_clear_timer (watch_clock (watch), &watch->refresh_timer);
  md_client_observation_free (watch->observation);
  md_client_unref (watch->client);
  g_object_unref (watch->cancellable);
  g_object_unref (watch->stop);
  g_free (watch);
}

void
md_ctl_watch_set_started_func (MdCtlWatch *watch, MdCtlWatchStartedFunc func, gpointer user_data)
{
  g_return_if_fail (watch != NULL);

  watch->started = func;
  watch->started_data = user_data;
}

void
md_ctl_watch_start (MdCtlWatch *watch, gint64 last_n, MdCtlWatchReadyFunc ready, gpointer user_data)
{
  g_return_if_fail (watch != NULL);

  watch->last_n = last_n;
  watch->ready = ready;
  watch->ready_data = user_data;
  md_client_observation_register_async (watch->observation, watch->cancellable,
                                        on_first_registration, watch);
}
