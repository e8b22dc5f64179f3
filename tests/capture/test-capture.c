/* Stock tshark decodes every packet mydaily sends and receives, and
 * mydailyctl --debug tells the same story: the packet capture is the second
 * debugging tool, so it must read as plain CoAP.
 *
 * Each test captures one session of the daemon's port on lo (md-capture.h)
 * and reads it back.  Every frame must be CoAP with no malformed or warning
 * expert item (except the Echo option that Debian 12's dissector does not
 * know), and carry the codes and options of its exchange:
 *   - add: PUT, then ACK 2.01 with the same Message ID and token;
 *   - history of more than 4 blocks: 2.05 with Block2 0..N, the last without
 *     More, with several block requests in flight at once (in the order
 *     of the client's --debug lines, which are frames of the capture);
 *   - Echo: GET, an answer with Echo (the first small Block2 block of a
 *     2.05 that fits the budget, else 4.01), the same request again (new
 *     Message ID, same token, Echo), 2.05;
 *   - follow: GET /latest with Observe 0, 2.05 with Observe, then a
 *     notification for the new note: a 2.05 with a later Observe in a
 *     message of its own;
 *   - foreign traffic: datagrams of another process that only share the
 *     daemon's port number (on another loopback address) are not in it;
 *   - multicast discovery, between two network namespaces (multicast does
 *     not travel over lo): a NON GET /.well-known/core?rt=mydaily.notes to
 *     224.0.1.187 and one to ff02::fd, each answered by a unicast 2.05 with
 *     the daemon's </notes> link alone, at most 3 times the request's size.
 * Every line of mydailyctl --debug (Message ID, token, code, direction)
 * must be a frame of the capture (discover prints none).
 *
 * Exits 77 (skip) without root (capturing needs it) or without tshark; the
 * discovery session skips where namespaces cannot be made. */
#include "config.h"

#include "md-capture.h"
#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 60000
#define WAIT_TIMEOUT_MS 30000
/* Enough notes for more than 4 blocks of 1024 bytes (about 80 bytes each). */
#define HISTORY_NOTES 100

#define COAP_GET 1
#define COAP_PUT 3
#define COAP_CREATED 65
#define COAP_CONTENT 69
#define COAP_UNAUTHORIZED 129
#define COAP_ACK "2"
/* A loopback address of no one's, for traffic that only shares the
 * daemon's port number. */
#define FOREIGN_ADDRESS "127.1.0.1"
/* What Wireshark 4.0 calls the Echo option (252) it does not know. */
#define ECHO_OPTION_NAME "No-Op"

static gboolean skipped;

typedef struct
{
  MdTestDaemon *daemon;
  char *root;
  MdCapture *capture;
  guint16 port;
} Fixture;

enum
{
  F_NUMBER,
  F_PROTOCOLS,
  F_SRCPORT,
  F_DSTPORT,
  F_TYPE,
  F_CODE,
  F_MID,
  F_TOKEN,
  F_OPTIONS,
  F_PATH,
  F_BLOCK,
  F_MORE,
  F_OBSERVE,
  F_EXPERT_MESSAGE,
  F_EXPERT_GROUP,
  F_EXPERT_SEVERITY,
  N_FIELDS
};

static const char *const fields[] = {
  "frame.number",
  "frame.protocols",
  "udp.srcport",
  "udp.dstport",
  "coap.type",
  "coap.code",
  "coap.mid",
  "coap.token",
  "coap.opt.name",
  "coap.opt.uri_path",
  "coap.opt.block_number",
  "coap.opt.block_mflag",
  "coap.opt.observe",
  "_ws.expert.message",
  "_ws.expert.group",
  "_ws.expert.severity",
  NULL,
};

/* ---- fixture ------------------------------------------------------------ */

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  md_test_daemon_start (fx->daemon, &error);
  g_assert_no_error (error);
  fx->port = md_test_daemon_get_port (fx->daemon);
  fx->root = g_path_get_dirname (md_test_daemon_get_state_dir (fx->daemon));
  fx->capture = md_capture_new (fx->root, fx->port);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&fx->capture, md_capture_free);
  if (!md_test_daemon_stop (fx->daemon, &error))
    g_test_fail_printf ("stopping mydailyd: %s", error->message);
  g_clear_pointer (&fx->daemon, md_test_daemon_free);
  g_free (fx->root);
}

/* FALSE: this machine may not capture (the test is skipped). */
static gboolean
start_capture (Fixture *fx)
{
  g_autofree char *filter = md_capture_filter_for (fx->port);
  g_autofree char *reason = NULL;

  if (md_capture_start (fx->capture, filter, &reason))
    return TRUE;
  skipped = TRUE;
  g_test_skip (reason);
  return FALSE;
}

/* ---- the traffic -------------------------------------------------------- */

