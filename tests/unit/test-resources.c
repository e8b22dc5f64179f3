/* The CoAP resources against a real store and real observers in a temporary
 * directory: every resource, every error, block-wise reads. */
#include "config.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "md-error.h"
#include "md-note.h"
#include "md-resources.h"

#define KEY_A "0f8e7a52-3c1d-4b6e-9a2f-5d4c3b2a1908"
#define KEY_A_UPPER "0F8E7A52-3C1D-4B6E-9A2F-5D4C3B2A1908"
#define KEY_B "6b1c9d2e-8f3a-4e5b-a7c6-d1e2f3a4b5c6"
/* Bound on block-wise loops: far more blocks than any body here has. */
#define MAX_BLOCKS 4096

typedef struct
{
  gchar *dir;
  MdStore *store;
  MdObservers *observers;
  MdResources *resources;
  MdPeer peer;
  const char *identity; /* the transport's, NULL: plain CoAP */
  gint64 started_us;
  MdCoapMessage request;
  MdCoapMessage response;
  MdStoredNote stored; /* what the last request reported it stored */
} Fixture;

static void
make_peer (MdPeer *peer)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)&peer->addr;

  memset (peer, 0, sizeof *peer);
  peer->fd = -1;
  sin->sin_family = AF_INET;
  sin->sin_port = htons (40123);
  sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  peer->addr_len = sizeof *sin;
}

static void
fixture_set_up (Fixture *f, gconstpointer with_observers)
{
  g_autoptr (GError) error = NULL;
  MdStoreRecovery recovery;

  f->dir = g_dir_make_tmp ("test-resources-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = md_store_open (f->dir, &recovery, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
  f->observers = with_observers != NULL ? md_observers_new () : NULL;
  f->resources = md_resources_new (f->store, f->observers);
  f->started_us = g_get_monotonic_time ();
  make_peer (&f->peer);
}

static void
fixture_tear_down (Fixture *f, gconstpointer unused)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  md_resources_free (f->resources);
  if (f->observers != NULL)
    md_observers_free (f->observers);
  md_store_free (f->store);
  /* The store may keep other files (an index, a lock) next to the notes. */
  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* ---- requests ---- */

static void
request_init (Fixture *f, guint8 method, const char *path)
{
  static const guint8 token[] = { 0xa1, 0xb2, 0xc3, 0xd4 };

  md_coap_message_init (&f->request, MD_COAP_TYPE_CON, method, 0x1234);
  md_coap_message_set_token (&f->request, token, sizeof token);
  g_assert_true (md_coap_message_add_path (&f->request, MD_COAP_OPTION_URI_PATH, path));
}

static void
request_add_uint (Fixture *f, guint16 number, guint32 value)
{
  g_assert_true (md_coap_message_add_uint_option (&f->request, number, value));
}

static void
request_add_query (Fixture *f, const char *query)
{
  g_assert_true (md_coap_message_add_string_option (&f->request, MD_COAP_OPTION_URI_QUERY, query));
}

static void
request_set_text (Fixture *f, const char *text)
{
  g_assert_true (md_coap_message_set_payload (&f->request, text, strlen (text)));
}

static MdHandled
handle_at (Fixture *f, gint64 now_us)
{
  md_coap_message_init_response (&f->response, &f->request, MD_COAP_EMPTY, 0x4321);
  /* Filled with junk: md_resources_handle() must clear it. */
  memset (&f->stored, 0x55, sizeof f->stored);
  return md_resources_handle (f->resources, &f->request, &f->peer, f->identity, now_us,
                              &f->response, &f->stored);
}

/* Handles the request; a write is committed as the server would. */
static MdHandled
handle (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  MdHandled handled = handle_at (f, g_get_monotonic_time ());

  if (handled & MD_HANDLED_WROTE)
    {
      g_assert_true (md_store_commit (f->store, &error));
      g_assert_no_error (error);
    }
  return handled;
}

/* ---- checking responses ---- */

static void
assert_code (Fixture *f, guint8 expected)
{
  char got[5], want[5];

  md_coap_code_format (f->response.code, got);
  md_coap_code_format (expected, want);
  g_assert_cmpstr (got, ==, want);
  g_assert_cmpmem (f->response.token, f->response.token_len, f->request.token,
                   f->request.token_len);
}

static gchar *
response_text (Fixture *f)
{
  return g_strndup ((const char *)f->response.payload, f->response.payload_len);
}

static void
assert_payload (Fixture *f, const char *expected)
{
  g_assert_cmpmem (f->response.payload, f->response.payload_len, expected, strlen (expected));
}

static guint32
response_uint (Fixture *f, guint16 number)
{
  guint32 value = G_MAXUINT32;

  g_assert_true (md_coap_message_get_uint_option (&f->response, number, &value));
  return value;
}

/* Every error: the code, a short printable-ASCII diagnostic, no
 * Content-Format (RFC 7252 §5.5.2). */
static void
assert_error (Fixture *f, guint8 code, const char *diagnostic)
{
  assert_code (f, code);
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_CONTENT_FORMAT));
  g_assert_cmpuint (f->response.payload_len, >, 0);
  g_assert_cmpuint (f->response.payload_len, <=, 128);
  for (gsize i = 0; i < f->response.payload_len; i++)
    g_assert_true (f->response.payload[i] >= 0x20 && f->response.payload[i] < 0x7f);
  if (diagnostic != NULL)
    assert_payload (f, diagnostic);
}

static void
assert_text_content (Fixture *f, guint8 code)
{
  assert_code (f, code);
  g_assert_cmpuint (response_uint (f, MD_COAP_OPTION_CONTENT_FORMAT), ==, 0);
}

