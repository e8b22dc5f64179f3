#include "config.h"

#include "md-echo.h"
#include "md-test-peer.h"

#include <netinet/in.h>
#include <string.h>

#define T0 (G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC)

/* The nth distinct peer, 127.x.y.z:5000+n. */
static MdPeer
make_nth_peer (guint n)
{
  g_autofree char *address
      = g_strdup_printf ("127.%u.%u.%u", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);

  return md_test_peer4 (3, address, (guint16)(5000 + n % 1000));
}

static void
test_echo_valid (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer peers[] = { md_test_peer4 (3, "127.0.0.1", 40000), md_test_peer6 (3, "::1", 40000) };

  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      guint8 value[MD_ECHO_VALUE_LEN];

      g_assert_false (md_echo_is_verified (echo, &peers[i], T0));
      md_echo_make_value (echo, &peers[i], T0, value);
      g_assert_true (md_echo_check_value (echo, &peers[i], value, sizeof value, T0 + 1000));
      g_assert_true (md_echo_is_verified (echo, &peers[i], T0 + 2000));
    }
}

static void
test_echo_value_format (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  g_autoptr (MdEcho) other = md_echo_new ();
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  guint8 value[MD_ECHO_VALUE_LEN], again[MD_ECHO_VALUE_LEN], foreign[MD_ECHO_VALUE_LEN];
  guint32 window = (guint32)(T0 / MD_ECHO_WINDOW_US);

  md_echo_make_value (echo, &peer, T0, value);
  md_echo_make_value (echo, &peer, T0 + 1, again);
  md_echo_make_value (other, &peer, T0, foreign);
  /* Big-endian window first; stable within a window; keyed per daemon. */
  g_assert_cmpuint (value[0], ==, window >> 24);
  g_assert_cmpuint (value[3], ==, window & 0xff);
  g_assert_cmpmem (value, sizeof value, again, sizeof again);
  g_assert_cmpint (memcmp (value + 4, foreign + 4, MD_ECHO_VALUE_LEN - 4), !=, 0);
  g_assert_false (md_echo_check_value (echo, &peer, foreign, sizeof foreign, T0));
}

static void
test_echo_other_peer (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer alice = md_test_peer4 (3, "127.0.0.1", 40000);
  MdPeer others[] = {
    md_test_peer4 (3, "127.0.0.2", 40000),
    md_test_peer6 (3, "::1", 40000),
    md_test_peer6 (3, "::ffff:127.0.0.2", 40000),
  };
  guint8 value[MD_ECHO_VALUE_LEN];

  md_echo_make_value (echo, &alice, T0, value);
  for (guint i = 0; i < G_N_ELEMENTS (others); i++)
    {
      g_assert_false (md_echo_check_value (echo, &others[i], value, sizeof value, T0));
      g_assert_false (md_echo_is_verified (echo, &others[i], T0));
    }
  g_assert_false (md_echo_is_verified (echo, &alice, T0));
}

static void
test_echo_tampered (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  guint8 value[MD_ECHO_VALUE_LEN];

  md_echo_make_value (echo, &peer, T0, value);
  for (guint byte = 0; byte < MD_ECHO_VALUE_LEN; byte++)
    {
      guint8 tampered[MD_ECHO_VALUE_LEN];

      memcpy (tampered, value, sizeof tampered);
      tampered[byte] ^= 0x01;
      g_assert_false (md_echo_check_value (echo, &peer, tampered, sizeof tampered, T0));
    }
  /* Wrong lengths: truncated, extended, empty. */
  g_assert_false (md_echo_check_value (echo, &peer, value, sizeof value - 1, T0));
  g_assert_false (md_echo_check_value (echo, &peer, NULL, 0, T0));
  {
    guint8 longer[MD_ECHO_VALUE_LEN + 1] = { 0 };

    memcpy (longer, value, sizeof value);
    g_assert_false (md_echo_check_value (echo, &peer, longer, sizeof longer, T0));
  }
  g_assert_false (md_echo_is_verified (echo, &peer, T0));
  g_assert_true (md_echo_check_value (echo, &peer, value, sizeof value, T0));
}

static void
test_echo_windows (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  gint64 start = (T0 / MD_ECHO_WINDOW_US) * MD_ECHO_WINDOW_US; /* a window boundary */
  guint8 value[MD_ECHO_VALUE_LEN];

  md_echo_make_value (echo, &peer, start, value);
  /* The previous window is still good, two windows ago is not. */
  g_assert_true (
      md_echo_check_value (echo, &peer, value, sizeof value, start + 2 * MD_ECHO_WINDOW_US - 1));
  g_assert_false (
      md_echo_check_value (echo, &peer, value, sizeof value, start + 2 * MD_ECHO_WINDOW_US));
  /* Nor a value from the future. */
  md_echo_make_value (echo, &peer, start + MD_ECHO_WINDOW_US, value);
  g_assert_false (md_echo_check_value (echo, &peer, value, sizeof value, start));
}

