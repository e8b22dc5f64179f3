/* Amplification protection with the Echo option (RFC 9175 §2.4).
 *
 * A response larger than MD_ECHO_AMPLIFICATION times its request goes only
 * to a verified peer.  Others get 4.01 with an Echo value: a time window and
 * a MAC over the peer address and that window, keyed by a random key made at
 * start, so the daemon keeps no state for unverified peers.  A peer that
 * returns a valid Echo stays verified for MD_ECHO_VERIFIED_US (bounded table,
 * oldest dropped first; a source host holds at most
 * MD_ECHO_MAX_VERIFIED_PER_HOST entries and then gives up its own oldest). */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

#define MD_ECHO_AMPLIFICATION 3
#define MD_ECHO_WINDOW_US (G_GINT64_CONSTANT (30) * G_USEC_PER_SEC)
#define MD_ECHO_VERIFIED_US (G_GINT64_CONSTANT (5) * 60 * G_USEC_PER_SEC)
#define MD_ECHO_VALUE_LEN 12
#define MD_ECHO_MAX_VERIFIED 4096
/* Verified peers (address and port) one source host holds at most. */
#define MD_ECHO_MAX_VERIFIED_PER_HOST 64

typedef struct _MdEcho MdEcho;

MdEcho *md_echo_new (void);
void md_echo_free (MdEcho *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdEcho, md_echo_free)

/* Writes a fresh Echo value for @peer into @value (MD_ECHO_VALUE_LEN bytes). */
void md_echo_make_value (MdEcho *self, const MdPeer *peer, gint64 now_us,
                         guint8 value[MD_ECHO_VALUE_LEN]);
/* If @value is one this daemon made for @peer in the current or the previous
 * window, marks the peer verified and returns TRUE. */
gboolean md_echo_check_value (MdEcho *self, const MdPeer *peer, const guint8 *value, gsize len,
                              gint64 now_us);
gboolean md_echo_is_verified (MdEcho *self, const MdPeer *peer, gint64 now_us);

G_END_DECLS
