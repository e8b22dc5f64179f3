#include "config.h"

#include "md-observers.h"

#include "md-coap.h"
#include "md-host-shares.h"

#include <string.h>

/* Observe values are 24 bits (RFC 7641 §4.4). */
#define MD_OBSERVE_SEQUENCE_MASK 0xffffffu

typedef struct
{
  MdPeer peer;
  guint8 token[MD_COAP_MAX_TOKEN];
  guint8 token_len;
  gint64 registered_us;
  MdHostShares *shares; /* the table's, to give the share back */
  gboolean notified;    /* last_mid is meaningful */
  guint16 last_mid;     /* of the latest notification, for matching an RST */
} MdObserver;

struct _MdObservers
{
  GHashTable *table;    /* set of MdObserver, keyed by (peer, token) */
  MdHostShares *shares; /* observers per source host */
  guint32 sequence;
};

/* Tokens are the client's choice too, so they go through the keyed hash. */
static guint
md_observer_hash (gconstpointer key)
{
  const MdObserver *observer = key;

  return md_peer_hash (&observer->peer) ^ md_peer_hash_bytes (observer->token, observer->token_len);
}

static gboolean
md_observer_equal (gconstpointer a, gconstpointer b)
{
  const MdObserver *oa = a;
  const MdObserver *ob = b;

  return oa->token_len == ob->token_len && memcmp (oa->token, ob->token, oa->token_len) == 0
         && md_peer_equal (&oa->peer, &ob->peer);
}

/* Every removal from the table goes through here, so the shares stay
 * exact. */
static void
md_observer_free (gpointer data)
{
  MdObserver *observer = data;

  md_host_shares_release (observer->shares, &observer->peer);
  g_free (observer);
}

/* The sequence starts from the wall clock in seconds, so that after a daemon
 * restart the numbers are still likely to be "newer" (RFC 7641 §3.4) to a
 * client that kept its observation state. */
MdObservers *
md_observers_new (void)
{
  MdObservers *self = g_new0 (MdObservers, 1);

  self->table = g_hash_table_new_full (md_observer_hash, md_observer_equal, NULL, md_observer_free);
  self->shares = md_host_shares_new ();
  self->sequence = (guint32)(g_get_real_time () / G_USEC_PER_SEC) & MD_OBSERVE_SEQUENCE_MASK;
  return self;
}

void
md_observers_free (MdObservers *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->table);
  md_host_shares_free (self->shares);
  g_free (self);
}

static gboolean
md_observer_is_expired (gpointer key, gpointer value, gpointer user_data)
{
  const MdObserver *observer = key;
  gint64 now_us = *(const gint64 *)user_data;

  return now_us - observer->registered_us >= MD_OBSERVE_LEASE_US;
}

static void
md_observers_expire (MdObservers *self, gint64 now_us)
{
  g_hash_table_foreach_remove (self->table, md_observer_is_expired, &now_us);
}

static MdObserver *
md_observers_lookup (MdObservers *self, const MdPeer *peer, const guint8 *token, guint8 token_len)
{
  MdObserver probe = { .peer = *peer, .token_len = token_len };

  if (token_len > 0)
    memcpy (probe.token, token, token_len);
  return g_hash_table_lookup (self->table, &probe);
}

gboolean
md_observers_register (MdObservers *self, const MdPeer *peer, const guint8 *token, guint8 token_len,
                       gint64 now_us)
{
  MdObserver *observer;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (token_len <= MD_COAP_MAX_TOKEN, FALSE);
  g_return_val_if_fail (token != NULL || token_len == 0, FALSE);

  md_observers_expire (self, now_us);
  observer = md_observers_lookup (self, peer, token, token_len);
  if (observer == NULL)
    {
      if (g_hash_table_size (self->table) >= MD_OBSERVE_MAX
          || md_host_shares_get (self->shares, peer) >= MD_OBSERVE_MAX_PER_HOST)
        return FALSE;
      observer = g_new0 (MdObserver, 1);
      observer->peer = *peer;
      observer->shares = self->shares;
      md_host_shares_take (self->shares, peer);
      observer->token_len = token_len;
      if (token_len > 0)
        memcpy (observer->token, token, token_len);
      g_hash_table_add (self->table, observer);
    }
  observer->registered_us = now_us;
  return TRUE;
}

