/* The limits of issue 9 against a real mydailyd, attacked as a host on
 * loopback would: other hosts are other 127/8 source addresses, which a
 * socket gets by binding to them.
 *
 *   /limits/rate-limit          a host past its bucket gets 5.03 + Max-Age,
 *                               the exempt 127.0.0.1 never does, waiting
 *                               Max-Age is enough, the journal says it once
 *   /limits/observers           one address registering 50 gets 8; another
 *                               address still follows and is notified
 *   /limits/dedup-flood         5,000 other addresses flood the dedup cache
 *                               between a POST and its retransmission: the
 *                               retransmission is a replay, the note stored once
 *   /limits/import              20,000 keyed adds from a rate-limited host by a
 *                               client that waits out Max-Age: all stored once
 *   /limits/import-ctl          the same with the real `mydailyctl add -`: exit
 *                               0, every line stored once, in input order
 *
 * Requests are built and answers read with the project's codec (md-coap.h);
 * tests/hostile/test-hostile.c checks the codec itself with an independent
 * reader. */
#include "config.h"

#include "md-coap-describe.h"
#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANSWER_MS 5000
#define MAX_READS 256
#define RATE_BURST 5
#define FLOOD_HOSTS 5000
#define FLOOD_PER_HOST 3
#define IMPORT_NOTES 20000
#define IMPORT_WINDOW 128
#define IMPORT_DEADLINE_S 300
/* The client sends one note at a time and waits Max-Age (1 s) after each
 * 5.03, when the bucket holds no token; a second refills RATE_CTL, so the
 * run takes about IMPORT_NOTES / RATE_CTL seconds (~67 s) however fast the
 * client is, as long as it outpaces RATE_CTL: each note costs an
 * fdatasync, 650 to 1,800 notes/s on a busy 2-core machine, plain or ASan,
 * so 300 leaves room for a slower disk. */
#define RATE_CTL 300
#define IMPORT_CTL_TIMEOUT_MS (300 * 1000)

static MdTestDaemon *daemon_under_test;
static struct sockaddr_in server_addr;
static guint16 next_mid = 1;

/* ---- the daemon ---- */

/* The harness passes --config=ROOT/mydailyd.conf, beside ROOT/state. */
static void
write_config (MdTestDaemon *daemon, const char *settings)
{
  g_autofree char *root = g_path_get_dirname (md_test_daemon_get_state_dir (daemon));
  g_autofree char *path = g_build_filename (root, "mydailyd.conf", NULL);
  g_autofree char *data = g_strconcat ("[Server]\n", settings, NULL);

  g_assert_true (g_file_set_contents (path, data, -1, NULL));
}

static MdTestDaemon *
start_daemon (const char *settings, struct sockaddr_in *addr)
{
  g_autoptr (GError) error = NULL;
  MdTestDaemon *daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);

  write_config (daemon, settings);
  if (!md_test_daemon_start (daemon, &error))
    g_error ("cannot start mydailyd: %s", error->message);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr->sin_port = htons (md_test_daemon_get_port (daemon));
  return daemon;
}

static guint
count_in (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* ---- sockets ---- */

/* A UDP socket bound to @address, any port. */
static int
host_socket (const char *address)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (inet_pton (AF_INET, address, &addr.sin_addr), ==, 1);
  g_assert_no_errno (bind (fd, (struct sockaddr *)&addr, sizeof addr));
  return fd;
}

