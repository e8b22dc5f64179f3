/* Observers of /latest (RFC 7641).
 *
 * Notifications are NON: a follower treats each as a doorbell and fetches any
 * gap with GET /notes?after=N, so a lost notification costs nothing.  An
 * observer lasts MD_OBSERVE_LEASE_US unless it registers again (mydailyctl
 * follow re-registers every minute); an RST to a notification removes it.  At
 * most MD_OBSERVE_MAX observers: further registrations are answered without
 * Observe, as RFC 7641 §4.1 allows. */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

#define MD_OBSERVE_LEASE_US (G_GINT64_CONSTANT (5) * 60 * G_USEC_PER_SEC)
#define MD_OBSERVE_MAX 256

typedef struct _MdObservers MdObservers;

MdObservers *md_observers_new (void);
void md_observers_free (MdObservers *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdObservers, md_observers_free)

/* Adds or refreshes (peer, token).  FALSE when the table is full. */
gboolean md_observers_register (MdObservers *self, const MdPeer *peer, const guint8 *token,
                                guint8 token_len, gint64 now_us) G_GNUC_WARN_UNUSED_RESULT;
void md_observers_deregister (MdObservers *self, const MdPeer *peer, const guint8 *token,
                              guint8 token_len);
/* An RST from @peer for a notification with @mid. */
void md_observers_reset (MdObservers *self, const MdPeer *peer, guint16 mid);
/* The Observe sequence number for the current state (24 bits, grows with
 * each notification). */
guint32 md_observers_get_sequence (MdObservers *self);
guint md_observers_get_count (MdObservers *self, gint64 now_us);
/* Sends a 2.05 NON notification carrying @wire_line (the newest note) to every
 * live observer, taking Message IDs from *@next_mid; drops expired ones. */
void md_observers_notify (MdObservers *self, const GString *wire_line, guint16 *next_mid,
                          gint64 now_us);

G_END_DECLS
