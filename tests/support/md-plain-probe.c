/* md-plain-probe ADDRESS PORT COMMAND: the client of md-plain-client.h for
 * the network-namespace tests, where a GTest program cannot reach.
 *
 *   routes        every resource and method of the route table, and bad
 *                 requests, as a client that never proves its address;
 *                 prints each case's worst answer / request ratio and the
 *                 worst of all; exits 1 when one is above 3
 *   dtls-hello    a bare DTLS ClientHello to PORT: the first answer must be
 *                 a HelloVerifyRequest within 3 times the hello
 *   register      an Observe registration of /latest, then exits at once
 *   status        prints the body of GET /status
 *   post TEXT     adds a note; exits 1 unless 2.01 */
#include "config.h"

#include "md-plain-client.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AMPLIFICATION 3.0
#define NOTIFY_TIMEOUT_MS 5000

typedef struct
{
  const char *address;
  guint16 port;
  double worst;
  const char *worst_case;
} Probe;

static void
record (Probe *probe, const char *name, const MdPlainClient *client)
{
  g_print ("%-28s %4u requests  %7" G_GUINT64_FORMAT " bytes sent  %7" G_GUINT64_FORMAT
           " received  worst %.2f\n",
           name, client->requests, client->sent_bytes, client->received_bytes, client->worst_ratio);
  if (client->requests == 0)
    {
      g_print ("%s: no answer at all\n", name);
      exit (1);
    }
  if (client->worst_ratio > probe->worst)
    {
      probe->worst = client->worst_ratio;
      probe->worst_case = name;
    }
}

static void
probe_get (Probe *probe, const char *name, const char *path, const char *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  MdPlainClient client;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  body = md_plain_client_get (&client, path, query, &error);
  /* An error answer (4.04 for a missing note) still counts. */
  if (body == NULL)
    g_print ("%s: %s\n", name, error->message);
  record (probe, name, &client);
}

/* One request built by @build, answered whatever its code. */
static void
probe_request (Probe *probe, const char *name, guint8 code, const char *path, const char *query,
               void (*build) (MdCoapMessage *request))
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  MdPlainClient client;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  md_plain_client_make_request (&client, request, code, path, query);
  if (build != NULL)
    build (request);
  md_plain_client_exchange (&client, request, answer, buf);
  record (probe, name, &client);
}

static void
probe_raw (Probe *probe, const char *name, const guint8 *data, gsize len)
{
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  MdPlainClient client;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  md_plain_client_exchange_raw (&client, data, len, answer, buf);
  record (probe, name, &client);
}

#define KEY "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

static void
add_note (MdCoapMessage *request)
{
  g_assert_true (md_coap_message_set_payload (request, "x", 1));
}

