#include "config.h"

#include "md-coap.h"
#include "md-observers.h"
#include "md-test-peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define T0 (G_GINT64_CONSTANT (5000) * G_USEC_PER_SEC)
#define RECV_TIMEOUT_MS 2000

/* A "server" socket the notifications leave from and two "client" sockets
 * they should arrive at, all on 127.0.0.1 (or ::1). */
typedef struct
{
  int server_fd;
  int client_fd[2];
  MdPeer client[2]; /* as the server sees them */
} Fixture;

static const guint8 token_a[] = { 0xa1, 0xb2, 0xc3, 0xd4 };
static const guint8 token_b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

static int
bind_loopback (int family, MdPeer *bound)
{
  struct sockaddr_storage addr = { 0 };
  socklen_t addr_len;
  int fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)&addr;

      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      addr_len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      addr_len = sizeof *sin6;
    }
  if (bind (fd, (struct sockaddr *)&addr, addr_len) < 0)
    {
      close (fd);
      return -1;
    }
  bound->addr_len = sizeof bound->addr;
  g_assert_no_errno (getsockname (fd, (struct sockaddr *)&bound->addr, &bound->addr_len));
  return fd;
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  int family = GPOINTER_TO_INT (data);
  MdPeer unused;

  fx->server_fd = bind_loopback (family, &unused);
  if (fx->server_fd < 0)
    {
      fx->client_fd[0] = fx->client_fd[1] = -1;
      return;
    }
  for (guint i = 0; i < 2; i++)
    {
      fx->client_fd[i] = bind_loopback (family, &fx->client[i]);
      g_assert_cmpint (fx->client_fd[i], >=, 0);
      fx->client[i].fd = fx->server_fd;
    }
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  if (fx->server_fd >= 0)
    close (fx->server_fd);
  for (guint i = 0; i < 2; i++)
    if (fx->client_fd[i] >= 0)
      close (fx->client_fd[i]);
}

/* IPv6 may be off on a CI machine: then the IPv6 case is skipped, visibly. */
static gboolean
fixture_ready (Fixture *fx)
{
  if (fx->server_fd >= 0)
    return TRUE;
  g_test_skip ("cannot bind a UDP socket on loopback for this family");
  return FALSE;
}

/* Reads one datagram, waiting at most RECV_TIMEOUT_MS for it. */
static GBytes *
receive (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  guint8 buffer[2048];
  ssize_t len;
  int ready;

  do
    ready = poll (&pfd, 1, RECV_TIMEOUT_MS);
  while (ready < 0 && errno == EINTR);
  g_assert_cmpint (ready, ==, 1);
  len = recv (fd, buffer, sizeof buffer, MSG_DONTWAIT);
  g_assert_cmpint (len, >, 0);
  return g_bytes_new (buffer, (gsize)len);
}

/* Proves nothing else is queued on the client socket: a marker sent after
 * the notifications must be the next datagram to arrive (no waiting for a
 * timeout to show an absence). */
static void
assert_nothing_before_marker (Fixture *fx, guint client)
{
  static const guint8 marker[] = "marker";
  g_autoptr (GBytes) got = NULL;

  g_assert_true (md_peer_send (&fx->client[client], marker, sizeof marker));
  got = receive (fx->client_fd[client]);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), marker, sizeof marker);
}