static char *
run_ctl_ok (Fixture *fx, const char *stdin_text, const char *const *argv, char **err)
{
  g_autoptr (MdTestCtlResult) r
      = md_test_ctl_run (md_test_daemon_get_address (fx->daemon), stdin_text, argv, CTL_TIMEOUT_MS);

  g_test_message ("mydailyctl %s: exit %d", argv[0], r->exit_status);
  if (r->exit_status != 0)
    g_test_message ("stderr: %s", r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  if (err != NULL)
    *err = g_steal_pointer (&r->err);
  return g_steal_pointer (&r->out);
}

static void
add_notes (Fixture *fx, guint n)
{
  const char *const add_stdin[] = { "add", "-", NULL };
  g_autoptr (GString) lines = g_string_new (NULL);

  for (guint i = 1; i <= n; i++)
    g_string_append_printf (lines, "note %u: backup disk swapped, 备份硬盘已经更换, next Friday\n",
                            i);
  g_free (run_ctl_ok (fx, lines->str, add_stdin, NULL));
}

/* ---- reading the capture back ------------------------------------------- */

static guint
field_uint (GStrv frame, guint field)
{
  return (guint)g_ascii_strtoull (frame[field], NULL, 10);
}

static gboolean
has_option (GStrv frame, const char *name)
{
  g_autofree char *needle = g_strdup_printf (": %s", name);

  return strstr (frame[F_OPTIONS], needle) != NULL;
}

static gboolean
is_ping (Fixture *fx, GStrv frame)
{
  guint ping = md_capture_get_ping_port (fx->capture);

  return field_uint (frame, F_SRCPORT) == ping || field_uint (frame, F_DSTPORT) == ping;
}

static gboolean
is_to_daemon (Fixture *fx, GStrv frame)
{
  return field_uint (frame, F_DSTPORT) == fx->port;
}

/* The session's frames (pings left out), each checked to decode as CoAP. */
static GPtrArray *
read_session (Fixture *fx)
{
  g_autofree char *decode_as = g_strdup_printf ("udp.port==%u,coap", fx->port);
  const char *const args[] = { "-d", decode_as, NULL };
  g_autoptr (GPtrArray) frames = NULL;
  GPtrArray *session = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  guint echo_unknown = 0;

  md_capture_stop (fx->capture);
  frames = md_capture_read (fx->capture, args, fields);
  for (guint i = 0; i < frames->len; i++)
    {
      GStrv frame = g_ptr_array_index (frames, i);

      if (!g_str_has_suffix (frame[F_PROTOCOLS], ":udp:coap")
          && strstr (frame[F_PROTOCOLS], ":udp:coap:") == NULL)
        g_test_fail_printf ("frame %s is not decoded as CoAP: %s", frame[F_NUMBER],
                            frame[F_PROTOCOLS]);
      g_assert_cmpstr (frame[F_MID], !=, "");
      echo_unknown += md_capture_check_experts (frame[F_NUMBER], frame[F_EXPERT_MESSAGE],
                                                frame[F_EXPERT_GROUP], frame[F_EXPERT_SEVERITY]);
      if (!is_ping (fx, frame))
        g_ptr_array_add (session, g_strdupv (frame));
    }
  g_test_message ("%u frames, %u of the session; %u Echo options shown as \"%s\" "
                  "(the dissector predates RFC 9175)",
                  frames->len, session->len, echo_unknown, MD_CAPTURE_ECHO_UNKNOWN);
  g_assert_cmpuint (session->len, >, 0);
  return session;
}

/* The first frame from @start on with @code, or -1. */
static gint
find_code (GPtrArray *frames, guint start, guint code)
{
  for (guint i = start; i < frames->len; i++)
    if (field_uint (g_ptr_array_index (frames, i), F_CODE) == code)
      return (gint)i;
  return -1;
}

/* ---- --debug against the capture ---------------------------------------- */

typedef struct
{
  gboolean sent;
  guint mid;
  char *token; /* hex, "" for none */
  guint code;
} DebugLine;

/* "GET" or "2.05" as tshark's number. */
static guint
debug_code (const char *text)
{
  static const char *const methods[] = { "EMPTY", "GET", "POST", "PUT", "DELETE" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (text, methods[i]))
      return i;
  g_assert_true (g_ascii_isdigit (text[0]) && text[1] == '.');
  return (guint)(text[0] - '0') << 5 | (guint)g_ascii_strtoull (text + 2, NULL, 10);
}

/* "13:04:11.123456 send to 127.0.0.1:PORT: CON GET mid=0x1d7e token=633d7353 ..." */
static GArray *
parse_debug (const char *err)
{
  g_autoptr (GRegex) regex = g_regex_new (
      "^\\S+ (send to|recv from) \\S+: \\S+ (\\S+) mid=0x([0-9a-f]{4})(?: token=([0-9a-f]+))?",
      G_REGEX_MULTILINE, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (DebugLine));

  for (g_regex_match (regex, err, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *direction = g_match_info_fetch (match, 1);
      g_autofree char *code = g_match_info_fetch (match, 2);
      g_autofree char *mid = g_match_info_fetch (match, 3);
      DebugLine line = { g_str_equal (direction, "send to"), 0, g_match_info_fetch (match, 4) };

      line.mid = (guint)g_ascii_strtoull (mid, NULL, 16);
      line.code = debug_code (code);
      g_array_append_val (lines, line);
    }
  return lines;
}

static gboolean
frame_is_line (Fixture *fx, GStrv frame, const DebugLine *line)
{
  return is_to_daemon (fx, frame) == line->sent && field_uint (frame, F_MID) == line->mid
         && field_uint (frame, F_CODE) == line->code && g_str_equal (frame[F_TOKEN], line->token);
}

/* The first frame that is @line and no earlier line's, or -1. */
static gint
find_line (Fixture *fx, GPtrArray *frames, const DebugLine *line, gboolean *used)
{
  for (guint i = 0; i < frames->len; i++)
    if (!used[i] && frame_is_line (fx, g_ptr_array_index (frames, i), line))
      return (gint)i;
  return -1;
}

/* Each --debug line is a frame of its own.  Not necessarily in the same
 * order: a response may be on the wire before the client, busy sending,
 * reads it. */
static void
assert_debug_matches (Fixture *fx, GPtrArray *frames, const char *err)
{
  g_autoptr (GArray) lines = parse_debug (err);
  g_autofree gboolean *used = g_new0 (gboolean, frames->len);

  g_assert_cmpuint (lines->len, >, 0);
  for (guint i = 0; i < lines->len; i++)
    {
      DebugLine *line = &g_array_index (lines, DebugLine, i);
      gint frame = find_line (fx, frames, line, used);

      if (frame < 0)
        g_test_fail_printf ("--debug line %u (mid 0x%04x, token %s, code %u) is in no frame", i,
                            line->mid, line->token, line->code);
      else
        used[frame] = TRUE;
      g_free (line->token);
    }
  g_test_message ("%u --debug lines, each a frame of the capture", lines->len);
}

/* ---- the sessions ------------------------------------------------------- */

static void
test_add (Fixture *fx, gconstpointer data)
{
  const char *const argv[] = { "--debug", "add", "今天学习了", "UDP", "和", "CoAP", NULL };
  g_autoptr (GPtrArray) frames = NULL;
  g_autofree char *err = NULL;
  gint put, created;

  if (!start_capture (fx))
    return;
  g_free (run_ctl_ok (fx, NULL, argv, &err));
  frames = read_session (fx);
  put = find_code (frames, 0, COAP_PUT);
  g_assert_cmpint (put, >=, 0);
  created = find_code (frames, (guint)put, COAP_CREATED);
  g_assert_cmpint (created, >, put);
  {
    GStrv request = g_ptr_array_index (frames, put), answer = g_ptr_array_index (frames, created);

    g_assert_cmpstr (answer[F_TYPE], ==, COAP_ACK);
    g_assert_cmpstr (answer[F_MID], ==, request[F_MID]);
    g_assert_cmpstr (answer[F_TOKEN], ==, request[F_TOKEN]);
    g_assert_true (has_option (request, "If-None-Match"));
    g_assert_true (has_option (answer, "Location-Path"));
  }
  assert_debug_matches (fx, frames, err);
}

typedef struct
{
  guint n_blocks;   /* 2.05 responses with Block2 */
  guint last_num;   /* highest block number answered */
  gboolean ended;   /* the highest has More 0 */
  guint64 answered; /* bit i: block i answered (only the first 64) */
} Blocks;

static void
count_block (Fixture *fx, GStrv frame, Blocks *b)
{
  guint num = field_uint (frame, F_BLOCK);

  if (*frame[F_BLOCK] == '\0' || is_to_daemon (fx, frame)
      || field_uint (frame, F_CODE) != COAP_CONTENT)
    return;
  b->n_blocks++;
  if (num < 64)
    b->answered |= G_GUINT64_CONSTANT (1) << num;
  if (num >= b->last_num)
    {
      b->last_num = num;
      b->ended = g_str_equal (frame[F_MORE], "0");
    }
}

/* Block requests the client had sent and not yet seen answered, at most,
 * in the order of its --debug lines.  Not in the capture's order: on lo
 * the daemon may answer one request before the client, still sending the
 * rest of its window, has put the next one on the wire. */
static guint
max_blocks_in_flight (const char *err)
{
  g_auto (GStrv) lines = g_strsplit (err, "\n", -1);
  guint in_flight = 0, max = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strstr (lines[i], " block2=") == NULL)
        continue;
      if (strstr (lines[i], " send to ") != NULL && strstr (lines[i], " GET ") != NULL
          && strstr (lines[i], " path=notes ") != NULL)
        in_flight++;
      else if (strstr (lines[i], " recv from ") != NULL && strstr (lines[i], " 2.05 ") != NULL)
        in_flight = in_flight > 0 ? in_flight - 1 : 0;
      max = MAX (max, in_flight);
    }
  return max;
}

