/* Structured logging: the events an operator filters on (journalctl
 * MESSAGE_ID=...), one helper each, with md-protocol.h's ids and field
 * names; and the writer, which goes to the journal when stderr is connected
 * to it and to stderr (coloured on a TTY, never with NO_COLOR) otherwise. */
#pragma once

#include "md-protocol.h"

#include <glib.h>

G_BEGIN_DECLS

/* Installs the writer; call first thing in main(). */
void md_log_init (gboolean verbose);

/* Between these, lines for stderr (not the journal) are held and written
 * together at the release: the pipeline brackets a burst of datagrams with
 * them, so a batch's events cost one write instead of one each.  Warnings
 * and worse are never held.  Main loop only. */
void md_log_hold (void);
void md_log_release (void);

/* ---- events (md-log-events.c) ---- */

/* "started version V on ADDRESSES with N notes in PATH". */
void md_log_started (const char *addresses, guint64 count, const char *path);
void md_log_stopped (guint64 count);
/* Note @id by @author from @peer is durable; @key is its key or "" (then no
 * NOTE_KEY=). */
void md_log_note_stored (guint64 id, const char *key, const char *author, const char *peer);
/* A commit failed: @n_lost notes were answered 5.03. */
void md_log_commit_failed (const char *reason, guint n_lost);
/* The store refuses appends from now on: @reason says why and what to do. */
void md_log_store_broken (const char *reason);
/* A torn tail of the notes file @path was dropped at start. */
void md_log_recovered (const char *path, guint64 dropped_bytes, guint64 kept_records,
                       const char *reason);
/* A datagram of @len bytes to @peer could not be sent (debug: UDP loses
 * datagrams anyway, and the client retransmits). */
void md_log_send_failed (const char *peer, gsize len, int errno_value);

/* ---- limits (md-log-limits.c): at most one message per
 * MD_LOG_LIMIT_INTERVAL_US each, counting the refusals in between ---- */

#define MD_LOG_LIMIT_INTERVAL_US (G_GINT64_CONSTANT (60) * G_USEC_PER_SEC)

/* An add from @peer refused because the notebook is full (@reason says
 * how full). */
void md_log_notebook_full (const char *peer, const char *reason, gint64 now_us);
/* An add from @peer refused by its rate limit. */
void md_log_rate_limited (const char *peer, const char *reason, gint64 now_us);
/* A datagram from @peer on the plain port dropped: outside PlainFrom=. */
void md_log_plain_refused (const char *peer, gint64 now_us);

/* A request from @peer answered with the error @code ("4.00") for @reason.
 * Each is logged, up to MD_LOG_REJECTED_BURST per interval; past that they
 * are counted, and the next one logged after the interval says how many
 * went unlogged (REFUSED=). */
#define MD_LOG_REJECTED_BURST 60
void md_log_request_rejected (const char *peer, const char *code, const char *reason);
/* The same at @now_us (monotonic), for tests. */
void md_log_request_rejected_at (const char *peer, const char *code, const char *reason,
                                 gint64 now_us);

G_END_DECLS
