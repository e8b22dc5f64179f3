/* Block-wise reads with a window (md-client-blockwise) and the notes read
 * with a check of the cached note (md-client-notes), against a scripted
 * server on a manual clock. */
#include "config.h"

#include "md-client-blockwise.h"
#include "md-client-notes.h"
#include "md-error.h"
#include "md-fake-server.h"

#include <string.h>

#define BLOCK 1024
#define MAX_STEPS 20000

typedef struct
{
  MdFakeServer *server;
  MdClientClock *clock;
  MdClient *client;
  GString *body;     /* what the server serves */
  GByteArray *out;   /* what the sink got */
  GHashTable *asked; /* block num -> TRUE, asked for and not answered */
  guint max_outstanding;
  gboolean done;
  gboolean ok;
  GError *error;
  /* scripting */
  guint drop_first_tries; /* ignore the first transmission of this many blocks */
  GHashTable *seen;       /* Message IDs already seen once */
  gboolean grow_after_block0;
  gboolean beyond_end_once; /* answer the last block 4.02 the first time */
  gboolean no_size2;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  fx->server = md_fake_server_new ();
  fx->client = md_fake_server_new_client (fx->server, 15.0, &fx->clock);
  fx->body = g_string_new (NULL);
  fx->out = g_byte_array_new ();
  fx->asked = g_hash_table_new (NULL, NULL);
  fx->seen = g_hash_table_new (NULL, NULL);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_clear_error (&fx->error);
  md_client_unref (fx->client);
  md_client_clock_unref (fx->clock);
  md_fake_server_free (fx->server);
  g_string_free (fx->body, TRUE);
  g_byte_array_unref (fx->out);
  g_hash_table_unref (fx->asked);
  g_hash_table_unref (fx->seen);
  md_fake_pump_pending ();
}

/* Numbered lines, so any misordering shows. */
static void
fill_body (GString *body, gsize size)
{
  for (guint i = 1; body->len < size; i++)
    g_string_append_printf (body, "%u\tline number %u of the body\n", i, i);
  g_string_truncate (body, size);
}

static gboolean
sink (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  Fixture *fx = user_data;

  g_byte_array_append (fx->out, data, (guint)len);
  return TRUE;
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  fx->ok = md_client_get_body_finish (fx->client, result, NULL, &fx->error);
  fx->done = TRUE;
}

static void
on_notes_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  fx->ok = md_client_read_notes_finish (fx->client, result, &fx->error);
  fx->done = TRUE;
}

static void
start_read (Fixture *fx, const MdClientBodyLimits *limits)
{
  md_client_get_body_async (fx->client, "notes", NULL, limits, sink, fx, NULL, on_read, fx);
}

/* Answers a block request the way mydailyd does. */
static void
serve_block (Fixture *fx, const MdCoapMessage *request)
{
  MdCoapMessage response;
  MdCoapBlock block = { 0, FALSE, 6 };
  gsize size, offset, n;

  md_coap_message_get_block (request, MD_COAP_OPTION_BLOCK2, &block);
  size = md_coap_block_size (block.szx);
  offset = (gsize)block.num * size;
  g_hash_table_remove (fx->asked, GUINT_TO_POINTER (block.num));
  if (offset > 0 && offset >= fx->body->len)
    {
      md_fake_server_reply (fx->server, request, MD_COAP_BAD_OPTION, "block beyond end");
      return;
    }
  n = MIN (size, fx->body->len - offset);
  block.more = offset + n < fx->body->len;
  md_coap_message_init_response (&response, request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_add_block (&response, MD_COAP_OPTION_BLOCK2, &block));
  if (block.num == 0 && !fx->no_size2)
    g_assert_true (
        md_coap_message_add_uint_option (&response, MD_COAP_OPTION_SIZE2, (guint32)fx->body->len));
  g_assert_true (md_coap_message_set_payload (&response, fx->body->str + offset, n));
  md_fake_server_send (fx->server, &response);
}

