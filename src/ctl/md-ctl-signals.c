#include "config.h"

#include "md-ctl-signals.h"

#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

static gint graceful_signals;
/* The terminal's settings to put back before dying of a signal. */
static GMutex terminal_lock;
static gboolean terminal_saved;
static struct termios terminal;

static void
restore_terminal (void)
{
  g_mutex_lock (&terminal_lock);
  if (terminal_saved)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &terminal);
  g_mutex_unlock (&terminal_lock);
}

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
      /* Die of the signal, as if it had never been blocked; a prompt that
       * turned echo off must not leave the terminal so. */
      restore_terminal ();
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

void
md_ctl_signals_save_terminal (const struct termios *saved)
{
  g_mutex_lock (&terminal_lock);
  terminal = *saved;
  terminal_saved = TRUE;
  g_mutex_unlock (&terminal_lock);
}

void
md_ctl_signals_clear_terminal (void)
{
  g_mutex_lock (&terminal_lock);
  terminal_saved = FALSE;
  g_mutex_unlock (&terminal_lock);
}