/* Receives one notification and checks everything but the MID, returned. */
static guint16
receive_notification (int fd, const guint8 *token, guint8 token_len, guint32 sequence,
                      const GString *line)
{
  g_autoptr (GBytes) datagram = receive (fd);
  g_autoptr (GError) error = NULL;
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  gsize len;
  const guint8 *data = g_bytes_get_data (datagram, &len);
  guint32 value = G_MAXUINT32;

  g_assert_true (md_coap_parse (data, len, msg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (msg->type, ==, MD_COAP_TYPE_NON);
  g_assert_cmpuint (msg->code, ==, MD_COAP_CONTENT);
  g_assert_cmpmem (msg->token, msg->token_len, token, token_len);
  g_assert_true (md_coap_message_get_uint_option (msg, MD_COAP_OPTION_OBSERVE, &value));
  g_assert_cmpuint (value, ==, sequence);
  g_assert_true (md_coap_message_get_uint_option (msg, MD_COAP_OPTION_CONTENT_FORMAT, &value));
  g_assert_cmpuint (value, ==, MD_COAP_FORMAT_TEXT_PLAIN);
  g_assert_cmpmem (msg->payload, msg->payload_len, line->str, line->len);
  return msg->mid;
}

/* Registered as from a proven address: NON notifications, no bound. */
static void
register_proven (MdObservers *observers, const MdPeer *peer, const guint8 *token, guint8 token_len,
                 gint64 now_us)
{
  g_assert_true (md_observers_register (observers, peer, token, token_len, now_us));
  g_assert_true (md_observers_set_budget (observers, peer, token, token_len, 0));
}

static void
test_register (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();

  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 0);
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 1);
  /* Same peer and token: the same observer. */
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0 + 1));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + 1), ==, 1);
  /* Another token, a prefix of the token, an empty token, another peer. */
  g_assert_true (md_observers_register (observers, &fx->client[0], token_b, 8, T0 + 2));
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 2, T0 + 2));
  g_assert_true (md_observers_register (observers, &fx->client[0], NULL, 0, T0 + 2));
  g_assert_true (md_observers_register (observers, &fx->client[1], token_a, 4, T0 + 2));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + 2), ==, 5);
}

static void
test_lease_expiry (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();

  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_LEASE_US - 1), ==, 1);
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_LEASE_US), ==, 0);
}

static void
test_refresh (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  gint64 refreshed = T0 + MD_OBSERVE_LEASE_US - 1;

  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, refreshed));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_LEASE_US), ==, 1);
  g_assert_cmpuint (md_observers_get_count (observers, refreshed + MD_OBSERVE_LEASE_US - 1), ==, 1);
  g_assert_cmpuint (md_observers_get_count (observers, refreshed + MD_OBSERVE_LEASE_US), ==, 0);
}

/* The MD_OBSERVE_MAX-th observer of the table, @i of them, from one of
 * MD_OBSERVE_MAX / MD_OBSERVE_MAX_PER_HOST hosts (127.0.1.x), each host at
 * its share. */
static MdPeer
nth_host_peer (Fixture *fx, guint32 i)
{
  g_autofree char *address = g_strdup_printf ("127.0.1.%u", i / MD_OBSERVE_MAX_PER_HOST);

  return md_test_peer4 (fx->server_fd, address, (guint16)(40000 + i));
}

static void
test_max (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  guint8 token[4];
  MdPeer last;

  for (guint32 i = 0; i < MD_OBSERVE_MAX; i++)
    {
      last = nth_host_peer (fx, i);
      memcpy (token, &i, sizeof token);
      g_assert_true (md_observers_register (observers, &last, token, 4, T0 + i));
    }
  g_assert_false (md_observers_register (observers, &fx->client[1], token_a, 4, T0 + 1000));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + 1000), ==, MD_OBSERVE_MAX);
  /* A full table still lets existing observers refresh. */
  g_assert_true (md_observers_register (observers, &last, token, 4, T0 + 1000));
  /* Room again once one leaves ... */
  md_observers_deregister (observers, &last, token, 4);
  g_assert_true (md_observers_register (observers, &fx->client[1], token_a, 4, T0 + 1001));
  g_assert_false (md_observers_register (observers, &fx->client[1], token_b, 8, T0 + 1002));
  /* ... or once leases run out (all but the one registered at T0 + 1001 us). */
  g_assert_true (md_observers_register (observers, &fx->client[1], token_b, 8,
                                        T0 + MD_OBSERVE_LEASE_US + 1000));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_LEASE_US + 1000), ==, 2);
}

/* One address, from any number of ports and tokens, holds at most its share;
 * another address still gets in, and a share comes back when an observer
 * leaves or its lease runs out. */
