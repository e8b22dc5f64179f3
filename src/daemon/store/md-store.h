/* The notes file: append-only plain text under the state directory.
 *
 * File: STATE_DIRECTORY/notes, one record per line,
 *   "ID\tTIME\tKEY\tAUTHOR\tTEXT\n"
 * ID counts from 1 with no gaps, TIME is RFC 3339 UTC, KEY the client's UUID
 * or "-", AUTHOR who wrote it (md-note.h).  Records of files written before
 * authors existed have no AUTHOR field; they are read as they are, served
 * with the author "-", and never rewritten (md-record.h).  A person can cat
 * and grep it.
 *
 * Appends are written at once (so a crash can tear only the last records) but
 * are durable only after a commit, which is one fdatasync for all appends
 * since the last commit (group commit), on the main loop or in a worker
 * thread while the next appends are made (pipelined).  Nothing ever rewrites the
 * file: opening truncates a torn tail (and logs it), a failed append or commit
 * truncates back to the last durable size.
 *
 * Memory is an index of two offsets per note plus a table of 128-bit keys:
 * no note text is held.  Reads of the /notes body are served from the file by
 * binary search, so their cost does not grow with the history. */
#pragma once

#include "md-store-scan.h"

G_BEGIN_DECLS

/* The notes file's name in the state directory. */
#define MD_STORE_NOTES_FILE "notes"

typedef struct _MdStore MdStore;

/* Opens (creating if needed) DIRECTORY/notes and its identity
 * DIRECTORY/notebook-id, and indexes the notes.  A torn tail (a last line
 * without its '\n') is truncated away and reported in @recovery and the log.
 * A complete line that does not parse, the last one too, is
 * MD_ERROR_CORRUPT_STORE naming the line: the store refuses rather than drop
 * acknowledged notes.  md_notes_file_open() says which files and directories
 * it refuses. */
MdStore *md_store_open (const char *directory, MdStoreRecovery *recovery, GError **error);
void md_store_free (MdStore *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdStore, md_store_free)

const char *md_store_get_path (MdStore *self);
/* The notebook's identity, a lowercase UUID (md-notebook-id.h): made with
 * the notes file, or at the first open of a notes file that had none. */
const char *md_store_get_notebook_id (MdStore *self);

/* Durable notes (ids 1..count): the only ones reads show. */
guint64 md_store_get_count (MdStore *self);
/* Durable plus pending notes. */
guint64 md_store_get_last_id (MdStore *self);
gboolean md_store_has_pending (MdStore *self);

/* The size cap (MaxNotesFileSize=): an append that would make the file
 * longer fails with MD_ERROR_NOTEBOOK_FULL and writes nothing.  No cap
 * (G_MAXUINT64) until set; a file already past a lowered cap stays as it is. */
void md_store_set_max_size (MdStore *self, guint64 max_size);
guint64 md_store_get_max_size (MdStore *self);
/* Bytes of the notes file, pending appends included. */
guint64 md_store_get_size (MdStore *self);

/* Writes a note (already validated with md_note_validate) and gives it the
 * next id.  @key is a canonical UUID or NULL, @author a valid author
 * (md_note_author_is_valid).  On failure (MD_ERROR_NO_SPACE,
 * MD_ERROR_IO, MD_ERROR_NOTEBOOK_FULL) the file is truncated back and nothing
 * of this note remains. */
gboolean md_store_append (MdStore *self, const char *key, const char *author, const char *text,
                          gsize text_len, gint64 unix_time, guint64 *id,
                          GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Makes every pending append durable with one fdatasync (after the
 * pipelined commit that runs, if one does).  On failure all pending appends
 * are undone (file truncated, ids and keys forgotten). */
gboolean md_store_commit (MdStore *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The pipelined commit: the fdatasync runs in a worker thread while the
 * main loop goes on appending; at most one runs at a time.
 *
 * Starts one for every append so far (none when nothing is pending).
 * FALSE when no worker could be made; then the appends stay pending. */
gboolean md_store_commit_start (MdStore *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean md_store_commit_is_running (MdStore *self);
/* Readable once the running commit has ended: for poll() or a GSource. */
int md_store_commit_get_fd (MdStore *self);
/* Waits for the running commit.  On success the notes appended before it
 * started are durable (md_store_get_count), later appends stay pending; on
 * failure every append not yet durable is undone, as by md_store_commit. */
gboolean md_store_commit_finish (MdStore *self, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Finds a durable or pending note by key. */
gboolean md_store_lookup_key (MdStore *self, const char *key, guint64 *id);

/* Appends the wire line of note @id (durable or pending) to @out. */
gboolean md_store_append_wire_line (MdStore *self, guint64 id, GString *out,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The body of GET /notes?after=AFTER is the wire lines of the durable notes
 * with id > AFTER, concatenated.  Returns its total size. */
guint64 md_store_get_body_size (MdStore *self, guint64 after);
/* Reads up to @len bytes of that body starting at @offset into @buf; returns
 * the number of bytes read (0 at or past the end) or -1 on error. */
gssize md_store_read_body (MdStore *self, guint64 after, guint64 offset, guint8 *buf, gsize len,
                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