/* ---- helpers on the store ---- */

static guint64
post_note (Fixture *f, const char *text)
{
  request_init (f, MD_COAP_POST, "notes");
  request_set_text (f, text);
  g_assert_cmpint (handle (f), ==, MD_HANDLED_WROTE);
  assert_code (f, MD_COAP_CREATED);
  return md_store_get_count (f->store);
}

static gchar *
stored_line (Fixture *f, guint64 id)
{
  g_autoptr (GString) line = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (md_store_append_wire_line (f->store, id, line, &error));
  g_assert_no_error (error);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

static gchar *
stored_body (Fixture *f, guint64 after)
{
  GString *body = g_string_new (NULL);

  for (guint64 id = after + 1; id <= md_store_get_count (f->store); id++)
    {
      g_autofree gchar *line = stored_line (f, id);
      g_string_append (body, line);
    }
  return g_string_free (body, FALSE);
}

/* The text of the note in the response's wire line. */
static gchar *
response_note_text (Fixture *f, guint64 *id)
{
  g_autoptr (GError) error = NULL;
  MdNoteLine note;

  g_assert_true (md_note_parse_wire_line ((const char *)f->response.payload,
                                          f->response.payload_len, &note, &error));
  g_assert_no_error (error);
  if (id != NULL)
    *id = note.id;
  return g_strndup (note.text, note.text_len);
}

/* The author of the note in the response's wire line. */
static gchar *
response_note_author (Fixture *f)
{
  MdNoteLine note;

  g_assert_true (md_note_parse_wire_line ((const char *)f->response.payload,
                                          f->response.payload_len, &note, NULL));
  return g_strndup (note.author, note.author_len);
}

/* ---- POST /notes ---- */

static void
test_post_created (Fixture *f, gconstpointer unused)
{
  const MdCoapOption *first, *second;
  g_autofree gchar *text = NULL;
  guint64 id;

  request_init (f, MD_COAP_POST, "notes");
  request_set_text (f, "bought milk");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_WROTE);
  assert_code (f, MD_COAP_CREATED);
  first = md_coap_message_find_option (&f->response, MD_COAP_OPTION_LOCATION_PATH);
  g_assert_nonnull (first);
  g_assert_cmpmem (first->value, first->length, "notes", 5);
  second = first + 1;
  g_assert_cmpuint (second->number, ==, MD_COAP_OPTION_LOCATION_PATH);
  g_assert_cmpmem (second->value, second->length, "1", 1);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
  g_assert_cmpuint (f->stored.id, ==, 1);
  g_assert_cmpstr (f->stored.key, ==, "");

  request_init (f, MD_COAP_GET, "notes/1");
  handle (f);
  g_assert_cmpuint (f->stored.id, ==, 0);
  assert_text_content (f, MD_COAP_CONTENT);
  text = response_note_text (f, &id);
  g_assert_cmpstr (text, ==, "bought milk");
  g_assert_cmpuint (id, ==, 1);
}

static void
test_post_chinese (Fixture *f, gconstpointer unused)
{
  const char *note = "今天天气很好，我们去公园散步。";
  g_autofree gchar *text = NULL;

  post_note (f, note);
  request_init (f, MD_COAP_GET, "latest");
  handle (f);
  assert_text_content (f, MD_COAP_CONTENT);
  text = response_note_text (f, NULL);
  g_assert_cmpstr (text, ==, note);
}

static void
post_rejected (Fixture *f, const char *text, gsize len, guint8 code, const char *diagnostic)
{
  request_init (f, MD_COAP_POST, "notes");
  g_assert_true (md_coap_message_set_payload (&f->request, text, len));
  g_assert_cmpint (handle (f), ==, MD_HANDLED_READ);
  assert_error (f, code, diagnostic);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 0);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 0);
}

static void
test_post_invalid (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *long_note = g_strnfill (MD_NOTE_MAX_BYTES + 1, 'x');

  post_rejected (f, "", 0, MD_COAP_BAD_REQUEST, "note is empty");
  post_rejected (f, "a\tb", 3, MD_COAP_BAD_REQUEST, "note contains a control character");
  post_rejected (f, "a\nb", 3, MD_COAP_BAD_REQUEST, "note contains a control character");
  post_rejected (f, "\xc3\x28", 2, MD_COAP_BAD_REQUEST, "note is not valid UTF-8");
  post_rejected (f, long_note, strlen (long_note), MD_COAP_REQUEST_ENTITY_TOO_LARGE,
                 "note is longer than 1000 bytes");
  g_assert_cmpuint (response_uint (f, MD_COAP_OPTION_SIZE1), ==, MD_NOTE_MAX_BYTES);
}

static void
test_post_longest (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *note = g_strnfill (MD_NOTE_MAX_BYTES, 'y');
  g_autofree gchar *text = NULL;

  post_note (f, note);
  request_init (f, MD_COAP_GET, "notes/1");
  handle (f);
  text = response_note_text (f, NULL);
  g_assert_cmpstr (text, ==, note);
}

static void
test_post_content_format (Fixture *f, gconstpointer unused)
{
  request_init (f, MD_COAP_POST, "notes");
  request_add_uint (f, MD_COAP_OPTION_CONTENT_FORMAT, MD_COAP_FORMAT_JSON);
  request_set_text (f, "{\"text\":\"x\"}");
  handle (f);
  assert_error (f, MD_COAP_UNSUPPORTED_CONTENT_FORMAT, NULL);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 0);

  request_init (f, MD_COAP_POST, "notes");
  request_add_uint (f, MD_COAP_OPTION_CONTENT_FORMAT, MD_COAP_FORMAT_TEXT_PLAIN);
  request_set_text (f, "plain");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_WROTE);
  assert_code (f, MD_COAP_CREATED);
}