static void
send_message (int fd, const struct sockaddr_in *to, const MdCoapMessage *msg)
{
  g_autoptr (GError) error = NULL;
  guint8 data[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (msg, data, sizeof data, &error);

  g_assert_no_error (error);
  g_assert_cmpint (sendto (fd, data, (gsize)len, 0, (const struct sockaddr *)to, sizeof *to), ==,
                   len);
}

/* The next message on @fd before @deadline_us, into @msg (whose payload
 * points into @buf); FALSE on timeout. */
static gboolean
receive_before (int fd, gint64 deadline_us, guint8 *buf, gsize size, MdCoapMessage *msg)
{
  for (guint i = 0; i < MAX_READS; i++)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      gint64 left_ms;
      ssize_t n;
      int r;

      /* The harness reads the daemon's sd_notify messages on this context:
       * unread, they would fill that socket and block the daemon. */
      for (guint j = 0; j < MAX_READS && g_main_context_iteration (NULL, FALSE); j++)
        ;
      left_ms = MIN ((deadline_us - g_get_monotonic_time ()) / 1000, 100);
      if (left_ms < 0)
        return FALSE;
      r = poll (&p, 1, (int)left_ms);
      if (r == 0 && g_get_monotonic_time () >= deadline_us)
        return FALSE;
      if (r == 0 || (r < 0 && errno == EINTR))
        continue;
      g_assert_cmpint (r, ==, 1);
      n = recv (fd, buf, size, MSG_DONTWAIT);
      if (n < 0)
        {
          g_assert_true (errno == EAGAIN || errno == EINTR);
          continue;
        }
      g_assert_true (md_coap_parse (buf, (gsize)n, msg, NULL));
      return TRUE;
    }
  return FALSE;
}

/* The answer to the request with Message ID @mid, skipping others. */
static void
receive_answer (int fd, guint16 mid, guint8 *buf, gsize size, MdCoapMessage *msg)
{
  gint64 deadline_us = g_get_monotonic_time () + ANSWER_MS * 1000;

  for (guint i = 0; i < MAX_READS; i++)
    {
      g_assert_true (receive_before (fd, deadline_us, buf, size, msg));
      if (msg->mid == mid && msg->type == MD_COAP_TYPE_ACK)
        return;
    }
  g_assert_not_reached ();
}

/* A CON request to the daemon under test, answered. */
static void
exchange (int fd, MdCoapMessage *request, guint8 *buf, gsize size, MdCoapMessage *answer)
{
  send_message (fd, &server_addr, request);
  receive_answer (fd, request->mid, buf, size, answer);
}

static void
make_post (MdCoapMessage *msg, guint16 mid, const char *text)
{
  md_coap_message_init (msg, MD_COAP_TYPE_CON, MD_COAP_POST, mid);
  g_assert_true (md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, "notes"));
  g_assert_true (md_coap_message_set_payload (msg, text, strlen (text)));
}

static guint8
post_note (int fd, const char *text, MdCoapMessage *answer, guint8 *buf, gsize size)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);

  make_post (request, next_mid++, text);
  exchange (fd, request, buf, size, answer);
  return answer->code;
}

/* An empty CON answered by RST: everything sent before it was read. */
static void
ping (int fd)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  guint16 mid = next_mid++;
  gint64 deadline_us = g_get_monotonic_time () + ANSWER_MS * 1000;
  guint8 buf[MD_COAP_MAX_DATAGRAM];

  md_coap_message_init (msg, MD_COAP_TYPE_CON, MD_COAP_EMPTY, mid);
  send_message (fd, &server_addr, msg);
  for (guint i = 0; i < MAX_READS; i++)
    {
      g_assert_true (receive_before (fd, deadline_us, buf, sizeof buf, msg));
      if (msg->type == MD_COAP_TYPE_RST && msg->mid == mid)
        return;
    }
  g_assert_not_reached ();
}

static guint
count_notes_with_text (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records
      = md_test_read_notes (md_test_daemon_get_notes_path (daemon_under_test), NULL, &error);
  guint n = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    n += strcmp (((MdTestRecord *)records->pdata[i])->text, text) == 0;
  return n;
}

/* ---- /limits/rate-limit ---- */

