#include "config.h"

/* sendmmsg() and struct mmsghdr are GNU extensions in glibc's headers. */
#define _GNU_SOURCE

#include "md-coap.h"
#include "md-echo.h"
#include "md-log.h"
#include "md-note.h"
#include "md-peer.h"
#include "md-server.h"
#include "md-store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How long a test waits for an answer that should come at once. */
#define ANSWER_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define ANSWER_SIZE 2048

/* ---- spies -------------------------------------------------------------------
 * The test program defines sendmsg(), sendmmsg() and fdatasync(), so the server and the
 * store (linked statically into it) call these: they pass through to the
 * kernel and record what the server did when, which the socket alone cannot
 * show (an answer sent before the commit looks the same on the wire). */

static struct
{
  MdStore *store; /* the fixture's, while one runs */
  int server_fd;
  guint sends;              /* datagrams the server sent */
  guint sends_with_pending; /* ... while notes were not yet durable */
  guint sends_with_source;  /* ... with an IP_PKTINFO/IPV6_PKTINFO source */
  guint send_errors;        /* ... that the kernel refused */
  guint fdatasyncs;
  int fdatasync_errno; /* the next fdatasync fails with this */
  /* During the first fdatasync: sent by the client, then awaited in the
   * notes file (the worker thread waits, the main loop appends). */
  int during_sync_fd;
  const guint8 *during_sync_data;
  gsize during_sync_len;
  gboolean appended_during_sync;
} spy;

static void
spy_on_send (int fd, const struct msghdr *msg, gboolean failed)
{
  if (spy.store == NULL || fd != spy.server_fd)
    return;
  spy.sends++;
  if (md_store_has_pending (spy.store))
    spy.sends_with_pending++;
  if (msg->msg_controllen > 0)
    spy.sends_with_source++;
  if (failed)
    spy.send_errors++;
}

ssize_t
sendmsg (int fd, const struct msghdr *msg, int flags)
{
  ssize_t sent = syscall (SYS_sendmsg, fd, msg, flags);

  spy_on_send (fd, msg, sent < 0);
  return sent;
}

/* The server sends its batches' answers this way: each datagram counts as
 * one send, and the one the kernel refused (if any) as a failed one. */
int
sendmmsg (int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags)
{
  int sent = (int)syscall (SYS_sendmmsg, fd, msgvec, vlen, flags);
  unsigned int ok = sent > 0 ? (unsigned int)sent : 0;

  for (unsigned int i = 0; i < ok; i++)
    spy_on_send (fd, &msgvec[i].msg_hdr, FALSE);
  if (ok < vlen)
    spy_on_send (fd, &msgvec[ok].msg_hdr, TRUE);
  return sent;
}

/* Waits, bounded, until the file @fd grows past @size; TRUE if it did. */
static gboolean
wait_file_growth (int fd, off_t size)
{
  gint64 deadline = g_get_monotonic_time () + ANSWER_TIMEOUT_US;
  struct stat st;

  while (g_get_monotonic_time () < deadline)
    {
      if (fstat (fd, &st) == 0 && st.st_size > size)
        return TRUE;
      g_usleep (1000);
    }
  return FALSE;
}

/* Sends the datagram meant for the first fdatasync, and waits until the
 * main loop has appended its note: the proof that the next batch is read
 * and appended while this one syncs. */
static void
run_during_first_sync (int fd)
{
  struct stat st;

  if (spy.during_sync_data == NULL || spy.fdatasyncs != 1 || fstat (fd, &st) < 0)
    return;
  if (send (spy.during_sync_fd, spy.during_sync_data, spy.during_sync_len, 0) < 0)
    return;
  spy.appended_during_sync = wait_file_growth (fd, st.st_size);
}

int
fdatasync (int fd)
{
  spy.fdatasyncs++;
  run_during_first_sync (fd);
  if (spy.fdatasync_errno != 0)
    {
      errno = spy.fdatasync_errno;
      spy.fdatasync_errno = 0;
      return -1;
    }
  return (int)syscall (SYS_fdatasync, fd);
}

/* What the server logged, by MESSAGE_ID: the events an operator greps for. */
static struct
{
  guint stored;
  guint rejected;
  guint storage_errors;
  guint plain_refused;
  char note_id[24];
  char note_key[MD_NOTE_KEY_LEN + 1];
  char note_author[MD_NOTE_AUTHOR_MAX_LEN + 1];
  char coap_code[8];
  char reason[128];
} logged;

static const char *
field_value (const GLogField *fields, gsize n_fields, const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, key) == 0 && fields[i].length < 0)
      return fields[i].value;
  return "";
}

static void
copy_field (char *out, gsize size, const GLogField *fields, gsize n_fields, const char *key)
{
  g_strlcpy (out, field_value (fields, n_fields, key), size);
}

static GLogWriterOutput
recording_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *id = field_value (fields, n_fields, "MESSAGE_ID");

  if (strcmp (id, MD_PROTOCOL_MESSAGE_ID_NOTE_STORED) == 0)
    {
      logged.stored++;
      copy_field (logged.note_id, sizeof logged.note_id, fields, n_fields, "NOTE_ID");
      copy_field (logged.note_key, sizeof logged.note_key, fields, n_fields, "NOTE_KEY");
      copy_field (logged.note_author, sizeof logged.note_author, fields, n_fields,
                  MD_PROTOCOL_FIELD_NOTE_AUTHOR);
    }
  else if (strcmp (id, MD_PROTOCOL_MESSAGE_ID_REQUEST_REJECTED) == 0)
    {
      logged.rejected++;
      copy_field (logged.coap_code, sizeof logged.coap_code, fields, n_fields, "COAP_CODE");
      copy_field (logged.reason, sizeof logged.reason, fields, n_fields, "REASON");
    }
  else if (strcmp (id, MD_PROTOCOL_MESSAGE_ID_STORAGE_ERROR) == 0)
    {
      /* Expected where a test breaks fdatasync; not a fatal warning. */
      logged.storage_errors++;
      return G_LOG_WRITER_HANDLED;
    }
  else if (strcmp (id, MD_PROTOCOL_MESSAGE_ID_PLAIN_REFUSED) == 0)
    {
      /* Expected where a test sends from outside PlainFrom=. */
      logged.plain_refused++;
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* A server with a fresh store, and a client socket connect()ed to it, as
 * mydailyctl's and libcoap's are: it takes answers from that address only. */
typedef struct
{
  char *directory;
  MdStore *store;
  MdServer *server; /* NULL when the host lacks what the case needs */
  int server_fd;
  int client_fd;
  guint16 next_mid;
} Fixture;

typedef struct
{
  gsize len;
  guint8 data[ANSWER_SIZE];
  MdCoapMessage msg;
} Answer;

static int
loopback_socket (struct sockaddr_in *addr)
{
  socklen_t len = sizeof *addr;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  memset (addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *)addr, sizeof *addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)addr, &len), ==, 0);
  return fd;
}

