/* The client's sense of time, injected so that tests control it.
 *
 * Every timer of the client library (retransmission, deadlines, refreshes)
 * goes through an MdClientClock.  The system clock reads the monotonic time
 * and fires timers from the thread-default main context; the manual clock
 * stands still until md_client_clock_advance() moves it, which fires the
 * timers that fell due, in order. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MdClientClock MdClientClock;

typedef void (*MdClientTimerFunc) (gpointer user_data);

MdClientClock *md_client_clock_new_system (void);
/* Starts at @start (microseconds). */
MdClientClock *md_client_clock_new_manual (gint64 start);
MdClientClock *md_client_clock_ref (MdClientClock *clock);
void md_client_clock_unref (MdClientClock *clock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClientClock, md_client_clock_unref)

/* Monotonic microseconds. */
gint64 md_client_clock_now (MdClientClock *clock);
/* Calls @func once, when the clock reaches @due; returns an id > 0. */
guint md_client_clock_add_timer (MdClientClock *clock, gint64 due, MdClientTimerFunc func,
                                 gpointer user_data);
/* Forgets a timer that has not fired; 0 is ignored. */
void md_client_clock_remove_timer (MdClientClock *clock, guint id);

/* Manual clock only: moves time forward by @delta, firing due timers. */
void md_client_clock_advance (MdClientClock *clock, gint64 delta);
/* Manual clock only: when the next timer falls due, or -1 with none. */
gint64 md_client_clock_next_due (MdClientClock *clock);

/* Removes the timer in *@id, if any, and sets *@id to 0. */
static inline void
md_client_clock_clear_timer (MdClientClock *clock, guint *id)
{
  md_client_clock_remove_timer (clock, *id);
  *id = 0;
}

G_END_DECLS
