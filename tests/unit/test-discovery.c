/* Answers to multicast discovery requests (md-discovery.h), fed datagrams
 * marked as sent to a group and answering a loopback socket. */
#include "config.h"

#include "md-discovery.h"
#include "md-protocol.h"

#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  char *directory;
  MdStore *store;
  MdObservers *observers;
  MdResources *resources;
  MdDiscovery *discovery;
  int server_fd; /* answers leave here */
  int client_fd; /* and arrive here */
  struct sockaddr_in client_addr;
} Fixture;

static int
loopback_socket (struct sockaddr_in *addr)
{
  socklen_t len = sizeof *addr;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  g_assert_cmpint (fd, >=, 0);
  memset (addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *)addr, sizeof *addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)addr, &len), ==, 0);
  return fd;
}

static void
setup (Fixture *f, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_in server_addr;

  f->directory = g_dir_make_tmp ("test-discovery-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = md_store_open (f->directory, NULL, &error);
  g_assert_no_error (error);
  f->observers = md_observers_new ();
  f->resources = md_resources_new (f->store, f->observers);
  md_resources_set_identity (f->resources, "kitchen", 5684);
  f->discovery = md_discovery_new (f->resources);
  f->server_fd = loopback_socket (&server_addr);
  f->client_fd = loopback_socket (&f->client_addr);
}

static void
teardown (Fixture *f, gconstpointer unused)
{
  g_autofree char *notes = g_build_filename (f->directory, "notes", NULL);
  g_autofree char *id = g_build_filename (f->directory, "notebook-id", NULL);

  md_discovery_free (f->discovery);
  md_resources_free (f->resources);
  md_observers_free (f->observers);
  md_store_free (f->store);
  close (f->server_fd);
  close (f->client_fd);
  g_unlink (notes);
  g_unlink (id);
  g_rmdir (f->directory);
  g_free (f->directory);
}

/* Hands the request @msg, as if sent to a group from the client socket
 * (with @port instead of its own when non-zero), to discovery; returns its
 * length. */
static gsize
deliver (Fixture *f, MdCoapMessage *msg, guint16 port)
{
  guint8 data[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (msg, data, sizeof data, NULL);
  MdDatagram datagram = { .data = data, .len = (gsize)len, .to_group = TRUE };

  g_assert_cmpint (len, >, 0);
  datagram.peer.fd = f->server_fd;
  memcpy (&datagram.peer.addr, &f->client_addr, sizeof f->client_addr);
  if (port != 0)
    ((struct sockaddr_in *)&datagram.peer.addr)->sin_port = g_htons (port);
  datagram.peer.addr_len = sizeof f->client_addr;
  md_discovery_handle (f->discovery, &datagram);
  return (gsize)len;
}

static MdCoapMessage *
discovery_request (MdCoapType type, const char *query, gsize padding)
{
  MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  static const guint8 token[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  guint8 pad[256] = { 0 };

  md_coap_message_init (msg, type, MD_COAP_GET, (guint16)g_random_int ());
  md_coap_message_set_token (msg, token, sizeof token);
  g_assert_true (md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, MD_PROTOCOL_PATH_CORE));
  if (query != NULL)
    g_assert_true (md_coap_message_add_string_option (msg, MD_COAP_OPTION_URI_QUERY, query));
  if (padding > 0)
    g_assert_true (md_coap_message_add_option (msg, MD_PROTOCOL_OPTION_PADDING, pad, padding));
  return msg;
}

/* Runs the main loop until the pending answers went, bounded. */
static void
flush (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (md_discovery_get_pending (f->discovery) > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (md_discovery_get_pending (f->discovery), ==, 0);
}

/* The next answer on the client socket, or -1 when none is waiting. */
static gssize
receive (Fixture *f, guint8 *data, gsize size)
{
  return recv (f->client_fd, data, size, 0);
}

static void
test_answer (Fixture *f, gconstpointer unused)
{
  g_autofree MdCoapMessage *request = discovery_request (MD_COAP_TYPE_NON, "rt=mydaily.notes", 40);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  g_autofree gchar *expected = NULL;
  guint8 data[MD_COAP_MAX_DATAGRAM];
  gsize request_len = deliver (f, request, 0);
  gssize len;

  g_assert_cmpuint (md_discovery_get_pending (f->discovery), ==, 1);
  flush (f);
  len = receive (f, data, sizeof data);
  g_assert_cmpint (len, >, 0);
  g_assert_cmpint (len, <=, 3 * (gssize)request_len);
  g_assert_true (md_coap_parse (data, (gsize)len, answer, NULL));
  g_assert_cmpint (answer->type, ==, MD_COAP_TYPE_NON);
  g_assert_cmpuint (answer->code, ==, MD_COAP_CONTENT);
  g_assert_cmpmem (answer->token, answer->token_len, request->token, request->token_len);
  expected
      = g_strdup_printf ("</notes>;rt=\"mydaily.notes\";ct=0;notebook=\"%s\";title=\"kitchen\";"
                         "coaps=\"5684\"",
                         md_store_get_notebook_id (f->store));
  g_assert_cmpmem (answer->payload, answer->payload_len, expected, strlen (expected));
  g_assert_cmpint (receive (f, data, sizeof data), <, 0);
}

/* A small request gets a trimmed link, never more than 3x. */
static void
test_budget (Fixture *f, gconstpointer unused)
{
  for (gsize padding = 0; padding <= 48; padding += 12)
    {
      g_autofree MdCoapMessage *request = discovery_request (MD_COAP_TYPE_NON, NULL, padding);
      guint8 data[MD_COAP_MAX_DATAGRAM];
      gsize request_len = deliver (f, request, 0);
      gssize len;

      flush (f);
      len = receive (f, data, sizeof data);
      g_assert_cmpint (len, >, 0);
      g_assert_cmpint (len, <=, 3 * (gssize)request_len);
    }
}

static void
test_not_answered (Fixture *f, gconstpointer unused)
{
  const char *queries[] = { "rt=mydaily.note", "rt=core.rd", "if=core.rd", "rt=" };
  g_autofree MdCoapMessage *post = discovery_request (MD_COAP_TYPE_NON, NULL, 40);
  g_autofree MdCoapMessage *notes = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *two = discovery_request (MD_COAP_TYPE_NON, "rt=mydaily.notes", 40);
  g_autofree MdCoapMessage *ack = discovery_request (MD_COAP_TYPE_ACK, NULL, 40);
  g_autofree MdCoapMessage *critical = discovery_request (MD_COAP_TYPE_NON, NULL, 40);

  for (gsize i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autofree MdCoapMessage *request = discovery_request (MD_COAP_TYPE_NON, queries[i], 40);

      deliver (f, request, 0);
    }
  post->code = MD_COAP_POST;
  deliver (f, post, 0);
  md_coap_message_init (notes, MD_COAP_TYPE_NON, MD_COAP_GET, 7);
  g_assert_true (md_coap_message_add_path (notes, MD_COAP_OPTION_URI_PATH, "notes"));
  deliver (f, notes, 0);
  g_assert_true (md_coap_message_add_string_option (two, MD_COAP_OPTION_URI_QUERY, "rt=x"));
  deliver (f, two, 0);
  deliver (f, ack, 0);
  g_assert_true (md_coap_message_add_uint_option (critical, MD_COAP_OPTION_BLOCK2, 0x16));
  deliver (f, critical, 0);
  g_assert_cmpuint (md_discovery_get_pending (f->discovery), ==, 0);
}

static void
test_disabled (Fixture *f, gconstpointer unused)
{
  g_autofree MdCoapMessage *request = discovery_request (MD_COAP_TYPE_NON, NULL, 40);

  md_discovery_set_enabled (f->discovery, FALSE);
  deliver (f, request, 0);
  g_assert_cmpuint (md_discovery_get_pending (f->discovery), ==, 0);
}

/* A retransmission waits with its original; the table has a cap. */
static void
test_bounded (Fixture *f, gconstpointer unused)
{
  g_autofree MdCoapMessage *request = discovery_request (MD_COAP_TYPE_CON, NULL, 40);

  deliver (f, request, 0);
  deliver (f, request, 0);
  g_assert_cmpuint (md_discovery_get_pending (f->discovery), ==, 1);
  for (guint i = 0; i < 2 * MD_DISCOVERY_PENDING_MAX; i++)
    {
      request->mid++;
      deliver (f, request, (guint16)(40000 + i));
    }
  g_assert_cmpuint (md_discovery_get_pending (f->discovery), ==, MD_DISCOVERY_PENDING_MAX);
}

/* Garbage sent to a group: dropped, no crash. */
static void
test_garbage (Fixture *f, gconstpointer unused)
{
  guint8 data[64];
  MdDatagram datagram = { .data = data, .to_group = TRUE };

  datagram.peer.fd = f->server_fd;
  for (guint round = 0; round < 2000; round++)
    {
      datagram.len = g_random_int_range (0, sizeof data + 1);
      for (gsize i = 0; i < datagram.len; i++)
        data[i] = (guint8)g_random_int ();
      /* Mostly valid headers, so parsing goes deeper. */
      if (datagram.len > 0 && round % 2 == 0)
        data[0] = 0x50 | (data[0] & 0x0f);
      md_discovery_handle (f->discovery, &datagram);
    }
  g_assert_cmpuint (md_discovery_get_pending (f->discovery), <=, MD_DISCOVERY_PENDING_MAX);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/discovery/answer", Fixture, NULL, setup, test_answer, teardown);
  g_test_add ("/discovery/budget", Fixture, NULL, setup, test_budget, teardown);
  g_test_add ("/discovery/not-answered", Fixture, NULL, setup, test_not_answered, teardown);
  g_test_add ("/discovery/disabled", Fixture, NULL, setup, test_disabled, teardown);
  g_test_add ("/discovery/bounded", Fixture, NULL, setup, test_bounded, teardown);
  g_test_add ("/discovery/garbage", Fixture, NULL, setup, test_garbage, teardown);
  return g_test_run ();
}