/* The store and the server on fx->server_fd. */
static void
fixture_start (Fixture *fx)
{
  g_autoptr (GError) error = NULL;

  fx->directory = g_dir_make_tmp ("test-server-XXXXXX", &error);
  g_assert_no_error (error);
  fx->store = md_store_open (fx->directory, NULL, &error);
  g_assert_no_error (error);
  fx->server = md_server_new (fx->store);
  g_assert_true (md_server_add_socket (fx->server, fx->server_fd, &error));
  g_assert_no_error (error);
  fx->next_mid = 0x1000;
  memset (&spy, 0, sizeof spy);
  memset (&logged, 0, sizeof logged);
  spy.store = fx->store;
  spy.server_fd = fx->server_fd;
}

/* The server on 127.0.0.1. */
static void
fixture_setup (Fixture *fx, gconstpointer user_data)
{
  struct sockaddr_in server_addr, client_addr;

  fx->server_fd = loopback_socket (&server_addr);
  fx->client_fd = loopback_socket (&client_addr);
  g_assert_cmpint (connect (fx->client_fd, (struct sockaddr *)&server_addr, sizeof server_addr), ==,
                   0);
  fixture_start (fx);
}

/* The client on a new port, as clients that open one per request are. */
static void
reconnect_client (Fixture *fx)
{
  struct sockaddr_in server_addr, client_addr;
  socklen_t len = sizeof server_addr;

  g_assert_cmpint (getsockname (fx->server_fd, (struct sockaddr *)&server_addr, &len), ==, 0);
  close (fx->client_fd);
  fx->client_fd = loopback_socket (&client_addr);
  g_assert_cmpint (connect (fx->client_fd, (struct sockaddr *)&server_addr, sizeof server_addr), ==,
                   0);
}

static void
fixture_teardown (Fixture *fx, gconstpointer user_data)
{
  g_autofree char *notes = NULL;

  memset (&spy, 0, sizeof spy);
  if (fx->server_fd >= 0)
    close (fx->server_fd);
  if (fx->client_fd >= 0)
    close (fx->client_fd);
  if (fx->directory == NULL)
    return;
  md_server_free (fx->server);
  md_store_free (fx->store);
  notes = g_build_filename (fx->directory, "notes", NULL);
  g_unlink (notes);
  g_free (notes);
  notes = g_build_filename (fx->directory, "notebook-id", NULL);
  g_unlink (notes);
  g_rmdir (fx->directory);
  g_free (fx->directory);
}

/* A server on the wildcard address of a family (for AF_INET6 the dual-stack
 * [::], as mydaily.socket's), and a client connected to one address of the
 * host.  The route back to the client decides the source the kernel would
 * choose, so a reply to 127.0.0.2 would come from 127.0.0.1 unless the
 * server sends it from the address the request came to. */
typedef struct
{
  int server_family;
  const char *client_to;
} WildcardCase;

static const WildcardCase wildcard_ipv4 = { AF_INET, "127.0.0.2" };
static const WildcardCase wildcard_dual_stack = { AF_INET6, "127.0.0.2" };
static const WildcardCase wildcard_ipv6 = { AF_INET6, "::1" };

/* -1 when the family is not available here (a host without IPv6). */
static int
wildcard_socket (int family, guint16 *port)
{
  struct sockaddr_storage addr = { .ss_family = family };
  socklen_t len = family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
  int fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int zero = 0;

  if (fd < 0)
    return -1;
  /* Dual-stack whatever net.ipv6.bindv6only says, as systemd's sockets are. */
  if (family == AF_INET6)
    g_assert_cmpint (setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), ==, 0);
  if (bind (fd, (struct sockaddr *)&addr, len) < 0
      || getsockname (fd, (struct sockaddr *)&addr, &len) < 0)
    {
      close (fd);
      return -1;
    }
  *port = family == AF_INET ? ntohs (((struct sockaddr_in *)&addr)->sin_port)
                            : ntohs (((struct sockaddr_in6 *)&addr)->sin6_port);
  return fd;
}

/* -1 when @address cannot be reached here (no ::1). */
static int
client_connected_to (const char *address, guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons (port) };
  gboolean inet = inet_pton (AF_INET, address, &sin.sin_addr) == 1;
  int fd = socket (inet ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (!inet)
    g_assert_cmpint (inet_pton (AF_INET6, address, &sin6.sin6_addr), ==, 1);
  if (fd >= 0
      && (inet ? connect (fd, (struct sockaddr *)&sin, sizeof sin)
               : connect (fd, (struct sockaddr *)&sin6, sizeof sin6))
             == 0)
    return fd;
  if (fd >= 0)
    close (fd);
  return -1;
}

static void
fixture_setup_wildcard (Fixture *fx, gconstpointer user_data)
{
  const WildcardCase *wildcard = user_data;
  guint16 port = 0;

  fx->server_fd = wildcard_socket (wildcard->server_family, &port);
  fx->client_fd = fx->server_fd >= 0 ? client_connected_to (wildcard->client_to, port) : -1;
  if (fx->client_fd >= 0)
    fixture_start (fx);
}

static gboolean
skip_unavailable (Fixture *fx)
{
  if (fx->server != NULL)
    return FALSE;
  g_test_skip ("IPv6 is not available on this host");
  return TRUE;
}

/* ---- client side -------------------------------------------------------- */

static gsize
send_raw (Fixture *fx, const guint8 *data, gsize len)
{
  ssize_t sent = send (fx->client_fd, data, len, 0);

  g_assert_cmpint (sent, ==, (ssize_t)len);
  return len;
}

static gsize
send_message (Fixture *fx, const MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  guint8 data[ANSWER_SIZE];
  gssize len = md_coap_encode (msg, data, sizeof data, &error);

  g_assert_no_error (error);
  return send_raw (fx, data, (gsize)len);
}

/* A CON request with a 4-byte token and a fresh Message ID. */
static void
make_request (Fixture *fx, MdCoapMessage *msg, guint8 code, const char *path)
{
  const guint8 token[4] = { 0xde, 0xad, (guint8)(fx->next_mid >> 8), (guint8)fx->next_mid };

  md_coap_message_init (msg, MD_COAP_TYPE_CON, code, fx->next_mid++);
  md_coap_message_set_token (msg, token, sizeof token);
  g_assert_true (md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, path));
}

static gsize
post_note (Fixture *fx, const char *text)
{
  MdCoapMessage msg;

  make_request (fx, &msg, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_set_payload (&msg, text, strlen (text)));
  return send_message (fx, &msg);
}

