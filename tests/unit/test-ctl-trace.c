/* mydailyctl --debug lines: time, direction, peer and the datagram's decode,
 * and a peer name that cannot reach the terminal as a control. */
#include "config.h"

#include "md-ctl-trace.h"

#include <time.h>

static const guint8 ack_created[]
    = { 0x64, 0x41, 0x09, 0x37, 0xfe, 0x1d, 0x5c, 0x3f, 0x85, 'n', 'o', 't', 'e', 's', 0x01, '1' };

static void
test_sent_and_received (void)
{
  const guint8 get[] = { 0x40, 0x01, 0xca, 0x5a, 0xb6, 's', 't', 'a', 't', 'u', 's' };
  gint64 at = G_GINT64_CONSTANT (1764594581) * G_USEC_PER_SEC + 902134; /* 13:09:41 UTC */
  g_autofree char *sent
      = md_ctl_trace_format (MD_CLIENT_SENT, "127.0.0.1:5683", get, sizeof get, at);
  g_autofree char *received = md_ctl_trace_format (MD_CLIENT_RECEIVED, "[::1]:5683", ack_created,
                                                   sizeof ack_created, at + 859);

  g_assert_cmpstr (sent, ==,
                   "13:09:41.902134 send to 127.0.0.1:5683: CON GET mid=0xca5a path=status");
  g_assert_cmpstr (received, ==,
                   "13:09:41.902993 recv from [::1]:5683: ACK 2.01 mid=0x0937 token=fe1d5c3f "
                   "location=notes/1");
}

static void
test_malformed_and_hostile_peer (void)
{
  const guint8 junk[] = { 0x1b, '[', '2', 'J' };
  g_autofree char *line
      = md_ctl_trace_format (MD_CLIENT_RECEIVED, "host\x1b]0;x\x07", junk, sizeof junk, 0);

  g_assert_cmpstr (line, ==,
                   "00:00:00.000000 recv from host\\u001b]0;x\\u0007: malformed: unsupported CoAP "
                   "version (4 bytes)");
}

int
main (int argc, char **argv)
{
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ctl/trace/sent-and-received", test_sent_and_received);
  g_test_add_func ("/ctl/trace/malformed-and-hostile-peer", test_malformed_and_hostile_peer);
  return g_test_run ();
}