static void
test_history_blocks (Fixture *fx, gconstpointer data)
{
  const char *const argv[] = { "--debug", "history", "--no-pager", "-o", "tsv", "-n", "all", NULL };
  g_autoptr (GPtrArray) frames = NULL;
  g_autofree char *out = NULL, *err = NULL;
  Blocks b = { 0 };
  guint max_flight;

  add_notes (fx, HISTORY_NOTES);
  if (!start_capture (fx))
    return;
  out = run_ctl_ok (fx, NULL, argv, &err);
  g_assert_nonnull (strstr (out, "\tnote 100: backup disk swapped"));
  frames = read_session (fx);
  for (guint i = 0; i < frames->len; i++)
    count_block (fx, g_ptr_array_index (frames, i), &b);
  max_flight = max_blocks_in_flight (err);
  g_test_message ("%u blocks, 0..%u, up to %u requests in flight", b.n_blocks, b.last_num,
                  max_flight);
  g_assert_cmpuint (b.last_num, >=, 4);
  g_assert_cmphex (b.answered, ==, (G_GUINT64_CONSTANT (1) << (b.last_num + 1)) - 1);
  g_assert_true (b.ended);
  g_assert_cmpuint (max_flight, >=, 2);
  assert_debug_matches (fx, frames, err);
}

