/* Hostile input battery (ARCHITECTURE.md, Guarantees 6: safe input).
 *
 * One real mydailyd on 127.0.0.1 (the tests/support harness) holds a few
 * notes.  Each table row sends one malformed or hostile datagram from a fresh
 * UDP socket and checks the answer RFC 7252 asks for: RST for a malformed
 * CON, silence for what cannot be answered, or a response code (with a
 * diagnostic payload where the row says so).  After every row the daemon
 * still answers a ping (empty CON -> RST) and the notes file is byte for byte
 * what it was: no row stores anything.  Every answer seen, at any point, must
 * stay within the limits: at most MD_COAP_MAX_DATAGRAM (1280) bytes, and at
 * most three times its request to a peer that never proved its address.
 *
 * Replies are decoded here by a small independent reader, not by the
 * project's codec, so a codec bug cannot hide itself. */
#include "config.h"

#include "md-test-daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DATAGRAM 1280 /* MD_COAP_MAX_DATAGRAM */
#define AMPLIFICATION 3   /* MD_ECHO_AMPLIFICATION */
#define SILENCE_MS 300
#define ANSWER_MS 3000
#define MAX_READS 64
#define HUGE_DATAGRAM 65000

#define CON 0
#define NON 1
#define ACK 2
#define RST 3
#define CODE(c, d) (((c) << 5) | (d))
#define GET 1
#define POST 2
#define PUT 3
#define DELETE 4
#define OPT_IF_NONE_MATCH 5
#define OPT_OBSERVE 6
#define OPT_URI_PATH 11
#define OPT_URI_QUERY 15
#define OPT_BLOCK2 23
#define OPT_BLOCK1 27
#define OPT_PROXY_URI 35
#define OPT_PROXY_SCHEME 39
#define OPT_ECHO 252

typedef enum
{
  EXPECT_RST,
  EXPECT_SILENCE,
  EXPECT_CODE,
  /* Any answer or none: only the limits and liveness matter. */
  EXPECT_ANY,
} Expect;

typedef struct
{
  guint16 number;
  const char *value;
  gsize len;
} Option;

typedef struct
{
  const char *name;
  /* Either raw bytes (their Message ID is replaced by a fresh one)... */
  const char *raw;
  gsize raw_len;
  /* ...or a request built from these. */
  guint8 type;
  guint8 code;
  const char *path;
  const char *query;
  Option opts[3];
  const char *payload;
  gsize payload_len;
  gsize fill_len;     /* payload (or for raw rows, bytes) of this many 'x' */
  gboolean zero_fill; /* ... or of this many NUL bytes */
  Expect expect;
  guint8 code1, code2; /* accepted codes (code2 0: only code1) */
  gboolean diagnostic; /* the response must explain itself */
} HostileCase;

#define RAW(s) .raw = (s), .raw_len = sizeof (s) - 1
#define PAYLOAD(s) .payload = (s), .payload_len = sizeof (s) - 1
#define OPT(n, s)                                                                                  \
  {                                                                                                \
    (n), (s), sizeof (s) - 1                                                                       \
  }
#define REQ(t, c, p) .type = (t), .code = (c), .path = (p)
#define WANT(c) .expect = EXPECT_CODE, .code1 = (c), .diagnostic = TRUE
#define WANT2(c, d) .expect = EXPECT_CODE, .code1 = (c), .code2 = (d), .diagnostic = TRUE