static void
add_put (MdCoapMessage *request)
{
  g_assert_true (md_coap_message_add_option (request, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  add_note (request);
}

static void
add_unknown_critical (MdCoapMessage *request)
{
  g_assert_true (md_coap_message_add_option (request, 9, "x", 1));
}

static void
add_far_block (MdCoapMessage *request)
{
  MdCoapBlock block = { 100000, FALSE, 0 };

  g_assert_true (md_coap_message_add_block (request, MD_COAP_OPTION_BLOCK2, &block));
}

static void
add_accept_json (MdCoapMessage *request)
{
  g_assert_true (md_coap_message_add_uint_option (request, MD_COAP_OPTION_ACCEPT, 50));
}

/* A registration from its own socket, the notification of a note a second
 * client adds, acknowledged: each within three times the registration. */
static void
probe_observe (Probe *probe)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 out[MD_COAP_MAX_DATAGRAM], buf[MD_COAP_MAX_DATAGRAM];
  MdPlainClient client;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  gssize len;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  g_assert_cmpint (connect (fd, (struct sockaddr *)&client.server, client.server_len), ==, 0);
  md_plain_client_make_request (&client, request, MD_COAP_GET, "latest", NULL);
  g_assert_true (md_coap_message_add_uint_option (request, MD_COAP_OPTION_OBSERVE, 0));
  len = md_coap_encode (request, out, sizeof out, NULL);
  g_assert_cmpint (send (fd, out, (gsize)len, 0), ==, len);
  {
    MdPlainClient writer;
    g_autofree MdCoapMessage *post = g_new0 (MdCoapMessage, 1);
    g_autofree MdCoapMessage *created = g_new0 (MdCoapMessage, 1);
    guint8 post_buf[MD_COAP_MAX_DATAGRAM];

    md_plain_client_init (&writer, probe->address, probe->port, NULL);
    md_plain_client_make_request (&writer, post, MD_COAP_POST, "notes", NULL);
    g_assert_true (md_coap_message_set_payload (post, "a note for the observer probe", 29));
    md_plain_client_exchange (&writer, post, created, post_buf);
  }
  /* The registration's answer, then the notification (or nothing). */
  for (guint i = 0; i < 2; i++)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      ssize_t n;

      if (poll (&p, 1, NOTIFY_TIMEOUT_MS) != 1)
        break;
      n = recv (fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      client.requests++;
      client.sent_bytes += (guint64)len;
      client.received_bytes += (guint64)n;
      client.worst_ratio = MAX (client.worst_ratio, (double)n / (double)len);
      if (md_coap_parse (buf, (gsize)n, answer, NULL) && answer->type == MD_COAP_TYPE_CON)
        {
          const guint8 ack[4] = { 0x60, 0x00, (guint8)(answer->mid >> 8), (guint8)answer->mid };

          g_assert_cmpint (send (fd, ack, sizeof ack, 0), ==, sizeof ack);
        }
    }
  close (fd);
  record (probe, "GET /latest Observe", &client);
}

static int
run_routes (Probe *probe)
{
  const guint8 ping[] = { 0x40, 0x00, 0x12, 0x34 };
  const guint8 bad_token[] = { 0x49, 0x01, 0x12, 0x35, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const guint8 response[] = { 0x40, 0x45, 0x12, 0x36 };

  probe_get (probe, "GET /notes", "notes", NULL);
  probe_get (probe, "GET /notes?after=1", "notes", "after=1");
  probe_get (probe, "GET /notes/1", "notes/1", NULL);
  probe_get (probe, "GET /latest", "latest", NULL);
  probe_get (probe, "GET /status", "status", NULL);
  probe_get (probe, "GET /.well-known/core", ".well-known/core", NULL);
  probe_get (probe, "GET /.well-known/core?rt=", ".well-known/core", "rt=mydaily.notes");
  probe_request (probe, "POST /notes", MD_COAP_POST, "notes", NULL, add_note);
  probe_request (probe, "PUT /notes/KEY", MD_COAP_PUT, "notes/" KEY, NULL, add_put);
  probe_request (probe, "PUT /notes/KEY again", MD_COAP_PUT, "notes/" KEY, NULL, add_put);
  probe_get (probe, "GET /notes/KEY", "notes/" KEY, NULL);
  probe_observe (probe);
  probe_request (probe, "DELETE /notes", MD_COAP_DELETE, "notes", NULL, NULL);
  probe_request (probe, "GET /unknown", MD_COAP_GET, "no/such/path", NULL, NULL);
  probe_request (probe, "GET /notes?after=x", MD_COAP_GET, "notes", "after=x", NULL);
  probe_request (probe, "GET critical option", MD_COAP_GET, "notes", NULL, add_unknown_critical);
  probe_request (probe, "GET block beyond end", MD_COAP_GET, "notes", NULL, add_far_block);
  probe_request (probe, "GET Accept json", MD_COAP_GET, "notes", NULL, add_accept_json);
  probe_request (probe, "POST empty note", MD_COAP_POST, "notes", NULL, NULL);
  probe_raw (probe, "CON ping", ping, sizeof ping);
  probe_raw (probe, "token length 9", bad_token, sizeof bad_token);
  probe_raw (probe, "CON response", response, sizeof response);
  g_print ("worst ratio: %.2f (%s)\n", probe->worst, probe->worst_case);
  return probe->worst <= AMPLIFICATION ? 0 : 1;
}

/* A DTLS 1.2 ClientHello with no cookie, one PSK suite, no extensions:
 * record header, handshake header, then the hello. */
static gsize
make_client_hello (guint8 *out)
{
  static const guint8 header[] = {
    0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* record: handshake, epoch 0, seq 0 */
    0x01, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0,    /* ClientHello, lengths below */
  };
  gsize n = sizeof header;
  gsize body;

  memcpy (out, header, sizeof header);
  out[n++] = 0xfe;
  out[n++] = 0xfd;
  for (guint i = 0; i < 32; i++)
    out[n++] = (guint8)g_random_int_range (0, 256);
  out[n++] = 0;                     /* session id */
  out[n++] = 0;                     /* cookie */
  out[n++] = 0, out[n++] = 2;       /* cipher suites */
  out[n++] = 0xc0, out[n++] = 0xa8; /* TLS_PSK_WITH_AES_128_CCM_8 */
  out[n++] = 1, out[n++] = 0;       /* null compression */
  body = n - sizeof header;
  out[11] = (guint8)((body + 12) >> 8), out[12] = (guint8)(body + 12);
  out[14] = 0, out[15] = (guint8)(body >> 8), out[16] = (guint8)body;
  out[22] = 0, out[23] = (guint8)(body >> 8), out[24] = (guint8)body;
  return n;
}

static int
run_dtls_hello (Probe *probe)
{
  guint8 hello[128], buf[2048];
  gsize len = make_client_hello (hello);
  MdPlainClient target;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct pollfd p = { fd, POLLIN, 0 };
  ssize_t n;

  md_plain_client_init (&target, probe->address, probe->port, NULL);
  g_assert_cmpint (sendto (fd, hello, len, 0, (struct sockaddr *)&target.server, target.server_len),
                   ==, (gssize)len);
  if (poll (&p, 1, NOTIFY_TIMEOUT_MS) != 1 || (n = recv (fd, buf, sizeof buf, 0)) < 14)
    {
      g_print ("no answer to the ClientHello\n");
      return 1;
    }
  g_print ("ClientHello %" G_GSIZE_FORMAT " bytes, answer %zd bytes (handshake type %u), ratio "
           "%.2f\n",
           len, n, buf[13], (double)n / (double)len);
  /* A handshake record carrying HelloVerifyRequest (3). */
  if (buf[0] != 0x16 || buf[13] != 3)
    return 1;
  return (double)n <= AMPLIFICATION * (double)len ? 0 : 1;
}

static int
run_register (Probe *probe)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  guint8 out[MD_COAP_MAX_DATAGRAM];
  MdPlainClient client;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  gssize len;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  md_plain_client_make_request (&client, request, MD_COAP_GET, "latest", NULL);
  g_assert_true (md_coap_message_add_uint_option (request, MD_COAP_OPTION_OBSERVE, 0));
  len = md_coap_encode (request, out, sizeof out, NULL);
  g_assert_cmpint (
      sendto (fd, out, (gsize)len, 0, (struct sockaddr *)&client.server, client.server_len), ==,
      len);
  g_print ("registration of %zd bytes sent\n", len);
  close (fd);
  return 0;
}

static int
run_status (Probe *probe)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  MdPlainClient client;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  body = md_plain_client_get (&client, "status", NULL, &error);
  if (body == NULL)
    {
      g_printerr ("status: %s\n", error->message);
      return 1;
    }
  fwrite (g_bytes_get_data (body, NULL), 1, g_bytes_get_size (body), stdout);
  return 0;
}

