/* Shared pieces of the reliability tests: seeds a failing run can repeat,
 * the "client C note N" workload and its exactly-once check, the lossy relay
 * as a child process, and exit status 77 when every test was skipped. */
#pragma once

#include "md-test-daemon.h"

G_BEGIN_DECLS

/* ---- running ---- */

/* g_test_add_func that counts the tests which ran. */
void md_rel_add (const char *path, void (*func) (void));
/* g_test_skip, remembered for md_rel_run. */
void md_rel_skip (const char *reason);
/* g_test_run; 77 (meson's "skipped") when every test that ran was skipped. */
int md_rel_run (void);

/* $MD_TEST_SEED when set, else a fresh one; logged either way so that a
 * failure can be repeated with MD_TEST_SEED=N. */
guint32 md_rel_seed (const char *test);

/* Seconds since @start (a g_get_monotonic_time value). */
double md_rel_seconds_since (gint64 start);

/* ---- the workload ---- */

/* "client C note N" */
char *md_rel_note_text (guint client, guint note);
/* Notes 1..@n_notes of @client, one a line: the stdin of "add -". */
GBytes *md_rel_client_input (guint client, guint n_notes);

/* Every note of every client stored exactly once, each client's notes in its
 * sending order, ids 1..N without gaps, every key a distinct UUID. */
void md_rel_assert_exactly_once (GPtrArray *records, guint n_clients, guint n_notes);

/* The client ended with 0, and the ids it printed ("added note ID") name the
 * records holding its notes. */
void md_rel_assert_client_ok (MdTestCtlResult *result, GPtrArray *records, guint client,
                              guint n_notes);

/* ---- the lossy relay ---- */

typedef struct _MdRelRelay MdRelRelay;

/* FALSE with a reason when $MD_LOSSY_RELAY does not name the built relay. */
gboolean md_rel_relay_available (char **reason);
/* Starts $MD_LOSSY_RELAY --listen=127.0.0.1:0 --upstream=@upstream ARGS and
 * waits for its "listening on ADDR:PORT" line. */
MdRelRelay *md_rel_relay_start (const char *upstream, const char *const *args, GError **error);
/* "127.0.0.1:PORT" clients send to. */
const char *md_rel_relay_get_address (MdRelRelay *relay);
/* SIGTERM, waits for the exit and returns what the relay printed after its
 * first line (its drop and duplicate counts). */
char *md_rel_relay_stop (MdRelRelay *relay);
void md_rel_relay_free (MdRelRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdRelRelay, md_rel_relay_free)

G_END_DECLS
