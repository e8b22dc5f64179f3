/* A client without Echo (RFC 9175) that opens a new port for every request
 * (tests/support/md-plain-client.h) still reads everything from mydailyd:
 * a 100 KB history, /.well-known/core, /status, and an observation of
 * /latest, each answer within three times its request. */
#include "config.h"

#include "md-plain-client.h"
#include "md-test-daemon.h"

#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HISTORY_BYTES (100 * 1024)
#define NOTIFY_TIMEOUT_MS 10000

typedef struct
{
  MdTestDaemon *daemon;
  MdPlainClient client;
} Fixture;

/* A history of at least HISTORY_BYTES on the wire, written before the
 * daemon starts (old 4-field lines, which every version reads). */
static void
write_history (const char *state_dir)
{
  g_autoptr (GString) notes = g_string_new (NULL);
  g_autofree char *path = g_build_filename (state_dir, "notes", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (state_dir, 0700), ==, 0);
  /* The wire lines lack the file's KEY field ("-\t"). */
  for (guint id = 1; notes->len - 2 * (id - 1) < HISTORY_BYTES; id++)
    g_string_append_printf (notes,
                            "%u\t2026-11-30T08:00:00Z\t-\tnote %u of a long history, "
                            "read by a client without Echo\n",
                            id, id);
  g_file_set_contents (path, notes->str, (gssize)notes->len, &error);
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  write_history (md_test_daemon_get_state_dir (fx->daemon));
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  md_plain_client_init (&fx->client, "127.0.0.1", md_test_daemon_get_port (fx->daemon), NULL);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
}

static void
report (const MdPlainClient *client, const char *what)
{
  g_test_message ("%s: %u requests, %" G_GUINT64_FORMAT " bytes sent, %" G_GUINT64_FORMAT
                  " received, blocks of %u to %u bytes, worst answer %.2f x its request",
                  what, client->requests, client->sent_bytes, client->received_bytes,
                  client->smallest_block, client->largest_block, client->worst_ratio);
}

/* Never verified, so never more than 3x, and never a full 1024 block. */
static void
assert_budget (const MdPlainClient *client)
{
  g_assert_cmpfloat (client->worst_ratio, <=, 3.0);
  g_assert_cmpuint (client->largest_block, <, 1024);
}

static void
test_history (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) records
      = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
  g_autofree char *wire = md_test_records_to_wire (records);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = md_plain_client_get (&fx->client, "notes", NULL, &error);

  g_assert_no_error (error);
  report (&fx->client, "GET /notes");
  g_assert_cmpuint (strlen (wire), >=, HISTORY_BYTES);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), wire, strlen (wire));
  assert_budget (&fx->client);
}

static void
test_history_after (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) records
      = md_test_read_complete_notes (md_test_daemon_get_notes_path (fx->daemon));
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *query = NULL;
  guint after = records->len - 100;

  g_ptr_array_remove_range (records, 0, after);
  wire = md_test_records_to_wire (records);
  query = g_strdup_printf ("after=%u", after);
  body = md_plain_client_get (&fx->client, "notes", query, &error);
  g_assert_no_error (error);
  report (&fx->client, "GET /notes?after=");
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), wire, strlen (wire));
  assert_budget (&fx->client);
}

static char *
get_text (Fixture *fx, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = md_plain_client_get (&fx->client, path, NULL, &error);

  g_assert_no_error (error);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static void
test_core_and_status (Fixture *fx, gconstpointer data)
{
  g_autofree char *core = get_text (fx, ".well-known/core");
  g_autofree char *status = get_text (fx, "status");

  report (&fx->client, "GET /.well-known/core and /status");
  g_assert_nonnull (strstr (core, "</notes>"));
  g_assert_nonnull (strstr (core, "</latest>"));
  g_assert_nonnull (strstr (status, "\nnotebook: "));
  g_assert_true (g_str_has_suffix (status, "\n"));
  assert_budget (&fx->client);
}

/* ---- /latest observed ---- */

static int
observer_socket (Fixture *fx)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *)&fx->client.server, fx->client.server_len), ==,
                   0);
  return fd;
}

