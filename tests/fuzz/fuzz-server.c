/* fuzz-server: the whole request path, one datagram per input.
 *
 * A real MdServer on a UDP socket bound to 127.0.0.1:0 serves a store in a
 * private directory.  Each input is sent from a fresh client socket, twice
 * (the second is a duplicate for the dedup cache), and when the server
 * answers with a 4.01 Echo challenge, a third time with that Echo (RFC 9175)
 * so the verified path runs too.  Every answer must:
 *   - be a well-formed CoAP message of at most MD_COAP_MAX_DATAGRAM bytes;
 *   - be at most MD_ECHO_AMPLIFICATION times the request before the client
 *     proved its address (and a 4.01 always);
 *   - repeat exactly for the duplicate;
 * and the notes file may only grow by whole, valid records, at most one per
 * executed request. */
#include "config.h"

#include "fuzz-common.h"
#include "md-coap.h"
#include "md-echo.h"
#include "md-note.h"
#include "md-server.h"
#include "md-store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest UDP payload over IPv4. */
#define MAX_UDP_PAYLOAD 65507
/* A fresh server (dedup cache, verified peers, observers) this often, and a
 * fresh notes file once it is this large, so inputs stay cheap and mostly
 * independent of each other. */
#define INPUTS_PER_SERVER 4096
#define MAX_NOTES_SIZE (256 * 1024)
#define MAX_REPLIES 16
#define ARRIVAL_TIMEOUT_MS 1000
#define MAX_PUMP_ITERATIONS 64
#define MAX_BIND_TRIES 32

typedef struct
{
  const char *dir;
  char *notes_path;
  MdStore *store;
  MdServer *server;
  int server_fd;
  struct sockaddr_in server_addr;
  guint inputs;
  GHashTable *ports; /* client ports used since the server started */
  guint64 notes_size;
  guint64 last_id;
} Fixture;

typedef struct
{
  guint n;
  GBytes *replies[MAX_REPLIES];
} Replies;

static Fixture fx;

static void
replies_clear (Replies *r)
{
  for (guint i = 0; i < r->n; i++)
    g_bytes_unref (r->replies[i]);
  r->n = 0;
}

static int
udp_socket_on_loopback (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  g_assert_cmpint (fd, >=, 0);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
  return fd;
}

static guint16
socket_port (int fd)
{
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;

  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&addr, &len), ==, 0);
  return ntohs (addr.sin_port);
}

static guint64
notes_file_size (void)
{
  GStatBuf st;

  if (g_stat (fx.notes_path, &st) < 0)
    return 0;
  return (guint64)st.st_size;
}

static void
start_server (void)
{
  g_autoptr (GError) error = NULL;

  if (notes_file_size () > MAX_NOTES_SIZE)
    g_unlink (fx.notes_path);
  /* The server wrote this file: it must always open again. */
  fx.store = md_store_open (fx.dir, NULL, &error);
  g_assert_no_error (error);
  fx.server = md_server_new (fx.store);
  g_assert_true (md_server_add_socket (fx.server, fx.server_fd, &error));
  g_assert_no_error (error);
  fx.notes_size = notes_file_size ();
  fx.last_id = md_store_get_last_id (fx.store);
  fx.inputs = 0;
  g_hash_table_remove_all (fx.ports);
}

static void
stop_server (void)
{
  g_clear_pointer (&fx.server, md_server_free);
  g_clear_pointer (&fx.store, md_store_free);
}

static void
fixture_init (void)
{
  static const char *const files[] = { "notes", "notebook-id", NULL };
  socklen_t len = sizeof fx.server_addr;

  md_fuzz_init_logging ();
  fx.dir = md_fuzz_make_state_dir (files);
  fx.notes_path = g_build_filename (fx.dir, "notes", NULL);
  fx.server_fd = udp_socket_on_loopback ();
  g_assert_cmpint (getsockname (fx.server_fd, (struct sockaddr *)&fx.server_addr, &len), ==, 0);
  fx.ports = g_hash_table_new (NULL, NULL);
  start_server ();
}

/* A client socket on a port this server has not seen: otherwise dedup could
 * replay another input's answer, or the peer could still be verified. */