static void
test_host_share (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  guint accepted = 0;
  guint8 token[4];
  MdPeer first = md_test_peer4 (fx->server_fd, "127.0.0.9", 40000);
  MdPeer other = md_test_peer4 (fx->server_fd, "127.0.0.10", 40000);
  MdPeer mapped = md_test_peer6 (fx->server_fd, "::ffff:127.0.0.9", 50000);

  for (guint32 i = 0; i < 50; i++)
    {
      MdPeer peer = md_test_peer4 (fx->server_fd, "127.0.0.9", (guint16)(40000 + i));

      memcpy (token, &i, sizeof token);
      accepted += md_observers_register (observers, &peer, token, 4, T0 + i);
    }
  g_assert_cmpuint (accepted, ==, MD_OBSERVE_MAX_PER_HOST);
  /* The same host through a dual-stack socket is the same host. */
  g_assert_false (md_observers_register (observers, &mapped, token_a, 4, T0 + 100));
  g_assert_true (md_observers_register (observers, &other, token_a, 4, T0 + 100));
  /* A refresh is no new share. */
  memset (token, 0, sizeof token);
  g_assert_true (md_observers_register (observers, &first, token, 4, T0 + 200));
  md_observers_deregister (observers, &first, token, 4);
  g_assert_true (md_observers_register (observers, &mapped, token_a, 4, T0 + 300));
  g_assert_false (md_observers_register (observers, &mapped, token_b, 8, T0 + 301));
  /* Leases end for all but the two registered at T0 + 100 and 300 us. */
  g_assert_true (
      md_observers_register (observers, &mapped, token_b, 8, T0 + MD_OBSERVE_LEASE_US + 50));
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_LEASE_US + 50), ==, 3);
}

static void
test_deregister (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();

  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_true (md_observers_register (observers, &fx->client[1], token_a, 4, T0));
  /* Unknown token or peer: nothing happens. */
  md_observers_deregister (observers, &fx->client[0], token_b, 8);
  md_observers_deregister (observers, &fx->client[0], token_a, 3);
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 2);
  md_observers_deregister (observers, &fx->client[0], token_a, 4);
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 1);
  md_observers_deregister (observers, &fx->client[1], token_a, 4);
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 0);
}

static void
test_notify (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("42\t2026-11-24T19:42:57Z\talice\thello, 世界\n");
  guint32 before = md_observers_get_sequence (observers);
  guint16 next_mid = 0xfffe; /* wraps during the test */
  guint16 mid_a, mid_b;

  if (!fixture_ready (fx))
    return;
  g_assert_cmpuint (before, <=, 0xffffff);
  register_proven (observers, &fx->client[0], token_a, 4, T0);
  register_proven (observers, &fx->client[1], token_b, 8, T0);

  md_observers_notify (observers, line, &next_mid, T0 + 10);
  g_assert_cmpuint (md_observers_get_sequence (observers), ==, (before + 1) & 0xffffff);
  g_assert_cmpuint (next_mid, ==, 0x0000);
  mid_a = receive_notification (fx->client_fd[0], token_a, 4, (before + 1) & 0xffffff, line);
  mid_b = receive_notification (fx->client_fd[1], token_b, 8, (before + 1) & 0xffffff, line);
  g_assert_cmpuint (mid_a, !=, mid_b);
  g_assert_true ((mid_a == 0xfffe || mid_a == 0xffff) && (mid_b == 0xfffe || mid_b == 0xffff));

  g_string_assign (line, "43\t2026-11-24T19:43:00Z\talice\tsecond\n");
  md_observers_notify (observers, line, &next_mid, T0 + 20);
  g_assert_cmpuint (md_observers_get_sequence (observers), ==, (before + 2) & 0xffffff);
  g_assert_cmpuint (next_mid, ==, 2);
  receive_notification (fx->client_fd[0], token_a, 4, (before + 2) & 0xffffff, line);
  receive_notification (fx->client_fd[1], token_b, 8, (before + 2) & 0xffffff, line);
  assert_nothing_before_marker (fx, 0);
  assert_nothing_before_marker (fx, 1);
}