static gboolean
receive_now (Fixture *fx, Answer *answer)
{
  g_autoptr (GError) error = NULL;
  ssize_t len = recv (fx->client_fd, answer->data, sizeof answer->data, MSG_DONTWAIT);

  if (len < 0)
    {
      g_assert_true (errno == EAGAIN || errno == EWOULDBLOCK);
      return FALSE;
    }
  answer->len = (gsize)len;
  g_assert_true (md_coap_parse (answer->data, answer->len, &answer->msg, &error));
  g_assert_no_error (error);
  return TRUE;
}

/* Runs the server's main context until the client has an answer; waits on
 * readiness of either socket, never on a fixed sleep. */
static void
wait_answer (Fixture *fx, Answer *answer)
{
  gint64 deadline = g_get_monotonic_time () + ANSWER_TIMEOUT_US;

  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd fds[2] = { { fx->server_fd, POLLIN, 0 }, { fx->client_fd, POLLIN, 0 } };

      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (receive_now (fx, answer))
        return;
      poll (fds, G_N_ELEMENTS (fds), 50);
    }
  g_assert_not_reached ();
}

static void
assert_code (const Answer *answer, guint8 expected)
{
  char got[5], want[5];

  md_coap_code_format (answer->msg.code, got);
  md_coap_code_format (expected, want);
  g_assert_cmpstr (got, ==, want);
}

static char *
payload_of (const Answer *answer)
{
  return g_strndup ((const char *)answer->msg.payload, answer->msg.payload_len);
}

static void
assert_payload (const Answer *answer, const char *expected)
{
  g_autofree char *payload = payload_of (answer);

  g_assert_cmpstr (payload, ==, expected);
}

/* The Location-Path segments joined with '/'. */
static char *
location_of (const Answer *answer)
{
  g_autoptr (GString) location = g_string_new (NULL);

  for (guint i = 0; i < answer->msg.n_options; i++)
    {
      const MdCoapOption *option = &answer->msg.options[i];

      if (option->number != MD_COAP_OPTION_LOCATION_PATH)
        continue;
      if (location->len > 0)
        g_string_append_c (location, '/');
      g_string_append_len (location, (const char *)option->value, option->length);
    }
  return g_string_free (g_steal_pointer (&location), FALSE);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_ping_reset (Fixture *fx, gconstpointer user_data)
{
  const guint8 ping[] = { 0x40, 0x00, 0x12, 0x34 };
  const guint8 reset[] = { 0x70, 0x00, 0x12, 0x34 };
  Answer answer;

  send_raw (fx, ping, sizeof ping);
  wait_answer (fx, &answer);
  g_assert_cmpmem (answer.data, answer.len, reset, sizeof reset);
}

static void
test_malformed_reset (Fixture *fx, gconstpointer user_data)
{
  /* Token length 9 is a message format error (RFC 7252 §3). */
  const guint8 bad_con[] = { 0x49, 0x01, 0xab, 0xcd, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const guint8 bad_non[] = { 0x59, 0x01, 0xab, 0xce, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const guint8 ping[] = { 0x40, 0x00, 0x00, 0x07 };
  Answer answer;

  send_raw (fx, bad_con, sizeof bad_con);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_RST);
  g_assert_cmpuint (answer.msg.mid, ==, 0xabcd);

  /* A bad NON gets nothing: the next answer is the ping's RST. */
  send_raw (fx, bad_non, sizeof bad_non);
  send_raw (fx, ping, sizeof ping);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_RST);
  g_assert_cmpuint (answer.msg.mid, ==, 0x0007);
}

static void
test_response_reset (Fixture *fx, gconstpointer user_data)
{
  /* A CON 2.05 nobody asked for. */
  const guint8 response[] = { 0x40, MD_COAP_CONTENT, 0x44, 0x55 };
  Answer answer;

  send_raw (fx, response, sizeof response);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_RST);
  g_assert_cmpuint (answer.msg.mid, ==, 0x4455);
}

static void
test_unknown_critical (Fixture *fx, gconstpointer user_data)
{
  MdCoapMessage request;
  Answer answer;

  make_request (fx, &request, MD_COAP_GET, "notes");
  g_assert_true (md_coap_message_add_option (&request, 9, "x", 1));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_ACK);
  g_assert_cmpuint (answer.msg.mid, ==, request.mid);
  g_assert_cmpmem (answer.msg.token, answer.msg.token_len, request.token, request.token_len);
  assert_code (&answer, MD_COAP_BAD_OPTION);
  assert_payload (&answer, "unknown critical option 9");
  g_assert_cmpuint (logged.rejected, ==, 1);
  g_assert_cmpstr (logged.coap_code, ==, "4.02");
  g_assert_cmpstr (logged.reason, ==, "unknown critical option 9");
}

static void
test_block1_too_large (Fixture *fx, gconstpointer user_data)
{
  const MdCoapBlock block = { .num = 0, .more = TRUE, .szx = 2 };
  MdCoapMessage request;
  Answer answer;

  make_request (fx, &request, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_add_block (&request, MD_COAP_OPTION_BLOCK1, &block));
  g_assert_true (md_coap_message_set_payload (&request, "0123456789abcdef0123456789abcdef", 32));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_REQUEST_ENTITY_TOO_LARGE);
  g_assert_cmpuint (md_store_get_last_id (fx->store), ==, 0);
}

static void
test_duplicate_replayed (Fixture *fx, gconstpointer user_data)
{
  g_autofree char *location = NULL;
  MdCoapMessage request;
  Answer first, second;

  make_request (fx, &request, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_set_payload (&request, "only once", strlen ("only once")));
  send_message (fx, &request);
  wait_answer (fx, &first);
  assert_code (&first, MD_COAP_CREATED);
  location = location_of (&first);
  g_assert_cmpstr (location, ==, "notes/1");

  send_message (fx, &request);
  wait_answer (fx, &second);
  g_assert_cmpmem (second.data, second.len, first.data, first.len);
  g_assert_cmpuint (md_store_get_count (fx->store), ==, 1);
}

static void
test_post_durable (Fixture *fx, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  Answer answer;

  post_note (fx, "durable before the ACK");
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  g_assert_cmpuint (spy.sends, ==, 1);
  g_assert_cmpuint (spy.sends_with_pending, ==, 0);
  g_assert_cmpuint (spy.fdatasyncs, >=, 1);
  g_assert_cmpuint (logged.stored, ==, 1);
  g_assert_cmpstr (logged.note_id, ==, "1");
  g_assert_cmpstr (logged.note_key, ==, "");
  /* The test client speaks plain CoAP from loopback. */
  g_assert_cmpstr (logged.note_author, ==, "@127.0.0.1");
  /* Read right after the answer: the note is in the file. */
  g_assert_cmpuint (md_store_get_count (fx->store), ==, 1);
  g_assert_false (md_store_has_pending (fx->store));
  g_file_get_contents (md_store_get_path (fx->store), &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (contents, "\t-\t@127.0.0.1\tdurable before the ACK\n"));
}