/* The next datagram on @fd, parsed into @msg (pointing into @buf). */
static gssize
receive (int fd, guint8 *buf, MdCoapMessage *msg, guint timeout_ms)
{
  struct pollfd p = { fd, POLLIN, 0 };
  ssize_t n;

  if (poll (&p, 1, (int)timeout_ms) != 1)
    return -1;
  n = recv (fd, buf, MD_COAP_MAX_DATAGRAM, 0);
  g_assert_cmpint (n, >, 0);
  g_assert_true (md_coap_parse (buf, (gsize)n, msg, NULL));
  return n;
}

static gsize
register_latest (Fixture *fx, int fd, MdCoapMessage *request)
{
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 out[MD_COAP_MAX_DATAGRAM], buf[MD_COAP_MAX_DATAGRAM];
  gssize len, n;

  fx->client.token_len = 8;
  md_plain_client_make_request (&fx->client, request, MD_COAP_GET, "latest", NULL);
  g_assert_true (md_coap_message_add_uint_option (request, MD_COAP_OPTION_OBSERVE, 0));
  len = md_coap_encode (request, out, sizeof out, NULL);
  g_assert_cmpint (send (fd, out, (gsize)len, 0), ==, len);
  n = receive (fd, buf, answer, NOTIFY_TIMEOUT_MS);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpuint (answer->code, ==, MD_COAP_CONTENT);
  g_assert_true (md_coap_message_has_option (answer, MD_COAP_OPTION_OBSERVE));
  g_assert_cmpint (n, <=, 3 * len);
  return (gsize)len;
}

static void
post_note (Fixture *fx, const char *text)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];

  md_plain_client_make_request (&fx->client, request, MD_COAP_POST, "notes", NULL);
  g_assert_true (md_coap_message_set_payload (request, text, strlen (text)));
  g_assert_true (md_plain_client_exchange (&fx->client, request, answer, buf));
  g_assert_cmpuint (answer->code, ==, MD_COAP_CREATED);
}

/* The newest note from a notification: its payload, and the rest of /latest
 * by Block2 when it is only the first block (RFC 7959 §3.4). */
static char *
notified_line (Fixture *fx, const MdCoapMessage *notification)
{
  g_autoptr (GByteArray) prefix = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) line = NULL;
  MdCoapBlock block;

  g_byte_array_append (prefix, notification->payload, (guint)notification->payload_len);
  if (!md_coap_message_get_block (notification, MD_COAP_OPTION_BLOCK2, &block) || !block.more)
    return g_strndup ((const char *)prefix->data, prefix->len);
  line = md_plain_client_get_from (&fx->client, "latest", NULL, prefix, block.num + 1, block.szx,
                                   &error);
  g_assert_no_error (error);
  return g_strndup (g_bytes_get_data (line, NULL), g_bytes_get_size (line));
}

static void
test_observe (Fixture *fx, gconstpointer data)
{
  g_autofree MdCoapMessage *registration = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *notification = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  g_autofree char *line = NULL;
  int fd = observer_socket (fx);
  gsize registration_len = register_latest (fx, fd, registration);
  gssize n;

  post_note (fx, "a new note for the observer");
  n = receive (fd, buf, notification, NOTIFY_TIMEOUT_MS);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpmem (notification->token, notification->token_len, registration->token,
                   registration->token_len);
  g_assert_true (md_coap_message_has_option (notification, MD_COAP_OPTION_OBSERVE));
  /* Unproven: confirmable, within the budget of the registration. */
  g_assert_cmpint (notification->type, ==, MD_COAP_TYPE_CON);
  g_assert_cmpint (n, <=, 3 * (gssize)registration_len);
  {
    const guint8 ack[4]
        = { 0x60, 0x00, (guint8)(notification->mid >> 8), (guint8)notification->mid };

    g_assert_cmpint (send (fd, ack, sizeof ack, 0), ==, sizeof ack);
  }
  line = notified_line (fx, notification);
  g_test_message ("notified: %s", line);
  g_assert_true (g_str_has_suffix (line, "\ta new note for the observer\n"));
  close (fd);
}

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  ADD ("/no-echo/history", test_history);
  ADD ("/no-echo/history-after", test_history_after);
  ADD ("/no-echo/core-and-status", test_core_and_status);
  ADD ("/no-echo/observe", test_observe);
  return g_test_run ();
}
