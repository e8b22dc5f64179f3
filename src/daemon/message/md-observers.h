/* Observers of /latest (RFC 7641).
 *
 * Notifications to an observer whose address is proven are NON: a follower
 * treats each as a doorbell and fetches any gap with GET /notes?after=N, so
 * a lost notification costs nothing.
 *
 * An observer that has not proved its address (md-budget.h) could be a
 * spoofed registration aimed at a victim, so each notification to it is
 * confirmable and within its budget (a first Block2 block when the note does
 * not fit, RFC 7959 §3.4), it is never retransmitted, and the observer is
 * dropped at the first Reset or when a notification is not acknowledged
 * within MD_OBSERVE_ACK_WAIT_US: a spoofed registration costs the victim
 * at most one small datagram.  While one waits for its ACK, newer notes are
 * not notified to it (the follower fetches the gap).  At most
 * MD_OBSERVE_MAX_UNVERIFIED such observers, so proven ones always find
 * room.
 *
 * An
 * observer lasts MD_OBSERVE_LEASE_US unless it registers again (mydailyctl
 * follow re-registers every minute); an RST to a notification removes it.  At
 * most MD_OBSERVE_MAX observers, and at most MD_OBSERVE_MAX_PER_HOST from one
 * source address (any port), so one host cannot take every slot: further
 * registrations are answered without Observe, as RFC 7641 §4.1 allows. */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

#define MD_OBSERVE_LEASE_US (G_GINT64_CONSTANT (5) * 60 * G_USEC_PER_SEC)
#define MD_OBSERVE_MAX 256
#define MD_OBSERVE_MAX_PER_HOST 8
#define MD_OBSERVE_MAX_UNVERIFIED (MD_OBSERVE_MAX / 4)
/* ACK_TIMEOUT * ACK_RANDOM_FACTOR (RFC 7252 §4.8): when a CON would first
 * be sent again. */
#define MD_OBSERVE_ACK_WAIT_US (G_GINT64_CONSTANT (3) * G_USEC_PER_SEC)

typedef struct _MdObservers MdObservers;

MdObservers *md_observers_new (void);
void md_observers_free (MdObservers *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdObservers, md_observers_free)

/* Adds or refreshes (peer, token).  FALSE when the table or the host's
 * share is full.  A new observer is sent nothing until
 * md_observers_set_budget says what a notification to it may cost, so a
 * registration whose answer never went out cannot draw notifications. */
gboolean md_observers_register (MdObservers *self, const MdPeer *peer, const guint8 *token,
                                guint8 token_len, gint64 now_us) G_GNUC_WARN_UNUSED_RESULT;
void md_observers_deregister (MdObservers *self, const MdPeer *peer, const guint8 *token,
                              guint8 token_len);
/* Bounds each notification to (peer, token) to @max_bytes, which makes it
 * an unverified observer; 0 lifts the bound (a proven address).  FALSE, and
 * nothing changed, when MD_OBSERVE_MAX_UNVERIFIED are taken already. */
gboolean md_observers_set_budget (MdObservers *self, const MdPeer *peer, const guint8 *token,
                                  guint8 token_len, gsize max_bytes) G_GNUC_WARN_UNUSED_RESULT;
/* An RST from @peer for a notification with @mid. */
void md_observers_reset (MdObservers *self, const MdPeer *peer, guint16 mid);
/* An empty ACK from @peer for a confirmable notification with @mid. */
void md_observers_ack (MdObservers *self, const MdPeer *peer, guint16 mid);
/* The Observe sequence number for the current state (24 bits, grows with
 * each notification). */
guint32 md_observers_get_sequence (MdObservers *self);
guint md_observers_get_count (MdObservers *self, gint64 now_us);
/* Sends a 2.05 notification carrying @wire_line (the newest note) to every
 * live observer, taking Message IDs from *@next_mid; drops expired ones. */
void md_observers_notify (MdObservers *self, const GString *wire_line, guint16 *next_mid,
                          gint64 now_us);

G_END_DECLS