static void
test_echo_verified_expiry (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer peer = md_test_peer4 (3, "127.0.0.1", 40000);
  guint8 value[MD_ECHO_VALUE_LEN];
  gint64 later;

  md_echo_make_value (echo, &peer, T0, value);
  g_assert_true (md_echo_check_value (echo, &peer, value, sizeof value, T0));
  g_assert_true (md_echo_is_verified (echo, &peer, T0 + MD_ECHO_VERIFIED_US - 1));
  g_assert_false (md_echo_is_verified (echo, &peer, T0 + MD_ECHO_VERIFIED_US));

  /* Verifying again renews the period. */
  later = T0 + MD_ECHO_VERIFIED_US + 5;
  md_echo_make_value (echo, &peer, later, value);
  g_assert_true (md_echo_check_value (echo, &peer, value, sizeof value, later));
  g_assert_true (md_echo_is_verified (echo, &peer, later + MD_ECHO_VERIFIED_US - 1));
  g_assert_false (md_echo_is_verified (echo, &peer, later + MD_ECHO_VERIFIED_US));
}

static void
verify (MdEcho *echo, const MdPeer *peer, gint64 now_us)
{
  guint8 value[MD_ECHO_VALUE_LEN];

  md_echo_make_value (echo, peer, now_us, value);
  g_assert_true (md_echo_check_value (echo, peer, value, sizeof value, now_us));
}

static void
test_echo_table_bound (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer first = make_nth_peer (0);
  MdPeer second = make_nth_peer (1);
  MdPeer newest = make_nth_peer (MD_ECHO_MAX_VERIFIED);

  for (guint n = 0; n < MD_ECHO_MAX_VERIFIED; n++)
    {
      MdPeer peer = make_nth_peer (n);

      verify (echo, &peer, T0 + n);
    }
  /* Re-verifying the first makes the second the oldest. */
  verify (echo, &first, T0 + MD_ECHO_MAX_VERIFIED);
  verify (echo, &newest, T0 + MD_ECHO_MAX_VERIFIED + 1);
  g_assert_true (md_echo_is_verified (echo, &newest, T0 + MD_ECHO_MAX_VERIFIED + 2));
  g_assert_true (md_echo_is_verified (echo, &first, T0 + MD_ECHO_MAX_VERIFIED + 2));
  g_assert_false (md_echo_is_verified (echo, &second, T0 + MD_ECHO_MAX_VERIFIED + 2));
  for (guint n = 2; n < MD_ECHO_MAX_VERIFIED; n++)
    {
      MdPeer peer = make_nth_peer (n);

      g_assert_true (md_echo_is_verified (echo, &peer, T0 + MD_ECHO_MAX_VERIFIED + 2));
    }
}

/* Clients open a new port per request: the proof is the address's, on any
 * port, and an IPv4-mapped IPv6 address is the same IPv4 address. */
static void
test_echo_any_port (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer first = md_test_peer4 (3, "192.0.2.1", 20000);
  MdPeer later = md_test_peer4 (3, "192.0.2.1", 20001);
  MdPeer mapped = md_test_peer6 (3, "::ffff:192.0.2.1", 20002);
  MdPeer neighbour = md_test_peer4 (3, "192.0.2.2", 20000);
  guint8 value[MD_ECHO_VALUE_LEN];

  md_echo_make_value (echo, &first, T0, value);
  g_assert_true (md_echo_check_value (echo, &later, value, sizeof value, T0));
  g_assert_true (md_echo_is_verified (echo, &first, T0 + 1));
  g_assert_true (md_echo_is_verified (echo, &mapped, T0 + MD_ECHO_VERIFIED_US - 1));
  g_assert_false (md_echo_is_verified (echo, &neighbour, T0 + 1));
  g_assert_false (md_echo_is_verified (echo, &later, T0 + MD_ECHO_VERIFIED_US));
}

/* However many ports one address verifies from, it holds one entry: the
 * others' stay. */
static void
test_echo_one_entry_per_address (void)
{
  g_autoptr (MdEcho) echo = md_echo_new ();
  MdPeer first = make_nth_peer (0);

  verify (echo, &first, T0);
  for (guint n = 1; n < MD_ECHO_MAX_VERIFIED; n++)
    {
      MdPeer peer = make_nth_peer (n);

      verify (echo, &peer, T0 + n);
    }
  for (guint i = 0; i < 2 * MD_ECHO_MAX_VERIFIED; i++)
    {
      MdPeer port = md_test_peer4 (3, "127.0.0.1", (guint16)(20000 + i));

      verify (echo, &port, T0 + MD_ECHO_MAX_VERIFIED + i);
    }
  g_assert_true (md_echo_is_verified (echo, &first, T0 + 3 * MD_ECHO_MAX_VERIFIED));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/echo/valid", test_echo_valid);
  g_test_add_func ("/echo/value-format", test_echo_value_format);
  g_test_add_func ("/echo/other-peer", test_echo_other_peer);
  g_test_add_func ("/echo/tampered", test_echo_tampered);
  g_test_add_func ("/echo/windows", test_echo_windows);
  g_test_add_func ("/echo/verified-expiry", test_echo_verified_expiry);
  g_test_add_func ("/echo/any-port", test_echo_any_port);
  g_test_add_func ("/echo/one-entry-per-address", test_echo_one_entry_per_address);
  g_test_add_func ("/echo/table-bound", test_echo_table_bound);
  return g_test_run ();
}