/* A file size limit makes the append fail like a full disk would. */
static void
test_post_storage_error (Fixture *f, gconstpointer unused)
{
  struct rlimit saved, limit;
  g_autofree gchar *big = g_strnfill (900, 'z');
  GStatBuf st;
  MdHandled handled;

  post_note (f, "first");
  g_assert_cmpint (g_stat (md_store_get_path (f->store), &st), ==, 0);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  limit = saved;
  limit.rlim_cur = (rlim_t)st.st_size + 100;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  request_init (f, MD_COAP_POST, "notes");
  request_set_text (f, big);
  handled = handle_at (f, g_get_monotonic_time ());

  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, SIG_DFL);
  g_assert_cmpint (handled, ==, MD_HANDLED_READ);
  assert_error (f, MD_COAP_SERVICE_UNAVAILABLE, NULL);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 1);
}

/* ---- PUT /notes/KEY ---- */

static void
put_key (Fixture *f, const char *key, const char *text)
{
  g_autofree gchar *path = g_strconcat ("notes/", key, NULL);

  request_init (f, MD_COAP_PUT, path);
  g_assert_true (md_coap_message_add_option (&f->request, MD_COAP_OPTION_IF_NONE_MATCH, NULL, 0));
  request_set_text (f, text);
}

/* Plain CoAP: "@" and the address, without the port; the file, the wire
 * and what the server logs (stored.author) agree. */
static void
test_post_author_plain (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *author = NULL;
  g_autofree gchar *line = NULL;
  g_autofree gchar *contents = NULL;

  post_note (f, "from loopback");
  g_assert_cmpstr (f->stored.author, ==, "@127.0.0.1");
  line = stored_line (f, 1);
  g_assert_true (g_str_has_suffix (line, "\t@127.0.0.1\tfrom loopback\n"));
  g_assert_true (g_file_get_contents (md_store_get_path (f->store), &contents, NULL, NULL));
  g_assert_true (g_str_has_suffix (contents, "Z\t-\t@127.0.0.1\tfrom loopback\n"));
  request_init (f, MD_COAP_GET, "latest");
  handle (f);
  author = response_note_author (f);
  g_assert_cmpstr (author, ==, "@127.0.0.1");
}

/* DTLS: the identity the transport proved is the author. */
static void
test_post_author_identity (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *author = NULL;

  f->identity = "alice";
  put_key (f, KEY_A, "from alice");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_WROTE);
  assert_text_content (f, MD_COAP_CREATED);
  g_assert_cmpstr (f->stored.author, ==, "alice");
  author = response_note_author (f);
  g_assert_cmpstr (author, ==, "alice");
  /* The 4.12 of a retry carries the stored line, author and all, whoever
   * asks. */
  g_clear_pointer (&author, g_free);
  f->identity = NULL;
  put_key (f, KEY_A, "from alice");
  handle (f);
  assert_text_content (f, MD_COAP_PRECONDITION_FAILED);
  author = response_note_author (f);
  g_assert_cmpstr (author, ==, "alice");
}

/* An identity that breaks the name rules (a transport bug) stores nothing. */
static void
test_post_author_refused (Fixture *f, gconstpointer unused)
{
  f->identity = "\x1b[2J";
  request_init (f, MD_COAP_POST, "notes");
  request_set_text (f, "never stored");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_READ);
  assert_code (f, MD_COAP_UNAUTHORIZED);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 0);
  g_assert_cmpuint (f->stored.id, ==, 0);
}

static void
test_put_created_then_precondition (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autofree gchar *text = NULL;
  const MdCoapOption *location;

  put_key (f, KEY_A, "from a retrying client");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_WROTE);
  assert_text_content (f, MD_COAP_CREATED);
  location = md_coap_message_find_option (&f->response, MD_COAP_OPTION_LOCATION_PATH);
  g_assert_nonnull (location);
  g_assert_cmpmem (location[1].value, location[1].length, "1", 1);
  first = response_text (f);
  text = response_note_text (f, NULL);
  g_assert_cmpstr (text, ==, "from a retrying client");

  put_key (f, KEY_A, "from a retrying client");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_READ);
  assert_text_content (f, MD_COAP_PRECONDITION_FAILED);
  second = response_text (f);
  g_assert_cmpstr (first, ==, second);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 1);

  /* Even with another text the key decides: nothing new is stored. */
  put_key (f, KEY_A, "something else");
  handle (f);
  assert_code (f, MD_COAP_PRECONDITION_FAILED);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 1);
}