static int
run_post (Probe *probe, const char *text)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  MdPlainClient client;

  md_plain_client_init (&client, probe->address, probe->port, NULL);
  md_plain_client_make_request (&client, request, MD_COAP_POST, "notes", NULL);
  g_assert_true (md_coap_message_set_payload (request, text, strlen (text)));
  if (!md_plain_client_exchange (&client, request, answer, buf))
    return 1;
  return answer->code == MD_COAP_CREATED ? 0 : 1;
}

int
main (int argc, char **argv)
{
  Probe probe = { 0 };

  if (argc < 4)
    {
      g_printerr ("usage: %s ADDRESS PORT routes|dtls-hello|register|status|post TEXT\n", argv[0]);
      return 2;
    }
  probe.address = argv[1];
  probe.port = (guint16)g_ascii_strtoull (argv[2], NULL, 10);
  probe.worst_case = "none";
  if (g_str_equal (argv[3], "routes"))
    return run_routes (&probe);
  if (g_str_equal (argv[3], "dtls-hello"))
    return run_dtls_hello (&probe);
  if (g_str_equal (argv[3], "register"))
    return run_register (&probe);
  if (g_str_equal (argv[3], "status"))
    return run_status (&probe);
  if (g_str_equal (argv[3], "post") && argc == 5)
    return run_post (&probe, argv[4]);
  g_printerr ("unknown command %s\n", argv[3]);
  return 2;
}