static void
test_rate_limit (void)
{
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  g_autofree char *log = NULL;
  int limited = host_socket ("127.0.0.2");
  int exempt = host_socket ("127.0.0.1");
  guint32 max_age = 0;

  for (guint i = 0; i < RATE_BURST; i++)
    g_assert_cmphex (post_note (limited, "within the burst", answer, buf, sizeof buf), ==,
                     MD_COAP_CREATED);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmphex (post_note (limited, "past the burst", answer, buf, sizeof buf), ==,
                       MD_COAP_SERVICE_UNAVAILABLE);
      g_assert_true (md_coap_message_get_uint_option (answer, MD_COAP_OPTION_MAX_AGE, &max_age));
      g_assert_cmpuint (max_age, >=, 1);
      g_assert_cmpuint (max_age, <=, 2);
      g_assert_nonnull (g_strstr_len ((const char *)answer->payload, (gssize)answer->payload_len,
                                      "too many notes"));
    }
  /* 127.0.0.1 is exempt in this daemon's config. */
  for (guint i = 0; i < 3 * RATE_BURST; i++)
    g_assert_cmphex (post_note (exempt, "from the exempt host", answer, buf, sizeof buf), ==,
                     MD_COAP_CREATED);
  /* A client that waits out Max-Age gets in (one token a second here). */
  g_usleep (max_age * G_USEC_PER_SEC);
  g_assert_cmphex (post_note (limited, "after Max-Age", answer, buf, sizeof buf), ==,
                   MD_COAP_CREATED);
  g_assert_cmpuint (count_notes_with_text ("past the burst"), ==, 0);
  g_assert_cmpuint (count_notes_with_text ("within the burst"), ==, RATE_BURST);
  log = md_test_daemon_get_log (daemon_under_test);
  g_assert_cmpuint (count_in (log, "rate limit: refused"), ==, 1);
  g_assert_cmpuint (count_in (log, "too many notes"), ==, 1);
  close (limited);
  close (exempt);
}

/* ---- /limits/observers ---- */

static void
make_observe (MdCoapMessage *msg, guint16 mid, guint32 n, const MdCoapOption *echo)
{
  md_coap_message_init (msg, MD_COAP_TYPE_CON, MD_COAP_GET, mid);
  md_coap_message_set_token (msg, (const guint8 *)&n, sizeof n);
  g_assert_true (md_coap_message_add_uint_option (msg, MD_COAP_OPTION_OBSERVE, 0));
  g_assert_true (md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, "latest"));
  if (echo != NULL)
    g_assert_true (
        md_coap_message_add_option (msg, MD_COAP_OPTION_ECHO, echo->value, echo->length));
}

/* Registers @n observations (tokens @first, @first + 1, ...) from @fd, each
 * proving the address with Echo first; returns how many were accepted. */
static guint
register_observers (int fd, guint32 first, guint n)
{
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  guint8 echo_buf[64];
  MdCoapOption echo = { 0 };
  guint accepted = 0;

  for (guint32 i = first; i < first + n; i++)
    {
      make_observe (request, next_mid++, i, echo.length > 0 ? &echo : NULL);
      exchange (fd, request, buf, sizeof buf, answer);
      if (answer->code == MD_COAP_UNAUTHORIZED)
        {
          const MdCoapOption *value = md_coap_message_find_option (answer, MD_COAP_OPTION_ECHO);

          g_assert_nonnull (value);
          g_assert_cmpuint (value->length, <=, sizeof echo_buf);
          memcpy (echo_buf, value->value, value->length);
          echo = (MdCoapOption){ .number = MD_COAP_OPTION_ECHO,
                                 .length = value->length,
                                 .value = echo_buf };
          make_observe (request, next_mid++, i, &echo);
          exchange (fd, request, buf, sizeof buf, answer);
        }
      g_assert_cmphex (answer->code, ==, MD_COAP_CONTENT);
      accepted += md_coap_message_has_option (answer, MD_COAP_OPTION_OBSERVE);
    }
  return accepted;
}

static void
test_observers (void)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  int greedy = host_socket ("127.0.0.3");
  int follower = host_socket ("127.0.0.4");
  int writer = host_socket ("127.0.0.1");
  gint64 deadline_us;

  g_assert_cmpuint (register_observers (greedy, 1000, 50), ==, 8);
  g_assert_cmpuint (register_observers (follower, 5000, 1), ==, 1);
  /* The follower hears of the next note. */
  g_assert_cmphex (post_note (writer, "for the follower", msg, buf, sizeof buf), ==,
                   MD_COAP_CREATED);
  deadline_us = g_get_monotonic_time () + ANSWER_MS * 1000;
  g_assert_true (receive_before (follower, deadline_us, buf, sizeof buf, msg));
  g_assert_true (md_coap_message_has_option (msg, MD_COAP_OPTION_OBSERVE));
  g_assert_nonnull (
      g_strstr_len ((const char *)msg->payload, (gssize)msg->payload_len, "for the follower"));
  close (greedy);
  close (follower);
  close (writer);
}