static int
open_client (void)
{
  int rejected[MAX_BIND_TRIES];
  guint n_rejected = 0;
  int fd = -1;

  while (n_rejected < MAX_BIND_TRIES)
    {
      guint16 port;

      fd = udp_socket_on_loopback ();
      port = socket_port (fd);
      if (!g_hash_table_contains (fx.ports, GUINT_TO_POINTER (port)))
        {
          g_hash_table_add (fx.ports, GUINT_TO_POINTER (port));
          break;
        }
      rejected[n_rejected++] = fd;
      fd = -1;
    }
  for (guint i = 0; i < n_rejected; i++)
    close (rejected[i]);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static gboolean
server_has_input (int timeout_ms)
{
  struct pollfd p = { .fd = fx.server_fd, .events = POLLIN };

  return poll (&p, 1, timeout_ms) > 0;
}

/* Runs the main loop until the server has read everything queued for it; the
 * server sends its answers before it returns to the loop. */
static void
pump_server (void)
{
  if (!server_has_input (ARRIVAL_TIMEOUT_MS))
    return;
  for (guint i = 0; i < MAX_PUMP_ITERATIONS && server_has_input (0); i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (server_has_input (0));
}

static void
receive_replies (int client, Replies *out)
{
  g_autofree guint8 *buf = g_malloc (MAX_UDP_PAYLOAD + 1);

  for (guint i = 0; i < MAX_REPLIES; i++)
    {
      ssize_t n = recv (client, buf, MAX_UDP_PAYLOAD + 1, MSG_DONTWAIT);

      if (n < 0)
        {
          g_assert_true (errno == EAGAIN || errno == EWOULDBLOCK);
          return;
        }
      out->replies[out->n++] = g_bytes_new (buf, (gsize)n);
    }
  g_error ("more than %d answers to one datagram", MAX_REPLIES);
}

static void
exchange (int client, const guint8 *data, gsize size, Replies *out)
{
  ssize_t sent
      = sendto (client, data, size, 0, (struct sockaddr *)&fx.server_addr, sizeof fx.server_addr);

  g_assert_cmpint (sent, ==, (ssize_t)size);
  pump_server ();
  receive_replies (client, out);
}

static void
check_reply (GBytes *reply, gsize request_len, gboolean verified)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (reply, &len);
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (len, <=, MD_COAP_MAX_DATAGRAM);
  g_assert_true (md_coap_parse (data, len, msg, &error));
  g_assert_no_error (error);
  if (!verified || msg->code == MD_COAP_UNAUTHORIZED)
    g_assert_cmpuint (len, <=, MD_ECHO_AMPLIFICATION * request_len);
}

static void
check_replies (const Replies *r, gsize request_len, gboolean verified)
{
  for (guint i = 0; i < r->n; i++)
    check_reply (r->replies[i], request_len, verified);
}

static void
assert_same_replies (const Replies *a, const Replies *b)
{
  g_assert_cmpuint (a->n, ==, b->n);
  for (guint i = 0; i < a->n; i++)
    g_assert_true (g_bytes_equal (a->replies[i], b->replies[i]));
}

/* The Echo value among @r (a 4.01 challenge, or a small block that also
 * offers the proof), or NULL. */
static GBytes *
find_challenge (const Replies *r)
{
  MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  GBytes *echo = NULL;

  for (guint i = 0; i < r->n && echo == NULL; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (r->replies[i], &len);
      const MdCoapOption *opt;

      if (!md_coap_parse (data, len, msg, NULL))
        continue;
      opt = md_coap_message_find_option (msg, MD_COAP_OPTION_ECHO);
      if (opt != NULL)
        echo = g_bytes_new (opt->value, opt->length);
    }
  g_free (msg);
  return echo;
}

/* The request again with a new Message ID and the server's Echo value, as a
 * client answering the challenge sends it; NULL when that cannot be built. */
static GBytes *
build_echo_retry (const guint8 *data, gsize size, GBytes *echo)
{
  g_autofree MdCoapMessage *req = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *retry = g_new0 (MdCoapMessage, 1);
  g_autofree guint8 *out = g_malloc (size + 64);
  gssize len;

  if (!md_coap_parse (data, size, req, NULL)
      || md_coap_message_has_option (req, MD_COAP_OPTION_ECHO))
    return NULL;
  md_coap_message_init (retry, req->type, req->code, (guint16)(req->mid + 1));
  md_coap_message_set_token (retry, req->token, req->token_len);
  for (guint i = 0; i < req->n_options; i++)
    if (!md_coap_message_add_option (retry, req->options[i].number, req->options[i].value,
                                     req->options[i].length))
      return NULL;
  if (!md_coap_message_add_option (retry, MD_COAP_OPTION_ECHO, g_bytes_get_data (echo, NULL),
                                   g_bytes_get_size (echo))
      || !md_coap_message_set_payload (retry, req->payload, req->payload_len))
    return NULL;
  len = md_coap_encode (retry, out, size + 64, NULL);
  if (len < 0)
    return NULL;
  return g_bytes_new (out, (gsize)len);
}

/* "ID\tTIME\tKEY\tAUTHOR\tTEXT\n" with the next id, a valid key, author and
 * note: without its key field, a wire line. */
static void
check_record (const char *line, gsize len)
{
  const char *tab1 = memchr (line, '\t', len);
  const char *tab2 = tab1 != NULL ? memchr (tab1 + 1, '\t', len - (gsize)(tab1 + 1 - line)) : NULL;
  const char *tab3 = tab2 != NULL ? memchr (tab2 + 1, '\t', len - (gsize)(tab2 + 1 - line)) : NULL;
  g_autoptr (GString) wire = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gsize key_len;
  MdNoteLine note;

  g_assert_nonnull (tab3);
  key_len = (gsize)(tab3 - tab2 - 1);
  g_assert_true ((key_len == 1 && tab2[1] == '-') || md_note_key_is_valid (tab2 + 1, key_len));
  g_string_append_len (wire, line, tab2 - line + 1);
  g_string_append_len (wire, tab3 + 1, line + len - tab3 - 1);
  g_assert_true (md_note_parse_wire_line (wire->str, wire->len, &note, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (note.id, ==, fx.last_id + 1);
  fx.last_id = note.id;
}

/* What was appended since the last check: whole records, at most @max_new. */
static void
check_notes_growth (guint max_new)
{
  guint64 size = notes_file_size ();
  guint64 old_id = fx.last_id;
  g_autofree char *added = NULL;
  gsize added_len, pos = 0;
  int fd;

  g_assert_cmpuint (size, >=, fx.notes_size);
  g_assert_false (md_store_has_pending (fx.store));
  if (size == fx.notes_size)
    {
      g_assert_cmpuint (md_store_get_last_id (fx.store), ==, fx.last_id);
      return;
    }
  added_len = (gsize)(size - fx.notes_size);
  added = g_malloc (added_len);
  fd = open (fx.notes_path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, added, added_len, (off_t)fx.notes_size), ==, (ssize_t)added_len);
  close (fd);
  g_assert_cmpint (added[added_len - 1], ==, '\n');
  while (pos < added_len)
    {
      const char *nl = memchr (added + pos, '\n', added_len - pos);
      gsize line_len = (gsize)(nl - (added + pos));

      check_record (added + pos, line_len);
      pos += line_len + 1;
    }
  g_assert_cmpuint (fx.last_id - old_id, <=, max_new);
  g_assert_cmpuint (md_store_get_last_id (fx.store), ==, fx.last_id);
  fx.notes_size = size;
}

/* TRUE when the input proved the client's address, which then stays
 * verified on every port. */
static gboolean
run_input (int client, const guint8 *data, gsize size)
{
  Replies first = { 0 }, again = { 0 }, verified = { 0 };
  g_autoptr (GBytes) echo = NULL;
  g_autoptr (GBytes) retry = NULL;

  exchange (client, data, size, &first);
  check_replies (&first, size, FALSE);
  exchange (client, data, size, &again);
  assert_same_replies (&first, &again);
  check_notes_growth (1);

  echo = find_challenge (&first);
  if (echo != NULL)
    retry = build_echo_retry (data, size, echo);
  if (retry != NULL)
    {
      exchange (client, g_bytes_get_data (retry, NULL), g_bytes_get_size (retry), &verified);
      check_replies (&verified, g_bytes_get_size (retry), TRUE);
      check_notes_growth (1);
    }
  replies_clear (&first);
  replies_clear (&again);
  replies_clear (&verified);
  return retry != NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int client;

  if (fx.server == NULL)
    fixture_init ();
  if (size > MAX_UDP_PAYLOAD)
    return 0;
  if (fx.inputs++ >= INPUTS_PER_SERVER || fx.notes_size > MAX_NOTES_SIZE)
    {
      stop_server ();
      start_server ();
    }
  client = open_client ();
  /* A fresh server forgets the proof: the next input is unverified again. */
  if (run_input (client, data, size))
    {
      stop_server ();
      start_server ();
    }
  close (client);
  return 0;
}
