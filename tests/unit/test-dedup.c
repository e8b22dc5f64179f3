#include "config.h"

#include "md-dedup.h"
#include "md-test-peer.h"

#include <netinet/in.h>
#include <string.h>

#define T0 (G_GINT64_CONSTANT (1000) * G_USEC_PER_SEC)

static GBytes *
make_response (gsize len, guint8 fill)
{
  guint8 *data = g_malloc (len);

  memset (data, fill, len);
  return g_bytes_new_take (data, len);
}

static void
assert_replays (MdDedup *dedup, const MdPeer *peer, guint16 mid, gint64 now_us, GBytes *expected)
{
  GBytes *response = (GBytes *)0x1;

  g_assert_cmpint (md_dedup_check (dedup, peer, mid, now_us, &response), ==, MD_DEDUP_REPLAY);
  if (expected == NULL)
    g_assert_null (response);
  else
    {
      g_assert_nonnull (response);
      g_assert_true (g_bytes_equal (response, expected));
    }
}

static void
test_dedup_new (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  GBytes *response = (GBytes *)0x1;

  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 0);
  g_assert_cmpint (md_dedup_check (dedup, &peer, 0x1234, T0, &response), ==, MD_DEDUP_NEW);
  g_assert_null (response);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 1);
  /* Another MID from the same peer is another exchange. */
  g_assert_cmpint (md_dedup_check (dedup, &peer, 0x1235, T0, &response), ==, MD_DEDUP_NEW);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 2);
}

static void
test_dedup_in_progress (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  GBytes *response = (GBytes *)0x1;

  g_assert_cmpint (md_dedup_check (dedup, &peer, 7, T0, &response), ==, MD_DEDUP_NEW);
  g_assert_cmpint (md_dedup_check (dedup, &peer, 7, T0 + 10, &response), ==, MD_DEDUP_IN_PROGRESS);
  g_assert_null (response);
  g_assert_cmpint (md_dedup_check (dedup, &peer, 7, T0 + 20, &response), ==, MD_DEDUP_IN_PROGRESS);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 1);
}

static void
test_dedup_replay (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  g_autoptr (GBytes) sent = make_response (40, 0xab);
  GBytes *response = NULL;

  g_assert_cmpint (md_dedup_check (dedup, &peer, 7, T0, &response), ==, MD_DEDUP_NEW);
  md_dedup_complete (dedup, &peer, 7, sent, T0 + 1000);
  assert_replays (dedup, &peer, 7, T0 + 2000, sent);
  /* Replaying changes nothing: it replays again. */
  assert_replays (dedup, &peer, 7, T0 + 3000, sent);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 1);
}

static void
test_dedup_replay_silence (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  GBytes *response = NULL;

  g_assert_cmpint (md_dedup_check (dedup, &peer, 9, T0, &response), ==, MD_DEDUP_NEW);
  md_dedup_complete (dedup, &peer, 9, NULL, T0);
  assert_replays (dedup, &peer, 9, T0 + 1, NULL);
}

static void
test_dedup_complete_unseen (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  g_autoptr (GBytes) sent = make_response (10, 1);

  /* Completing an exchange the cache has forgotten records it again. */
  md_dedup_complete (dedup, &peer, 11, sent, T0);
  assert_replays (dedup, &peer, 11, T0 + 1, sent);
}

static void
test_dedup_expiry (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  g_autoptr (GBytes) sent = make_response (40, 0xab);
  GBytes *response = NULL;

  g_assert_cmpint (md_dedup_check (dedup, &peer, 7, T0, &response), ==, MD_DEDUP_NEW);
  md_dedup_complete (dedup, &peer, 7, sent, T0);
  /* Still there just before EXCHANGE_LIFETIME, gone at it. */
  assert_replays (dedup, &peer, 7, T0 + MD_DEDUP_LIFETIME_US - 1, sent);
  g_assert_cmpint (md_dedup_check (dedup, &peer, 7, T0 + MD_DEDUP_LIFETIME_US, &response), ==,
                   MD_DEDUP_NEW);
  g_assert_null (response);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 1);
}

static void
test_dedup_expiry_frees_others (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  GBytes *response = NULL;

  for (guint16 mid = 0; mid < 100; mid++)
    g_assert_cmpint (md_dedup_check (dedup, &peer, mid, T0 + mid, &response), ==, MD_DEDUP_NEW);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 100);
  /* Any later check sweeps out everything past its lifetime. */
  g_assert_cmpint (md_dedup_check (dedup, &peer, 1000, T0 + MD_DEDUP_LIFETIME_US + 50, &response),
                   ==, MD_DEDUP_NEW);
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, 50);
}

