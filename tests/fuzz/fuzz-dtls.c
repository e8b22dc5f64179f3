/* fuzz-dtls: the DTLS server's stateless gate and its sessions on arbitrary
 * datagrams.
 *
 * The input is a run of datagrams, each a 2-byte big-endian length and its
 * bytes, from three peers in turn.  Whatever comes: nothing crashes, the
 * table stays within its bounds, no record is ever delivered (nobody can
 * finish a handshake without the key), and what the server sends to a peer
 * without a session is never more than 3 times what that peer sent. */
#include "config.h"

#include "fuzz-common.h"
#include "md-dtls-server.h"

#include <arpa/inet.h>
#include <string.h>

#define PEERS 3
#define AMPLIFICATION 3

static gsize sent_bytes;

static const char *
lookup (const char *name, gpointer user_data)
{
  return g_str_equal (name, "alice") ? "fuzz-key-0123456789abcdefghijklmnopqrstuv" : NULL;
}

static void
count_sent (const MdPeer *peer, const guint8 *data, gsize len, gpointer user_data)
{
  sent_bytes += len;
}

static void
never_delivered (const MdPeer *peer, const char *identity, const guint8 *data, gsize len,
                 gpointer user_data)
{
  g_error ("a record was delivered from %s without a key", identity);
}

static void
make_peer (MdPeer *peer, guint i)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)&peer->addr;

  memset (peer, 0, sizeof *peer);
  sin->sin_family = AF_INET;
  sin->sin_port = htons (40000 + i);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK + (i % 2));
  peer->addr_len = sizeof *sin;
  peer->fd = 3;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (MdDtlsServer) server = NULL;
  MdPeer peers[PEERS];
  gint64 now_us = G_USEC_PER_SEC;
  gsize offset = 0;

  md_fuzz_init_logging ();
  server = md_dtls_server_new (lookup, NULL, count_sent, NULL, NULL);
  g_assert_nonnull (server);
  for (guint i = 0; i < PEERS; i++)
    make_peer (&peers[i], i);
  for (guint n = 0; offset + 2 <= size; n++)
    {
      gsize len = MIN ((gsize)data[offset] << 8 | data[offset + 1], size - offset - 2);
      const MdPeer *peer = &peers[n % PEERS];
      gboolean had_sessions = md_dtls_server_get_session_count (server) > 0;

      sent_bytes = 0;
      md_dtls_server_receive (server, peer, data + offset + 2, len, now_us, never_delivered, NULL);
      if (!had_sessions)
        g_assert_cmpuint (sent_bytes, <=, AMPLIFICATION * len);
      g_assert_cmpuint (md_dtls_server_get_session_count (server), <=,
                        MD_DTLS_DEFAULT_MAX_SESSIONS);
      g_assert_cmpuint (md_dtls_server_get_established_count (server), ==, 0);
      offset += 2 + len;
      now_us += G_USEC_PER_SEC / 10;
    }
  return 0;
}