/* The first frame from @start on from the daemon with an Echo option, or -1. */
static gint
find_echo_offer (Fixture *fx, GPtrArray *frames, guint start)
{
  for (guint i = start; i < frames->len; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (!is_to_daemon (fx, f) && has_option (f, ECHO_OPTION_NAME))
        return (gint)i;
    }
  return -1;
}

/* An unverified client's answer offers Echo: a first small block (2.05,
 * More) when one fits the budget, else 4.01. */
static void
assert_echo_offer (GStrv challenge)
{
  guint code = field_uint (challenge, F_CODE);

  if (code == COAP_CONTENT)
    g_assert_cmpstr (challenge[F_MORE], ==, "1");
  else
    g_assert_cmpuint (code, ==, COAP_UNAUTHORIZED);
}

/* An answer with Echo to a request, then the same request (same token) with
 * a new Message ID and the Echo, answered 2.05. */
static void
test_echo_round_trip (Fixture *fx, gconstpointer data)
{
  const char *const argv[] = { "--debug", "status", NULL };
  g_autoptr (GPtrArray) frames = NULL;
  g_autofree char *out = NULL, *err = NULL;
  GStrv request, challenge, retry, content;
  gint i;

  if (!start_capture (fx))
    return;
  out = run_ctl_ok (fx, NULL, argv, &err);
  g_assert_nonnull (strstr (out, "notebook: "));
  frames = read_session (fx);
  i = find_echo_offer (fx, frames, 0);
  g_assert_cmpint (i, >=, 1);
  request = g_ptr_array_index (frames, i - 1);
  challenge = g_ptr_array_index (frames, i);
  g_assert_cmpint (i + 2, <, (gint)frames->len);
  retry = g_ptr_array_index (frames, i + 1);
  content = g_ptr_array_index (frames, i + 2);
  g_assert_cmpuint (field_uint (request, F_CODE), ==, COAP_GET);
  g_assert_cmpstr (challenge[F_MID], ==, request[F_MID]);
  assert_echo_offer (challenge);
  g_assert_false (has_option (request, ECHO_OPTION_NAME));
  g_assert_cmpuint (field_uint (retry, F_CODE), ==, COAP_GET);
  g_assert_cmpstr (retry[F_TOKEN], ==, request[F_TOKEN]);
  g_assert_cmpstr (retry[F_MID], !=, request[F_MID]);
  g_assert_true (has_option (retry, ECHO_OPTION_NAME));
  g_assert_cmpuint (field_uint (content, F_CODE), ==, COAP_CONTENT);
  g_assert_cmpstr (content[F_MID], ==, retry[F_MID]);
  assert_debug_matches (fx, frames, err);
}

/* ---- traffic that is not the daemon's ----------------------------------- */

/* The start of a DTLS HelloVerifyRequest record, as a flood test running
 * beside this one sends to its 10,000 sources.  Read as CoAP (version 0,
 * TKL 6, then options 0x00 0x00 0x1f) it is malformed: tshark says
 * "end-of-options marker found, but option delta isn't 15". */
static const guint8 foreign_record[] = { 0x16, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                         0x00, 0x00, 0x00, 0x1f, 0x03, 0x00, 0x00, 0x13 };

static int
bound_socket (const char *address, guint16 port, guint16 *bound_port)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  socklen_t len = sizeof sin;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (inet_pton (AF_INET, address, &sin.sin_addr), ==, 1);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&sin, &len), ==, 0);
  *bound_port = ntohs (sin.sin_port);
  return fd;
}

/* Sends the record from @from to @to_address:@to. */
static void
send_foreign (int from, const char *to_address, guint16 to)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (to) };

  g_assert_cmpint (inet_pton (AF_INET, to_address, &sin.sin_addr), ==, 1);
  g_assert_cmpint (
      sendto (from, foreign_record, sizeof foreign_record, 0, (struct sockaddr *)&sin, sizeof sin),
      ==, sizeof foreign_record);
}