static const HostileCase cases[] = {
  /* Malformed CON: RST (RFC 7252 §4.2, §3). */
  { "rst/token-truncated", RAW ("\x44\x01\x00\x00\xaa\xbb"), .expect = EXPECT_RST },
  { "rst/token-missing", RAW ("\x41\x01\x00\x00"), .expect = EXPECT_RST },
  { "rst/tkl-9",
    RAW ("\x49\x01\x00\x00"
         "123456789"),
    .expect = EXPECT_RST },
  { "rst/tkl-12",
    RAW ("\x4c\x01\x00\x00"
         "123456789abc"),
    .expect = EXPECT_RST },
  { "rst/tkl-15",
    RAW ("\x4f\x01\x00\x00"
         "123456789abcdef"),
    .expect = EXPECT_RST },
  { "rst/option-delta-15", RAW ("\x40\x01\x00\x00\xf1x"), .expect = EXPECT_RST },
  { "rst/option-length-15", RAW ("\x40\x01\x00\x00\xbfnotes"), .expect = EXPECT_RST },
  { "rst/option-delta-ext8-cut", RAW ("\x40\x01\x00\x00\xd0"), .expect = EXPECT_RST },
  { "rst/option-delta-ext16-cut", RAW ("\x40\x01\x00\x00\xe0\x01"), .expect = EXPECT_RST },
  { "rst/option-length-past-end", RAW ("\x40\x01\x00\x00\xb5not"), .expect = EXPECT_RST },
  { "rst/option-ext16-length-past-end", RAW ("\x40\x01\x00\x00\xbe\x01\x00notes"),
    .expect = EXPECT_RST },
  { "rst/option-number-over-65535", RAW ("\x40\x01\x00\x00\xe1\xff\x00x\xe1\xff\x00y"),
    .expect = EXPECT_RST },
  { "rst/marker-without-payload", RAW ("\x40\x01\x00\x00\xb5notes\xff"), .expect = EXPECT_RST },
  { "rst/marker-after-header", RAW ("\x40\x01\x00\x00\xff"), .expect = EXPECT_RST },
  { "rst/empty-con-with-token", RAW ("\x41\x00\x00\x00\x01"), .expect = EXPECT_RST },
  { "rst/empty-con-with-payload", RAW ("\x40\x00\x00\x00\xffx"), .expect = EXPECT_RST },
  { "rst/empty-con-with-option", RAW ("\x40\x00\x00\x00\xb1x"), .expect = EXPECT_RST },
  { "rst/response-code-in-con", RAW ("\x40\x45\x00\x00\xffhello"), .expect = EXPECT_RST },
  { "rst/reserved-class-1", RAW ("\x40\x20\x00\x00"), .expect = EXPECT_RST },
  { "rst/code-7.31", RAW ("\x40\xff\x00\x00"), .expect = EXPECT_RST },

  /* What cannot or must not be answered: silence (RFC 7252 §4.2, §4.3). */
  { "silence/empty-datagram", .raw = "", .raw_len = 0, .expect = EXPECT_SILENCE },
  { "silence/1-byte", RAW ("\x40"), .expect = EXPECT_SILENCE },
  { "silence/3-bytes", RAW ("\x40\x01\x00"), .expect = EXPECT_SILENCE },
  { "silence/version-0", RAW ("\x00\x01\x00\x00\xb6status"), .expect = EXPECT_SILENCE },
  { "silence/version-2", RAW ("\x80\x01\x00\x00\xb6status"), .expect = EXPECT_SILENCE },
  { "silence/version-3-ping", RAW ("\xc0\x00\x00\x00"), .expect = EXPECT_SILENCE },
  { "silence/non-tkl-9",
    RAW ("\x59\x01\x00\x00"
         "123456789"),
    .expect = EXPECT_SILENCE },
  { "silence/non-option-nibble-15", RAW ("\x50\x01\x00\x00\xf1x"), .expect = EXPECT_SILENCE },
  { "silence/non-marker-without-payload", RAW ("\x50\x01\x00\x00\xb6status\xff"),
    .expect = EXPECT_SILENCE },
  { "silence/non-empty", RAW ("\x50\x00\x00\x00"), .expect = EXPECT_SILENCE },
  { "silence/non-response-code", RAW ("\x50\x45\x00\x00\xffjunk"), .expect = EXPECT_SILENCE },
  { "silence/ack-empty", RAW ("\x60\x00\x00\x00"), .expect = EXPECT_SILENCE },
  { "silence/ack-with-request-code", RAW ("\x60\x01\x00\x00\xb5notes"), .expect = EXPECT_SILENCE },
  { "silence/ack-response-junk", RAW ("\x62\x45\x00\x00\xab\xcd\xff\x01\x02\x03"),
    .expect = EXPECT_SILENCE },
  { "silence/ack-malformed", RAW ("\x6f\x45\x00\x00\xff"), .expect = EXPECT_SILENCE },
  { "silence/rst-empty", RAW ("\x70\x00\x00\x00"), .expect = EXPECT_SILENCE },
  { "silence/rst-with-token", RAW ("\x71\x00\x00\x00\x01"), .expect = EXPECT_SILENCE },
  { "silence/rst-with-request", RAW ("\x70\x02\x00\x00\xb5notes\xffstore me?"),
    .expect = EXPECT_SILENCE },

  /* Options (RFC 7252 §5.4.1, §5.7.2). */
  { "code/unknown-critical-9", REQ (CON, GET, "status"), .opts = { OPT (9, "x") },
    WANT (CODE (4, 2)) },
  { "code/unknown-critical-2049", REQ (CON, GET, "status"), .opts = { OPT (2049, "x") },
    WANT (CODE (4, 2)) },
  { "code/unknown-critical-65535", REQ (CON, GET, "status"), .opts = { OPT (65535, "") },
    WANT (CODE (4, 2)) },
  { "code/unknown-critical-on-post", REQ (CON, POST, "notes"), .opts = { OPT (2049, "") },
    PAYLOAD ("must not be stored"), WANT (CODE (4, 2)) },
  { "code/proxy-uri", REQ (CON, GET, NULL), .opts = { OPT (OPT_PROXY_URI, "coap://h/notes") },
    WANT (CODE (5, 5)) },
  { "code/proxy-scheme", REQ (CON, GET, "notes"), .opts = { OPT (OPT_PROXY_SCHEME, "http") },
    WANT (CODE (5, 5)) },

  /* Invalid notes: 4.xx with a reason, nothing stored (RFC 7252 §5.5.2). */
  { "code/note-invalid-utf8", REQ (CON, POST, "notes"), PAYLOAD ("bad \xc3\x28 utf8"),
    WANT (CODE (4, 0)) },
  { "code/note-overlong-utf8", REQ (CON, POST, "notes"), PAYLOAD ("\xc0\xaf"), WANT (CODE (4, 0)) },
  { "code/note-surrogate", REQ (CON, POST, "notes"), PAYLOAD ("\xed\xa0\x80"), WANT (CODE (4, 0)) },
  { "code/note-truncated-utf8", REQ (CON, POST, "notes"), PAYLOAD ("abc\xe4\xbd"),
    WANT (CODE (4, 0)) },
  { "code/note-tab", REQ (CON, POST, "notes"), PAYLOAD ("a\tb"), WANT (CODE (4, 0)) },
  { "code/note-newline", REQ (CON, POST, "notes"), PAYLOAD ("two\nlines"), WANT (CODE (4, 0)) },
  { "code/note-crlf", REQ (CON, POST, "notes"), PAYLOAD ("line\r\n"), WANT (CODE (4, 0)) },
  { "code/note-nul", .type = CON, .code = POST, .path = "notes", .payload = "a\0b",
    .payload_len = 3, WANT (CODE (4, 0)) },
  { "code/note-del", REQ (CON, POST, "notes"), PAYLOAD ("a\x7f"), WANT (CODE (4, 0)) },
  { "code/note-c1", REQ (CON, POST, "notes"), PAYLOAD ("a\xc2\x85"), WANT (CODE (4, 0)) },
  { "code/note-escape-sequence", REQ (CON, POST, "notes"), PAYLOAD ("\x1b[2J"),
    WANT (CODE (4, 0)) },
  { "code/note-1001-bytes", REQ (CON, POST, "notes"), .fill_len = 1001,
    WANT2 (CODE (4, 13), CODE (4, 0)) },
  { "code/note-empty", REQ (CON, POST, "notes"), WANT (CODE (4, 0)) },
  { "code/put-invalid-utf8", REQ (CON, PUT, "notes/3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
    .opts = { OPT (OPT_IF_NONE_MATCH, "") }, PAYLOAD ("\xff\xfe"), WANT (CODE (4, 0)) },
  { "code/put-bad-key", REQ (CON, PUT, "notes/not-a-uuid"), .opts = { OPT (OPT_IF_NONE_MATCH, "") },
    PAYLOAD ("valid text"), WANT2 (CODE (4, 0), CODE (4, 4)) },
  { "code/block1-more", REQ (CON, POST, "notes"), .opts = { OPT (OPT_BLOCK1, "\x0a") },
    .fill_len = 64, WANT (CODE (4, 13)) },
  { "code/block1-malformed", REQ (CON, POST, "notes"), .opts = { OPT (OPT_BLOCK1, "\x07") },
    PAYLOAD ("x"), WANT2 (CODE (4, 2), CODE (4, 0)) },

  /* Resources and methods. */
  { "code/not-found", REQ (CON, GET, "no/such/thing"), WANT (CODE (4, 4)) },
  { "code/note-id-0", REQ (CON, GET, "notes/0"), WANT2 (CODE (4, 4), CODE (4, 0)) },
  { "code/note-id-missing", REQ (CON, GET, "notes/999999"), WANT (CODE (4, 4)) },
  { "code/note-id-overflow", REQ (CON, GET, "notes/99999999999999999999999"),
    WANT2 (CODE (4, 4), CODE (4, 0)) },
  { "code/note-id-negative", REQ (CON, GET, "notes/-1"), WANT2 (CODE (4, 4), CODE (4, 0)) },
  { "code/uri-path-nul", REQ (CON, GET, NULL), .opts = { { OPT_URI_PATH, "no\0tes", 6 } },
    WANT2 (CODE (4, 4), CODE (4, 0)) },
  { "code/uri-path-slash", REQ (CON, GET, NULL), .opts = { OPT (OPT_URI_PATH, "notes/1") },
    WANT2 (CODE (4, 4), CODE (4, 0)) },
  { "code/delete-note", REQ (CON, DELETE, "notes/1"), WANT (CODE (4, 5)) },
  { "code/put-without-key", REQ (CON, PUT, "notes"), PAYLOAD ("x"), WANT (CODE (4, 5)) },
  { "code/post-latest", REQ (CON, POST, "latest"), PAYLOAD ("x"), WANT (CODE (4, 5)) },
  { "code/post-status", REQ (CON, POST, "status"), PAYLOAD ("x"), WANT (CODE (4, 5)) },
  { "code/post-note-id", REQ (CON, POST, "notes/1"), PAYLOAD ("x"), WANT (CODE (4, 5)) },
  { "code/method-code-31", REQ (CON, 31, "notes"), WANT2 (CODE (4, 5), CODE (5, 1)) },
  { "code/after-junk", REQ (CON, GET, "notes"), .query = "after=junk", WANT (CODE (4, 0)) },
  { "code/after-negative", REQ (CON, GET, "notes"), .query = "after=-1", WANT (CODE (4, 0)) },
  { "code/after-empty", REQ (CON, GET, "notes"), .query = "after=", WANT (CODE (4, 0)) },
  { "code/after-overflow", REQ (CON, GET, "notes"), .query = "after=99999999999999999999999",
    WANT (CODE (4, 0)) },
  { "code/after-trailing-junk", REQ (CON, GET, "notes"), .query = "after=1x", WANT (CODE (4, 0)) },

  /* Block-wise (RFC 7959 §2.2: a block past the end is 4.02, SZX 7 is 4.00). */
  { "code/block2-huge-num", REQ (CON, GET, "notes"), .opts = { OPT (OPT_BLOCK2, "\xff\xff\xf6") },
    WANT (CODE (4, 2)) },
  { "code/block2-szx-7", REQ (CON, GET, "notes"), .opts = { OPT (OPT_BLOCK2, "\x07") },
    WANT (CODE (4, 0)) },
  { "code/block2-4-bytes", REQ (CON, GET, "notes"),
    .opts = { OPT (OPT_BLOCK2, "\x00\x00\x00\x16") }, WANT2 (CODE (4, 2), CODE (4, 0)) },

  /* Amplification (RFC 9175 §2.4): a small request for a large body from an
   * unverified peer, or with an Echo this daemon never made, gets a small
   * Block2 block within the budget (every answer here is checked against
   * it). */
  { "code/unverified-large-body", REQ (CON, GET, "notes"), .expect = EXPECT_CODE,
    .code1 = CODE (2, 5) },
  { "code/unverified-large-body-non", REQ (NON, GET, "notes"), .expect = EXPECT_CODE,
    .code1 = CODE (2, 5) },
  { "code/forged-echo", REQ (CON, GET, "notes"),
    .opts = { OPT (OPT_ECHO, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c") },
    .expect = EXPECT_CODE, .code1 = CODE (2, 5) },
  { "code/empty-echo", REQ (CON, GET, "notes"), .opts = { OPT (OPT_ECHO, "") },
    .expect = EXPECT_CODE, .code1 = CODE (2, 5) },

  /* Sizes far beyond a note. */
  { "huge/post-65000", REQ (CON, POST, "notes"), .fill_len = HUGE_DATAGRAM - 16,
    WANT2 (CODE (4, 13), CODE (4, 0)) },
  { "huge/junk-65000", RAW ("\x40\x01\x00\x00"), .fill_len = HUGE_DATAGRAM, .expect = EXPECT_ANY },
  { "huge/zeros-65000", RAW ("\x40\x01\x00\x00"), .fill_len = HUGE_DATAGRAM, .zero_fill = TRUE,
    .expect = EXPECT_ANY },
  { "huge/elective-option-65000", REQ (CON, GET, "notes"),
    .opts = { { 2048, NULL, HUGE_DATAGRAM - 32 } }, .expect = EXPECT_ANY },
};

/* ---- the daemon and its notes file ---------------------------------------- */

static MdTestDaemon *daemon_under_test;
static struct sockaddr_in server_addr;
static GBytes *notes_snapshot;
static guint16 next_mid = 0x4000;

static GBytes *
read_notes (void)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (md_test_daemon_get_notes_path (daemon_under_test), &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
assert_notes_unchanged (void)
{
  g_autoptr (GBytes) now = read_notes ();

  g_assert_cmpmem (g_bytes_get_data (now, NULL), g_bytes_get_size (now),
                   g_bytes_get_data (notes_snapshot, NULL), g_bytes_get_size (notes_snapshot));
}

/* ---- building requests ---------------------------------------------------- */

static void
put_extended (GByteArray *out, guint nibble_value, guint8 *nibble)
{
  if (nibble_value < 13)
    *nibble = (guint8)nibble_value;
  else if (nibble_value < 269)
    {
      guint8 b = (guint8)(nibble_value - 13);

      *nibble = 13;
      g_byte_array_append (out, &b, 1);
    }
  else
    {
      guint8 b[2] = { (guint8)((nibble_value - 269) >> 8), (guint8)(nibble_value - 269) };

      *nibble = 14;
      g_byte_array_append (out, b, 2);
    }
}

static void
put_option (GByteArray *out, guint delta, const guint8 *value, gsize len)
{
  g_autoptr (GByteArray) ext = g_byte_array_new ();
  guint8 delta_nibble, length_nibble, first;

  put_extended (ext, delta, &delta_nibble);
  put_extended (ext, (guint)len, &length_nibble);
  first = (guint8)((delta_nibble << 4) | length_nibble);
  g_byte_array_append (out, &first, 1);
  g_byte_array_append (out, ext->data, ext->len);
  if (len > 0)
    g_byte_array_append (out, value, (guint)len);
}

static gint
compare_options (gconstpointer a, gconstpointer b)
{
  return (gint)((const Option *)a)->number - (gint)((const Option *)b)->number;
}

/* The options of @c (Uri-Path segments, Uri-Query, extras) in number order. */
static GArray *
collect_options (const HostileCase *c, GPtrArray *keep)
{
  GArray *opts = g_array_new (FALSE, TRUE, sizeof (Option));

  if (c->path != NULL)
    {
      char **segments = g_strsplit (c->path, "/", -1);

      g_ptr_array_add (keep, segments);
      for (guint i = 0; segments[i] != NULL; i++)
        {
          Option o = { OPT_URI_PATH, segments[i], strlen (segments[i]) };

          g_array_append_val (opts, o);
        }
    }
  if (c->query != NULL)
    {
      Option o = { OPT_URI_QUERY, c->query, strlen (c->query) };

      g_array_append_val (opts, o);
    }
  for (guint i = 0; i < G_N_ELEMENTS (c->opts) && c->opts[i].number != 0; i++)
    g_array_append_val (opts, c->opts[i]);
  /* g_array_sort is not stable; stability only matters for Uri-Path, which
   * is collected first and compares equal, so sort by insertion on ties. */
  for (guint i = 1; i < opts->len; i++)
    for (guint j = i;
         j > 0
         && compare_options (&g_array_index (opts, Option, j - 1), &g_array_index (opts, Option, j))
                > 0;
         j--)
      {
        Option tmp = g_array_index (opts, Option, j);

        g_array_index (opts, Option, j) = g_array_index (opts, Option, j - 1);
        g_array_index (opts, Option, j - 1) = tmp;
      }
  return opts;
}

static void
append_filler (GByteArray *out, gsize len, gboolean zero)
{
  g_autofree guint8 *fill = g_malloc (len);

  memset (fill, zero ? 0 : 'x', len);
  g_byte_array_append (out, fill, (guint)len);
}

static GBytes *
build_request (const HostileCase *c, guint16 mid)
{
  static const guint8 token[] = { 0xa1, 0xb2, 0xc3, 0xd4 };
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  g_autoptr (GArray) opts = collect_options (c, keep);
  GByteArray *out = g_byte_array_new ();
  guint8 header[4] = { (guint8)(0x40 | (c->type << 4) | sizeof token), c->code, (guint8)(mid >> 8),
                       (guint8)mid };
  guint prev = 0;

  g_byte_array_append (out, header, 4);
  g_byte_array_append (out, token, sizeof token);
  for (guint i = 0; i < opts->len; i++)
    {
      const Option *o = &g_array_index (opts, Option, i);
      g_autofree guint8 *filler = o->value == NULL ? g_malloc0 (o->len) : NULL;

      put_option (out, o->number - prev, o->value != NULL ? (const guint8 *)o->value : filler,
                  o->len);
      prev = o->number;
    }
  if (c->payload_len > 0 || c->fill_len > 0)
    g_byte_array_append (out, (const guint8 *)"\xff", 1);
  if (c->payload_len > 0)
    g_byte_array_append (out, (const guint8 *)c->payload, (guint)c->payload_len);
  if (c->fill_len > 0)
    append_filler (out, c->fill_len, c->zero_fill);
  return g_byte_array_free_to_bytes (out);
}

/* Raw bytes get a fresh Message ID, so no row is a duplicate of another. */
static GBytes *
case_datagram (const HostileCase *c, guint16 mid)
{
  GByteArray *out;

  if (c->raw == NULL)
    return build_request (c, mid);
  out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *)c->raw, (guint)c->raw_len);
  if (out->len >= 4)
    {
      out->data[2] = (guint8)(mid >> 8);
      out->data[3] = (guint8)mid;
    }
  if (c->fill_len > 0)
    append_filler (out, c->fill_len, c->zero_fill);
  return g_byte_array_free_to_bytes (out);
}

/* ---- reading answers ------------------------------------------------------ */

typedef struct
{
  guint type;
  guint8 code;
  guint16 mid;
  guint token_len;
  guint8 token[8];
  gboolean has_echo;
  const guint8 *echo; /* value of the Echo option */
  gsize echo_len;
  const guint8 *payload;
  gsize payload_len;
} Answer;

static gboolean
read_extended (const guint8 *d, gsize n, gsize *pos, guint nibble, guint *value)
{
  if (nibble < 13)
    *value = nibble;
  else if (nibble == 13 && *pos + 1 <= n)
    *value = 13 + d[(*pos)++];
  else if (nibble == 14 && *pos + 2 <= n)
    {
      *value = 269 + ((guint)d[*pos] << 8) + d[*pos + 1];
      *pos += 2;
    }
  else
    return FALSE;
  return TRUE;
}

/* An independent decoder: FALSE when the daemon sent something malformed. */
static gboolean
answer_parse (const guint8 *d, gsize n, Answer *a)
{
  gsize pos;
  guint number = 0;

  memset (a, 0, sizeof *a);
  if (n < 4 || (d[0] >> 6) != 1 || (d[0] & 0x0f) > 8 || 4 + (gsize)(d[0] & 0x0f) > n)
    return FALSE;
  a->type = (d[0] >> 4) & 3;
  a->code = d[1];
  a->mid = (guint16)((d[2] << 8) | d[3]);
  a->token_len = d[0] & 0x0f;
  memcpy (a->token, d + 4, a->token_len);
  for (pos = 4 + a->token_len; pos < n;)
    {
      guint8 b = d[pos++];
      guint delta, len;

      if (b == 0xff)
        {
          a->payload = d + pos;
          a->payload_len = n - pos;
          return a->payload_len > 0;
        }
      if (!read_extended (d, n, &pos, b >> 4, &delta) || !read_extended (d, n, &pos, b & 15, &len)
          || len > n - pos)
        return FALSE;
      number += delta;
      if (number == OPT_ECHO)
        {
          a->has_echo = TRUE;
          a->echo = d + pos;
          a->echo_len = len;
        }
      pos += len;
    }
  return TRUE;
}

/* A socket on @address (in 127/8): a proof of address holds for every
 * port of it. */
static int
client_socket_on (const char *address)
{
  struct sockaddr_in addr = { .sin_family = AF_INET };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (inet_pton (AF_INET, address, &addr.sin_addr), ==, 1);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
  return fd;
}

static int
client_socket (void)
{
  return client_socket_on ("127.0.0.1");
}

static void
send_datagram (int fd, GBytes *datagram)
{
  ssize_t sent = sendto (fd, g_bytes_get_data (datagram, NULL), g_bytes_get_size (datagram), 0,
                         (struct sockaddr *)&server_addr, sizeof server_addr);

  g_assert_cmpint (sent, ==, (ssize_t)g_bytes_get_size (datagram));
}

/* The next datagram on @fd within @timeout_ms, or NULL. */
static GBytes *
receive_within (int fd, gint64 deadline_us)
{
  guint8 buf[65536];

  for (guint i = 0; i < MAX_READS; i++)
    {
      gint64 left_ms = (deadline_us - g_get_monotonic_time ()) / 1000;
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;
      int r;

      if (left_ms < 0)
        return NULL;
      r = poll (&p, 1, (int)left_ms);
      if (r == 0)
        return NULL;
      if (r < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (r, ==, 1);
      n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n >= 0)
        return g_bytes_new (buf, (gsize)n);
      g_assert_true (errno == EAGAIN || errno == EINTR);
    }
  return NULL;
}

/* The limits of Guarantee 6, for every datagram the daemon sends. */
static void
assert_within_limits (GBytes *answer, gsize request_len)
{
  gsize len = g_bytes_get_size (answer);
  Answer a;

  g_assert_true (answer_parse (g_bytes_get_data (answer, NULL), len, &a));
  g_assert_cmpuint (len, <=, MAX_DATAGRAM);
  /* No row sends a valid Echo: the peer is never verified. */
  g_assert_cmpuint (len, <=, AMPLIFICATION * request_len);
}

/* An empty CON must come back as RST with its Message ID; answers still on
 * their way are checked against the limits and must not be for @case_mid
 * when @case_silent. */
static void
assert_alive (int fd, gsize request_len, guint16 case_mid, gboolean case_silent)
{
  guint16 mid = next_mid++;
  guint8 ping[4] = { 0x40, 0x00, (guint8)(mid >> 8), (guint8)mid };
  g_autoptr (GBytes) datagram = g_bytes_new (ping, sizeof ping);
  gint64 deadline = g_get_monotonic_time () + ANSWER_MS * 1000;

  send_datagram (fd, datagram);
  for (guint i = 0; i < MAX_READS; i++)
    {
      g_autoptr (GBytes) answer = receive_within (fd, deadline);
      Answer a;

      g_assert_nonnull (answer);
      g_assert_true (answer_parse (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &a));
      if (a.type == RST && a.mid == mid)
        {
          g_assert_cmpuint (a.code, ==, 0);
          g_assert_cmpuint (g_bytes_get_size (answer), ==, sizeof ping);
          return;
        }
      /* A late answer to the case itself. */
      assert_within_limits (answer, request_len);
      if (case_silent)
        g_assert_cmpuint (a.mid, !=, case_mid);
    }
  g_assert_not_reached ();
}

static void
check_answer (const HostileCase *c, GBytes *request, GBytes *answer, guint16 mid)
{
  const guint8 *req = g_bytes_get_data (request, NULL);
  Answer a;

  answer_parse (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &a);
  if (c->expect == EXPECT_RST)
    {
      g_assert_cmpuint (a.type, ==, RST);
      g_assert_cmpuint (a.code, ==, 0);
      g_assert_cmpuint (a.mid, ==, mid);
      return;
    }
  if (c->expect == EXPECT_ANY)
    return;
  g_assert_cmpuint (a.type, ==, ((req[0] >> 4) & 3) == CON ? ACK : NON);
  if (a.type == ACK)
    g_assert_cmpuint (a.mid, ==, mid);
  g_assert_cmpmem (a.token, a.token_len, req + 4, req[0] & 0x0f);
  if (a.code != c->code1 && (c->code2 == 0 || a.code != c->code2))
    g_error ("%s: answered %u.%02u, expected %u.%02u", c->name, a.code >> 5, a.code & 31,
             c->code1 >> 5, c->code1 & 31);
  if (a.code == CODE (4, 1))
    g_assert_true (a.has_echo);
  if (c->diagnostic)
    {
      g_assert_cmpuint (a.payload_len, >, 0);
      g_assert_true (g_utf8_validate ((const char *)a.payload, (gssize)a.payload_len, NULL));
    }
}

static void
test_hostile_case (gconstpointer data)
{
  const HostileCase *c = data;
  guint16 mid = next_mid++;
  g_autoptr (GBytes) request = case_datagram (c, mid);
  g_autoptr (GBytes) answer = NULL;
  gsize request_len = g_bytes_get_size (request);
  gboolean silent = c->expect == EXPECT_SILENCE;
  int fd = client_socket ();

  send_datagram (fd, request);
  answer = receive_within (fd, g_get_monotonic_time () + (silent ? SILENCE_MS : ANSWER_MS) * 1000);
  if (answer != NULL)
    {
      g_test_message ("%s: answered with %" G_GSIZE_FORMAT " bytes", c->name,
                      g_bytes_get_size (answer));
      assert_within_limits (answer, request_len);
      g_assert_false (silent);
      check_answer (c, request, answer, mid);
    }
  else
    g_assert_true (silent || c->expect == EXPECT_ANY);
  assert_alive (fd, request_len, mid, silent);
  close (fd);
  assert_notes_unchanged ();
}

/* ---- amplification beyond single answers ---------------------------------- */

/* A CON request and its answer on @fd, within ANSWER_MS. */
static GBytes *
request (int fd, GBytes *datagram)
{
  send_datagram (fd, datagram);
  return receive_within (fd, g_get_monotonic_time () + ANSWER_MS * 1000);
}

static void
assert_answer_code (GBytes *answer, guint8 code)
{
  Answer a;

  g_assert_nonnull (answer);
  g_assert_true (answer_parse (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &a));
  if (a.code != code)
    g_error ("answered %u.%02u (%.*s), expected %u.%02u", a.code >> 5, a.code & 31,
             (int)a.payload_len, (const char *)a.payload, code >> 5, code & 31);
}

/* A duplicate is recognised by peer and Message ID alone (RFC 7252 §4.5), so a
 * 4-byte datagram can repeat the cached answer to a large request: that
 * replay must obey the limit for the 4-byte datagram too. */
static void
test_replay_amplification (void)
{
  static const HostileCase padded
      = { "padded", REQ (CON, GET, ".well-known/core"), .opts = { { 2048, NULL, 200 } } };
  guint16 mid = next_mid++;
  g_autoptr (GBytes) big = build_request (&padded, mid);
  guint8 tiny[4] = { 0x40, GET, (guint8)(mid >> 8), (guint8)mid };
  g_autoptr (GBytes) small = g_bytes_new (tiny, sizeof tiny);
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GBytes) replay = NULL;
  int fd = client_socket ();

  first = request (fd, big);
  assert_answer_code (first, CODE (2, 5));
  g_assert_cmpuint (g_bytes_get_size (first), >, AMPLIFICATION * sizeof tiny);
  /* The true duplicate still gets the cached answer, byte for byte. */
  replay = request (fd, big);
  g_assert_nonnull (replay);
  g_assert_true (g_bytes_equal (first, replay));
  g_clear_pointer (&replay, g_bytes_unref);
  replay = request (fd, small);
  if (replay != NULL)
    assert_within_limits (replay, sizeof tiny);
  assert_alive (fd, sizeof tiny, mid, FALSE);
  close (fd);
  assert_notes_unchanged ();
}

/* Posts @text as a note from @fd and waits for 2.01. */
static void
store_note (int fd, const char *text)
{
  HostileCase post
      = { "post", REQ (CON, POST, "notes"), .payload = text, .payload_len = strlen (text) };
  g_autoptr (GBytes) datagram = build_request (&post, next_mid++);
  g_autoptr (GBytes) answer = request (fd, datagram);

  assert_answer_code (answer, CODE (2, 1));
}

/* Registers @fd as an observer of /latest, answering an Echo challenge
 * when @verify; returns the code of the last answer. */
static guint8
register_observer (int fd, gboolean verify, gsize *request_len)
{
  HostileCase observe = { "observe", REQ (CON, GET, "latest"), .opts = { OPT (OPT_OBSERVE, "") } };
  g_autoptr (GBytes) registration = build_request (&observe, next_mid++);
  g_autoptr (GBytes) answer = request (fd, registration);
  g_autoptr (GBytes) retry = NULL;
  g_autofree char *echo = NULL;
  Answer a;

  *request_len = g_bytes_get_size (registration);
  g_assert_nonnull (answer);
  assert_within_limits (answer, *request_len);
  g_assert_true (answer_parse (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &a));
  /* A 4.01, or a small block that offers the proof as well. */
  if (!verify || !a.has_echo)
    return a.code;
  /* As a client answering the challenge (RFC 9175 §2.3): same request, new
   * Message ID, the Echo value copied. */
  echo = g_memdup2 (a.echo, a.echo_len);
  observe.opts[1] = (Option){ OPT_ECHO, echo, a.echo_len };
  retry = build_request (&observe, next_mid++);
  g_clear_pointer (&answer, g_bytes_unref);
  answer = request (fd, retry);
  g_assert_nonnull (answer);
  g_assert_true (answer_parse (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), &a));
  g_assert_cmpuint (g_bytes_get_size (answer), <=, MAX_DATAGRAM);
  return a.code;
}

