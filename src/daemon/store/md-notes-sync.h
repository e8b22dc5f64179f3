/* fdatasync of the notes file off the main loop: one worker thread that
 * syncs when asked and says so through an eventfd the main loop can poll,
 * so the next batch is read and appended while this one becomes durable.
 *
 * One sync runs at a time.  The thread only calls fdatasync(); every
 * change to the file and to the store's state stays on the main loop. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MdNotesSync MdNotesSync;

/* For the notes file @fd (not owned); the thread starts at the first sync. */
MdNotesSync *md_notes_sync_new (int fd);
/* Waits for a running sync, then ends the thread. */
void md_notes_sync_free (MdNotesSync *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdNotesSync, md_notes_sync_free)

/* Starts an fdatasync of everything written so far; none may be running. */
gboolean md_notes_sync_start (MdNotesSync *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean md_notes_sync_is_running (MdNotesSync *self);
/* Readable while a finished sync waits for md_notes_sync_finish(). */
int md_notes_sync_get_fd (MdNotesSync *self);
/* Waits for the running sync to end and returns its outcome. */
gboolean md_notes_sync_finish (MdNotesSync *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
