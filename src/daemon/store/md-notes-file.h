/* The notes file as a file: creating it durably, locking it, and the
 * system calls on it with their retries and errors.
 *
 * What the records mean is md-record.h's business, and when to sync or
 * truncate is the store's. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Creates @directory if needed, then opens (creating if needed) the notes
 * file @path in it for appending, and locks it.  Any directory entry it
 * creates is made durable.  Returns the descriptor, or -1. */
int md_notes_file_open (const char *directory, const char *path, GError **error);

/* Makes the entries of @directory (a file created or renamed in it) durable. */
gboolean md_notes_file_sync_directory (const char *directory,
                                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Appends @data whole (retrying short writes), or fails with MD_ERROR_IO or
 * MD_ERROR_NO_SPACE; then some of it may have been written. */
gboolean md_notes_file_write (int fd, const char *data, gsize len,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Reads exactly @len bytes at @offset. */
gboolean md_notes_file_pread (int fd, guint8 *buf, gsize len, guint64 offset,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Cuts the file to @size; on failure sets @errno_out. */
gboolean md_notes_file_truncate (int fd, guint64 size, int *errno_out) G_GNUC_WARN_UNUSED_RESULT;
/* Makes everything written so far durable. */
gboolean md_notes_file_sync (int fd, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