/* ---- /limits/dedup-flood ---- */

/* GET /.well-known/core padded to @len bytes with a Uri-Query the daemon
 * ignores, so that an unverified host may get a large answer (3x): every
 * flood datagram leaves a large entry in the dedup cache. */
static void
make_flood_request (MdCoapMessage *msg, guint16 mid)
{
  g_autofree char *padding = g_strnfill (250, 'p');

  md_coap_message_init (msg, MD_COAP_TYPE_NON, MD_COAP_GET, mid);
  g_assert_true (md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, ".well-known/core"));
  g_assert_true (md_coap_message_add_string_option (msg, MD_COAP_OPTION_URI_QUERY, padding));
}

static void
flood_from (guint host, const MdCoapMessage *template)
{
  g_autofree char *address = g_strdup_printf ("127.1.%u.%u", (host / 250) % 250, 1 + host % 250);
  g_autofree MdCoapMessage *msg = g_memdup2 (template, sizeof *template);
  int fd = host_socket (address);

  for (guint i = 0; i < FLOOD_PER_HOST; i++)
    {
      msg->mid = next_mid++;
      send_message (fd, &server_addr, msg);
    }
  close (fd);
}

static void
test_dedup_flood (void)
{
  g_autofree MdCoapMessage *post = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *flood = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  g_autofree char *first_location = NULL;
  const char *text = "posted once, retransmitted after a flood";
  int victim = host_socket ("127.0.0.9");
  int pacer = host_socket ("127.0.0.1");

  make_post (post, next_mid++, text);
  exchange (victim, post, buf, sizeof buf, answer);
  g_assert_cmphex (answer->code, ==, MD_COAP_CREATED);
  first_location = md_coap_message_describe (answer);
  make_flood_request (flood, 0);
  for (guint host = 0; host < FLOOD_HOSTS; host++)
    {
      flood_from (host, flood);
      /* Paced so the daemon's socket buffer never overflows (a small
       * datagram takes a few KiB of it): every datagram is read. */
      if (host % 10 == 9)
        ping (pacer);
    }
  ping (pacer);
  /* The retransmission: same Message ID, same source. */
  exchange (victim, post, buf, sizeof buf, answer);
  g_assert_cmphex (answer->code, ==, MD_COAP_CREATED);
  {
    g_autofree char *location = md_coap_message_describe (answer);

    g_assert_cmpstr (location, ==, first_location);
  }
  g_assert_cmpuint (count_notes_with_text (text), ==, 1);
  close (victim);
  close (pacer);
}

/* ---- /limits/import ---- */

typedef struct
{
  char key[37];
  guint16 mid;    /* of the request in flight, 0: none */
  gint64 send_us; /* when to send it (again) */
  gboolean stored;
} MdImportNote;