static void
test_put_key_case (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *contents = NULL;
  guint64 id;

  put_key (f, KEY_A_UPPER, "upper");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_WROTE);
  assert_code (f, MD_COAP_CREATED);
  /* The key as stored, not as sent. */
  g_assert_cmpuint (f->stored.id, ==, 1);
  g_assert_cmpstr (f->stored.key, ==, KEY_A);
  g_assert_true (md_store_lookup_key (f->store, KEY_A, &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_true (g_file_get_contents (md_store_get_path (f->store), &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "\t" KEY_A "\t"));
  g_assert_null (strstr (contents, KEY_A_UPPER));

  put_key (f, KEY_A, "lower");
  handle (f);
  assert_code (f, MD_COAP_PRECONDITION_FAILED);
  g_assert_cmpuint (f->stored.id, ==, 0);
  request_init (f, MD_COAP_GET, "notes/" KEY_A_UPPER);
  handle (f);
  assert_text_content (f, MD_COAP_CONTENT);
}

/* A retransmission in the same main-loop turn finds its note still pending:
 * the 4.12 must wait for the commit like the 2.01 does. */
static void
test_put_pending (Fixture *f, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;

  put_key (f, KEY_A, "pending");
  g_assert_cmpint (handle_at (f, g_get_monotonic_time ()), ==, MD_HANDLED_WROTE);
  put_key (f, KEY_A, "pending");
  g_assert_cmpint (handle_at (f, g_get_monotonic_time ()), ==, MD_HANDLED_WROTE);
  assert_code (f, MD_COAP_PRECONDITION_FAILED);
  /* Waits like a write, but appended nothing. */
  g_assert_cmpuint (f->stored.id, ==, 0);
  g_assert_true (md_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
}

static void
test_put_errors (Fixture *f, gconstpointer unused)
{
  guint64 id;

  put_key (f, "not-a-uuid", "x");
  handle (f);
  assert_error (f, MD_COAP_BAD_REQUEST, "key must be a UUID");
  put_key (f, "42", "x");
  handle (f);
  assert_error (f, MD_COAP_BAD_REQUEST, "key must be a UUID");

  request_init (f, MD_COAP_PUT, "notes/" KEY_A);
  request_set_text (f, "no precondition");
  handle (f);
  assert_error (f, MD_COAP_BAD_REQUEST, "PUT needs If-None-Match: notes are create-only");

  put_key (f, KEY_A, "bad\x01note");
  handle (f);
  assert_error (f, MD_COAP_BAD_REQUEST, "note contains a control character");

  put_key (f, KEY_A, "json");
  request_add_uint (f, MD_COAP_OPTION_CONTENT_FORMAT, MD_COAP_FORMAT_JSON);
  handle (f);
  assert_error (f, MD_COAP_UNSUPPORTED_CONTENT_FORMAT, NULL);

  request_init (f, MD_COAP_PUT, "notes");
  handle (f);
  assert_error (f, MD_COAP_METHOD_NOT_ALLOWED, NULL);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 0);
  g_assert_false (md_store_lookup_key (f->store, KEY_A, &id));
}

/* ---- GET /notes ---- */

static void
add_notes (Fixture *f, guint n, gsize text_len)
{
  for (guint i = 1; i <= n; i++)
    {
      g_autofree gchar *pad = g_strnfill (text_len, 'a' + (i % 26));
      g_autofree gchar *text = g_strdup_printf ("%u %s", i, pad);
      post_note (f, text);
    }
}

static void
test_get_notes_empty (Fixture *f, gconstpointer unused)
{
  request_init (f, MD_COAP_GET, "notes");
  g_assert_cmpint (handle (f), ==, MD_HANDLED_READ);
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (f->response.payload_len, ==, 0);
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_BLOCK2));
}

static void
test_get_notes_small (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *body = NULL;

  add_notes (f, 3, 10);
  body = stored_body (f, 0);
  request_init (f, MD_COAP_GET, "notes");
  handle (f);
  assert_text_content (f, MD_COAP_CONTENT);
  assert_payload (f, body);
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_BLOCK2));
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_SIZE2));
}

/* Reads GET /notes?QUERY block by block at @szx until M=0. */
static gchar *
read_blockwise (Fixture *f, const char *query, guint szx)
{
  GString *body = g_string_new (NULL);
  gsize size = md_coap_block_size (szx);
  MdCoapBlock block = { 0, FALSE, szx };
  guint32 num;

  for (num = 0; num < MAX_BLOCKS; num++)
    {
      MdCoapBlock got;

      block.num = num;
      request_init (f, MD_COAP_GET, "notes");
      if (query != NULL)
        request_add_query (f, query);
      g_assert_true (md_coap_message_add_block (&f->request, MD_COAP_OPTION_BLOCK2, &block));
      handle (f);
      assert_text_content (f, MD_COAP_CONTENT);
      g_assert_true (md_coap_message_get_block (&f->response, MD_COAP_OPTION_BLOCK2, &got));
      g_assert_cmpuint (got.num, ==, num);
      g_assert_cmpuint (got.szx, ==, szx);
      g_assert_cmpint (md_coap_message_has_option (&f->response, MD_COAP_OPTION_SIZE2), ==,
                       num == 0);
      g_string_append_len (body, (const char *)f->response.payload,
                           (gssize)f->response.payload_len);
      if (!got.more)
        break;
      g_assert_cmpuint (f->response.payload_len, ==, size);
    }
  g_assert_cmpuint (num, <, MAX_BLOCKS);
  return g_string_free (body, FALSE);
}

static void
test_get_notes_blockwise (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *expected = NULL;
  g_autofree gchar *szx2 = NULL;
  g_autofree gchar *szx6 = NULL;

  add_notes (f, 40, 300);
  expected = stored_body (f, 0);
  g_assert_cmpuint (strlen (expected), >, 10 * 1024);
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==, strlen (expected));

  szx2 = read_blockwise (f, NULL, 2);
  g_assert_cmpstr (szx2, ==, expected);
  szx6 = read_blockwise (f, NULL, 6);
  g_assert_cmpstr (szx6, ==, expected);
}

/* Without Block2 a large body still comes as block 0 of 1024 bytes, with
 * Size2 so the client knows what follows. */
static void
test_get_notes_late_negotiation (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *expected = NULL;
  MdCoapBlock got;

  add_notes (f, 10, 300);
  expected = stored_body (f, 0);
  request_init (f, MD_COAP_GET, "notes");
  handle (f);
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_true (md_coap_message_get_block (&f->response, MD_COAP_OPTION_BLOCK2, &got));
  g_assert_cmpuint (got.num, ==, 0);
  g_assert_true (got.more);
  g_assert_cmpuint (got.szx, ==, 6);
  g_assert_cmpuint (response_uint (f, MD_COAP_OPTION_SIZE2), ==, strlen (expected));
  g_assert_cmpmem (f->response.payload, f->response.payload_len, expected, 1024);
}

