#include "config.h"

#include "md-notify.h"

#include <systemd/sd-daemon.h>

/* STATUS= is refreshed at most this often, and only when it changed. */
#define MD_NOTIFY_STATUS_INTERVAL_S 1

struct _MdNotify
{
  MdServer *server; /* not owned */
  char *status;     /* last STATUS= sent */
  guint status_id;
  guint watchdog_id;
};

static gboolean
refresh_status (gpointer user_data)
{
  MdNotify *self = user_data;
  g_autofree char *status = md_server_describe (self->server);

  if (g_strcmp0 (status, self->status) != 0)
    {
      sd_notifyf (FALSE, "STATUS=%s", status);
      g_free (self->status);
      self->status = g_steal_pointer (&status);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
send_watchdog (gpointer user_data)
{
  sd_notify (FALSE, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

/* A STATUS= poll only when someone listens, so a plain run wakes up for
 * datagrams alone. */
MdNotify *
md_notify_ready (MdServer *server)
{
  MdNotify *self;
  guint64 watchdog_us = 0;

  g_return_val_if_fail (server != NULL, NULL);

  self = g_new0 (MdNotify, 1);
  self->server = server;
  self->status = md_server_describe (server);
  sd_notifyf (FALSE, "READY=1\nSTATUS=%s", self->status);
  if (g_getenv ("NOTIFY_SOCKET") != NULL)
    self->status_id = g_timeout_add_seconds (MD_NOTIFY_STATUS_INTERVAL_S, refresh_status, self);
  if (sd_watchdog_enabled (FALSE, &watchdog_us) > 0)
    self->watchdog_id = g_timeout_add (MAX (watchdog_us / 2 / 1000, 1), send_watchdog, self);
  return self;
}

void
md_notify_stopping (MdNotify *self)
{
  g_return_if_fail (self != NULL);

  sd_notify (FALSE, "STOPPING=1");
}

void
md_notify_free (MdNotify *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->status_id, g_source_remove);
  g_clear_handle_id (&self->watchdog_id, g_source_remove);
  g_free (self->status);
  g_free (self);
}
