/* The journal events of coaps: handshakes that fail, and the keys file. */
#pragma once

#include "md-protocol.h"

#include <glib.h>

G_BEGIN_DECLS

/* A handshake from @peer failed for @reason; @identity is the PSK identity
 * it gave, "" when it gave none.  @suppressed failures before this one were
 * not logged (the caller's rate limit). */
void md_log_dtls_handshake_failed (const char *peer, const char *identity, const char *reason,
                                   guint suppressed);
/* The keys file @path was read: @count keys; @ended sessions ended because
 * their key went away or changed. */
void md_log_keys_loaded (const char *path, guint count, guint ended);
/* The keys file @path was refused for @reason; the keys in force stay. */
void md_log_keys_refused (const char *path, const char *reason);

G_END_DECLS
