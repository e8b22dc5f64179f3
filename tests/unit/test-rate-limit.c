#include "config.h"

#include "md-address-set.h"
#include "md-error.h"
#include "md-rate-limit.h"
#include "md-test-peer.h"

#define T0 (G_GINT64_CONSTANT (1000) * G_USEC_PER_SEC)

static MdAddressSet *address_set (const char *first, ...) G_GNUC_NULL_TERMINATED;

static MdAddressSet *
address_set (const char *first, ...)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  MdAddressSet *set;
  va_list args;

  va_start (args, first);
  for (const char *item = first; item != NULL; item = va_arg (args, const char *))
    g_ptr_array_add (items, (gpointer)item);
  va_end (args);
  g_ptr_array_add (items, NULL);
  set = md_address_set_new ((const char *const *)items->pdata, &error);
  g_assert_no_error (error);
  return set;
}

static void
test_address_set_contains (void)
{
  g_autoptr (MdAddressSet) set = address_set ("127.0.0.0/8", "::1", "192.168.1.128/25",
                                              "2001:db8::/32", "::ffff:10.0.0.0/104", NULL);
  MdPeer in[] = {
    md_test_peer4 (3, "127.0.0.1", 1),     md_test_peer4 (3, "127.255.0.9", 2),
    md_test_peer6 (3, "::1", 3),           md_test_peer6 (3, "::ffff:127.0.0.2", 4),
    md_test_peer4 (3, "192.168.1.200", 5), md_test_peer6 (3, "2001:db8:ffff::1", 6),
    md_test_peer4 (3, "10.9.8.7", 7),
  };
  MdPeer out[] = {
    md_test_peer4 (3, "128.0.0.1", 1),     md_test_peer6 (3, "::2", 2),
    md_test_peer4 (3, "192.168.1.127", 3), md_test_peer6 (3, "2001:db9::1", 4),
    md_test_peer4 (3, "11.0.0.1", 5),
  };

  for (guint i = 0; i < G_N_ELEMENTS (in); i++)
    g_assert_true (md_address_set_contains (set, &in[i]));
  for (guint i = 0; i < G_N_ELEMENTS (out); i++)
    g_assert_false (md_address_set_contains (set, &out[i]));
}

