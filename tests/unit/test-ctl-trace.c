/* mydailyctl --debug lines: time, direction, peer and the datagram's decode,
 * and a peer name that cannot reach the terminal as a control. */
#include "config.h"

#include "md-ctl-trace.h"

#include <string.h>
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

static void
collect (const char *line, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (line));
}

/* The part after the time: "send to ...: ..." or "  ACK ...". */
static const char *
after_time (GPtrArray *lines, guint i)
{
  const char *line = g_ptr_array_index (lines, i);

  g_assert_cmpuint (strlen (line), >, 16);
  g_assert_cmpint (line[15], ==, ' ');
  return line + 16;
}

/* Over DTLS a line per record, and the CoAP message of an application
 * record under it: a sent one given before its record leaves, a received
 * one after its datagram. */
static void
test_dtls_records (void)
{
  /* Two records in one datagram: a ChangeCipherSpec and an application record. */
  const guint8 datagram[] = { 20,   0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1,    1,   23,
                              0xfe, 0xfd, 0,    1, 0, 0, 0, 0, 0, 1, 0, 2, 0xee, 0xff };
  const guint8 get[] = { 0x40, 0x01, 0xca, 0x5a, 0xb6, 's', 't', 'a', 't', 'u', 's' };
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MdCtlTrace) trace = md_ctl_trace_new (collect, lines);

  md_ctl_trace_datagram (MD_CLIENT_SENT, MD_CLIENT_TRACE_DECRYPTED, "127.0.0.1:5684", get,
                         sizeof get, trace);
  g_assert_cmpuint (lines->len, ==, 0);
  md_ctl_trace_datagram (MD_CLIENT_SENT, MD_CLIENT_TRACE_DTLS, "127.0.0.1:5684", datagram,
                         sizeof datagram, trace);
  md_ctl_trace_datagram (MD_CLIENT_RECEIVED, MD_CLIENT_TRACE_DTLS, "127.0.0.1:5684", datagram + 14,
                         sizeof datagram - 14, trace);
  md_ctl_trace_datagram (MD_CLIENT_RECEIVED, MD_CLIENT_TRACE_DECRYPTED, "127.0.0.1:5684",
                         ack_created, sizeof ack_created, trace);
  /* A datagram that ends inside a record. */
  md_ctl_trace_datagram (MD_CLIENT_RECEIVED, MD_CLIENT_TRACE_DTLS, "127.0.0.1:5684", datagram,
                         sizeof datagram - 1, trace);
  g_assert_cmpuint (lines->len, ==, 7);
  g_assert_cmpstr (after_time (lines, 0), ==,
                   "send to 127.0.0.1:5684: DTLS change_cipher_spec epoch=0 seq=4 len=1");
  g_assert_cmpstr (after_time (lines, 1), ==,
                   "send to 127.0.0.1:5684: DTLS application_data epoch=1 seq=1 len=2");
  g_assert_cmpstr (after_time (lines, 2), ==, "  CON GET mid=0xca5a path=status");
  g_assert_cmpstr (after_time (lines, 3), ==,
                   "recv from 127.0.0.1:5684: DTLS application_data epoch=1 seq=1 len=2");
  g_assert_cmpstr (after_time (lines, 4), ==,
                   "  ACK 2.01 mid=0x0937 token=fe1d5c3f location=notes/1");
  g_assert_cmpstr (after_time (lines, 5), ==,
                   "recv from 127.0.0.1:5684: DTLS change_cipher_spec epoch=0 seq=4 len=1");
  g_assert_cmpstr (after_time (lines, 6), ==,
                   "recv from 127.0.0.1:5684: DTLS malformed: 14 bytes left");
}

/* A message the session never sent still shows, when the tracer ends. */
static void
test_never_sent (void)
{
  const guint8 get[] = { 0x40, 0x01, 0x00, 0x01 };
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  MdCtlTrace *trace = md_ctl_trace_new (collect, lines);

  md_ctl_trace_datagram (MD_CLIENT_SENT, MD_CLIENT_TRACE_DECRYPTED, "127.0.0.1:5684", get,
                         sizeof get, trace);
  md_ctl_trace_free (trace);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_cmpstr (after_time (lines, 0), ==, "  (never sent) CON GET mid=0x0001");
}

int
main (int argc, char **argv)
{
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ctl/trace/sent-and-received", test_sent_and_received);
  g_test_add_func ("/ctl/trace/malformed-and-hostile-peer", test_malformed_and_hostile_peer);
  g_test_add_func ("/ctl/trace/dtls-records", test_dtls_records);
  g_test_add_func ("/ctl/trace/never-sent", test_never_sent);
  return g_test_run ();
}