static const char long_note[]
    = "a note long enough that the history outgrows three times a request";

/* Waits for the 4.01 + Echo that answers a request of @request_len bytes
 * from an unproven peer, checks it stays within the amplification budget and
 * is not logged as a refusal (it is part of a normal read), and copies out
 * the Echo value. */
static void
wait_echo_challenge (Fixture *fx, gsize request_len, guint8 value[MD_ECHO_VALUE_LEN])
{
  const MdCoapOption *echo;
  Answer answer;

  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_UNAUTHORIZED);
  g_assert_cmpuint (answer.len, <=, MD_ECHO_AMPLIFICATION * request_len);
  g_assert_cmpuint (answer.msg.payload_len, ==, 0);
  g_assert_cmpuint (logged.rejected, ==, 0);
  if (value == NULL)
    return;
  echo = md_coap_message_find_option (&answer.msg, MD_COAP_OPTION_ECHO);
  g_assert_nonnull (echo);
  g_assert_cmpuint (echo->length, ==, MD_ECHO_VALUE_LEN);
  memcpy (value, echo->value, MD_ECHO_VALUE_LEN);
}

/* Waits for the answer of an unproven GET whose body is over the budget: a
 * 2.05 with the first small Block2 block that fits three times the request,
 * and unless @value is NULL an Echo value, which it copies out. */
static void
wait_small_block (Fixture *fx, gsize request_len, guint8 value[MD_ECHO_VALUE_LEN])
{
  const MdCoapOption *echo;
  MdCoapBlock block;
  Answer answer;

  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_cmpuint (answer.len, <=, MD_ECHO_AMPLIFICATION * request_len);
  g_assert_true (md_coap_message_get_block (&answer.msg, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_cmpuint (block.num, ==, 0);
  g_assert_true (block.more);
  g_assert_cmpuint (block.szx, <, MD_COAP_MAX_BLOCK_SZX);
  g_assert_cmpuint (answer.msg.payload_len, ==, md_coap_block_size (block.szx));
  g_assert_cmpuint (logged.rejected, ==, 0);
  if (value == NULL)
    return;
  echo = md_coap_message_find_option (&answer.msg, MD_COAP_OPTION_ECHO);
  g_assert_nonnull (echo);
  g_assert_cmpuint (echo->length, ==, MD_ECHO_VALUE_LEN);
  memcpy (value, echo->value, MD_ECHO_VALUE_LEN);
}

static void
test_echo_large_get (Fixture *fx, gconstpointer user_data)
{
  guint8 value[MD_ECHO_VALUE_LEN];
  MdCoapMessage request;
  gsize request_len;
  Answer answer;

  for (guint i = 0; i < 3; i++)
    {
      post_note (fx, long_note);
      wait_answer (fx, &answer);
      assert_code (&answer, MD_COAP_CREATED);
    }
  /* An 8-byte token, as most clients send, leaves room for the Echo. */
  make_request (fx, &request, MD_COAP_GET, "notes");
  md_coap_message_set_token (&request, (const guint8 *)"8-bytes!", 8);
  request_len = send_message (fx, &request);
  wait_small_block (fx, request_len, value);

  make_request (fx, &request, MD_COAP_GET, "notes");
  g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_ECHO, value, sizeof value));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_cmpuint (answer.len, >, MD_ECHO_AMPLIFICATION * request_len);
  g_assert_nonnull (g_strstr_len ((const char *)answer.msg.payload, answer.msg.payload_len, "3\t"));

  /* Proven for the address: a new port needs no Echo value. */
  reconnect_client (fx);
  make_request (fx, &request, MD_COAP_GET, "notes");
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_null (md_coap_message_find_option (&answer.msg, MD_COAP_OPTION_ECHO));
  g_assert_cmpuint (answer.len, >, MD_ECHO_AMPLIFICATION * request_len);
}

/* An unproven client asking for the next block in the size it was given
 * gets that size again: it reads the whole body in small blocks. */
static void
test_echo_small_blocks (Fixture *fx, gconstpointer user_data)
{
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (GString) expected = g_string_new (NULL);
  MdCoapMessage request;
  MdCoapBlock block = { 0, TRUE, MD_COAP_MAX_BLOCK_SZX };
  Answer answer;

  for (guint i = 0; i < 3; i++)
    {
      post_note (fx, long_note);
      wait_answer (fx, &answer);
    }
  for (guint64 id = 1; id <= 3; id++)
    g_assert_true (md_store_append_wire_line (fx->store, id, expected, NULL));
  make_request (fx, &request, MD_COAP_GET, "notes");
  wait_small_block (fx, send_message (fx, &request), NULL);
  for (guint i = 0; i < 200 && block.more; i++)
    {
      gsize request_len;

      make_request (fx, &request, MD_COAP_GET, "notes");
      g_assert_true (md_coap_message_add_block (&request, MD_COAP_OPTION_BLOCK2, &block));
      request_len = send_message (fx, &request);
      wait_answer (fx, &answer);
      assert_code (&answer, MD_COAP_CONTENT);
      g_assert_cmpuint (answer.len, <=, MD_ECHO_AMPLIFICATION * request_len);
      g_assert_true (md_coap_message_get_block (&answer.msg, MD_COAP_OPTION_BLOCK2, &block));
      g_assert_cmpuint ((gsize)block.num * md_coap_block_size (block.szx), ==, body->len);
      g_string_append_len (body, (const char *)answer.msg.payload, answer.msg.payload_len);
      block.num++;
    }
  g_assert_false (block.more);
  g_assert_cmpstr (body->str, ==, expected->str);
}

static void
test_short_diagnostic (Fixture *fx, gconstpointer user_data)
{
  /* No token, no path: 5 bytes, so at most 15 may go back unverified. */
  MdCoapMessage request;
  Answer answer;
  gsize request_len;

  md_coap_message_init (&request, MD_COAP_TYPE_CON, MD_COAP_GET, 0x2222);
  g_assert_true (md_coap_message_add_option (&request, 9, NULL, 0));
  request_len = send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_BAD_OPTION);
  g_assert_cmpuint (answer.len, <=, MD_ECHO_AMPLIFICATION * request_len);
  g_assert_cmpuint (answer.msg.payload_len, >, 0);
  g_assert_true (strncmp ("unknown critical option 9", (const char *)answer.msg.payload,
                          answer.msg.payload_len)
                 == 0);
}