static void
test_address_set_bad (void)
{
  const char *const bad[]
      = { "127.0.0.1/33", "::1/129", "localhost", "10.0.0.0/", "1.2.3.4/x", "1.2.3.4/-1", "" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      const char *items[] = { "::1", bad[i], NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (MdAddressSet) set = md_address_set_new (items, &error);

      g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
      g_assert_null (set);
    }
}

/* A burst, then one add per 1/rate seconds; the refusal says how long to
 * wait, and waiting that long is enough. */
static void
test_rate_limit_bucket (void)
{
  g_autoptr (MdRateLimit) limit = md_rate_limit_new (2, 5, NULL);
  MdPeer peer = md_test_peer4 (3, "192.0.2.1", 40000);
  MdPeer other_port = md_test_peer4 (3, "192.0.2.1", 40001);
  MdPeer other_host = md_test_peer4 (3, "192.0.2.2", 40000);
  guint retry = 99;

  for (guint i = 0; i < 5; i++)
    g_assert_true (md_rate_limit_take (limit, &peer, T0, &retry));
  g_assert_cmpuint (retry, ==, 0);
  /* A new port is the same host. */
  g_assert_false (md_rate_limit_take (limit, &other_port, T0, &retry));
  g_assert_cmpuint (retry, ==, 1);
  g_assert_true (md_rate_limit_take (limit, &other_host, T0, &retry));
  /* Half a second gives one token at 2 per second. */
  g_assert_true (md_rate_limit_take (limit, &peer, T0 + G_USEC_PER_SEC / 2, &retry));
  g_assert_false (md_rate_limit_take (limit, &peer, T0 + G_USEC_PER_SEC / 2, &retry));
  g_assert_true (
      md_rate_limit_take (limit, &peer, T0 + G_USEC_PER_SEC / 2 + retry * G_USEC_PER_SEC, &retry));
  /* A long pause refills to the burst, no more. */
  for (guint i = 0; i < 5; i++)
    g_assert_true (
        md_rate_limit_take (limit, &peer, T0 + G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC, &retry));
  g_assert_false (
      md_rate_limit_take (limit, &peer, T0 + G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC, &retry));
}

static void
test_rate_limit_slow_rate (void)
{
  g_autoptr (MdRateLimit) limit = md_rate_limit_new (0.1, 1, NULL);
  MdPeer peer = md_test_peer6 (3, "2001:db8::1", 40000);
  guint retry = 0;

  g_assert_true (md_rate_limit_take (limit, &peer, T0, &retry));
  g_assert_false (md_rate_limit_take (limit, &peer, T0, &retry));
  g_assert_cmpuint (retry, ==, 10);
  g_assert_false (md_rate_limit_take (limit, &peer, T0 + 9 * G_USEC_PER_SEC, &retry));
  g_assert_true (md_rate_limit_take (limit, &peer, T0 + 10 * G_USEC_PER_SEC, &retry));
}

static void
test_rate_limit_exempt (void)
{
  g_autoptr (MdRateLimit) limit = md_rate_limit_new (1, 1, address_set ("127.0.0.1", NULL));
  MdPeer exempt = md_test_peer4 (3, "127.0.0.1", 40000);
  MdPeer mapped = md_test_peer6 (3, "::ffff:127.0.0.1", 40000);
  MdPeer limited = md_test_peer4 (3, "127.0.0.2", 40000);
  guint retry;

  for (guint i = 0; i < 1000; i++)
    {
      g_assert_true (md_rate_limit_take (limit, &exempt, T0, &retry));
      g_assert_true (md_rate_limit_take (limit, &mapped, T0, &retry));
    }
  g_assert_cmpuint (md_rate_limit_get_hosts (limit), ==, 0);
  g_assert_true (md_rate_limit_take (limit, &limited, T0, &retry));
  g_assert_false (md_rate_limit_take (limit, &limited, T0, &retry));
}

static void
test_rate_limit_off (void)
{
  g_autoptr (MdRateLimit) limit = md_rate_limit_new (0, 1, NULL);
  MdPeer peer = md_test_peer4 (3, "192.0.2.1", 40000);
  guint retry;

  for (guint i = 0; i < 1000; i++)
    g_assert_true (md_rate_limit_take (limit, &peer, T0, &retry));
}

/* Many hosts: the table stays at its cap, and the host touched last keeps
 * its bucket. */
static void
test_rate_limit_table_cap (void)
{
  g_autoptr (MdRateLimit) limit = md_rate_limit_new (1, 1, NULL);
  MdPeer busy = md_test_peer4 (3, "192.0.2.1", 40000);
  guint retry;

  g_assert_true (md_rate_limit_take (limit, &busy, T0, &retry));
  for (guint i = 0; i < 3 * MD_RATE_LIMIT_MAX_HOSTS; i++)
    {
      g_autofree char *address
          = g_strdup_printf ("10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff);
      MdPeer peer = md_test_peer4 (3, address, 40000);

      md_rate_limit_take (limit, &peer, T0, &retry);
      if (i % 1000 == 0)
        g_assert_false (md_rate_limit_take (limit, &busy, T0, &retry));
    }
  g_assert_cmpuint (md_rate_limit_get_hosts (limit), ==, MD_RATE_LIMIT_MAX_HOSTS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/address-set/contains", test_address_set_contains);
  g_test_add_func ("/address-set/bad", test_address_set_bad);
  g_test_add_func ("/rate-limit/bucket", test_rate_limit_bucket);
  g_test_add_func ("/rate-limit/slow-rate", test_rate_limit_slow_rate);
  g_test_add_func ("/rate-limit/exempt", test_rate_limit_exempt);
  g_test_add_func ("/rate-limit/off", test_rate_limit_off);
  g_test_add_func ("/rate-limit/table-cap", test_rate_limit_table_cap);
  return g_test_run ();
}