static void
make_put (MdCoapMessage *msg, const MdImportNote *note, guint index)
{
  g_autofree char *path = g_strdup_printf ("notes/%s", note->key);
  g_autofree char *text = g_strdup_printf ("imported note %u", index);

  md_coap_message_init (msg, MD_COAP_TYPE_CON, MD_COAP_PUT, note->mid);
  g_assert_true (md_coap_message_add_option (msg, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  g_assert_true (md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, path));
  g_assert_true (md_coap_message_set_payload (msg, text, strlen (text)));
}

typedef struct
{
  MdImportNote *notes;
  GHashTable *by_mid; /* mid -> index + 1 */
  guint next;         /* notes[next] is the first never sent */
  guint in_flight;
  guint done;
  guint waits; /* 5.03 answers waited out */
  guint16 mid;
  gint64 next_scan_us; /* for notes due again */
} MdImport;

static void
import_send (MdImport *im, int fd, const struct sockaddr_in *to, guint i, MdCoapMessage *msg)
{
  MdImportNote *note = &im->notes[i];

  note->mid = im->mid++;
  if (im->mid == 0)
    im->mid = 1;
  g_hash_table_insert (im->by_mid, GUINT_TO_POINTER (note->mid), GUINT_TO_POINTER (i + 1));
  make_put (msg, note, i);
  send_message (fd, to, msg);
  note->send_us = g_get_monotonic_time () + 2 * G_USEC_PER_SEC; /* retransmit after */
}

/* A 2.01 or 4.12 settles a note; a 5.03 with Max-Age puts it back to be sent
 * once Max-Age has passed, as a client that never fails, only slows, does. */
static void
import_answer (MdImport *im, const MdCoapMessage *answer)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (im->by_mid, GUINT_TO_POINTER (answer->mid)));
  MdImportNote *note;
  guint32 max_age;

  if (index == 0 || answer->type != MD_COAP_TYPE_ACK)
    return;
  note = &im->notes[index - 1];
  g_hash_table_remove (im->by_mid, GUINT_TO_POINTER (answer->mid));
  note->mid = 0;
  if (answer->code == MD_COAP_CREATED || answer->code == MD_COAP_PRECONDITION_FAILED)
    {
      note->stored = TRUE;
      im->done++;
      im->in_flight--;
      return;
    }
  g_assert_cmphex (answer->code, ==, MD_COAP_SERVICE_UNAVAILABLE);
  g_assert_true (md_coap_message_get_uint_option (answer, MD_COAP_OPTION_MAX_AGE, &max_age));
  note->send_us = g_get_monotonic_time () + (gint64)max_age * G_USEC_PER_SEC;
  im->waits++;
}

/* Sends what is due: new notes while the window has room, and notes whose
 * Max-Age (or retransmission timeout) has passed. */
static void
import_send_due (MdImport *im, int fd, const struct sockaddr_in *to, MdCoapMessage *msg)
{
  gint64 now_us = g_get_monotonic_time ();

  /* Max-Age is in seconds: looking ten times a second is soon enough. */
  if (now_us >= im->next_scan_us)
    {
      im->next_scan_us = now_us + G_USEC_PER_SEC / 10;
      for (guint i = 0; i < im->next; i++)
        if (!im->notes[i].stored && im->notes[i].send_us <= now_us)
          {
            if (im->notes[i].mid != 0)
              g_hash_table_remove (im->by_mid, GUINT_TO_POINTER (im->notes[i].mid));
            import_send (im, fd, to, i, msg);
          }
    }
  while (im->in_flight < IMPORT_WINDOW && im->next < IMPORT_NOTES)
    {
      im->in_flight++;
      import_send (im, fd, to, im->next++, msg);
    }
}

static void
test_import (void)
{
  struct sockaddr_in addr;
  g_autoptr (MdTestDaemon) daemon = start_daemon (
      "RateLimitAdds=1000\nRateLimitBurst=1000\nRateLimitExempt=127.0.0.1\n", &addr);
  g_autofree MdImportNote *notes = g_new0 (MdImportNote, IMPORT_NOTES);
  g_autoptr (GHashTable) by_mid = g_hash_table_new (NULL, NULL);
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);
  MdImport im = { notes, by_mid, 0, 0, 0, 0, 1, 0 };
  gint64 started_us = g_get_monotonic_time ();
  gint64 deadline_us = started_us + IMPORT_DEADLINE_S * G_USEC_PER_SEC;
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  int fd = host_socket ("127.0.0.5");
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < IMPORT_NOTES; i++)
    {
      g_autofree char *uuid = g_uuid_string_random ();

      g_strlcpy (notes[i].key, uuid, sizeof notes[i].key);
    }
  while (im.done < IMPORT_NOTES)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline_us);
      import_send_due (&im, fd, &addr, msg);
      if (receive_before (fd, g_get_monotonic_time () + 50 * 1000, buf, sizeof buf, msg))
        import_answer (&im, msg);
    }
  g_test_message ("%u notes stored in %.1f s, %u answers 5.03 with Max-Age waited out", im.done,
                  (double)(g_get_monotonic_time () - started_us) / G_USEC_PER_SEC, im.waits);
  g_assert_cmpuint (im.waits, >, 0);
  records = md_test_read_notes (md_test_daemon_get_notes_path (daemon), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, IMPORT_NOTES);
  for (guint i = 0; i < records->len; i++)
    g_assert_true (g_hash_table_add (keys, ((MdTestRecord *)records->pdata[i])->key));
  for (guint i = 0; i < IMPORT_NOTES; i++)
    g_assert_true (g_hash_table_contains (keys, notes[i].key));
  close (fd);
  g_assert_true (md_test_daemon_stop (daemon, &error));
}

