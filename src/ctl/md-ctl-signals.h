/* Termination signals (SIGINT, SIGTERM, SIGHUP) for mydailyctl.
 *
 * They are blocked in every thread and taken by one thread of their own,
 * which either cancels the returned GCancellable (once "graceful") or dies
 * of the signal as if it had never been blocked. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Call before any other thread starts. */
GCancellable *md_ctl_signals_init (void);
/* From now on a termination signal cancels instead of killing. */
void md_ctl_signals_set_graceful (void);

G_END_DECLS