static guint32
block_num (const MdCoapMessage *request)
{
  MdCoapBlock block = { 0 };

  g_assert_true (md_coap_message_get_block (request, MD_COAP_OPTION_BLOCK2, &block));
  return block.num;
}

/* The scripted server's turn for one request. */
static void
answer (Fixture *fx, const MdCoapMessage *request)
{
  guint32 num = block_num (request);
  gsize last = fx->body->len > 0 ? (fx->body->len - 1) / BLOCK : 0;

  if (fx->drop_first_tries > 0 && !g_hash_table_contains (fx->seen, GUINT_TO_POINTER (num + 1)))
    {
      g_hash_table_add (fx->seen, GUINT_TO_POINTER (num + 1));
      fx->drop_first_tries--;
      return;
    }
  if (fx->beyond_end_once && num == last && num > 0)
    {
      fx->beyond_end_once = FALSE;
      md_fake_server_reply (fx->server, request, MD_COAP_BAD_OPTION, "block beyond end");
      return;
    }
  serve_block (fx, request);
  if (num == 0 && fx->grow_after_block0)
    {
      fx->grow_after_block0 = FALSE;
      fill_body (fx->body, fx->body->len + 2 * BLOCK + 17);
    }
}

/* Takes every waiting request, then answers them newest first, so blocks
 * arrive out of order; the clock moves only when nothing is waiting. */
static void
serve_until_done (Fixture *fx)
{
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (g_free);

  for (guint step = 0; step < MAX_STEPS && !fx->done; step++)
    {
      while (md_fake_server_pending (fx->server))
        {
          MdCoapMessage *request = g_new (MdCoapMessage, 1);
          guint8 *copy;

          md_fake_server_receive (fx->server, request);
          /* Values point into the server's buffer: keep a copy. */
          copy = g_memdup2 (fx->server->buffer, fx->server->len);
          g_assert_true (md_coap_parse (copy, fx->server->len, request, NULL));
          g_ptr_array_add (batch, request);
          g_ptr_array_add (batch, copy);
          g_hash_table_add (fx->asked, GUINT_TO_POINTER (block_num (request)));
        }
      fx->max_outstanding = MAX (fx->max_outstanding, g_hash_table_size (fx->asked));
      for (guint i = batch->len; i >= 2; i -= 2)
        answer (fx, g_ptr_array_index (batch, i - 2));
      g_ptr_array_set_size (batch, 0);
      md_fake_pump_pending ();
      if (!fx->done && !md_fake_server_pending (fx->server))
        md_client_clock_advance (fx->clock, md_client_clock_next_due (fx->clock)
                                                - md_client_clock_now (fx->clock));
    }
  g_assert_true (fx->done);
}

static void
assert_output_is_body (Fixture *fx)
{
  g_assert_no_error (fx->error);
  g_assert_true (fx->ok);
  g_assert_cmpmem (fx->out->data, fx->out->len, fx->body->str, fx->body->len);
}

/* Many blocks in flight, answered out of order, written in order. */
static void
test_window (Fixture *fx, gconstpointer data)
{
  fill_body (fx->body, 200 * BLOCK + 333);
  start_read (fx, NULL);
  serve_until_done (fx);
  assert_output_is_body (fx);
  g_assert_cmpuint (fx->max_outstanding, >, 8);
  g_assert_cmpuint (fx->max_outstanding, <=, MD_CLIENT_BODY_DEFAULT_WINDOW);
}

static void
test_stop_and_wait (Fixture *fx, gconstpointer data)
{
  MdClientBodyLimits limits = { .max_window = 1 };

  fill_body (fx->body, 20 * BLOCK + 1);
  start_read (fx, &limits);
  serve_until_done (fx);
  assert_output_is_body (fx);
  g_assert_cmpuint (fx->max_outstanding, ==, 1);
}