static void
test_non_request (Fixture *fx, gconstpointer user_data)
{
  MdCoapMessage request;
  Answer answer;

  make_request (fx, &request, MD_COAP_GET, "notes");
  request.type = MD_COAP_TYPE_NON;
  g_assert_true (md_coap_message_add_option (&request, 9, "x", 1));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_NON);
  g_assert_cmpmem (answer.msg.token, answer.msg.token_len, request.token, request.token_len);
  assert_code (&answer, MD_COAP_BAD_OPTION);
}

static gboolean
on_guard_timeout (gpointer user_data)
{
  gboolean *fired = user_data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_group_commit (Fixture *fx, gconstpointer user_data)
{
  const guint n_notes = 5;
  gboolean guard_fired = FALSE;
  guint guard;

  for (guint i = 0; i < n_notes; i++)
    {
      g_autofree char *text = g_strdup_printf ("grouped note %u", i);

      post_note (fx, text);
    }
  /* One main-loop turn reads them all and commits them together. */
  spy.fdatasyncs = 0;
  guard = g_timeout_add (ANSWER_TIMEOUT_US / 1000, on_guard_timeout, &guard_fired);
  g_main_context_iteration (NULL, TRUE);
  g_assert_false (guard_fired);
  g_source_remove (guard);
  g_assert_cmpuint (md_store_get_count (fx->store), ==, n_notes);
  g_assert_false (md_store_has_pending (fx->store));
  g_assert_cmpuint (spy.fdatasyncs, ==, 1);
  g_assert_cmpuint (spy.sends, ==, n_notes);
  g_assert_cmpuint (spy.sends_with_pending, ==, 0);

  for (guint i = 0; i < n_notes; i++)
    {
      struct pollfd fd = { fx->client_fd, POLLIN, 0 };
      Answer answer;

      g_assert_cmpint (poll (&fd, 1, ANSWER_TIMEOUT_US / 1000), ==, 1);
      g_assert_true (receive_now (fx, &answer));
      assert_code (&answer, MD_COAP_CREATED);
    }
}

static void
test_commit_failure (Fixture *fx, gconstpointer user_data)
{
  g_autofree char *location = NULL;
  Answer answer;

  spy.fdatasync_errno = EIO;
  post_note (fx, "lost one");
  post_note (fx, "lost two");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *payload = NULL;

      wait_answer (fx, &answer);
      assert_code (&answer, MD_COAP_SERVICE_UNAVAILABLE);
      g_assert_false (md_coap_message_has_option (&answer.msg, MD_COAP_OPTION_LOCATION_PATH));
      payload = payload_of (&answer);
      g_assert_true (g_str_has_prefix (payload, "note not stored"));
    }
  g_assert_cmpuint (logged.storage_errors, ==, 1);
  g_assert_cmpuint (logged.stored, ==, 0);
  g_assert_cmpuint (md_store_get_last_id (fx->store), ==, 0);

  /* The undone ids are given again: no gap in the numbering. */
  post_note (fx, "kept");
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  location = location_of (&answer);
  g_assert_cmpstr (location, ==, "notes/1");
}

/* The note of a datagram that arrives while a batch (of two notes, so that
 * it syncs in the worker) syncs is read and appended during that sync, and
 * committed by the next one; each acknowledgement follows its own commit. */
static void
test_commit_pipelined (Fixture *fx, gconstpointer user_data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  guint8 data[ANSWER_SIZE];
  MdCoapMessage request;
  Answer answer;
  gssize len;

  make_request (fx, &request, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_set_payload (&request, "meanwhile", strlen ("meanwhile")));
  len = md_coap_encode (&request, data, sizeof data, NULL);
  g_assert_cmpint (len, >, 0);
  spy.during_sync_fd = fx->client_fd;
  spy.during_sync_data = data;
  spy.during_sync_len = (gsize)len;
  post_note (fx, "first");
  post_note (fx, "second");
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  first = location_of (&answer);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  second = location_of (&answer);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  third = location_of (&answer);
  spy.during_sync_data = NULL;
  g_assert_true (spy.appended_during_sync);
  g_assert_cmpstr (first, ==, "notes/1");
  g_assert_cmpstr (second, ==, "notes/2");
  g_assert_cmpstr (third, ==, "notes/3");
  g_assert_cmpuint (spy.fdatasyncs, ==, 2);
  g_assert_cmpuint (md_store_get_count (fx->store), ==, 3);
  g_assert_cmpuint (logged.stored, ==, 3);
}

/* A failed sync undoes the notes appended while it ran too: both writes
 * are answered 5.03 and nothing is left. */
static void
test_commit_pipelined_failure (Fixture *fx, gconstpointer user_data)
{
  guint8 data[ANSWER_SIZE];
  MdCoapMessage request;
  Answer answer;
  gssize len;

  make_request (fx, &request, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_set_payload (&request, "meanwhile", strlen ("meanwhile")));
  len = md_coap_encode (&request, data, sizeof data, NULL);
  g_assert_cmpint (len, >, 0);
  spy.during_sync_fd = fx->client_fd;
  spy.during_sync_data = data;
  spy.during_sync_len = (gsize)len;
  spy.fdatasync_errno = EIO;
  post_note (fx, "first");
  post_note (fx, "second");
  for (guint i = 0; i < 3; i++)
    {
      wait_answer (fx, &answer);
      assert_code (&answer, MD_COAP_SERVICE_UNAVAILABLE);
    }
  spy.during_sync_data = NULL;
  g_assert_true (spy.appended_during_sync);
  g_assert_cmpuint (logged.storage_errors, ==, 1);
  g_assert_cmpuint (logged.stored, ==, 0);
  g_assert_cmpuint (md_store_get_last_id (fx->store), ==, 0);
}

static void
test_put_key_logged (Fixture *fx, gconstpointer user_data)
{
  const char *key = "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  g_autofree char *path = g_strconcat ("notes/", key, NULL);
  MdCoapMessage request;
  Answer answer;

  make_request (fx, &request, MD_COAP_PUT, path);
  g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  g_assert_true (md_coap_message_set_payload (&request, "with a key", strlen ("with a key")));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  g_assert_cmpuint (logged.stored, ==, 1);
  g_assert_cmpstr (logged.note_key, ==, key);

  /* The retry of a stored note is a success for the client, not a
   * rejection, and its payload (the note) stays out of REASON=. */
  make_request (fx, &request, MD_COAP_PUT, path);
  g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  g_assert_true (md_coap_message_set_payload (&request, "with a key", strlen ("with a key")));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_PRECONDITION_FAILED);
  g_assert_cmpuint (logged.stored, ==, 1);
  g_assert_cmpuint (logged.rejected, ==, 0);
}

