#include "config.h"

#include "md-error.h"
#include "md-log.h"
#include "md-plain-filter.h"
#include "md-test-peer.h"

#include <string.h>

/* The journal messages of refusals: how many, and the last REFUSED=. */
static struct
{
  guint messages;
  char refused[32];
} logged;

static GLogWriterOutput
recording_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  gboolean ours = FALSE;

  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE_ID") == 0
        && strcmp (fields[i].value, MD_PROTOCOL_MESSAGE_ID_PLAIN_REFUSED) == 0)
      ours = TRUE;
  if (!ours)
    return g_log_writer_default (level, fields, n_fields, user_data);
  logged.messages++;
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, MD_PROTOCOL_FIELD_REFUSED) == 0)
      g_strlcpy (logged.refused, fields[i].value, sizeof logged.refused);
  return G_LOG_WRITER_HANDLED;
}

/* The default: this host only, IPv4, IPv6 and IPv4-mapped IPv6 (the
 * dual-stack [::]:5683 of mydaily.socket) alike; the rest is refused and
 * counted. */
static void
test_plain_filter_default (void)
{
  g_autoptr (MdPlainFilter) filter = md_plain_filter_new ();
  const char *const admitted[] = { "127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1" };
  const char *const refused[]
      = { "10.0.0.5", "192.168.1.7", "::ffff:192.168.1.7", "fe80::1", "2001:db8::1", "::2" };

  for (gsize i = 0; i < G_N_ELEMENTS (admitted); i++)
    {
      MdPeer peer = strchr (admitted[i], ':') ? md_test_peer6 (3, admitted[i], 40000)
                                              : md_test_peer4 (3, admitted[i], 40000);

      g_assert_cmpint (md_plain_filter_check (filter, &peer, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                       MD_PLAIN_ADMIT);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      MdPeer peer = strchr (refused[i], ':') ? md_test_peer6 (3, refused[i], 40000)
                                             : md_test_peer4 (3, refused[i], 40000);

      g_assert_cmpint (md_plain_filter_check (filter, &peer, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                       MD_PLAIN_REFUSE);
    }
  g_assert_cmpuint (md_plain_filter_get_refused (filter), ==, G_N_ELEMENTS (refused));
  /* One journal message a minute, which counts the refusals it stands for. */
  g_assert_cmpuint (logged.messages, ==, 1);
  g_assert_cmpstr (logged.refused, ==, "1");
  {
    MdPeer peer = md_test_peer4 (3, "10.0.0.5", 40000);

    md_plain_filter_check (filter, &peer, MD_PLAIN_DESTINATION_UNICAST,
                           1 + MD_LOG_LIMIT_INTERVAL_US);
  }
  g_assert_cmpuint (logged.messages, ==, 2);
  g_assert_cmpstr (logged.refused, ==, "6");
}

/* A LAN added: its IPv4 hosts match whether they reach an IPv4 or a
 * dual-stack socket; a bad network changes nothing and names itself. */
static void
test_plain_filter_networks (void)
{
  g_autoptr (MdPlainFilter) filter = md_plain_filter_new ();
  g_autoptr (GError) error = NULL;
  const char *const lan[] = { "192.168.1.0/24", "fd00::/8", NULL };
  const char *const bad[] = { "10.0.0.0/8", "10.0.0.0/40", NULL };
  MdPeer v4 = md_test_peer4 (3, "192.168.1.7", 40000);
  MdPeer mapped = md_test_peer6 (3, "::ffff:192.168.1.7", 40000);
  MdPeer v6 = md_test_peer6 (3, "fd12::7", 40000);
  MdPeer outside = md_test_peer4 (3, "192.168.2.7", 40000);
  MdPeer local = md_test_peer4 (3, "127.0.0.1", 40000);

  g_assert_true (md_plain_filter_set_networks (filter, lan, &error));
  g_assert_no_error (error);
  g_assert_cmpint (md_plain_filter_check (filter, &v4, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                   MD_PLAIN_ADMIT);
  g_assert_cmpint (md_plain_filter_check (filter, &mapped, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                   MD_PLAIN_ADMIT);
  g_assert_cmpint (md_plain_filter_check (filter, &v6, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                   MD_PLAIN_ADMIT);
  g_assert_cmpint (md_plain_filter_check (filter, &outside, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                   MD_PLAIN_REFUSE);
  /* Loopback is in the list only when the list says so. */
  g_assert_cmpint (md_plain_filter_check (filter, &local, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                   MD_PLAIN_REFUSE);

  g_assert_false (md_plain_filter_set_networks (filter, bad, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "PlainFrom="));
  g_assert_nonnull (strstr (error->message, "“10.0.0.0/40”"));
  g_assert_cmpint (md_plain_filter_check (filter, &v4, MD_PLAIN_DESTINATION_UNICAST, 1), ==,
                   MD_PLAIN_ADMIT);
  g_assert_cmpuint (md_plain_filter_get_refused (filter), ==, 2);
}

/* A datagram sent to a group is discovery's (issue 11), from anywhere, and
 * no refusal; the destination comes from the local address. */
static void
test_plain_filter_multicast (void)
{
  g_autoptr (MdPlainFilter) filter = md_plain_filter_new ();
  MdPeer v4 = md_test_peer4 (3, "192.168.1.7", 40000);
  MdPeer v6 = md_test_peer6 (3, "fe80::7", 40000);

  g_assert_cmpint (md_plain_destination_of (&v4), ==, MD_PLAIN_DESTINATION_UNICAST);
  v4.local.family = AF_INET;
  g_assert_cmpint (inet_pton (AF_INET, "192.168.1.1", &v4.local.addr.v4), ==, 1);
  g_assert_cmpint (md_plain_destination_of (&v4), ==, MD_PLAIN_DESTINATION_UNICAST);
  g_assert_cmpint (inet_pton (AF_INET, "224.0.1.187", &v4.local.addr.v4), ==, 1);
  g_assert_cmpint (md_plain_destination_of (&v4), ==, MD_PLAIN_DESTINATION_MULTICAST);
  v6.local.family = AF_INET6;
  g_assert_cmpint (inet_pton (AF_INET6, "ff02::fd", &v6.local.addr.v6), ==, 1);
  g_assert_cmpint (md_plain_destination_of (&v6), ==, MD_PLAIN_DESTINATION_MULTICAST);
  g_assert_cmpint (md_plain_filter_check (filter, &v4, md_plain_destination_of (&v4), 1), ==,
                   MD_PLAIN_DISCOVERY);
  g_assert_cmpint (md_plain_filter_check (filter, &v6, md_plain_destination_of (&v6), 1), ==,
                   MD_PLAIN_DISCOVERY);
  g_assert_cmpuint (md_plain_filter_get_refused (filter), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (recording_writer, NULL, NULL);
  g_test_add_func ("/plain-filter/default", test_plain_filter_default);
  g_test_add_func ("/plain-filter/networks", test_plain_filter_networks);
  g_test_add_func ("/plain-filter/multicast", test_plain_filter_multicast);
  return g_test_run ();
}