static void
test_dedup_byte_cap (void)
{
  const gsize max_bytes = 4096;
  g_autoptr (MdDedup) dedup = md_dedup_new (max_bytes);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  GBytes *responses[10];
  GBytes *response = NULL;

  for (guint16 mid = 0; mid < G_N_ELEMENTS (responses); mid++)
    {
      responses[mid] = make_response (1000, (guint8)mid);
      g_assert_cmpint (md_dedup_check (dedup, &peer, mid, T0 + mid, &response), ==, MD_DEDUP_NEW);
      md_dedup_complete (dedup, &peer, mid, responses[mid], T0 + mid);
    }
  /* At most four 1000-byte responses fit in 4096 bytes (entries cost a
   * little on top), and the newest are the ones kept. */
  g_assert_cmpuint (md_dedup_get_size (dedup), >=, 2);
  g_assert_cmpuint (md_dedup_get_size (dedup), <=, 4);
  assert_replays (dedup, &peer, 9, T0 + 100, responses[9]);
  assert_replays (dedup, &peer, 8, T0 + 100, responses[8]);
  g_assert_cmpint (md_dedup_check (dedup, &peer, 0, T0 + 100, &response), ==, MD_DEDUP_NEW);
  for (guint i = 0; i < G_N_ELEMENTS (responses); i++)
    g_bytes_unref (responses[i]);
}

static void
test_dedup_byte_cap_on_complete (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (8192);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  g_autoptr (GBytes) big = make_response (2000, 0x55);
  GBytes *response = NULL;
  guint full;

  /* Fill the cache with in-progress entries until it holds no more ... */
  for (guint16 mid = 0; mid < 1000; mid++)
    g_assert_cmpint (md_dedup_check (dedup, &peer, mid, T0, &response), ==, MD_DEDUP_NEW);
  full = md_dedup_get_size (dedup);
  g_assert_cmpuint (full, <, 1000);
  /* ... then a large response makes room at once, from the oldest end. */
  md_dedup_complete (dedup, &peer, 999, big, T0);
  g_assert_cmpuint (md_dedup_get_size (dedup), <, full);
  assert_replays (dedup, &peer, 999, T0, big);
  g_assert_cmpint (md_dedup_check (dedup, &peer, 998, T0, &response), ==, MD_DEDUP_IN_PROGRESS);
}

static void
test_dedup_entry_cap (void)
{
  const gsize max_bytes = 64 * 1024;
  g_autoptr (MdDedup) dedup = md_dedup_new (max_bytes);
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  GBytes *response = NULL;

  /* A flood of Message IDs with no response bytes is bounded too. */
  for (guint mid = 0; mid < 65536; mid++)
    md_dedup_check (dedup, &peer, (guint16)mid, T0, &response);
  g_assert_cmpuint (md_dedup_get_size (dedup), <, max_bytes / sizeof (MdPeer));
  g_assert_cmpint (md_dedup_check (dedup, &peer, 65535, T0, &response), ==, MD_DEDUP_IN_PROGRESS);
}

static void
test_dedup_peers (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (1 << 20);
  MdPeer peers[] = {
    md_test_peer4 (3, "127.0.0.1", 40000), md_test_peer4 (3, "127.0.0.1", 40001), /* other port */
    md_test_peer4 (3, "127.0.0.2", 40000), /* other address */
    md_test_peer4 (4, "127.0.0.1", 40000), /* other socket */
    md_test_peer6 (3, "::1", 40000),       md_test_peer6 (3, "::2", 40000),
  };
  GBytes *responses[G_N_ELEMENTS (peers)];
  GBytes *response = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      g_assert_cmpint (md_dedup_check (dedup, &peers[i], 0x4242, T0, &response), ==, MD_DEDUP_NEW);
      responses[i] = make_response (8, (guint8)i);
      md_dedup_complete (dedup, &peers[i], 0x4242, responses[i], T0);
    }
  g_assert_cmpuint (md_dedup_get_size (dedup), ==, G_N_ELEMENTS (peers));
  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      assert_replays (dedup, &peers[i], 0x4242, T0 + 1, responses[i]);
      g_bytes_unref (responses[i]);
    }
}

static void
test_dedup_peer_equal (void)
{
  MdPeer a = md_test_peer4 (3, "127.0.0.1", 40000);
  MdPeer same = md_test_peer4 (3, "127.0.0.1", 40000);
  MdPeer others[] = {
    md_test_peer4 (4, "127.0.0.1", 40000),
    md_test_peer4 (3, "127.0.0.2", 40000),
    md_test_peer4 (3, "127.0.0.1", 40001),
    md_test_peer6 (3, "::ffff:127.0.0.1", 40000),
  };
  char text[64];

  g_assert_true (md_peer_equal (&a, &same));
  g_assert_cmpuint (md_peer_hash (&a), ==, md_peer_hash (&same));
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    g_assert_false (md_peer_equal (&a, &others[i]));
  g_assert_cmpstr (md_peer_to_string (&a, text), ==, "127.0.0.1:40000");
  g_assert_cmpstr (md_peer_to_string (&others[3], text), ==, "127.0.0.1:40000");
}

/* Message IDs belong to a pair of endpoints (RFC 7252 §4.4): the same
 * client talking to two of our addresses is two peers.  The interface a
 * datagram arrived on is not part of it. */