/* Proves the record crossed lo (delivery on loopback is done when sendto
 * returns), so the test cannot pass because nothing was sent. */
static void
assert_received (int fd)
{
  guint8 buf[sizeof foreign_record + 1];

  g_assert_cmpint (recv (fd, buf, sizeof buf, MSG_DONTWAIT), ==, sizeof foreign_record);
}

/* Another process's socket at FOREIGN_ADDRESS:PORT (the daemon's port
 * number) talks with one at 127.0.0.1: none of it may be in the capture,
 * which would decode it as CoAP and fail. */
static void
test_foreign_traffic (Fixture *fx, gconstpointer data)
{
  const char *const argv[] = { "add", "only the daemon's traffic is captured", NULL };
  g_autoptr (GPtrArray) frames = NULL;
  guint16 foreign_port, sink_port;
  int foreign, sink;

  if (!start_capture (fx))
    return;
  foreign = bound_socket (FOREIGN_ADDRESS, fx->port, &foreign_port);
  sink = bound_socket ("127.0.0.1", 0, &sink_port);
  send_foreign (foreign, "127.0.0.1", sink_port);
  send_foreign (sink, FOREIGN_ADDRESS, foreign_port);
  assert_received (sink);
  assert_received (foreign);
  close (foreign);
  close (sink);
  g_free (run_ctl_ok (fx, NULL, argv, NULL));
  frames = read_session (fx);
  for (guint i = 0; i < frames->len; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (field_uint (f, F_SRCPORT) == sink_port || field_uint (f, F_DSTPORT) == sink_port)
        g_test_fail_printf ("frame %s is another process's traffic", f[F_NUMBER]);
    }
}

typedef struct
{
  char *path;
  guint want; /* lines with both words */
  const char *first, *second;
} FileWait;

static gboolean
file_has_lines (gpointer data)
{
  FileWait *w = data;
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (w->path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    n += strstr (lines[i], w->first) != NULL && strstr (lines[i], w->second) != NULL;
  return n >= w->want;
}

static GSubprocess *
spawn_follower (Fixture *fx, const char *out_path, const char *err_path)
{
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autoptr (GError) error = NULL;
  g_autofree char *cache = g_build_filename (md_test_ctl_get_home (), "cache", NULL);
  g_autofree char *state = g_build_filename (md_test_ctl_get_home (), "state", NULL);
  GSubprocess *process;

  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, err_path);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MYDAILYCTL"), "-s",
                                         md_test_daemon_get_address (fx->daemon), "--debug",
                                         "follow", "-n", "0", "-o", "tsv", NULL);
  g_assert_no_error (error);
  return process;
}

static void
on_follower_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *)data = TRUE;
}

static gboolean
is_true (gpointer data)
{
  return *(gboolean *)data;
}

/* Runs follow until the notification of one new note has reached it (two
 * Observe responses in its --debug lines); returns those lines. */
static char *
follow_one_note (Fixture *fx)
{
  const char *const add[] = { "add", "printer toner is in the cupboard", NULL };
  g_autofree char *out_path = g_build_filename (fx->root, "follow.out", NULL);
  g_autofree char *err_path = g_build_filename (fx->root, "follow.err", NULL);
  g_autoptr (GSubprocess) follower = spawn_follower (fx, out_path, err_path);
  FileWait registered = { err_path, 1, "recv from", " observe=" };
  FileWait notified = { err_path, 2, "recv from", " observe=" };
  FileWait printed = { out_path, 1, "\tprinter toner is in the cupboard", "" };
  gboolean exited = FALSE;
  char *err = NULL;

  g_subprocess_wait_async (follower, NULL, on_follower_exited, &exited);
  g_assert_true (md_test_poll_until (file_has_lines, &registered, 20, WAIT_TIMEOUT_MS));
  g_free (run_ctl_ok (fx, NULL, add, NULL));
  g_assert_true (md_test_poll_until (file_has_lines, &printed, 20, WAIT_TIMEOUT_MS));
  g_assert_true (md_test_poll_until (file_has_lines, &notified, 20, WAIT_TIMEOUT_MS));
  g_subprocess_send_signal (follower, SIGINT);
  g_assert_true (md_test_pump_until (is_true, &exited, WAIT_TIMEOUT_MS));
  g_assert_true (g_subprocess_get_if_exited (follower));
  g_assert_cmpint (g_subprocess_get_exit_status (follower), ==, 0);
  g_assert_true (g_file_get_contents (err_path, &err, NULL, NULL));
  return err;
}

/* The notification: from the daemon, the registration's token, Observe
 * later than the registration's, in a message of its own (new MID). */