/* NOTE_KEY= is the key as stored (lowercase), whatever case was sent. */
static void
test_put_key_logged_lowercase (Fixture *fx, gconstpointer user_data)
{
  MdCoapMessage request;
  Answer answer;

  make_request (fx, &request, MD_COAP_PUT, "notes/0B3C6F0E-1C2D-4E5F-8A9B-0C1D2E3F4A5B");
  g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  g_assert_true (md_coap_message_set_payload (&request, "upper", strlen ("upper")));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  g_assert_cmpuint (logged.stored, ==, 1);
  g_assert_cmpstr (logged.note_id, ==, "1");
  g_assert_cmpstr (logged.note_key, ==, "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
}

/* PUT of @text under @path with If-None-Match; returns the request length. */
static gsize
put_note (Fixture *fx, const char *path, const char *text, const guint8 *echo, gsize echo_len)
{
  MdCoapMessage request;

  make_request (fx, &request, MD_COAP_PUT, path);
  g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  if (echo != NULL)
    g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_ECHO, echo, echo_len));
  g_assert_true (md_coap_message_set_payload (&request, text, strlen (text)));
  return send_message (fx, &request);
}

/* A 4.12 carries the stored note line, a success for the client: over the
 * budget of a short retry from an unproven peer it becomes an Echo
 * challenge, never a cut line. */
static void
test_put_precondition_over_budget (Fixture *fx, gconstpointer user_data)
{
  const char *path = "notes/0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  g_autofree char *text = g_strnfill (600, 'n');
  g_autofree char *stored_line = NULL;
  g_autofree char *line = NULL;
  guint8 value[MD_ECHO_VALUE_LEN];
  gsize request_len;
  Answer answer;

  /* The long request itself allows the long 2.01. */
  put_note (fx, path, text, NULL, 0);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  stored_line = payload_of (&answer);
  g_assert_nonnull (strstr (stored_line, text));

  request_len = put_note (fx, path, "x", NULL, 0);
  g_assert_cmpuint (strlen (stored_line), >, MD_ECHO_AMPLIFICATION * request_len);
  wait_echo_challenge (fx, request_len, value);

  put_note (fx, path, "x", value, sizeof value);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_PRECONDITION_FAILED);
  line = payload_of (&answer);
  g_assert_cmpstr (line, ==, stored_line);
  g_assert_cmpuint (logged.stored, ==, 1);
  g_assert_cmpuint (logged.rejected, ==, 0);
  g_assert_cmpuint (md_store_get_count (fx->store), ==, 1);
}

/* GET /latest with Observe: 0 under @token, from an unproven peer: it is
 * registered, and a latest note larger than the budget comes as a small
 * block with an Echo value.  With @prove, the request is sent again with
 * that value, which makes it a proven observer.  Returns the length of the
 * registration. */
static gsize
observe_latest (Fixture *fx, const guint8 token[4], gboolean prove)
{
  const MdCoapOption *echo;
  guint8 value[MD_ECHO_VALUE_LEN];
  MdCoapMessage request;
  gsize request_len;
  Answer answer;

  make_request (fx, &request, MD_COAP_GET, "latest");
  md_coap_message_set_token (&request, token, 4);
  g_assert_true (md_coap_message_add_uint_option (&request, MD_COAP_OPTION_OBSERVE, 0));
  request_len = send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_true (md_coap_message_has_option (&answer.msg, MD_COAP_OPTION_OBSERVE));
  g_assert_cmpuint (answer.len, <=, MD_ECHO_AMPLIFICATION * request_len);
  echo = md_coap_message_find_option (&answer.msg, MD_COAP_OPTION_ECHO);
  if (!prove)
    return request_len;
  g_assert_nonnull (echo);
  memcpy (value, echo->value, sizeof value);
  request.mid = fx->next_mid++;
  g_assert_true (md_coap_message_add_option (&request, MD_COAP_OPTION_ECHO, value, sizeof value));
  request_len = send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_true (md_coap_message_has_option (&answer.msg, MD_COAP_OPTION_OBSERVE));
  g_assert_false (md_coap_message_has_option (&answer.msg, MD_COAP_OPTION_BLOCK2));
  return request_len;
}

static void
test_observe_notified (Fixture *fx, gconstpointer user_data)
{
  const guint8 token[4] = { 'o', 'b', 's', '1' };
  g_autofree char *payload = NULL;
  Answer answer;

  post_note (fx, long_note);
  wait_answer (fx, &answer);
  observe_latest (fx, token, TRUE);

  post_note (fx, "news");
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  /* The notification follows the commit and the acknowledgement. */
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_NON);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_cmpmem (answer.msg.token, answer.msg.token_len, token, sizeof token);
  payload = payload_of (&answer);
  g_assert_true (g_str_has_prefix (payload, "2\t"));
  g_assert_true (g_str_has_suffix (payload, "\t@127.0.0.1\tnews\n"));
}

static void
send_empty (Fixture *fx, MdCoapType type, guint16 mid)
{
  const guint8 empty[] = { (guint8)(0x40 | type << 4), 0x00, (guint8)(mid >> 8), (guint8)mid };

  send_raw (fx, empty, sizeof empty);
}

/* Posts @text and waits for its 2.01 and then the CON notification to an
 * unproven observer, within the budget of its registration. */
static void
wait_confirmable_notification (Fixture *fx, const char *text, gsize registration_len,
                               Answer *answer)
{
  post_note (fx, text);
  wait_answer (fx, answer);
  assert_code (answer, MD_COAP_CREATED);
  wait_answer (fx, answer);
  g_assert_cmpint (answer->msg.type, ==, MD_COAP_TYPE_CON);
  assert_code (answer, MD_COAP_CONTENT);
  g_assert_cmpuint (answer->len, <=, MD_ECHO_AMPLIFICATION * registration_len);
}

/* An unproven observer gets one CON notification within the budget; while
 * it is unacknowledged no other goes. */
static void
test_observe_unproven (Fixture *fx, gconstpointer user_data)
{
  const guint8 token[4] = { 'o', 'b', 's', '2' };
  g_autofree char *note = g_strnfill (400, 'q');
  gsize registration_len;
  Answer answer;

  post_note (fx, long_note);
  wait_answer (fx, &answer);
  registration_len = observe_latest (fx, token, FALSE);

  wait_confirmable_notification (fx, note, registration_len, &answer);
  /* A note larger than the budget: its first block (RFC 7959 §3.4). */
  g_assert_true (md_coap_message_has_option (&answer.msg, MD_COAP_OPTION_BLOCK2));
  post_note (fx, "not notified while the first is unacknowledged");
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  send_empty (fx, MD_COAP_TYPE_CON, 0x0909);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_RST);
  g_assert_cmpuint (answer.msg.mid, ==, 0x0909);
}