static void
test_notify_two_tokens (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("1\t2026-11-24T19:42:57Z\talice\tx\n");
  guint32 sequence;
  guint16 next_mid = 100;
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree MdCoapMessage *m1 = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *m2 = g_new0 (MdCoapMessage, 1);

  if (!fixture_ready (fx))
    return;
  /* One client endpoint with two observations gets one notification each. */
  register_proven (observers, &fx->client[0], token_a, 4, T0);
  register_proven (observers, &fx->client[0], token_b, 8, T0);
  md_observers_notify (observers, line, &next_mid, T0);
  sequence = md_observers_get_sequence (observers);
  first = receive (fx->client_fd[0]);
  second = receive (fx->client_fd[0]);
  g_assert_true (
      md_coap_parse (g_bytes_get_data (first, NULL), g_bytes_get_size (first), m1, &error));
  g_assert_true (
      md_coap_parse (g_bytes_get_data (second, NULL), g_bytes_get_size (second), m2, &error));
  g_assert_cmpuint (m1->token_len + m2->token_len, ==, 12);
  g_assert_cmpuint (m1->mid + m2->mid, ==, 201);
  g_assert_cmpuint (sequence, <=, 0xffffff);
  assert_nothing_before_marker (fx, 0);
}

static void
test_notify_skips_expired (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("7\t2026-11-24T19:42:57Z\talice\tlate\n");
  gint64 later = T0 + MD_OBSERVE_LEASE_US;
  guint16 next_mid = 1;

  if (!fixture_ready (fx))
    return;
  register_proven (observers, &fx->client[0], token_a, 4, T0);
  register_proven (observers, &fx->client[1], token_a, 4, T0 + 1);
  md_observers_notify (observers, line, &next_mid, later);
  /* Only the second lease is still running; one MID used. */
  g_assert_cmpuint (next_mid, ==, 2);
  receive_notification (fx->client_fd[1], token_a, 4, md_observers_get_sequence (observers), line);
  assert_nothing_before_marker (fx, 0);
  assert_nothing_before_marker (fx, 1);
  g_assert_cmpuint (md_observers_get_count (observers, later), ==, 1);
}

static void
test_notify_nobody (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("8\t2026-11-24T19:42:57Z\talice\tnobody\n");
  guint32 before = md_observers_get_sequence (observers);
  guint16 next_mid = 5;

  /* The state still changes, so a later registration sees a newer number. */
  md_observers_notify (observers, line, &next_mid, T0);
  g_assert_cmpuint (next_mid, ==, 5);
  g_assert_cmpuint (md_observers_get_sequence (observers), ==, (before + 1) & 0xffffff);
}

static void
test_reset (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("9\t2026-11-24T19:42:57Z\talice\treset me\n");
  guint32 sequence;
  guint16 next_mid = 300;
  guint16 mid_a, mid_b;

  if (!fixture_ready (fx))
    return;
  register_proven (observers, &fx->client[0], token_a, 4, T0);
  register_proven (observers, &fx->client[1], token_b, 8, T0);
  /* Before any notification no MID matches. */
  md_observers_reset (observers, &fx->client[0], 0);
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 2);

  md_observers_notify (observers, line, &next_mid, T0);
  sequence = md_observers_get_sequence (observers);
  mid_a = receive_notification (fx->client_fd[0], token_a, 4, sequence, line);
  mid_b = receive_notification (fx->client_fd[1], token_b, 8, sequence, line);
  /* An RST with the right MID from the wrong peer, or a wrong MID: no effect. */
  md_observers_reset (observers, &fx->client[1], mid_a);
  md_observers_reset (observers, &fx->client[0], (guint16)(next_mid + 7));
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 2);
  md_observers_reset (observers, &fx->client[0], mid_a);
  g_assert_cmpuint (md_observers_get_count (observers, T0), ==, 1);

  /* The reset observer gets no more notifications; the other still does. */
  md_observers_notify (observers, line, &next_mid, T0 + 1);
  g_assert_cmpuint (receive_notification (fx->client_fd[1], token_b, 8,
                                          md_observers_get_sequence (observers), line),
                    !=, mid_b);
  assert_nothing_before_marker (fx, 0);
}