static void
test_dedup_peer_local (void)
{
  MdPeer to_one = md_test_peer4 (3, "127.0.0.1", 40000);
  MdPeer to_one_elsewhere, to_two;

  to_one.local.family = AF_INET;
  g_assert_cmpint (inet_pton (AF_INET, "127.0.0.1", &to_one.local.addr.v4), ==, 1);
  to_one_elsewhere = to_one;
  to_two = to_one;
  g_assert_cmpint (inet_pton (AF_INET, "127.0.0.2", &to_two.local.addr.v4), ==, 1);

  g_assert_true (md_peer_equal (&to_one, &to_one_elsewhere));
  g_assert_cmpuint (md_peer_hash (&to_one), ==, md_peer_hash (&to_one_elsewhere));
  g_assert_false (md_peer_equal (&to_one, &to_two));
}

/* A flood of exchanges from 5,000 other hosts, more than the cache holds,
 * between a request and its retransmission: the flooders hold more than the
 * victim each, so they evict their own entries and the retransmission is
 * still a replay, not a second execution. */
static void
test_dedup_flood_other_hosts (void)
{
  const gsize max_bytes = 1 << 20;
  g_autoptr (MdDedup) dedup = md_dedup_new (max_bytes);
  MdPeer victim = md_test_peer4 (3, "192.0.2.1", 40000);
  g_autoptr (GBytes) sent = make_response (20, 0x77);
  g_autoptr (GBytes) flood = make_response (600, 0x66);
  GBytes *response = NULL;
  guint16 mid = 0;

  g_assert_cmpint (md_dedup_check (dedup, &victim, 0x5151, T0, &response), ==, MD_DEDUP_NEW);
  md_dedup_complete (dedup, &victim, 0x5151, sent, T0);
  for (guint round = 0; round < 4; round++)
    for (guint i = 0; i < 5000; i++, mid++)
      {
        g_autofree char *address
            = g_strdup_printf ("127.%u.%u.%u", 1 + i / 65536, (i / 256) % 256, i % 256);
        MdPeer flooder = md_test_peer4 (3, address, (guint16)(1024 + mid));

        md_dedup_check (dedup, &flooder, mid, T0 + 1, &response);
        md_dedup_complete (dedup, &flooder, mid, flood, T0 + 1);
      }
  g_assert_cmpuint (md_dedup_get_size (dedup), <, 20000);
  assert_replays (dedup, &victim, 0x5151, T0 + 2, sent);
}

/* With two hosts over the cap, the one holding more loses its oldest first,
 * even when the other one's entry is older. */
static void
test_dedup_heaviest_first (void)
{
  g_autoptr (MdDedup) dedup = md_dedup_new (8192);
  MdPeer light = md_test_peer4 (3, "192.0.2.1", 40000);
  MdPeer heavy = md_test_peer6 (3, "2001:db8::1", 40000);
  g_autoptr (GBytes) small = make_response (10, 1);
  g_autoptr (GBytes) big = make_response (1000, 2);
  GBytes *response = NULL;

  md_dedup_check (dedup, &light, 1, T0, &response);
  md_dedup_complete (dedup, &light, 1, small, T0);
  for (guint16 mid = 0; mid < 20; mid++)
    {
      MdPeer port = heavy;

      ((struct sockaddr_in6 *)&port.addr)->sin6_port = htons (1000 + mid);
      md_dedup_check (dedup, &port, mid, T0 + 1 + mid, &response);
      md_dedup_complete (dedup, &port, mid, big, T0 + 1 + mid);
    }
  assert_replays (dedup, &light, 1, T0 + 100, small);
  g_assert_cmpuint (md_dedup_get_size (dedup), <, 21);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dedup/new", test_dedup_new);
  g_test_add_func ("/dedup/flood-other-hosts", test_dedup_flood_other_hosts);
  g_test_add_func ("/dedup/heaviest-first", test_dedup_heaviest_first);
  g_test_add_func ("/dedup/in-progress", test_dedup_in_progress);
  g_test_add_func ("/dedup/replay", test_dedup_replay);
  g_test_add_func ("/dedup/replay-silence", test_dedup_replay_silence);
  g_test_add_func ("/dedup/complete-unseen", test_dedup_complete_unseen);
  g_test_add_func ("/dedup/expiry", test_dedup_expiry);
  g_test_add_func ("/dedup/expiry-sweeps", test_dedup_expiry_frees_others);
  g_test_add_func ("/dedup/byte-cap", test_dedup_byte_cap);
  g_test_add_func ("/dedup/byte-cap-on-complete", test_dedup_byte_cap_on_complete);
  g_test_add_func ("/dedup/entry-cap", test_dedup_entry_cap);
  g_test_add_func ("/dedup/different-peers-same-mid", test_dedup_peers);
  g_test_add_func ("/dedup/peer-equal", test_dedup_peer_equal);
  g_test_add_func ("/dedup/peer-equal/local-address", test_dedup_peer_local);
  return g_test_run ();
}