/* Notifications answer the registration (RFC 7641): an address that never
 * proved itself must not be sent a 1 KiB note for a 16-byte registration,
 * or one spoofed registration turns every later note into a reflection.  A
 * verified observer, the control, does get it. */
static void
test_observe_amplification (void)
{
  g_autoptr (GBytes) notification = NULL;
  g_autoptr (GBytes) control = NULL;
  g_autofree char *long_note = g_strnfill (900, 'n');
  gsize unverified_len, verified_len;
  int unverified = client_socket ();
  int verified = client_socket_on ("127.0.0.2");
  int writer = client_socket ();
  guint8 code;

  /* A long latest note: the verified one is offered the proof at once. */
  store_note (writer, long_note);
  code = register_observer (unverified, FALSE, &unverified_len);
  g_test_message ("unverified registration answered %u.%02u", code >> 5, code & 31);
  code = register_observer (verified, TRUE, &verified_len);
  g_assert_cmpuint (code, ==, CODE (2, 5));
  store_note (writer, long_note);

  control = receive_within (verified, g_get_monotonic_time () + ANSWER_MS * 1000);
  g_assert_nonnull (control);
  g_assert_cmpuint (g_bytes_get_size (control), >, AMPLIFICATION * unverified_len);
  g_assert_cmpuint (g_bytes_get_size (control), <=, MAX_DATAGRAM);
  notification = receive_within (unverified, g_get_monotonic_time () + SILENCE_MS * 1000);
  if (notification != NULL)
    assert_within_limits (notification, unverified_len);
  assert_alive (unverified, unverified_len, 0, FALSE);
  close (unverified);
  close (verified);
  close (writer);
  /* This case stores a note on purpose: later cases compare with this. */
  g_clear_pointer (&notes_snapshot, g_bytes_unref);
  notes_snapshot = read_notes ();
}