/* An unverified observer's notification: CON, within @max_bytes; returns
 * it parsed (pointing into @datagram). */
static void
receive_confirmable (int fd, gsize max_bytes, GBytes **datagram, MdCoapMessage *msg)
{
  gsize len;
  const guint8 *data;

  *datagram = receive (fd);
  data = g_bytes_get_data (*datagram, &len);
  g_assert_cmpuint (len, <=, max_bytes);
  g_assert_true (md_coap_parse (data, len, msg, NULL));
  g_assert_cmpint (msg->type, ==, MD_COAP_TYPE_CON);
  g_assert_cmpuint (msg->code, ==, MD_COAP_CONTENT);
}

/* One CON at a time, within the budget (a first block when the note does
 * not fit); an ACK lets the next one go. */
static void
test_unverified_acked (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("9\t2026-11-24T19:42:57Z\ta note too long to fit\n");
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  guint16 next_mid = 500;
  MdCoapBlock block;

  if (!fixture_ready (fx))
    return;
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_true (md_observers_set_budget (observers, &fx->client[0], token_a, 4, 48));
  md_observers_notify (observers, line, &next_mid, T0);
  receive_confirmable (fx->client_fd[0], 48, &first, msg);
  g_assert_true (md_coap_message_get_block (msg, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_true (block.more);
  g_assert_cmpmem (msg->payload, msg->payload_len, line->str, md_coap_block_size (block.szx));

  /* Unacknowledged: the next note is not notified, the observer stays. */
  md_observers_notify (observers, line, &next_mid, T0 + 1);
  assert_nothing_before_marker (fx, 0);
  md_observers_ack (observers, &fx->client[0], msg->mid);
  md_observers_notify (observers, line, &next_mid, T0 + MD_OBSERVE_ACK_WAIT_US + 2);
  receive_confirmable (fx->client_fd[0], 48, &second, msg);
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_ACK_WAIT_US + 2), ==, 1);
}

/* A CON to an unverified observer does not take the next sequential MID,
 * which whoever spoofed the registration could guess and ACK; two awaited
 * by one peer differ, so an ACK keeps one only. */
static void
test_unverified_random_mid (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("9\t2026-11-24T19:42:57Z\tnote\n");
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) second = NULL;
  guint16 next_mid = 700;
  guint16 first_mid;

  if (!fixture_ready (fx))
    return;
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_true (md_observers_set_budget (observers, &fx->client[0], token_a, 4, 200));
  g_assert_true (md_observers_register (observers, &fx->client[0], token_b, 8, T0));
  g_assert_true (md_observers_set_budget (observers, &fx->client[0], token_b, 8, 200));
  md_observers_notify (observers, line, &next_mid, T0);
  g_assert_cmpuint (next_mid, ==, 700);
  receive_confirmable (fx->client_fd[0], 200, &first, msg);
  first_mid = msg->mid;
  receive_confirmable (fx->client_fd[0], 200, &second, msg);
  g_assert_cmpuint (msg->mid, !=, first_mid);
}

/* Registered but never told its cost (its answer did not go out): it is
 * sent nothing, neither unbounded nor within a guess. */
static void
test_notify_needs_budget (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("9\t2026-11-24T19:42:57Z\tnote\n");
  guint16 next_mid = 800;

  if (!fixture_ready (fx))
    return;
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  md_observers_notify (observers, line, &next_mid, T0);
  assert_nothing_before_marker (fx, 0);
  g_assert_cmpuint (next_mid, ==, 800);
}

/* No ACK within MD_OBSERVE_ACK_WAIT_US: dropped; a proven observer beside
 * it keeps its NON notifications. */
