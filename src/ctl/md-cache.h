/* The client's cache of one notebook: its notes exactly as the server served
 * them, so a read fetches only what is new (?after=LAST) and history works
 * with the server down.
 *
 * Where: DIR/NOTEBOOK/, DIR normally $XDG_CACHE_HOME/mydaily (see
 * md_cache_default_dir) and NOTEBOOK the notebook's identity, a UUID in
 * lower case.  A re-created notebook has a new identity and so a cache of
 * its own: two notebooks never mix.
 *   notes          the served wire lines of notes 1..N, byte for byte
 *   meta           "server=HOST:PORT\nfetched=UNIX-TIME\n": where and when
 *                  the cache was last brought up to date
 *   lock           every process that changes the cache holds flock on it
 *   notes.damaged  a notes file that failed the checks, set aside
 *   notes.replaced a notes file that no longer matched the server
 * All of it is the user's alone (md-private-file.h).
 *
 * Trust: a line enters the cache only after md_note_parse_wire_line accepts
 * it, with ids consecutive from 1 and times never going backwards; the same
 * checks run over the whole file at every open.  A file that fails them is
 * set aside and the cache starts empty (md_cache_get_repair says why); a
 * last line without its newline (a crash during an append) is cut off.  The
 * cache never holds more than the notebook does, so the notebook bounds it.
 *
 * Memory: the file is mapped, and the cache keeps one offset per note.
 *
 * Served lines are stored opaquely and only read through
 * md_note_parse_wire_line, so a new wire format changes md-note.c alone.
 * A cache the previous version wrote (lines without the AUTHOR field) is
 * stale, not damaged: it is set aside as notes.replaced, quietly, and the
 * notes are fetched again.  A redaction (ARCHITECTURE.md "Later: corrections")
 * overwrites a note's text in place with filler of the same byte length. */
#pragma once

#include "md-note.h"

#include <glib.h>

G_BEGIN_DECLS

/* What a redaction writes over each byte of a note's text.  It must be the
 * daemon's filler, so a redacted cache still matches the server byte for
 * byte; move it to md-note.h when the daemon redacts. */
#define MD_CACHE_REDACTION_FILLER 'x'

typedef struct _MdCache MdCache;

/* $XDG_CACHE_HOME/mydaily. */
char *md_cache_default_dir (void);

/* Opens (making when missing) the cache of @notebook under @dir.  Fails only
 * when the cache cannot be used at all (not the user's, a symbolic link,
 * I/O); a damaged file is not a failure but is set aside. */
MdCache *md_cache_open (const char *dir, const char *notebook, GError **error);
void md_cache_free (MdCache *cache);

const char *md_cache_get_notebook (MdCache *cache);
/* A sentence for stderr if opening set a damaged file aside, else NULL. */
const char *md_cache_get_repair (MdCache *cache);

/* The number of notes cached, which is also the last one's id. */
guint64 md_cache_get_count (MdCache *cache);
/* The served line of note @id (1 to count), its '\n' included.  It points
 * into the cache and stays valid until the next call that changes it. */
const char *md_cache_get_line (MdCache *cache, guint64 id, gsize *len);
/* Note @id, parsed; its text points into the cache like the line.  FALSE
 * only if another program broke the file since it was checked. */
gboolean md_cache_get_note (MdCache *cache, guint64 id, MdNoteLine *note);
/* TRUE if the server's line @line (with or without '\n') for note @id is
 * the cached one: the check that the cache still belongs to the server. */
gboolean md_cache_matches (MdCache *cache, guint64 id, const char *line, gsize len);

/* Adds served lines (complete, each with its '\n').  Lines the cache holds
 * already are compared and skipped, so overlapping fetches are harmless;
 * the rest must continue the cache.  On a cached line that differs the
 * error is MD_ERROR_CORRUPT_STORE (the server is not the cached notebook:
 * md_cache_reset, then fetch again); on anything else that breaks the
 * checks MD_ERROR_MALFORMED.  Either way nothing is added.  Durable when it
 * returns (fdatasync); another process's appends are picked up first. */
gboolean md_cache_append (MdCache *cache, const char *lines, gsize len, GError **error);

/* Sets the notes aside as notes.replaced and starts empty: the server no
 * longer matches the cache. */
gboolean md_cache_reset (MdCache *cache, GError **error);

/* Records that the cache was brought up to date from @server at @now. */
gboolean md_cache_set_fetched (MdCache *cache, const char *server, gint64 now, GError **error);
/* When and from where it last was: 0 and NULL if never (or unknown). */
gint64 md_cache_get_fetched (MdCache *cache);
const char *md_cache_get_server (MdCache *cache);

/* Overwrites the text of each note in @ids with MD_CACHE_REDACTION_FILLER,
 * byte for byte, keeping every id and offset.  Ids the cache does not hold
 * yet are skipped: the server serves them redacted already. */
gboolean md_cache_redact (MdCache *cache, const guint64 *ids, gsize n_ids, GError **error);

/* The notebook whose cache under @dir was last fetched from @server, for
 * reading history while @server does not answer; NULL if none. */
char *md_cache_find_notebook (const char *dir, const char *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCache, md_cache_free)

G_END_DECLS
