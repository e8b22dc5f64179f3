/* Amplification protection with the Echo option (RFC 9175 §2.4).
 *
 * A response larger than MD_ECHO_AMPLIFICATION times its request goes only
 * to a verified source address.  Others get an Echo value (md-budget.h): a
 * time window and a MAC over the source IP and that window, keyed by a
 * random key made at start, so the daemon keeps no state for unverified
 * sources.  The proof is bound to the IP, not the port, because many
 * clients open a new port for every request.
 *
 * A value is good in its own MD_ECHO_WINDOW_US window and the next (30 to
 * 60 s).  An address that returns a valid value stays verified for
 * MD_ECHO_VERIFIED_US from whatever port it sends, with or without the
 * value: a bounded table of addresses (one entry per address, so no source
 * holds more than its own; the address verified longest ago makes room). */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

#define MD_ECHO_AMPLIFICATION 3
#define MD_ECHO_WINDOW_US (G_GINT64_CONSTANT (30) * G_USEC_PER_SEC)
#define MD_ECHO_VERIFIED_US (G_GINT64_CONSTANT (5) * 60 * G_USEC_PER_SEC)
#define MD_ECHO_VALUE_LEN 12
#define MD_ECHO_MAX_VERIFIED 4096

typedef struct _MdEcho MdEcho;

MdEcho *md_echo_new (void);
void md_echo_free (MdEcho *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdEcho, md_echo_free)

/* Writes a fresh Echo value for @peer's address into @value
 * (MD_ECHO_VALUE_LEN bytes). */
void md_echo_make_value (MdEcho *self, const MdPeer *peer, gint64 now_us,
                         guint8 value[MD_ECHO_VALUE_LEN]);
/* If @value is one this daemon made for @peer's address in the current or
 * the previous window, marks the address verified and returns TRUE. */
gboolean md_echo_check_value (MdEcho *self, const MdPeer *peer, const guint8 *value, gsize len,
                              gint64 now_us);
/* Whether @peer's address is verified, on any port; a transport that proves
 * addresses (DTLS) always is. */
gboolean md_echo_is_verified (MdEcho *self, const MdPeer *peer, gint64 now_us);

G_END_DECLS
