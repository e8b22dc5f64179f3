#include "config.h"

#include "md-observers.h"

#include "md-block-slice.h"
#include "md-coap.h"
#include "md-host-shares.h"

#include <string.h>
#include <sys/random.h>

/* Observe values are 24 bits (RFC 7641 §4.4). */
#define MD_OBSERVE_SEQUENCE_MASK 0xffffffu

typedef struct
{
  MdPeer peer;
  guint8 token[MD_COAP_MAX_TOKEN];
  guint8 token_len;
  gint64 registered_us;
  struct _MdObservers *owner; /* to give the shares back */
  gboolean notified;          /* last_mid is meaningful */
  guint16 last_mid;           /* of the latest notification, for matching an RST */
  gsize max_bytes;            /* per notification; 0: a proven address, no bound */
  gint64 ack_deadline_us;     /* 0, or when the unacknowledged CON drops it */
  gboolean budget_set;        /* else it is sent nothing: its cost is unknown */
} MdObserver;

struct _MdObservers
{
  GHashTable *table;    /* set of MdObserver, keyed by (peer, token) */
  MdHostShares *shares; /* observers per source host */
  guint unverified;     /* observers with a max_bytes */
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

  md_host_shares_release (observer->owner->shares, &observer->peer);
  if (observer->max_bytes > 0)
    observer->owner->unverified--;
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

  if (observer->ack_deadline_us != 0 && now_us >= observer->ack_deadline_us)
    return TRUE;
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
      observer->owner = self;
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

gboolean
md_observers_set_budget (MdObservers *self, const MdPeer *peer, const guint8 *token,
                         guint8 token_len, gsize max_bytes)
{
  MdObserver *observer;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (token_len <= MD_COAP_MAX_TOKEN, FALSE);
  g_return_val_if_fail (token != NULL || token_len == 0, FALSE);

  observer = md_observers_lookup (self, peer, token, token_len);
  if (observer == NULL)
    return TRUE;
  if (max_bytes > 0 && observer->max_bytes == 0)
    {
      if (self->unverified >= MD_OBSERVE_MAX_UNVERIFIED)
        return FALSE;
      self->unverified++;
    }
  else if (max_bytes == 0 && observer->max_bytes > 0)
    {
      self->unverified--;
      observer->ack_deadline_us = 0;
    }
  observer->max_bytes = max_bytes;
  observer->budget_set = TRUE;
  return TRUE;
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

void
md_observers_ack (MdObservers *self, const MdPeer *peer, guint16 mid)
{
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (self != NULL);
  g_return_if_fail (peer != NULL);

  /* Bounded by the table's cap, and only ever for an ACK we may await. */
  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      MdObserver *observer = key;

      if (observer->ack_deadline_us != 0 && observer->last_mid == mid
          && md_peer_equal (&observer->peer, peer))
        observer->ack_deadline_us = 0;
    }
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

/* @notification encoded into @out within @max_bytes (0: no bound), in its
 * largest Block2 block that fits when the whole does not; -1 when nothing
 * fits. */
static gssize
md_observers_encode (const MdCoapMessage *notification, gsize max_bytes,
                     guint8 out[MD_COAP_MAX_DATAGRAM])
{
  g_autofree MdCoapMessage *block = NULL;
  gssize len = md_coap_encode (notification, out, MD_COAP_MAX_DATAGRAM, NULL);

  if (len < 0 || max_bytes == 0 || (gsize)len <= max_bytes)
    return len;
  block = g_new (MdCoapMessage, 1);
  for (guint szx = MD_COAP_MAX_BLOCK_SZX + 1; szx-- > 0;)
    {
      md_block_slice_copy (block, notification);
      if (!md_block_slice_shrink (block, szx, TRUE))
        continue;
      len = md_coap_encode (block, out, MD_COAP_MAX_DATAGRAM, NULL);
      if (len >= 0 && (gsize)len <= max_bytes)
        return len;
    }
  return -1;
}

static guint16
md_observers_random_mid (void)
{
  guint16 mid;

  if (getrandom (&mid, sizeof mid, GRND_NONBLOCK) == sizeof mid)
    return mid;
  return (guint16)g_random_int_range (0, 0x10000);
}

static gboolean
md_observers_awaits (MdObservers *self, const MdPeer *peer, guint16 mid)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const MdObserver *observer = key;

      if (observer->ack_deadline_us != 0 && observer->last_mid == mid
          && md_peer_equal (&observer->peer, peer))
        return TRUE;
    }
  return FALSE;
}

/* The MID of a CON to an unverified observer: whoever spoofed the
 * registration must not guess it (it would forge the victim's ACKs and keep
 * the observer), so it is random, not the next sequential one, and not one
 * the peer's other observers still await.  A few tries always suffice: a
 * host has at most MD_OBSERVE_MAX_PER_HOST observers. */
static guint16
md_observers_unguessable_mid (MdObservers *self, const MdPeer *peer)
{
  guint16 mid = md_observers_random_mid ();

  for (guint tries = 0;
       tries < 4 * MD_OBSERVE_MAX_PER_HOST && md_observers_awaits (self, peer, mid); tries++)
    mid = md_observers_random_mid ();
  return mid;
}

/* Sends @notification to @observer: NON with the next MID to a proven
 * address, else CON within its budget, awaited and never sent again.
 * FALSE when the observer is to be dropped. */
static gboolean
md_observers_send_one (MdObserver *observer, MdCoapMessage *notification, guint16 *next_mid,
                       gint64 now_us)
{
  guint8 datagram[MD_COAP_MAX_DATAGRAM];
  gssize len;

  if (!observer->budget_set || observer->ack_deadline_us != 0)
    return TRUE; /* one unacknowledged notification at a time */
  if (observer->max_bytes > 0)
    {
      notification->type = MD_COAP_TYPE_CON;
      notification->mid = md_observers_unguessable_mid (observer->owner, &observer->peer);
    }
  else
    {
      notification->type = MD_COAP_TYPE_NON;
      notification->mid = (*next_mid)++;
    }
  md_coap_message_set_token (notification, observer->token, observer->token_len);
  len = md_observers_encode (notification, observer->max_bytes, datagram);
  if (len < 0)
    {
      g_debug ("a notification does not fit an unverified observer's budget: dropped");
      return FALSE;
    }
  observer->last_mid = notification->mid;
  observer->notified = TRUE;
  if (observer->max_bytes > 0)
    observer->ack_deadline_us = now_us + MD_OBSERVE_ACK_WAIT_US;
  md_peer_send (&observer->peer, datagram, (gsize)len);
  return TRUE;
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
    if (!md_observers_send_one (key, notification, next_mid, now_us))
      g_hash_table_iter_remove (&iter);
}
