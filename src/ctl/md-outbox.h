/* The outbox: notes that got no answer, kept until the server stores them.
 *
 * Where: DIR, normally $XDG_STATE_HOME/mydaily/outbox (mode 0700, the
 * user's alone: md-private-file.h).  One file per note, KEY.note, made by
 * writing a temporary file, fsync, rename and an fsync of the directory, so
 * a note is either queued whole or not at all:
 *
 *   mydaily-outbox 1
 *   key=KEY                 the note's UUID, sent as PUT /notes/KEY
 *   notebook=NOTEBOOK       the notebook's identity, or "-" (not known yet)
 *   server=HOST:PORT        the address it was written for
 *   queued=MICROSECONDS     unix time it was queued, for the order
 *   text=TEXT               the note (md_note_validate)
 *
 * An entry that does not parse is renamed KEY.note.damaged and reported in
 * the warnings; one the server refused (md_outbox_reject) becomes
 * KEY.note.rejected.  Both stay for the user to read and are never sent.
 *
 * Exactly once: each entry carries its key, and the server stores a key
 * once (PUT /notes/KEY with If-None-Match; a repeat gets 4.12 with the
 * stored line).  So sending an entry twice can never store it twice; the
 * rules below only keep runs from wasting time on each other's work:
 *
 *  - Flushing a notebook's entries takes md_outbox_try_lock on that
 *    notebook (flock on NOTEBOOK.lock, never waiting).  A second run finds
 *    it busy and leaves the entries to the first; the first sends them in
 *    the order they were queued and removes each after its 2.01 or 4.12,
 *    before the next.  A run killed mid-flush loses the lock with its
 *    process; the entry it was sending is still there and the next flush
 *    sends it again, getting 4.12.
 *  - Adding needs no lock: a new entry appears whole by rename, and a
 *    flush that listed before it appeared leaves it to the next flush.
 *
 * Entries belong to one notebook and are never sent to another.  The
 * client binds an entry to the notebook it last saw at the server (the
 * cache knows it) when it queues it; only a server never reached has no
 * known notebook.  Rule for those: the entry keeps the address it was
 * written for, and the first run that reaches that address and learns the
 * notebook behind it binds every such entry to that notebook
 * (md_outbox_bind), before flushing: the notebook that answered at the
 * address the user wrote to is the one the note was meant for.  The
 * address is compared as a string, so the client must pass it in one
 * canonical form (as it prints it, "HOST:PORT").  Binding holds bind.lock
 * and rereads each entry under it, so an entry is bound once and never
 * rebound. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The outbox refuses more notes than this: a client that has queued ten
 * thousand is not going to reach its server by queueing more. */
#define MD_OUTBOX_MAX_ENTRIES 10000

typedef struct _MdOutbox MdOutbox;
typedef struct _MdOutboxLock MdOutboxLock;

typedef struct
{
  char *key;      /* canonical UUID, lower case */
  char *notebook; /* lower case; NULL if not bound yet */
  char *server;
  gint64 queued; /* unix time in microseconds */
  char *text;    /* NUL-terminated; a valid note */
  gsize text_len;
} MdOutboxEntry;

void md_outbox_entry_free (MdOutboxEntry *entry);

/* $XDG_STATE_HOME/mydaily/outbox. */
char *md_outbox_default_dir (void);

/* Opens @dir, making it when missing. */
MdOutbox *md_outbox_open (const char *dir, GError **error);
void md_outbox_free (MdOutbox *outbox);

/* Queues @text under @key for @notebook (NULL when not known) at @server.
 * Queueing the same key with the same note again is a no-op; with another
 * note it is an error.  Durable when it returns. */
gboolean md_outbox_add (MdOutbox *outbox, const char *notebook, const char *server, const char *key,
                        const char *text, gsize text_len, gint64 queued, GError **error);

/* The entries bound to @notebook, in the order they were queued. */
GPtrArray *md_outbox_list (MdOutbox *outbox, const char *notebook, GError **error);

/* TRUE if no note waits for any notebook: then a run need not ask the
 * server which notebook it is before adding. */
gboolean md_outbox_is_empty (MdOutbox *outbox);

/* How many notes wait for @notebook (may be NULL), counting the unbound
 * ones written for @server (may be NULL): what `status` shows. */
guint md_outbox_count (MdOutbox *outbox, const char *notebook, const char *server);

/* Binds the entries written for @server with no notebook to @notebook;
 * *@n_bound (may be NULL) says how many. */
gboolean md_outbox_bind (MdOutbox *outbox, const char *server, const char *notebook, guint *n_bound,
                         GError **error);

/* Forgets the entry of @key: the server answered 2.01 or 4.12.  An entry
 * already gone is not an error. */
gboolean md_outbox_remove (MdOutbox *outbox, const char *key, GError **error);

/* Sets the entry of @key aside as KEY.note.rejected: the server refused
 * the note itself (4.xx other than 4.12), so sending it again cannot help. */
gboolean md_outbox_reject (MdOutbox *outbox, const char *key, GError **error);

/* Takes the right to flush @notebook's entries, without waiting: NULL and
 * G_IO_ERROR_BUSY if another run holds it. */
MdOutboxLock *md_outbox_try_lock (MdOutbox *outbox, const char *notebook, GError **error);
void md_outbox_unlock (MdOutboxLock *lock);

/* Sentences for stderr about entries set aside as damaged since open. */
const GPtrArray *md_outbox_get_warnings (MdOutbox *outbox);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdOutboxEntry, md_outbox_entry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdOutbox, md_outbox_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdOutboxLock, md_outbox_unlock)

G_END_DECLS
