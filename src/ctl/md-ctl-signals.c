#include "config.h"

#include "md-ctl-signals.h"

#include <pthread.h>
#include <signal.h>

static gint graceful_signals;

static void
termination_signals (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGTERM);
  sigaddset (set, SIGHUP);
}

static gpointer
signal_thread (gpointer data)
{
  GCancellable *cancellable = data;
  sigset_t set;
  int signum = 0;

  termination_signals (&set);
  while (sigwait (&set, &signum) == 0)
    {
      if (g_atomic_int_get (&graceful_signals))
        {
          g_cancellable_cancel (cancellable);
          continue;
        }
      /* Die of the signal, as if it had never been blocked. */
      signal (signum, SIG_DFL);
      pthread_sigmask (SIG_UNBLOCK, &set, NULL);
      raise (signum);
    }
  return NULL;
}

GCancellable *
md_ctl_signals_init (void)
{
  GCancellable *cancellable = g_cancellable_new ();
  sigset_t set;

  termination_signals (&set);
  pthread_sigmask (SIG_BLOCK, &set, NULL);
  /* A pager that quits early must end the output quietly, not kill us. */
  signal (SIGPIPE, SIG_IGN);
  g_thread_unref (g_thread_new ("signals", signal_thread, g_object_ref (cancellable)));
  return cancellable;
}

void
md_ctl_signals_set_graceful (void)
{
  g_atomic_int_set (&graceful_signals, TRUE);
}