/* ---- /limits/import-ctl ---- */

/* mydailyctl cannot choose its source address, and on Linux a socket
 * connected to 127.0.0.2 still sends from 127.0.0.1: so this daemon exempts
 * nothing, and 127.0.0.1 is an ordinary rate-limited host.  (A network
 * namespace would need root; this needs nothing.) */
static void
test_import_ctl (void)
{
  g_autofree char *settings = g_strdup_printf (
      "RateLimitAdds=%u\nRateLimitBurst=%u\nRateLimitExempt=\n", RATE_CTL, RATE_CTL);
  struct sockaddr_in addr;
  g_autoptr (MdTestDaemon) daemon = NULL;
  g_autoptr (GString) input = g_string_new (NULL);
  g_autoptr (GBytes) input_bytes = NULL;
  g_autoptr (MdTestCtl) ctl = NULL;
  g_autoptr (MdTestCtlResult) result = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *env = g_find_program_in_path ("env");
  g_autofree char *log = NULL;
  g_autoptr (GError) error = NULL;
  gint64 started_us;
  guint waits;

  if (env == NULL)
    {
      g_test_skip ("no env(1) to run mydailyctl with G_MESSAGES_DEBUG");
      return;
    }
  daemon = start_daemon (settings, &addr);
  for (guint i = 0; i < IMPORT_NOTES; i++)
    g_string_append_printf (input, "imported line %05u\n", i);
  input_bytes = g_string_free_to_bytes (g_steal_pointer (&input));
  /* The client's debug output says each 5.03 it waits out. */
  ctl = md_test_command_spawn (
      (const char *const[]){ env, "G_MESSAGES_DEBUG=mydailyctl", g_getenv ("MYDAILYCTL"), "-s",
                             md_test_daemon_get_address (daemon), "add", "-", NULL },
      input_bytes, &error);
  g_assert_no_error (error);
  started_us = g_get_monotonic_time ();
  result = md_test_ctl_wait (ctl, IMPORT_CTL_TIMEOUT_MS);
  waits = count_in (result->err, "rate limited: retrying");
  g_test_message ("mydailyctl add - stored %u notes in %.1f s, waiting out %u answers 5.03",
                  count_in (result->out, "added note "),
                  (double)(g_get_monotonic_time () - started_us) / G_USEC_PER_SEC, waits);
  g_assert_cmpint (result->exit_status, ==, 0);
  g_assert_cmpuint (count_in (result->out, "added note "), ==, IMPORT_NOTES);
  /* The limit was hit, by the client and by the daemon's own account. */
  g_assert_cmpuint (waits, >, 0);
  log = md_test_daemon_get_log (daemon);
  g_assert_nonnull (strstr (log, "rate limit: refused"));
  records = md_test_read_complete_notes (md_test_daemon_get_notes_path (daemon));
  g_assert_cmpuint (records->len, ==, IMPORT_NOTES);
  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *line = g_strdup_printf ("imported line %05u", i);

      g_assert_cmpstr (((MdTestRecord *)records->pdata[i])->text, ==, line);
    }
  g_assert_true (md_test_daemon_stop (daemon, &error));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  daemon_under_test = start_daemon (
      "RateLimitAdds=1\nRateLimitBurst=5\nRateLimitExempt=127.0.0.1\n", &server_addr);
  g_test_add_func ("/limits/rate-limit", test_rate_limit);
  g_test_add_func ("/limits/observers", test_observers);
  g_test_add_func ("/limits/dedup-flood", test_dedup_flood);
  g_test_add_func ("/limits/import", test_import);
  g_test_add_func ("/limits/import-ctl", test_import_ctl);
  status = g_test_run ();
  if (!md_test_daemon_stop (daemon_under_test, &error))
    g_error ("mydailyd did not stop cleanly: %s", error->message);
  md_test_daemon_free (daemon_under_test);
  return status;
}