static void
get_block (Fixture *f, guint32 num, guint szx)
{
  MdCoapBlock block = { num, FALSE, szx };

  request_init (f, MD_COAP_GET, "notes");
  g_assert_true (md_coap_message_add_block (&f->request, MD_COAP_OPTION_BLOCK2, &block));
  handle (f);
}

static void
test_get_notes_beyond_end (Fixture *f, gconstpointer unused)
{
  gsize total;

  add_notes (f, 1, 5);
  total = md_store_get_body_size (f->store, 0);
  g_assert_cmpuint (total, <, 64);
  get_block (f, 0, 2);
  assert_text_content (f, MD_COAP_CONTENT);
  get_block (f, 1, 2);
  assert_error (f, MD_COAP_BAD_OPTION, "block beyond end");
  get_block (f, 1, 0); /* 16..31: inside the body */
  assert_text_content (f, MD_COAP_CONTENT);
  /* The largest NUM a Block option can carry, at every size. */
  for (guint szx = 0; szx <= MD_COAP_MAX_BLOCK_SZX; szx++)
    {
      get_block (f, (1u << 20) - 1, szx);
      assert_error (f, MD_COAP_BAD_OPTION, "block beyond end");
    }
}

/* A body that ends exactly on a block boundary: the last block has M=0 and
 * the next one is beyond the end, not an empty block. */
static void
test_get_notes_exact_end (Fixture *f, gconstpointer unused)
{
  MdCoapBlock got;

  /* "1\tTIME\t@127.0.0.1\t1234567890123\n": 48 bytes, three 16-byte blocks */
  post_note (f, "1234567890123");
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==, 48);
  get_block (f, 2, 0);
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (f->response.payload_len, ==, 16);
  g_assert_true (md_coap_message_get_block (&f->response, MD_COAP_OPTION_BLOCK2, &got));
  g_assert_false (got.more);
  get_block (f, 0, 0);
  g_assert_true (md_coap_message_get_block (&f->response, MD_COAP_OPTION_BLOCK2, &got));
  g_assert_true (got.more);
  g_assert_cmpuint (response_uint (f, MD_COAP_OPTION_SIZE2), ==, 48);
  get_block (f, 3, 0);
  assert_error (f, MD_COAP_BAD_OPTION, "block beyond end");
}

static void
test_get_notes_empty_block (Fixture *f, gconstpointer unused)
{
  MdCoapBlock got;

  get_block (f, 0, 3);
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (f->response.payload_len, ==, 0);
  g_assert_true (md_coap_message_get_block (&f->response, MD_COAP_OPTION_BLOCK2, &got));
  g_assert_false (got.more);
  get_block (f, 1, 3);
  assert_error (f, MD_COAP_BAD_OPTION, "block beyond end");
}

/* SZX 7 is reserved: 4.00 (RFC 7959 §2.2). */
static void
test_get_notes_bad_block (Fixture *f, gconstpointer unused)
{
  const guint8 reserved_szx = 0x07;

  add_notes (f, 1, 5);
  request_init (f, MD_COAP_GET, "notes");
  g_assert_true (md_coap_message_add_option (&f->request, MD_COAP_OPTION_BLOCK2, &reserved_szx, 1));
  handle (f);
  assert_error (f, MD_COAP_BAD_REQUEST, NULL);
}

static void
get_after (Fixture *f, const char *query)
{
  request_init (f, MD_COAP_GET, "notes");
  request_add_query (f, query);
  handle (f);
}

static void
test_get_notes_after (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *all = NULL;
  g_autofree gchar *after3 = NULL;
  g_autofree gchar *blockwise = NULL;

  add_notes (f, 5, 8);
  all = stored_body (f, 0);
  after3 = stored_body (f, 3);
  get_after (f, "after=0");
  assert_payload (f, all);
  get_after (f, "after=3");
  assert_text_content (f, MD_COAP_CONTENT);
  assert_payload (f, after3);
  get_after (f, "after=5");
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (f->response.payload_len, ==, 0);
  get_after (f, "after=18446744073709551615");
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (f->response.payload_len, ==, 0);
  blockwise = read_blockwise (f, "after=3", 0);
  g_assert_cmpstr (blockwise, ==, after3);
}

static void
test_get_notes_after_junk (Fixture *f, gconstpointer unused)
{
  const char *junk[] = { "after=",
                         "after=1x",
                         "after=x1",
                         "after=-1",
                         "after=+1",
                         "after= 1",
                         "after=1 ",
                         "after=0x10",
                         "after=1.0",
                         "after=18446744073709551616",
                         "after=99999999999999999999999" };

  add_notes (f, 2, 4);
  for (gsize i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      get_after (f, junk[i]);
      assert_error (f, MD_COAP_BAD_REQUEST, "after must be a note id");
    }
}

/* ---- GET /notes/ID and /notes/KEY ---- */

static void
get_path (Fixture *f, const char *path)
{
  request_init (f, MD_COAP_GET, path);
  handle (f);
}