static void
assert_notification (Fixture *fx, GPtrArray *frames, GStrv registration, guint from)
{
  for (guint i = from; i < frames->len; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (is_to_daemon (fx, f) || *f[F_OBSERVE] == '\0'
          || !g_str_equal (f[F_TOKEN], registration[F_TOKEN]))
        continue;
      g_assert_cmpuint (field_uint (f, F_CODE), ==, COAP_CONTENT);
      g_assert_cmpstr (f[F_MID], !=, registration[F_MID]);
      g_assert_cmpuint (field_uint (f, F_OBSERVE), >, field_uint (registration, F_OBSERVE));
      g_test_message ("frame %s: the notification, type %s, Observe %s", f[F_NUMBER], f[F_TYPE],
                      f[F_OBSERVE]);
      return;
    }
  g_test_fail_printf ("no notification in the capture");
}

static void
test_follow_notification (Fixture *fx, gconstpointer data)
{
  g_autoptr (GPtrArray) frames = NULL;
  g_autofree char *err = NULL;
  GStrv registration = NULL;
  guint i;

  if (!start_capture (fx))
    return;
  err = follow_one_note (fx);
  frames = read_session (fx);
  for (i = 0; i < frames->len && registration == NULL; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (is_to_daemon (fx, f) && g_str_equal (f[F_OBSERVE], "0"))
        registration = f;
    }
  g_assert_nonnull (registration);
  for (; i < frames->len; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (!is_to_daemon (fx, f) && g_str_equal (f[F_TOKEN], registration[F_TOKEN])
          && *f[F_OBSERVE] != '\0')
        break;
    }
  g_assert_cmpuint (i, <, frames->len);
  assert_notification (fx, frames, g_ptr_array_index (frames, i), i + 1);
  assert_debug_matches (fx, frames, err);
}

/* ---- multicast discovery ------------------------------------------------ */

/* Multicast does not travel over lo, so this session is between two
 * network namespaces joined by a veth pair, as two hosts of a LAN: the
 * daemon on [::]:5683 in one (the port discovery uses), mydailyctl and
 * tshark on eth0 in the other. */
#define LAN_SERVER "10.232.0.1"
#define COAP_NON "1"
#define COAP_RST "3"
#define DISCOVERY_PORT 5683
#define UDP_HEADER_LEN 8
/* A discovery answer is at most this many times its request (no
 * amplification for a spoofed source). */
#define MAX_AMPLIFICATION 3
/* What tshark says of the padding option (65000, of the experimental range
 * of RFC 7252 §12.2) that makes a discovery request large enough for its
 * answer; tolerated in group requests only. */
#define PADDING_UNKNOWN "Unknown Option Number 65000"

typedef struct
{
  char *server_ns;
  char *client_ns;
  char *root;
  GSubprocess *daemon;
} Lan;

enum
{
  D_NUMBER,
  D_PROTOCOLS,
  D_IP_DST,
  D_IPV6_DST,
  D_SRCPORT,
  D_UDP_LENGTH,
  D_TYPE,
  D_CODE,
  D_MID,
  D_TOKEN,
  D_PATH,
  D_QUERY,
  D_PAYLOAD,
  D_EXPERT_MESSAGE,
  D_EXPERT_GROUP,
  D_EXPERT_SEVERITY,
};

static const char *const discovery_fields[] = {
  "frame.number",
  "frame.protocols",
  "ip.dst",
  "ipv6.dst",
  "udp.srcport",
  "udp.length",
  "coap.type",
  "coap.code",
  "coap.mid",
  "coap.token",
  "coap.opt.uri_path",
  "coap.opt.uri_query",
  "udp.payload",
  "_ws.expert.message",
  "_ws.expert.group",
  "_ws.expert.severity",
  NULL,
};

static gboolean
run_command (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      g_test_message ("%s %s: %s", argv[0], argv[1], error->message);
      return FALSE;
    }
  return TRUE;
}

/* Host @ns's end of the link: eth0 at 10.232.0.@n, multicast routed out
 * of it, its IPv6 link-local address usable at once (no DAD). */