void
md_observers_deregister (MdObservers *self, const MdPeer *peer, const guint8 *token,
                         guint8 token_len)
{
  MdObserver *observer;

  g_return_if_fail (self != NULL);
  g_return_if_fail (peer != NULL);
  g_return_if_fail (token_len <= MD_COAP_MAX_TOKEN);
  g_return_if_fail (token != NULL || token_len == 0);

  observer = md_observers_lookup (self, peer, token, token_len);
  if (observer != NULL)
    g_hash_table_remove (self->table, observer);
}

typedef struct
{
  const MdPeer *peer;
  guint16 mid;
} MdObserverRst;

static gboolean
md_observer_matches_rst (gpointer key, gpointer value, gpointer user_data)
{
  const MdObserver *observer = key;
  const MdObserverRst *rst = user_data;

  return observer->notified && observer->last_mid == rst->mid
         && md_peer_equal (&observer->peer, rst->peer);
}

/* Only the latest notification's MID is remembered: an RST to an older one
 * is ignored, and the next notification's RST removes the observer then. */
void
md_observers_reset (MdObservers *self, const MdPeer *peer, guint16 mid)
{
  MdObserverRst rst = { peer, mid };

  g_return_if_fail (self != NULL);
  g_return_if_fail (peer != NULL);

  g_hash_table_foreach_remove (self->table, md_observer_matches_rst, &rst);
}

guint32
md_observers_get_sequence (MdObservers *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->sequence;
}

guint
md_observers_get_count (MdObservers *self, gint64 now_us)
{
  g_return_val_if_fail (self != NULL, 0);

  md_observers_expire (self, now_us);
  return g_hash_table_size (self->table);
}

/* Encodes @notification for @observer with the next MID and sends it. */
static void
md_observers_send_one (MdObserver *observer, MdCoapMessage *notification, guint16 *next_mid)
{
  g_autoptr (GError) error = NULL;
  guint8 datagram[MD_COAP_MAX_DATAGRAM];
  gssize len;

  notification->mid = (*next_mid)++;
  md_coap_message_set_token (notification, observer->token, observer->token_len);
  len = md_coap_encode (notification, datagram, sizeof datagram, &error);
  if (len < 0)
    {
      g_warning ("cannot encode notification: %s", error->message);
      return;
    }
  observer->last_mid = notification->mid;
  observer->notified = TRUE;
  md_peer_send (&observer->peer, datagram, (gsize)len);
}

/* Builds everything but the MID and token, which differ per observer. */
static gboolean
md_observers_build (MdCoapMessage *notification, guint32 sequence, const GString *wire_line)
{
  md_coap_message_init (notification, MD_COAP_TYPE_NON, MD_COAP_CONTENT, 0);
  return md_coap_message_add_uint_option (notification, MD_COAP_OPTION_OBSERVE, sequence)
         && md_coap_message_add_uint_option (notification, MD_COAP_OPTION_CONTENT_FORMAT,
                                             MD_COAP_FORMAT_TEXT_PLAIN)
         && md_coap_message_set_payload (notification, wire_line->str, wire_line->len);
}

void
md_observers_notify (MdObservers *self, const GString *wire_line, guint16 *next_mid, gint64 now_us)
{
  g_autofree MdCoapMessage *notification = NULL;
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (self != NULL);
  g_return_if_fail (wire_line != NULL);
  g_return_if_fail (next_mid != NULL);

  self->sequence = (self->sequence + 1) & MD_OBSERVE_SEQUENCE_MASK;
  md_observers_expire (self, now_us);
  if (g_hash_table_size (self->table) == 0)
    return;

  /* About 2.5 KiB: on the heap, not the main loop's stack. */
  notification = g_new0 (MdCoapMessage, 1);
  if (!md_observers_build (notification, self->sequence, wire_line))
    {
      g_warning ("notification of %" G_GSIZE_FORMAT " bytes does not fit a message",
                 wire_line->len);
      return;
    }
  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    md_observers_send_one (key, notification, next_mid);
}
