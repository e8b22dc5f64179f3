/* Termination signals (SIGINT, SIGTERM, SIGHUP) for mydailyctl.
 *
 * They are blocked in every thread and taken by one thread of their own,
 * which either cancels the returned GCancellable (once "graceful") or dies
 * of the signal as if it had never been blocked. */
#pragma once

#include <gio/gio.h>
#include <termios.h>

G_BEGIN_DECLS

/* Call before any other thread starts. */
GCancellable *md_ctl_signals_init (void);
/* From now on a termination signal cancels instead of killing. */
void md_ctl_signals_set_graceful (void);
/* While a prompt has changed stdin's terminal: the settings (of stdin) to
 * restore if a signal kills us first. */
void md_ctl_signals_save_terminal (const struct termios *saved);
void md_ctl_signals_clear_terminal (void);

G_END_DECLS
