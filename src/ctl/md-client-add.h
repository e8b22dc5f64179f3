/* Storing one note exactly once: PUT /notes/KEY with If-None-Match, so
 * that no retransmission, client restart or later resend from an outbox
 * stores it twice.  2.01 and 4.12 both carry the stored line; under the
 * same key it is our note, unless the key was reused for other text. */
#pragma once

#include <gio/gio.h>

#include "md-client.h"

G_BEGIN_DECLS

/* Past its rate limit the server answers 5.03 with Max-Age, the seconds to
 * wait; the add waits that long on the client's clock and sends the same
 * PUT again, as often as asked, for at most this long in all per note.
 * Each attempt is still bounded by the timeout; waiting is not silence.
 * A 5.03 without Max-Age (notebook full, disk error) is a refusal. */
#define MD_CLIENT_ADD_MAX_BUSY_WAIT_S 600

/* @key: a UUID (md_note_key_is_valid()); @text need not be NUL-terminated.
 * Rejections, local or by the server, read "note rejected: REASON"
 * (MD_ERROR_INVALID_NOTE or MD_ERROR_REJECTED); no answer is
 * MD_ERROR_TIMEOUT. */
void md_client_add_note_async (MdClient *client, const char *key, const char *text, gsize len,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
/* *@id: the id the server gave the note. */
gboolean md_client_add_note_finish (MdClient *client, GAsyncResult *result, guint64 *id,
                                    GError **error);

G_END_DECLS