/* ---- main ----------------------------------------------------------------- */

static void
store_initial_notes (void)
{
  g_autofree char *long_note = g_strnfill (900, 'L');
  int fd = client_socket ();

  store_note (fd, "first note");
  store_note (fd, "second note, caf\xc3\xa9");
  store_note (fd, long_note);
  /* Short last, so GET /latest is a small answer. */
  store_note (fd, "ok");
  close (fd);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  daemon_under_test = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  if (!md_test_daemon_start (daemon_under_test, &error))
    g_error ("cannot start mydailyd: %s", error->message);
  server_addr.sin_family = AF_INET;
  server_addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  server_addr.sin_port = htons (md_test_daemon_get_port (daemon_under_test));
  store_initial_notes ();
  notes_snapshot = read_notes ();

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/hostile/", cases[i].name, NULL);

      g_test_add_data_func (path, &cases[i], test_hostile_case);
    }
  g_test_add_func ("/hostile/amplification/replay", test_replay_amplification);
  g_test_add_func ("/hostile/amplification/observe", test_observe_amplification);
  status = g_test_run ();

  if (!md_test_daemon_stop (daemon_under_test, &error))
    g_error ("mydailyd did not stop cleanly: %s", error->message);
  g_clear_pointer (&daemon_under_test, md_test_daemon_free);
  g_clear_pointer (&notes_snapshot, g_bytes_unref);
  return status;
}
