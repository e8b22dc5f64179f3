#include "config.h"

#include "md-client-clock.h"

/* Bounds md_client_clock_advance(): timers that re-arm themselves at the
 * same instant must not spin forever. */
#define MAX_TIMERS_PER_ADVANCE 100000

typedef struct
{
  MdClientClock *clock;
  guint id;
  gint64 due;
  MdClientTimerFunc func;
  gpointer user_data;
  GSource *source; /* system clock only */
} Timer;

struct _MdClientClock
{
  gboolean manual;
  gint64 now; /* manual clock only */
  guint next_id;
  GHashTable *timers; /* id -> Timer */
};

static void
timer_free (gpointer data)
{
  Timer *timer = data;

  if (timer->source != NULL)
    {
      g_source_destroy (timer->source);
      g_source_unref (timer->source);
    }
  g_free (timer);
}

static MdClientClock *
clock_new (gboolean manual, gint64 start)
{
  MdClientClock *clock = g_rc_box_new0 (MdClientClock);

  clock->manual = manual;
  clock->now = start;
  clock->next_id = 1;
  clock->timers = g_hash_table_new_full (NULL, NULL, NULL, timer_free);
  return clock;
}

MdClientClock *
md_client_clock_new_system (void)
{
  return clock_new (FALSE, 0);
}

MdClientClock *
md_client_clock_new_manual (gint64 start)
{
  return clock_new (TRUE, start);
}

MdClientClock *
md_client_clock_ref (MdClientClock *clock)
{
  g_return_val_if_fail (clock != NULL, NULL);

  return g_rc_box_acquire (clock);
}

static void
clock_clear (gpointer data)
{
  MdClientClock *clock = data;

  g_hash_table_unref (clock->timers);
}

void
md_client_clock_unref (MdClientClock *clock)
{
  if (clock != NULL)
    g_rc_box_release_full (clock, clock_clear);
}

gint64
md_client_clock_now (MdClientClock *clock)
{
  g_return_val_if_fail (clock != NULL, 0);

  return clock->manual ? clock->now : g_get_monotonic_time ();
}

/* The timer leaves the table before its function runs, so the function may
 * add timers, remove others or drop the last reference to its owner. */
static void
fire (MdClientClock *clock, Timer *timer)
{
  MdClientTimerFunc func = timer->func;
  gpointer user_data = timer->user_data;

  g_hash_table_remove (clock->timers, GUINT_TO_POINTER (timer->id));
  func (user_data);
}

static gboolean
dispatch_timer (GSource *source, GSourceFunc callback, gpointer data)
{
  return callback (data);
}

static GSourceFuncs timer_source_funcs = { .dispatch = dispatch_timer };

static gboolean
on_source (gpointer data)
{
  Timer *timer = data;

  fire (timer->clock, timer);
  return G_SOURCE_REMOVE;
}

guint
md_client_clock_add_timer (MdClientClock *clock, gint64 due, MdClientTimerFunc func,
                           gpointer user_data)
{
  Timer *timer;

  g_return_val_if_fail (clock != NULL, 0);
  g_return_val_if_fail (func != NULL, 0);

  timer = g_new0 (Timer, 1);
  timer->clock = clock;
  timer->id = clock->next_id++;
  if (clock->next_id == 0)
    clock->next_id = 1;
  timer->due = due;
  timer->func = func;
  timer->user_data = user_data;
  if (!clock->manual)
    {
      /* A ready time in the monotonic clock: no rounding to milliseconds. */
      timer->source = g_source_new (&timer_source_funcs, sizeof (GSource));
      g_source_set_ready_time (timer->source, MAX (due, 0));
      g_source_set_callback (timer->source, on_source, timer, NULL);
      g_source_attach (timer->source, g_main_context_get_thread_default ());
    }
  g_hash_table_insert (clock->timers, GUINT_TO_POINTER (timer->id), timer);
  return timer->id;
}

void
md_client_clock_remove_timer (MdClientClock *clock, guint id)
{
  g_return_if_fail (clock != NULL);

  if (id != 0)
    g_hash_table_remove (clock->timers, GUINT_TO_POINTER (id));
}

static Timer *
earliest_timer (MdClientClock *clock)
{
  GHashTableIter iter;
  Timer *best = NULL;
  gpointer value;

  g_hash_table_iter_init (&iter, clock->timers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Timer *timer = value;

      if (best == NULL || timer->due < best->due
          || (timer->due == best->due && timer->id < best->id))
        best = timer;
    }
  return best;
}

gint64
md_client_clock_next_due (MdClientClock *clock)
{
  Timer *timer;

  g_return_val_if_fail (clock != NULL && clock->manual, -1);

  timer = earliest_timer (clock);
  return timer != NULL ? timer->due : -1;
}

void
md_client_clock_advance (MdClientClock *clock, gint64 delta)
{
  gint64 target;

  g_return_if_fail (clock != NULL && clock->manual);
  g_return_if_fail (delta >= 0);

  target = clock->now + delta;
  for (guint i = 0; i < MAX_TIMERS_PER_ADVANCE; i++)
    {
      Timer *timer = earliest_timer (clock);

      if (timer == NULL || timer->due > target)
        break;
      clock->now = MAX (clock->now, timer->due);
      fire (clock, timer);
    }
  clock->now = target;
}