static void
test_get_note (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *line2 = NULL;

  add_notes (f, 2, 5);
  line2 = stored_line (f, 2);
  get_path (f, "notes/2");
  assert_text_content (f, MD_COAP_CONTENT);
  assert_payload (f, line2);
  get_path (f, "notes/3");
  assert_error (f, MD_COAP_NOT_FOUND, "no note 3");
  get_path (f, "notes/0");
  assert_error (f, MD_COAP_NOT_FOUND, "no note 0");
  get_path (f, "notes/02");
  assert_error (f, MD_COAP_NOT_FOUND, NULL);
  get_path (f, "notes/99999999999999999999999");
  assert_error (f, MD_COAP_NOT_FOUND, NULL);
  get_path (f, "notes/2/x");
  assert_error (f, MD_COAP_NOT_FOUND, "no such resource: /notes/2/x");
  get_path (f, "notes/abc");
  assert_error (f, MD_COAP_NOT_FOUND, "no such resource: /notes/abc");
  /* An empty last segment ("notes/"): no note, and no crash (found by
   * fuzz-server, tests/fuzz/regressions/server/empty-segment-after-notes). */
  request_init (f, MD_COAP_GET, "notes");
  g_assert_true (md_coap_message_add_option (&f->request, MD_COAP_OPTION_URI_PATH, "", 0));
  handle (f);
  assert_error (f, MD_COAP_NOT_FOUND, NULL);
}

static void
test_get_note_by_key (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *line = NULL;

  post_note (f, "no key");
  put_key (f, KEY_A, "with a key");
  handle (f);
  line = stored_line (f, 2);
  get_path (f, "notes/" KEY_A);
  assert_text_content (f, MD_COAP_CONTENT);
  assert_payload (f, line);
  get_path (f, "notes/" KEY_B);
  assert_error (f, MD_COAP_NOT_FOUND, "no note " KEY_B);
}

/* Notes not yet committed are invisible to readers. */
static void
test_get_pending_invisible (Fixture *f, gconstpointer unused)
{
  request_init (f, MD_COAP_POST, "notes");
  request_set_text (f, "not yet durable");
  g_assert_cmpint (handle_at (f, g_get_monotonic_time ()), ==, MD_HANDLED_WROTE);
  g_assert_true (md_store_has_pending (f->store));

  get_path (f, "notes/1");
  assert_error (f, MD_COAP_NOT_FOUND, NULL);
  get_path (f, "notes");
  g_assert_cmpuint (f->response.payload_len, ==, 0);
  get_path (f, "latest");
  g_assert_cmpuint (f->response.payload_len, ==, 0);
}

/* ---- /latest ---- */

static void
test_latest (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *line = NULL;

  get_path (f, "latest");
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (f->response.payload_len, ==, 0);
  add_notes (f, 3, 6);
  line = stored_line (f, 3);
  get_path (f, "latest");
  assert_text_content (f, MD_COAP_CONTENT);
  assert_payload (f, line);
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_OBSERVE));
}

static void
get_latest_observe (Fixture *f, guint32 observe, gint64 now_us)
{
  request_init (f, MD_COAP_GET, "latest");
  request_add_uint (f, MD_COAP_OPTION_OBSERVE, observe);
  g_assert_cmpint (handle_at (f, now_us), ==, MD_HANDLED_READ);
}

static void
test_latest_observe (Fixture *f, gconstpointer unused)
{
  gint64 now = g_get_monotonic_time ();

  post_note (f, "first");
  get_latest_observe (f, 0, now);
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_cmpuint (response_uint (f, MD_COAP_OPTION_OBSERVE), ==,
                    md_observers_get_sequence (f->observers));
  g_assert_cmpuint (md_observers_get_count (f->observers, now), ==, 1);

  /* Registering again refreshes, it does not add. */
  get_latest_observe (f, 0, now);
  g_assert_true (md_coap_message_has_option (&f->response, MD_COAP_OPTION_OBSERVE));
  g_assert_cmpuint (md_observers_get_count (f->observers, now), ==, 1);

  get_latest_observe (f, 1, now);
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_OBSERVE));
  g_assert_cmpuint (md_observers_get_count (f->observers, now), ==, 0);
}

static void
test_latest_observe_without_observers (Fixture *f, gconstpointer unused)
{
  get_latest_observe (f, 0, g_get_monotonic_time ());
  assert_text_content (f, MD_COAP_CONTENT);
  g_assert_false (md_coap_message_has_option (&f->response, MD_COAP_OPTION_OBSERVE));
}

/* An error is no registration (RFC 7641 §4.1). */
static void
test_latest_observe_error (Fixture *f, gconstpointer unused)
{
  gint64 now = g_get_monotonic_time ();

  request_init (f, MD_COAP_GET, "latest");
  request_add_uint (f, MD_COAP_OPTION_OBSERVE, 0);
  request_add_uint (f, MD_COAP_OPTION_ACCEPT, MD_COAP_FORMAT_JSON);
  handle_at (f, now);
  assert_error (f, MD_COAP_NOT_ACCEPTABLE, NULL);
  g_assert_cmpuint (md_observers_get_count (f->observers, now), ==, 0);
}

/* ---- /status and /.well-known/core ---- */

static void
test_status (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *text = NULL;
  g_autofree gchar *state_file = NULL;
  g_autofree gchar *direct = NULL;
  g_autofree gchar *notebook = NULL;
  gint64 now = f->started_us + 7 * G_USEC_PER_SEC + G_USEC_PER_SEC / 2;

  add_notes (f, 2, 3);
  request_init (f, MD_COAP_GET, "status");
  handle_at (f, now);
  assert_text_content (f, MD_COAP_CONTENT);
  text = response_text (f);
  g_assert_true (g_str_has_prefix (text, "version: " PACKAGE_VERSION "\n"));
  g_assert_nonnull (strstr (text, "\nnotes: 2\n"));
  g_assert_nonnull (strstr (text, "\nlast-id: 2\n"));
  /* started_us was read just after md_resources_new: 7 or, on a slow machine, 8 s. */
  g_assert_true (strstr (text, "\nuptime: 7\n") != NULL || strstr (text, "\nuptime: 8\n") != NULL);
  g_assert_nonnull (strstr (text, "\nobservers: 0\n"));
  state_file = g_strdup_printf ("\nstate-file: %s\n", md_store_get_path (f->store));
  g_assert_nonnull (strstr (text, state_file));
  notebook = g_strdup_printf ("\nnotebook: %s\n", md_store_get_notebook_id (f->store));
  g_assert_nonnull (strstr (text, notebook));
  direct = md_resources_describe_status (f->resources, now);
  g_assert_cmpstr (direct, ==, text);
}