/* Every block is lost once: the window stays small instead of flooding. */
static void
test_loss_shrinks_window (Fixture *fx, gconstpointer data)
{
  fill_body (fx->body, 60 * BLOCK + 5);
  fx->drop_first_tries = G_MAXUINT;
  start_read (fx, NULL);
  serve_until_done (fx);
  assert_output_is_body (fx);
  g_assert_cmpuint (fx->max_outstanding, <=, 3);
}

/* The body grows after block 0 told its size: the old last block now says
 * "more", and the reader goes on to the end of the grown body. */
static void
test_growing_body (Fixture *fx, gconstpointer data)
{
  fill_body (fx->body, 3 * BLOCK + 100);
  fx->grow_after_block0 = TRUE;
  start_read (fx, NULL);
  serve_until_done (fx);
  assert_output_is_body (fx);
  g_assert_cmpuint (fx->body->len, ==, 5 * BLOCK + 117);
}

/* "Beyond the end" for a block whose predecessor then says "more": it is
 * asked for again, not taken as the end. */
static void
test_beyond_end_race (Fixture *fx, gconstpointer data)
{
  fill_body (fx->body, 4 * BLOCK + 10);
  fx->beyond_end_once = TRUE;
  start_read (fx, NULL);
  serve_until_done (fx);
  assert_output_is_body (fx);
}

/* Without Size2 the reader still finds the end. */
static void
test_no_size2 (Fixture *fx, gconstpointer data)
{
  fill_body (fx->body, 9 * BLOCK);
  fx->no_size2 = TRUE;
  start_read (fx, NULL);
  serve_until_done (fx);
  assert_output_is_body (fx);
}

static void
test_too_large (Fixture *fx, gconstpointer data)
{
  MdClientBodyLimits limits = { .max_size = 8 * BLOCK };

  fill_body (fx->body, 9 * BLOCK);
  start_read (fx, &limits);
  serve_until_done (fx);
  g_assert_false (fx->ok);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_FAILED);
}

/* A body that claims "more" forever, without Size2: the cap ends it. */
static void
test_endless (Fixture *fx, gconstpointer data)
{
  MdClientBodyLimits limits = { .max_size = 64 * BLOCK };

  fill_body (fx->body, 1000 * BLOCK);
  fx->no_size2 = TRUE;
  start_read (fx, &limits);
  serve_until_done (fx);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_cmpuint (fx->out->len, <=, 64 * BLOCK);
}

/* A server that stops answering mid-read: the overall deadline ends it
 * before the per-request timeout would. */
static void
test_deadline (Fixture *fx, gconstpointer data)
{
  MdClientBodyLimits limits = { .deadline_s = 3 };
  MdCoapMessage request;

  fill_body (fx->body, 9 * BLOCK);
  start_read (fx, &limits);
  md_fake_server_receive (fx->server, &request);
  serve_block (fx, &request);
  md_fake_pump_pending ();
  for (guint i = 0; i < 1000 && !fx->done; i++)
    {
      while (md_fake_server_pending (fx->server))
        md_fake_server_receive (fx->server, &request);
      md_client_clock_advance (fx->clock, md_client_clock_next_due (fx->clock)
                                              - md_client_clock_now (fx->clock));
      md_fake_pump_pending ();
    }
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_TIMEOUT);
  g_assert_cmpint (md_client_clock_now (fx->clock), ==, 3 * G_USEC_PER_SEC);
}

/* Blocks that lie about their place or size end the read. */
static void
test_bad_block (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, response;
  MdCoapBlock wrong = { .num = 5, .more = TRUE, .szx = 6 };
  char payload[BLOCK];

  memset (payload, 'x', sizeof payload);
  start_read (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_add_block (&response, MD_COAP_OPTION_BLOCK2, &wrong));
  g_assert_true (md_coap_message_set_payload (&response, payload, sizeof payload));
  md_fake_server_send (fx->server, &response);
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_MALFORMED);
}

