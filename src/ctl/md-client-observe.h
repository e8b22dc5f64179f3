/* An observation (RFC 7641) of one resource: a token of its own on the
 * client's socket, a registration (GET with Observe: 0, which also answers
 * with the current state) and the notifications that follow it.
 *
 * Registering again with the same token refreshes the registration; the
 * daemon forgets observers after a while and after a restart, so the owner
 * re-registers (md-ctl-watch.h says when). */
#pragma once

#include <gio/gio.h>

#include "md-client-exchange.h"

G_BEGIN_DECLS

typedef struct _MdClientObservation MdClientObservation;

typedef void (*MdClientNotifyFunc) (const MdClientResponse *notification, gpointer user_data);

MdClientObservation *md_client_observation_new (MdClient *client, const char *path,
                                                MdClientNotifyFunc func, gpointer user_data);
void md_client_observation_free (MdClientObservation *observation);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdClientObservation, md_client_observation_free)

/* The response is the current state; has_observe says whether the server
 * took the registration. */
void md_client_observation_register_async (MdClientObservation *observation,
                                           GCancellable *cancellable, GAsyncReadyCallback callback,
                                           gpointer user_data);
MdClientResponse *md_client_observation_register_finish (MdClientObservation *observation,
                                                         GAsyncResult *result, GError **error);

G_END_DECLS