static void
test_unverified_unacked (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  g_autoptr (GString) line = g_string_new ("9\t2026-11-24T19:42:57Z\tshort\n");
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GBytes) notification = NULL;
  guint16 next_mid = 600;

  if (!fixture_ready (fx))
    return;
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_true (md_observers_set_budget (observers, &fx->client[0], token_a, 4, 200));
  g_assert_true (md_observers_register (observers, &fx->client[1], token_b, 8, T0));
  g_assert_true (md_observers_set_budget (observers, &fx->client[1], token_b, 8, 0));
  md_observers_notify (observers, line, &next_mid, T0);
  receive_confirmable (fx->client_fd[0], 200, &notification, msg);
  g_assert_false (md_coap_message_has_option (msg, MD_COAP_OPTION_BLOCK2));
  receive_notification (fx->client_fd[1], token_b, 8, md_observers_get_sequence (observers), line);
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_ACK_WAIT_US - 1), ==, 2);
  g_assert_cmpuint (md_observers_get_count (observers, T0 + MD_OBSERVE_ACK_WAIT_US), ==, 1);
  md_observers_notify (observers, line, &next_mid, T0 + MD_OBSERVE_ACK_WAIT_US);
  receive_notification (fx->client_fd[1], token_b, 8, md_observers_get_sequence (observers), line);
  assert_nothing_before_marker (fx, 0);
}

/* At most MD_OBSERVE_MAX_UNVERIFIED; proving the address frees a place. */
static void
test_unverified_cap (Fixture *fx, gconstpointer data)
{
  g_autoptr (MdObservers) observers = md_observers_new ();
  guint8 token[4];
  MdPeer peer;

  for (guint32 i = 0; i < MD_OBSERVE_MAX_UNVERIFIED; i++)
    {
      peer = nth_host_peer (fx, i);
      memcpy (token, &i, sizeof token);
      g_assert_true (md_observers_register (observers, &peer, token, 4, T0));
      g_assert_true (md_observers_set_budget (observers, &peer, token, 4, 48));
    }
  g_assert_true (md_observers_register (observers, &fx->client[0], token_a, 4, T0));
  g_assert_false (md_observers_set_budget (observers, &fx->client[0], token_a, 4, 48));
  /* A proven one is always taken, and one becoming proven makes room. */
  g_assert_true (md_observers_set_budget (observers, &fx->client[0], token_a, 4, 0));
  g_assert_true (md_observers_set_budget (observers, &peer, token, 4, 0));
  g_assert_true (md_observers_register (observers, &fx->client[1], token_b, 8, T0));
  g_assert_true (md_observers_set_budget (observers, &fx->client[1], token_b, 8, 48));
}

int
main (int argc, char **argv)
{
  gconstpointer v4 = GINT_TO_POINTER (AF_INET);
  gconstpointer v6 = GINT_TO_POINTER (AF_INET6);

  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, family)                                                                      \
  g_test_add (path, Fixture, family, fixture_setup, fn, fixture_teardown)
  ADD ("/observers/register", test_register, v4);
  ADD ("/observers/refresh", test_refresh, v4);
  ADD ("/observers/lease-expiry", test_lease_expiry, v4);
  ADD ("/observers/max", test_max, v4);
  ADD ("/observers/host-share", test_host_share, v4);
  ADD ("/observers/deregister", test_deregister, v4);
  ADD ("/observers/reset", test_reset, v4);
  ADD ("/observers/notify/ipv4", test_notify, v4);
  ADD ("/observers/notify/ipv6", test_notify, v6);
  ADD ("/observers/notify/two-tokens", test_notify_two_tokens, v4);
  ADD ("/observers/notify/skips-expired", test_notify_skips_expired, v4);
  ADD ("/observers/notify/nobody", test_notify_nobody, v4);
  ADD ("/observers/notify/needs-budget", test_notify_needs_budget, v4);
  ADD ("/observers/unverified/acked", test_unverified_acked, v4);
  ADD ("/observers/unverified/unacked", test_unverified_unacked, v4);
  ADD ("/observers/unverified/cap", test_unverified_cap, v4);
  ADD ("/observers/unverified/random-mid", test_unverified_random_mid, v4);
#undef ADD
  return g_test_run ();
}
