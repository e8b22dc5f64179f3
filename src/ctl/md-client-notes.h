/* Reading the notes body, GET /notes?after=N, for every command that
 * prints notes and for the cache.
 *
 * A cache that holds notes up to N asks for what is new and, in the same
 * read, checks that note N is still the one it holds: with @expected_line
 * (note N's wire line, without its newline) the read starts at note N
 * (?after=N-1), compares that first line, and hands only the notes after it
 * to the sink.  A mismatch, or no note N at all, fails with
 * MD_CLIENT_NOTES_ERROR_CHANGED: a re-created notebook or another server. */
#pragma once

#include <gio/gio.h>

#include "md-client-blockwise.h"

G_BEGIN_DECLS

#define MD_CLIENT_NOTES_ERROR (md_client_notes_error_quark ())

typedef enum
{
  MD_CLIENT_NOTES_ERROR_CHANGED,
} MdClientNotesError;

GQuark md_client_notes_error_quark (void);

/* Notes with ids above @after (0: all), in order, to @func.  @expected_line
 * needs @after > 0; @limits may be NULL. */
void md_client_read_notes_async (MdClient *client, guint64 after, const char *expected_line,
                                 const MdClientBodyLimits *limits, MdClientBodyFunc func,
                                 gpointer func_data, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean md_client_read_notes_finish (MdClient *client, GAsyncResult *result, GError **error);

G_END_DECLS