static void
test_observe_unproven_reset (Fixture *fx, gconstpointer user_data)
{
  const guint8 token[4] = { 'o', 'b', 's', '4' };
  g_autofree char *described = NULL;
  gsize registration_len = observe_latest (fx, token, FALSE);
  Answer answer;

  wait_confirmable_notification (fx, "one", registration_len, &answer);
  send_empty (fx, MD_COAP_TYPE_RST, answer.msg.mid);
  send_empty (fx, MD_COAP_TYPE_CON, 0x0a0a);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_RST);
  described = md_server_describe (fx->server);
  g_assert_nonnull (strstr (described, " 0 observers"));
}

/* An unproven observer that acknowledges each notification goes on
 * getting them. */
static void
test_observe_unproven_acked (Fixture *fx, gconstpointer user_data)
{
  const guint8 token[4] = { 'o', 'b', 's', '3' };
  gsize registration_len = observe_latest (fx, token, FALSE);
  g_autofree char *payload = NULL;
  Answer answer;

  wait_confirmable_notification (fx, "one", registration_len, &answer);
  send_empty (fx, MD_COAP_TYPE_ACK, answer.msg.mid);
  wait_confirmable_notification (fx, "two", registration_len, &answer);
  /* The second note, or its first block when the author makes the line
   * larger than the budget. */
  payload = payload_of (&answer);
  g_assert_true (g_str_has_prefix (payload, "2\t"));
}

/* A registration asking for a block beyond the end of /latest gets 4.02,
 * so it leaves no observer behind (else each note would go to it, unbounded,
 * as to a proven address). */
static void
test_observe_block_beyond_end (Fixture *fx, gconstpointer user_data)
{
  const guint8 token[4] = { 'o', 'b', 's', '5' };
  const MdCoapBlock beyond = { .num = 1, .szx = 6 };
  g_autofree char *described = NULL;
  MdCoapMessage request;
  Answer answer;

  post_note (fx, "short");
  wait_answer (fx, &answer);
  make_request (fx, &request, MD_COAP_GET, "latest");
  md_coap_message_set_token (&request, token, 4);
  g_assert_true (md_coap_message_add_uint_option (&request, MD_COAP_OPTION_OBSERVE, 0));
  g_assert_true (md_coap_message_add_block (&request, MD_COAP_OPTION_BLOCK2, &beyond));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_BAD_OPTION);
  described = md_server_describe (fx->server);
  g_assert_nonnull (strstr (described, " 0 observers"));
}

static void
test_replay_budget (Fixture *fx, gconstpointer user_data)
{
  const guint8 ping[] = { 0x40, 0x00, 0x00, 0x0a };
  MdCoapMessage request;
  guint8 forged[4];
  Answer answer;

  /* A 2.05 padded by a long Uri-Query is within three times its request. */
  post_note (fx, long_note);
  wait_answer (fx, &answer);
  make_request (fx, &request, MD_COAP_GET, "notes/1");
  g_assert_true (md_coap_message_add_string_option (&request, MD_COAP_OPTION_URI_QUERY, long_note));
  send_message (fx, &request);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  g_assert_cmpuint (answer.len, >, 3 * sizeof forged);

  /* The same Message ID in a bare 4-byte GET gets nothing back. */
  forged[0] = 0x40;
  forged[1] = MD_COAP_GET;
  forged[2] = (guint8)(request.mid >> 8);
  forged[3] = (guint8)request.mid;
  send_raw (fx, forged, sizeof forged);
  send_raw (fx, ping, sizeof ping);
  wait_answer (fx, &answer);
  g_assert_cmpint (answer.msg.type, ==, MD_COAP_TYPE_RST);
}

static void
test_describe (Fixture *fx, gconstpointer user_data)
{
  g_autofree char *before = md_server_describe (fx->server);
  g_autofree char *after = NULL;
  Answer answer;

  g_assert_cmpstr (before, ==, "0 notes, none stored since start, 0 observers");
  post_note (fx, "described");
  wait_answer (fx, &answer);
  after = md_server_describe (fx->server);
  g_assert_true (g_str_has_prefix (after, "1 note, last stored at "));
  g_assert_nonnull (strstr (after, " from 127.0.0.1:"));
}

static void
test_drain (Fixture *fx, gconstpointer user_data)
{
  struct pollfd fd = { 0, POLLIN, 0 };
  Answer answer;

  post_note (fx, "queued before SIGTERM");
  /* No main-loop turn: drain must read it by itself. */
  md_server_drain (fx->server);
  g_assert_cmpuint (md_store_get_count (fx->store), ==, 1);
  fd.fd = fx->client_fd;
  g_assert_cmpint (poll (&fd, 1, ANSWER_TIMEOUT_US / 1000), ==, 1);
  g_assert_true (receive_now (fx, &answer));
  assert_code (&answer, MD_COAP_CREATED);
}

/* A client bound to @address (in 127/8) and connected to the server. */
static int
client_from (Fixture *fx, const char *address)
{
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to;
  socklen_t len = sizeof to;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (inet_pton (AF_INET, address, &from.sin_addr), ==, 1);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&from, sizeof from), ==, 0);
  g_assert_cmpint (getsockname (fx->server_fd, (struct sockaddr *)&to, &len), ==, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *)&to, sizeof to), ==, 0);
  return fd;
}

/* From outside PlainFrom=, a ping, a note and a malformed CON get nothing
 * (not even the RSTs they would get), store nothing, and are counted.  The
 * allowed client's GET /status goes after them through the same socket,
 * so once it is answered they have been dealt with. */
static void
test_plain_from_refused (Fixture *fx, gconstpointer user_data)
{
  const char *const networks[] = { "127.0.0.2", "::1", NULL };
  const guint8 ping[] = { 0x40, 0x00, 0x12, 0x34 };
  const guint8 malformed[] = { 0x40, 0x01, 0x12, 0x35, 0xff };
  g_autoptr (GError) error = NULL;
  g_autofree char *status = NULL;
  guint8 value[MD_ECHO_VALUE_LEN];
  MdCoapMessage get;
  Answer answer;
  int outside = fx->client_fd;

  g_assert_true (md_server_set_plain_from (fx->server, networks, &error));
  g_assert_no_error (error);
  send_raw (fx, ping, sizeof ping);
  post_note (fx, "from outside");
  send_raw (fx, malformed, sizeof malformed);
  fx->client_fd = client_from (fx, "127.0.0.2");
  make_request (fx, &get, MD_COAP_GET, "status");
  wait_small_block (fx, send_message (fx, &get), value);
  make_request (fx, &get, MD_COAP_GET, "status");
  g_assert_true (md_coap_message_add_option (&get, MD_COAP_OPTION_ECHO, value, sizeof value));
  send_message (fx, &get);
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CONTENT);
  status = payload_of (&answer);
  g_assert_nonnull (strstr (status, "\n" MD_PROTOCOL_STATUS_PLAIN_REFUSED ": 3\n"));
  /* The challenge and the status: nothing to the refused client. */
  g_assert_cmpuint (spy.sends, ==, 2);
  g_assert_cmpuint (logged.plain_refused, <=, 1);
  g_assert_cmpuint (md_store_get_count (fx->store), ==, 0);
  close (fx->client_fd);
  fx->client_fd = outside;
  g_assert_false (receive_now (fx, &answer));
}