static void
test_status_observers (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *text = NULL;
  gint64 now = g_get_monotonic_time ();

  get_latest_observe (f, 0, now);
  text = md_resources_describe_status (f->resources, now);
  g_assert_nonnull (strstr (text, "\nobservers: 1\n"));
}

static void
test_core (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *text = NULL;
  g_autofree gchar *notebook = NULL;
  g_autofree gchar *notes_link = NULL;

  get_path (f, ".well-known/core");
  assert_code (f, MD_COAP_CONTENT);
  g_assert_cmpuint (response_uint (f, MD_COAP_OPTION_CONTENT_FORMAT), ==, 40);
  text = response_text (f);
  g_assert_nonnull (strstr (text, "</notes>;"));
  g_assert_nonnull (strstr (text, "</latest>;"));
  g_assert_nonnull (strstr (text, ";obs"));
  g_assert_nonnull (strstr (text, "</status>;"));
  /* The identity is an attribute of the </notes> link. */
  notebook = g_strdup_printf (";notebook=\"%s\"", md_store_get_notebook_id (f->store));
  notes_link = g_strndup (strstr (text, "</notes>;"), strcspn (strstr (text, "</notes>;"), ","));
  g_assert_nonnull (strstr (notes_link, notebook));

  request_init (f, MD_COAP_GET, ".well-known/core");
  request_add_uint (f, MD_COAP_OPTION_ACCEPT, MD_COAP_FORMAT_LINK_FORMAT);
  handle (f);
  assert_code (f, MD_COAP_CONTENT);
  request_init (f, MD_COAP_GET, ".well-known/core");
  request_add_uint (f, MD_COAP_OPTION_ACCEPT, MD_COAP_FORMAT_TEXT_PLAIN);
  handle (f);
  assert_error (f, MD_COAP_NOT_ACCEPTABLE, NULL);
}

/* The </notes> link is the discovery answer's: name and DTLS port too. */
static void
test_core_identity (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *text = NULL;
  g_autofree gchar *expected = NULL;

  md_resources_set_identity (f->resources, "kitchen", 5684);
  get_path (f, ".well-known/core");
  text = response_text (f);
  expected
      = g_strdup_printf ("</notes>;rt=\"mydaily.notes\";ct=0;notebook=\"%s\";title=\"kitchen\";"
                         "coaps=\"5684\",",
                         md_store_get_notebook_id (f->store));
  g_assert_true (g_str_has_prefix (text, expected));
}

/* The links of /.well-known/core?rt=@filter, as one string. */
static gchar *
core_filtered (Fixture *f, const char *filter)
{
  g_autofree gchar *query = g_strconcat ("rt=", filter, NULL);

  request_init (f, MD_COAP_GET, ".well-known/core");
  request_add_query (f, query);
  handle (f);
  assert_code (f, MD_COAP_CONTENT);
  return response_text (f);
}

/* RFC 6690 §4.1: rt= keeps the links of one resource type, or of a prefix. */
static void
test_core_rt_filter (Fixture *f, gconstpointer unused)
{
  g_autofree gchar *notes = core_filtered (f, "mydaily.notes");
  g_autofree gchar *all = core_filtered (f, "mydaily.*");
  g_autofree gchar *none = core_filtered (f, "no.such.type");

  g_assert_true (g_str_has_prefix (notes, "</notes>;rt=\"mydaily.notes\";"));
  g_assert_null (strchr (notes, ','));
  g_assert_nonnull (strstr (all, "</notes>;"));
  g_assert_nonnull (strstr (all, "</latest>;"));
  g_assert_nonnull (strstr (all, "</status>;"));
  g_assert_true (none == NULL || *none == '\0');
}

/* ---- errors common to all resources ---- */

static void
test_accept (Fixture *f, gconstpointer unused)
{
  const char *paths[] = { "notes", "notes/1", "latest", "status" };

  post_note (f, "x");
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      request_init (f, MD_COAP_GET, paths[i]);
      request_add_uint (f, MD_COAP_OPTION_ACCEPT, MD_COAP_FORMAT_JSON);
      handle (f);
      assert_error (f, MD_COAP_NOT_ACCEPTABLE, "only text/plain (0) is available");

      request_init (f, MD_COAP_GET, paths[i]);
      request_add_uint (f, MD_COAP_OPTION_ACCEPT, MD_COAP_FORMAT_TEXT_PLAIN);
      handle (f);
      assert_text_content (f, MD_COAP_CONTENT);
    }
}

