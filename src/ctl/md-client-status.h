/* GET /status: "key: value" lines meant for people; the client reads only
 * the numbers it needs (MD_PROTOCOL_STATUS_LAST_ID). */
#pragma once

#include <gio/gio.h>

#include "md-client.h"

G_BEGIN_DECLS

void md_client_get_status_async (MdClient *client, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
GBytes *md_client_get_status_finish (MdClient *client, GAsyncResult *result, GError **error);

/* The value of "@key: VALUE" in @status as a number; MD_ERROR_MALFORMED
 * naming @key when it is missing. */
gboolean md_client_status_get_number (GBytes *status, const char *key, guint64 *value,
                                      GError **error);

/* The value of "@key: VALUE" as a string, spaces trimmed; NULL and
 * MD_ERROR_MALFORMED naming @key when it is missing. */
char *md_client_status_get_string (GBytes *status, const char *key, GError **error);

G_END_DECLS