static void
test_short_block (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, response;
  MdCoapBlock block = { .num = 0, .more = TRUE, .szx = 6 };

  start_read (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_coap_message_init_response (&response, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_add_block (&response, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_true (md_coap_message_set_payload (&response, "short", 5));
  md_fake_server_send (fx->server, &response);
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_MALFORMED);
}

/* An error code is the server's diagnostic. */
static void
test_rejected (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request;

  start_read (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_fake_server_reply (fx->server, &request, MD_COAP_NOT_FOUND, "no such thing");
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_REJECTED);
  g_assert_cmpstr (fx->error->message, ==, "no such thing");
}

static void
start_notes (Fixture *fx, guint64 after, const char *expected)
{
  md_client_read_notes_async (fx->client, after, expected, NULL, sink, fx, NULL, on_notes_read, fx);
}

static void
assert_after_query (Fixture *fx, const char *value)
{
  MdCoapMessage request;
  g_autofree char *after = NULL;

  g_assert_true (md_fake_server_pending (fx->server));
  md_fake_server_receive (fx->server, &request);
  after = md_coap_message_get_query (&request, "after");
  g_assert_cmpstr (after, ==, value);
  serve_block (fx, &request);
  md_fake_pump_until (&fx->done);
}

/* The cache's question: still note 5 as cached?  Then only what follows. */
static void
test_notes_verified (Fixture *fx, gconstpointer data)
{
  g_string_assign (fx->body, "5\tT\tA\tfive\n6\tT\tA\tsix\n");
  start_notes (fx, 5, "5\tT\tA\tfive");
  assert_after_query (fx, "4");
  g_assert_true (fx->ok);
  g_assert_cmpmem (fx->out->data, fx->out->len, "6\tT\tA\tsix\n", 10);
}

static void
test_notes_changed (Fixture *fx, gconstpointer data)
{
  g_string_assign (fx->body, "5\tT\tA\tother\n6\tT\tA\tsix\n");
  start_notes (fx, 5, "5\tT\tA\tfive");
  assert_after_query (fx, "4");
  g_assert_error (fx->error, MD_CLIENT_NOTES_ERROR, MD_CLIENT_NOTES_ERROR_CHANGED);
  g_assert_cmpuint (fx->out->len, ==, 0);
}

/* No note 5 at all (a shorter, re-created notebook). */
static void
test_notes_gone (Fixture *fx, gconstpointer data)
{
  start_notes (fx, 5, "5\tT\tA\tfive");
  assert_after_query (fx, "4");
  g_assert_error (fx->error, MD_CLIENT_NOTES_ERROR, MD_CLIENT_NOTES_ERROR_CHANGED);
}

static void
test_notes_after (Fixture *fx, gconstpointer data)
{
  g_string_assign (fx->body, "8\tT\tA\teight\n");
  start_notes (fx, 7, NULL);
  assert_after_query (fx, "7");
  assert_output_is_body (fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/client/blockwise/window", test_window);
  ADD ("/client/blockwise/stop-and-wait", test_stop_and_wait);
  ADD ("/client/blockwise/loss-shrinks-window", test_loss_shrinks_window);
  ADD ("/client/blockwise/growing-body", test_growing_body);
  ADD ("/client/blockwise/beyond-end-race", test_beyond_end_race);
  ADD ("/client/blockwise/no-size2", test_no_size2);
  ADD ("/client/blockwise/too-large", test_too_large);
  ADD ("/client/blockwise/endless", test_endless);
  ADD ("/client/blockwise/deadline", test_deadline);
  ADD ("/client/blockwise/bad-block", test_bad_block);
  ADD ("/client/blockwise/short-block", test_short_block);
  ADD ("/client/blockwise/rejected", test_rejected);
  ADD ("/client/notes/verified", test_notes_verified);
  ADD ("/client/notes/changed", test_notes_changed);
  ADD ("/client/notes/gone", test_notes_gone);
  ADD ("/client/notes/after", test_notes_after);
#undef ADD
  return g_test_run ();
}