static void
test_unknown_path (Fixture *f, gconstpointer unused)
{
  get_path (f, "nothing");
  assert_error (f, MD_COAP_NOT_FOUND, "no such resource: /nothing");
  request_init (f, MD_COAP_GET, "");
  handle (f);
  assert_error (f, MD_COAP_NOT_FOUND, "no such resource: /");
  get_path (f, "notes/1/2/3");
  assert_error (f, MD_COAP_NOT_FOUND, NULL);
  /* Non-ASCII is escaped, a long path cut short. */
  get_path (f, "笔记");
  assert_error (f, MD_COAP_NOT_FOUND, "no such resource: /%E7%AC%94%E8%AE%B0");
  get_path (f, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  assert_error (f, MD_COAP_NOT_FOUND, NULL);
}

static void
test_bad_path (Fixture *f, gconstpointer unused)
{
  md_coap_message_init (&f->request, MD_COAP_TYPE_CON, MD_COAP_GET, 0x1234);
  g_assert_true (md_coap_message_add_option (&f->request, MD_COAP_OPTION_URI_PATH, "a/b", 3));
  handle (f);
  assert_error (f, MD_COAP_BAD_REQUEST, NULL);
}

static void
expect_method_not_allowed (Fixture *f, guint8 method, const char *path, const char *allowed)
{
  g_autofree gchar *text = NULL;

  request_init (f, method, path);
  g_assert_cmpint (handle (f), ==, MD_HANDLED_READ);
  assert_error (f, MD_COAP_METHOD_NOT_ALLOWED, NULL);
  text = response_text (f);
  g_assert_nonnull (strstr (text, allowed));
}

static void
test_method_not_allowed (Fixture *f, gconstpointer unused)
{
  expect_method_not_allowed (f, MD_COAP_DELETE, "notes", "GET or POST");
  expect_method_not_allowed (f, MD_COAP_POST, "notes/1", "GET or PUT");
  expect_method_not_allowed (f, MD_COAP_DELETE, "notes/" KEY_A, "GET or PUT");
  expect_method_not_allowed (f, MD_COAP_POST, "latest", "GET");
  expect_method_not_allowed (f, MD_COAP_PUT, "status", "GET");
  expect_method_not_allowed (f, MD_COAP_POST, ".well-known/core", "GET");
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 0);
}

static void
test_fail_write (Fixture *f, gconstpointer unused)
{
  put_key (f, KEY_A, "will not be durable");
  g_assert_cmpint (handle_at (f, g_get_monotonic_time ()), ==, MD_HANDLED_WROTE);
  g_assert_cmpuint (f->response.n_options, >, 0);
  md_resources_fail (&f->response, MD_COAP_SERVICE_UNAVAILABLE,
                     "storage error: No space left on device");
  assert_error (f, MD_COAP_SERVICE_UNAVAILABLE, "storage error: No space left on device");
  g_assert_cmpuint (f->response.n_options, ==, 0);
  g_assert_cmpuint (f->response.type, ==, MD_COAP_TYPE_ACK);
  g_assert_cmpuint (f->response.mid, ==, 0x1234);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
#define ADD_OBS(path, func)                                                                        \
  g_test_add (path, Fixture, "observers", fixture_set_up, func, fixture_tear_down)

  ADD_OBS ("/resources/post/created", test_post_created);
  ADD_OBS ("/resources/post/chinese", test_post_chinese);
  ADD ("/resources/author/plain", test_post_author_plain);
  ADD ("/resources/author/identity", test_post_author_identity);
  ADD ("/resources/author/refused", test_post_author_refused);
  ADD_OBS ("/resources/post/invalid", test_post_invalid);
  ADD_OBS ("/resources/post/longest", test_post_longest);
  ADD_OBS ("/resources/post/content-format", test_post_content_format);
  ADD_OBS ("/resources/post/storage-error", test_post_storage_error);
  ADD_OBS ("/resources/put/created-then-precondition", test_put_created_then_precondition);
  ADD_OBS ("/resources/put/key-case", test_put_key_case);
  ADD_OBS ("/resources/put/pending", test_put_pending);
  ADD_OBS ("/resources/put/errors", test_put_errors);
  ADD_OBS ("/resources/notes/empty", test_get_notes_empty);
  ADD_OBS ("/resources/notes/small", test_get_notes_small);
  ADD_OBS ("/resources/notes/blockwise", test_get_notes_blockwise);
  ADD_OBS ("/resources/notes/late-negotiation", test_get_notes_late_negotiation);
  ADD_OBS ("/resources/notes/beyond-end", test_get_notes_beyond_end);
  ADD_OBS ("/resources/notes/empty-block", test_get_notes_empty_block);
  ADD_OBS ("/resources/notes/exact-end", test_get_notes_exact_end);
  ADD_OBS ("/resources/notes/bad-block", test_get_notes_bad_block);
  ADD_OBS ("/resources/notes/after", test_get_notes_after);
  ADD_OBS ("/resources/notes/after-junk", test_get_notes_after_junk);
  ADD_OBS ("/resources/note/by-id", test_get_note);
  ADD_OBS ("/resources/note/by-key", test_get_note_by_key);
  ADD_OBS ("/resources/note/pending-invisible", test_get_pending_invisible);
  ADD_OBS ("/resources/latest/get", test_latest);
  ADD_OBS ("/resources/latest/observe", test_latest_observe);
  ADD ("/resources/latest/observe-without-observers", test_latest_observe_without_observers);
  ADD_OBS ("/resources/latest/observe-error", test_latest_observe_error);
  ADD_OBS ("/resources/status/lines", test_status);
  ADD_OBS ("/resources/status/observers", test_status_observers);
  ADD_OBS ("/resources/core", test_core);
  ADD_OBS ("/resources/core/rt-filter", test_core_rt_filter);
  ADD_OBS ("/resources/core/identity", test_core_identity);
  ADD_OBS ("/resources/errors/accept", test_accept);
  ADD_OBS ("/resources/errors/unknown-path", test_unknown_path);
  ADD_OBS ("/resources/errors/bad-path", test_bad_path);
  ADD_OBS ("/resources/errors/method", test_method_not_allowed);
  ADD_OBS ("/resources/fail-write", test_fail_write);

  return g_test_run ();
}
