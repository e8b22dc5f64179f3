/* What mydailyd tells its service manager (sd_notify): READY=1 once it
 * serves, STATUS= whenever the server's one-line summary changes, WATCHDOG=1
 * at half of WatchdogSec, STOPPING=1 on the way out.  Without systemd
 * ($NOTIFY_SOCKET unset) sd_notify does nothing and no timer runs. */
#pragma once

#include "md-server.h"

G_BEGIN_DECLS

typedef struct _MdNotify MdNotify;

/* Sends READY=1 with a first STATUS= from @server (not owned; must outlive
 * the result), and starts the STATUS= refresh and the watchdog. */
MdNotify *md_notify_ready (MdServer *server);
/* STOPPING=1: the daemon answers what is queued, then exits. */
void md_notify_stopping (MdNotify *self);
/* Stops the timers. */
void md_notify_free (MdNotify *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdNotify, md_notify_free)

G_END_DECLS