/* A bad network is refused by name, and the filter in force stays. */
static void
test_plain_from_bad (Fixture *fx, gconstpointer user_data)
{
  const char *const networks[] = { "127.0.0.2", "127.0.0.0/99", NULL };
  g_autoptr (GError) error = NULL;

  g_assert_false (md_server_set_plain_from (fx->server, networks, &error));
  g_assert_nonnull (strstr (error->message, "127.0.0.0/99"));
  /* Still the default: this client at 127.0.0.1 is answered. */
  test_ping_reset (fx, user_data);
}

/* A ping (answered at once) and a note (answered after the commit) reach a
 * client that accepts answers only from the address it sent to. */
static void
test_reply_source_address (Fixture *fx, gconstpointer user_data)
{
  Answer answer;

  if (skip_unavailable (fx))
    return;
  test_ping_reset (fx, user_data);
  post_note (fx, "answered from the address it went to");
  wait_answer (fx, &answer);
  assert_code (&answer, MD_COAP_CREATED);
  /* Sent from that address at the first try, not after a fallback. */
  g_assert_cmpuint (spy.send_errors, ==, 0);
  g_assert_cmpuint (spy.sends_with_source, ==, spy.sends);
}

/* Notifications go out long after the request, from its stored peer. */
static void
test_reply_source_notification (Fixture *fx, gconstpointer user_data)
{
  if (skip_unavailable (fx))
    return;
  test_observe_notified (fx, user_data);
  g_assert_cmpuint (spy.send_errors, ==, 0);
}

/* An observer may outlive the address it registered through (the host was
 * renumbered): the kernel refuses that source, and the answer still goes,
 * from the address the kernel chooses. */
static void
test_reply_source_gone (Fixture *fx, gconstpointer user_data)
{
  const guint8 ping[] = { 0x40, 0x00, 0x00, 0x0b };
  MdPeer peer = { .fd = fx->server_fd, .addr_len = sizeof peer.addr };
  Answer answer;

  g_assert_cmpint (getsockname (fx->client_fd, (struct sockaddr *)&peer.addr, &peer.addr_len), ==,
                   0);
  peer.local.family = AF_INET;
  /* TEST-NET-1 (RFC 5737): never an address of this host. */
  g_assert_cmpint (inet_pton (AF_INET, "192.0.2.1", &peer.local.addr.v4), ==, 1);
  g_assert_true (md_peer_send (&peer, ping, sizeof ping));
  g_assert_cmpuint (spy.send_errors, ==, 1);
  wait_answer (fx, &answer);
  g_assert_cmpmem (answer.data, answer.len, ping, sizeof ping);
}

static void
test_add_socket_rejects_stream (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdStore) store = NULL;
  g_autoptr (MdServer) server = NULL;
  g_autofree char *directory = g_dir_make_tmp ("test-server-XXXXXX", &error);
  g_autofree char *notes = NULL;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_no_error (error);
  store = md_store_open (directory, NULL, &error);
  g_assert_no_error (error);
  server = md_server_new (store);
  g_assert_false (md_server_add_socket (server, fd, &error));
  g_assert_nonnull (error);
  close (fd);
  notes = g_build_filename (directory, "notes", NULL);
  g_unlink (notes);
  g_free (notes);
  notes = g_build_filename (directory, "notebook-id", NULL);
  g_unlink (notes);
  g_rmdir (directory);
}

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
#define ADD_WILDCARD(path, wildcard, func)                                                         \
  g_test_add (path, Fixture, wildcard, fixture_setup_wildcard, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (recording_writer, NULL, NULL);

  ADD ("/server/ping/reset", test_ping_reset);
  ADD ("/server/malformed/reset", test_malformed_reset);
  ADD ("/server/response/reset", test_response_reset);
  ADD ("/server/option/unknown-critical", test_unknown_critical);
  ADD ("/server/option/block1-too-large", test_block1_too_large);
  ADD ("/server/dedup/replay", test_duplicate_replayed);
  ADD ("/server/post/durable-before-ack", test_post_durable);
  ADD ("/server/echo/large-get", test_echo_large_get);
  ADD ("/server/echo/small-blocks", test_echo_small_blocks);
  ADD ("/server/echo/short-diagnostic", test_short_diagnostic);
  ADD ("/server/non/response", test_non_request);
  ADD ("/server/commit/group", test_group_commit);
  ADD ("/server/commit/failure", test_commit_failure);
  ADD ("/server/commit/pipelined", test_commit_pipelined);
  ADD ("/server/commit/pipelined-failure", test_commit_pipelined_failure);
  ADD ("/server/put/key-logged", test_put_key_logged);
  ADD ("/server/put/key-logged-lowercase", test_put_key_logged_lowercase);
  ADD ("/server/put/precondition-over-budget", test_put_precondition_over_budget);
  ADD ("/server/observe/notified", test_observe_notified);
  ADD ("/server/observe/unproven-confirmable", test_observe_unproven);
  ADD ("/server/observe/unproven-reset", test_observe_unproven_reset);
  ADD ("/server/observe/unproven-acked", test_observe_unproven_acked);
  ADD ("/server/observe/block-beyond-end", test_observe_block_beyond_end);
  ADD ("/server/dedup/replay-budget", test_replay_budget);
  ADD ("/server/describe", test_describe);
  ADD ("/server/drain", test_drain);
  ADD ("/server/plain-from/refused", test_plain_from_refused);
  ADD ("/server/plain-from/bad", test_plain_from_bad);
  ADD_WILDCARD ("/server/reply/source-address", &wildcard_ipv4, test_reply_source_address);
  ADD_WILDCARD ("/server/reply/source-address/dual-stack", &wildcard_dual_stack,
                test_reply_source_address);
  ADD_WILDCARD ("/server/reply/source-address/ipv6", &wildcard_ipv6, test_reply_source_address);
  ADD_WILDCARD ("/server/reply/source-address/notification", &wildcard_ipv4,
                test_reply_source_notification);
  ADD ("/server/reply/source-address/gone", test_reply_source_gone);
  g_test_add_func ("/server/socket/rejects-stream", test_add_socket_rejects_stream);
  return g_test_run ();
}