static void
lan_host_setup (const char *ns, guint n)
{
  g_autofree char *address = g_strdup_printf ("10.232.0.%u/24", n);
  const char *const *steps[] = {
    (const char *[]){ "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0",
                      NULL },
    (const char *[]){ "ip", "-n", ns, "link", "set", "lo", "up", NULL },
    (const char *[]){ "ip", "-n", ns, "addr", "add", address, "dev", "eth0", NULL },
    (const char *[]){ "ip", "-n", ns, "link", "set", "eth0", "up", NULL },
    (const char *[]){ "ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    g_assert_true (run_command (steps[i]));
}

/* FALSE when this machine makes no namespaces (then skip). */
static gboolean
lan_setup (Lan *lan)
{
  g_autoptr (GError) error = NULL;

  lan->server_ns = g_strdup_printf ("mdcap%d-server", (int)getpid ());
  lan->client_ns = g_strdup_printf ("mdcap%d-client", (int)getpid ());
  lan->root = g_dir_make_tmp ("md-capture-lan-XXXXXX", &error);
  g_assert_no_error (error);
  if (!run_command ((const char *[]){ "ip", "netns", "add", lan->server_ns, NULL }))
    return FALSE;
  g_assert_true (run_command ((const char *[]){ "ip", "netns", "add", lan->client_ns, NULL }));
  g_assert_true (run_command ((const char *[]){ "ip", "link", "add", "eth0", "netns",
                                                lan->server_ns, "type", "veth", "peer", "name",
                                                "eth0", "netns", lan->client_ns, NULL }));
  lan_host_setup (lan->server_ns, 1);
  lan_host_setup (lan->client_ns, 2);
  return TRUE;
}

static void
lan_teardown (Lan *lan)
{
  if (lan->daemon != NULL)
    {
      g_subprocess_force_exit (lan->daemon);
      g_subprocess_wait (lan->daemon, NULL, NULL);
      g_clear_object (&lan->daemon);
    }
  run_command ((const char *[]){ "ip", "netns", "delete", lan->client_ns, NULL });
  run_command ((const char *[]){ "ip", "netns", "delete", lan->server_ns, NULL });
  run_command ((const char *[]){ "rm", "-rf", lan->root, NULL });
  g_free (lan->server_ns);
  g_free (lan->client_ns);
  g_free (lan->root);
}

/* mydailyd on [::]:5683 and 0.0.0.0:5683 in the server namespace (its
 * --listen=[::] socket is IPv6 only, unlike mydaily.socket's), answering
 * discovery;
 * the capture's first ping proves it is up (and in the groups: it joins
 * them before it reads a datagram). */
static void
lan_start_daemon (Lan *lan)
{
  g_autofree char *conf = g_build_filename (lan->root, "mydaily.conf", NULL);
  g_autofree char *conf_arg = g_strdup_printf ("--config=%s", conf);
  g_autofree char *state_arg = g_strdup_printf ("--state-directory=%s/state", lan->root);
  g_autofree char *log = g_build_filename (lan->root, "mydailyd.log", NULL);
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (conf,
                       "[Server]\nName=kitchen\nDiscovery=true\n"
                       "PlainFrom=10.232.0.0/16 fe80::/10\n",
                       -1, &error);
  g_assert_no_error (error);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, md_test_die_with_parent, NULL, NULL);
  lan->daemon = g_subprocess_launcher_spawn (
      launcher, &error, "ip", "netns", "exec", lan->server_ns, g_getenv ("MYDAILYD"),
      "--listen=[::]:5683", "--listen=0.0.0.0:5683", conf_arg, state_arg, "--verbose", NULL);
  g_assert_no_error (error);
}

/* mydailyctl discover in the client namespace, with a home of its own;
 * returns its table.  Not with --debug: discovery's datagrams go through
 * sockets of its own (one per group), not the client's traced exchange,
 * so --debug prints none of them and there is nothing to match against
 * the capture. */
static char *
lan_discover (Lan *lan)
{
  g_autofree char *home = g_strdup_printf ("HOME=%s/home", lan->root);
  const char *const argv[]
      = { "ip",       "netns",      "exec", lan->client_ns, "env", home, g_getenv ("MYDAILYCTL"),
          "discover", "--wait=1.5", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MdTestCtl) run = md_test_command_spawn (argv, NULL, &error);
  g_autoptr (MdTestCtlResult) r = NULL;

  g_assert_no_error (error);
  r = md_test_ctl_wait (run, CTL_TIMEOUT_MS);
  g_test_message ("mydailyctl discover: exit %d\n%s%s", r->exit_status, r->out, r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  return g_steal_pointer (&r->out);
}

/* The CoAP payload of the UDP payload @hex: what follows the payload
 * marker 0xff (a link-format text has no 0xff byte). */
static char *
payload_text (const char *hex)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2)
    {
      guint8 byte
          = (guint8)(g_ascii_xdigit_value (hex[i]) << 4 | g_ascii_xdigit_value (hex[i + 1]));

      if (byte == 0xff)
        g_string_truncate (text, 0);
      else
        g_string_append_c (text, (char)byte);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The CoAP message's size, as the daemon's 3x budget counts it. */
static guint
coap_length (GStrv f)
{
  return field_uint (f, D_UDP_LENGTH) - UDP_HEADER_LEN;
}

static gboolean
is_group_request (GStrv f)
{
  return (g_str_equal (f[D_IP_DST], "224.0.1.187") || g_str_equal (f[D_IPV6_DST], "ff02::fd"))
         && g_str_equal (f[D_TYPE], COAP_NON) && field_uint (f, D_CODE) == COAP_GET
         && g_str_equal (f[D_PATH], ".well-known;core")
         && g_str_equal (f[D_QUERY], "rt=mydaily.notes");
}

/* The daemon's unicast 2.05 to one of the group requests: the </notes>
 * link with its attributes, no notes, within 3x the request. */
static void
assert_discovery_answer (GPtrArray *frames, GStrv answer, const char *notebook)
{
  g_autofree char *link = payload_text (answer[D_PAYLOAD]);
  g_autofree char *expected = g_strdup_printf (
      "</notes>;rt=\"mydaily.notes\";ct=0;notebook=\"%s\";title=\"kitchen\"", notebook);
  GStrv request = NULL;

  for (guint i = 0; i < frames->len && request == NULL; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (is_group_request (f) && g_str_equal (f[D_TOKEN], answer[D_TOKEN]))
        request = f;
    }
  g_assert_nonnull (request);
  g_assert_cmpstr (answer[D_IP_DST], !=, "224.0.1.187");
  g_assert_cmpstr (answer[D_IPV6_DST], !=, "ff02::fd");
  g_assert_cmpuint (field_uint (answer, D_SRCPORT), ==, DISCOVERY_PORT);
  /* The link alone: no notes (a multicast request reads nothing else). */
  g_assert_cmpstr (link, ==, expected);
  g_assert_cmpuint (coap_length (answer), <=, MAX_AMPLIFICATION * coap_length (request));
  g_test_message ("request %u bytes (CoAP), answer %u: %s", coap_length (request),
                  coap_length (answer), link);
}

/* Every frame CoAP, the pings left out. */
static GPtrArray *
read_discovery (MdCapture *capture)
{
  const char *const args[] = { "-d", "udp.port==5683,coap", NULL };
  g_autoptr (GPtrArray) frames = NULL;
  GPtrArray *session = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  guint ping = md_capture_get_ping_port (capture);

  md_capture_stop (capture);
  frames = md_capture_read (capture, args, discovery_fields);
  for (guint i = 0; i < frames->len; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (!g_str_has_suffix (f[D_PROTOCOLS], ":udp:coap"))
        g_test_fail_printf ("frame %s is not decoded as CoAP: %s", f[D_NUMBER], f[D_PROTOCOLS]);
      md_capture_check_experts_but (f[D_NUMBER], f[D_EXPERT_MESSAGE], f[D_EXPERT_GROUP],
                                    f[D_EXPERT_SEVERITY],
                                    is_group_request (f) ? PADDING_UNKNOWN : NULL);
      /* A ping comes from the ping port; its answer is an empty RST. */
      if (field_uint (f, D_SRCPORT) != ping
          && !(g_str_equal (f[D_TYPE], COAP_RST) && field_uint (f, D_CODE) == 0))
        g_ptr_array_add (session, g_strdupv (f));
    }
  return session;
}

static void
test_multicast_discovery (void)
{
  Lan lan = { 0 };
  g_autoptr (MdCapture) capture = NULL;
  g_autoptr (GPtrArray) frames = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *out = NULL;
  g_autofree char *notebook = NULL;
  g_autofree char *id_path = NULL;
  guint requests = 0, answers = 0;

  if (!lan_setup (&lan))
    {
      lan_teardown (&lan);
      skipped = TRUE;
      g_test_skip ("no network namespaces here");
      return;
    }
  lan_start_daemon (&lan);
  capture = md_capture_new_in_netns (lan.root, lan.client_ns, "eth0", LAN_SERVER, DISCOVERY_PORT);
  if (!md_capture_start (capture, "udp port 5683", &reason))
    {
      lan_teardown (&lan);
      skipped = TRUE;
      g_test_skip (reason);
      return;
    }
  out = lan_discover (&lan);
  frames = read_discovery (capture);
  id_path = g_build_filename (lan.root, "state", "notebook-id", NULL);
  g_assert_true (g_file_get_contents (id_path, &notebook, NULL, NULL));
  g_strstrip (notebook);
  g_assert_nonnull (strstr (out, notebook));
  for (guint i = 0; i < frames->len; i++)
    {
      GStrv f = g_ptr_array_index (frames, i);

      if (is_group_request (f))
        requests++;
      else if (field_uint (f, D_CODE) == COAP_CONTENT)
        {
          assert_discovery_answer (frames, f, notebook);
          answers++;
        }
      else
        g_test_fail_printf ("frame %s is neither a group request nor an answer", f[D_NUMBER]);
    }
  /* One request to each group, and each answered. */
  g_assert_cmpuint (requests, ==, 2);
  g_assert_cmpuint (answers, ==, 2);
  lan_teardown (&lan);
}

int
main (int argc, char **argv)
{
  g_autofree char *reason = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (!md_capture_available (&reason))
    {
      g_printerr ("%s; skipping\n", reason);
      return 77;
    }
  g_test_add ("/capture/tshark/add", Fixture, NULL, fixture_setup, test_add, fixture_teardown);
  g_test_add ("/capture/tshark/history-blocks", Fixture, NULL, fixture_setup, test_history_blocks,
              fixture_teardown);
  g_test_add ("/capture/tshark/echo-round-trip", Fixture, NULL, fixture_setup, test_echo_round_trip,
              fixture_teardown);
  g_test_add ("/capture/tshark/follow-notification", Fixture, NULL, fixture_setup,
              test_follow_notification, fixture_teardown);
  g_test_add ("/capture/tshark/foreign-traffic", Fixture, NULL, fixture_setup, test_foreign_traffic,
              fixture_teardown);
  g_test_add_func ("/capture/tshark/multicast-discovery", test_multicast_discovery);
  status = g_test_run ();
  return status == 0 && skipped ? 77 : status;
}
