#include "config.h"

#include "md-notes-sync.h"

#include "md-error.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct _MdNotesSync
{
  int notes_fd;
  int event_fd; /* -1 until the thread starts */
  GThread *thread;
  GMutex lock;
  GCond changed;
  gboolean requested; /* the main loop asked for a sync */
  gboolean done;      /* the thread finished it; @sync_errno is its outcome */
  gboolean quit;
  int sync_errno;
  gboolean running; /* main loop only: started and not yet finished */
};

static void
signal_done (MdNotesSync *self, int sync_errno)
{
  const guint64 one = 1;

  g_mutex_lock (&self->lock);
  /* Before @done is visible: a main loop already waiting in
   * md_notes_sync_finish() would otherwise wake, find the counter still
   * empty, and leave this write to make the fd readable for a sync that has
   * not even started.  Cannot fail short of a bug: an eventfd counter takes
   * 2^64 - 2 writes. */
  while (write (self->event_fd, &one, sizeof one) < 0 && errno == EINTR)
    ;
  self->done = TRUE;
  self->sync_errno = sync_errno;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
}

static gpointer
run_thread (gpointer user_data)
{
  MdNotesSync *self = user_data;

  for (;;)
    {
      int result;

      g_mutex_lock (&self->lock);
      while (!self->requested && !self->quit)
        g_cond_wait (&self->changed, &self->lock);
      if (!self->requested)
        {
          g_mutex_unlock (&self->lock);
          return NULL;
        }
      self->requested = FALSE;
      g_mutex_unlock (&self->lock);
      result = fdatasync (self->notes_fd);
      signal_done (self, result < 0 ? errno : 0);
    }
}

MdNotesSync *
md_notes_sync_new (int fd)
{
  MdNotesSync *self;

  g_return_val_if_fail (fd >= 0, NULL);

  self = g_new0 (MdNotesSync, 1);
  self->notes_fd = fd;
  self->event_fd = -1;
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);
  return self;
}

static gboolean
start_thread (MdNotesSync *self, GError **error)
{
  self->event_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->event_fd < 0)
    {
      md_error_set_errno (error, errno, "cannot create an eventfd for the notes file's sync");
      return FALSE;
    }
  self->thread = g_thread_try_new ("md-notes-sync", run_thread, self, error);
  return self->thread != NULL;
}

gboolean
md_notes_sync_start (MdNotesSync *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (self->thread == NULL && !start_thread (self, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  self->requested = TRUE;
  self->done = FALSE;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);
  self->running = TRUE;
  return TRUE;
}

gboolean
md_notes_sync_is_running (MdNotesSync *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->running;
}

int
md_notes_sync_get_fd (MdNotesSync *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->event_fd;
}

gboolean
md_notes_sync_finish (MdNotesSync *self, GError **error)
{
  guint64 count;
  int sync_errno;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->running, FALSE);

  g_mutex_lock (&self->lock);
  while (!self->done)
    g_cond_wait (&self->changed, &self->lock);
  self->done = FALSE;
  sync_errno = self->sync_errno;
  g_mutex_unlock (&self->lock);
  /* Empties the counter, so the fd polls readable only for the next one. */
  while (read (self->event_fd, &count, sizeof count) < 0 && errno == EINTR)
    ;
  self->running = FALSE;
  if (sync_errno == 0)
    return TRUE;
  md_error_set_errno (error, sync_errno, "cannot sync the notes file");
  return FALSE;
}

void
md_notes_sync_free (MdNotesSync *self)
{
  if (self == NULL)
    return;
  /* The thread must not outlive the file; the outcome concerns nobody now. */
  if (self->running && !md_notes_sync_finish (self, NULL))
    g_debug ("the last sync of the notes file failed");
  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      g_cond_broadcast (&self->changed);
      g_mutex_unlock (&self->lock);
      g_thread_join (self->thread);
    }
  if (self->event_fd >= 0)
    close (self->event_fd);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);
  g_free (self);
}
