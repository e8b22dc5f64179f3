/* The client's exchanges (md-client-exchange) against a scripted server on a
 * manual clock: retransmission and backoff, Echo, lost and duplicate
 * messages, silence, garbage and cancellation. */
#include "config.h"

#include "md-client-add.h"
#include "md-client-exchange.h"
#include "md-error.h"
#include "md-fake-server.h"

#include <string.h>

#define MS G_TIME_SPAN_MILLISECOND

typedef struct
{
  MdFakeServer *server;
  MdClientClock *clock;
  MdClient *client;
  gboolean done;
  guint completions;
  MdClientResponse *response;
  GError *error;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  fx->server = md_fake_server_new ();
  fx->client = md_fake_server_new_client (fx->server, 15.0, &fx->clock);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  md_client_response_free (fx->response);
  g_clear_error (&fx->error);
  md_client_unref (fx->client);
  md_client_clock_unref (fx->clock);
  md_fake_server_free (fx->server);
  md_fake_pump_pending ();
}

static void
on_response (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;

  fx->completions++;
  md_client_response_free (fx->response);
  g_clear_error (&fx->error);
  fx->response = md_client_request_finish (fx->client, result, &fx->error);
  fx->done = TRUE;
}

static void
start_get (Fixture *fx, GCancellable *cancellable)
{
  fx->done = FALSE;
  md_client_request_async (fx->client,
                           &(MdClientRequest){ .method = MD_COAP_GET, .path = "status" },
                           cancellable, on_response, fx);
}

static void
advance_to_next_timer (Fixture *fx)
{
  gint64 due = md_client_clock_next_due (fx->clock);

  g_assert_cmpint (due, >=, md_client_clock_now (fx->clock));
  md_client_clock_advance (fx->clock, due - md_client_clock_now (fx->clock));
}

static void
assert_payload (const MdClientResponse *response, const char *text)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (response->payload, &len);

  g_assert_cmpmem (data, len, text, strlen (text));
}

/* RFC 7252 §4.2: the same datagram again after 1-1.5 ACK_TIMEOUT, the
 * wait doubling (capped); after MAX_RETRANSMIT a fresh Message ID. */
static void
test_retransmit_backoff (Fixture *fx, gconstpointer data)
{
  MdCoapMessage first, again;
  gint64 sent_at, wait = 0;

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &first);
  g_assert_cmpint (first.type, ==, MD_COAP_TYPE_CON);
  sent_at = md_client_clock_now (fx->clock);
  for (guint i = 0; i < 4; i++)
    {
      gint64 previous = wait;

      g_assert_false (md_fake_server_pending (fx->server));
      advance_to_next_timer (fx);
      md_fake_server_receive (fx->server, &again);
      g_assert_cmpuint (again.mid, ==, first.mid);
      g_assert_cmpmem (again.token, again.token_len, first.token, first.token_len);
      wait = md_client_clock_now (fx->clock) - sent_at;
      sent_at = md_client_clock_now (fx->clock);
      if (i == 0)
        g_assert_cmpint (wait, >=, 100 * MS);
      else
        g_assert_cmpint (wait, ==, MIN (previous * 2, 2000 * MS));
      g_assert_cmpint (wait, <=, 2000 * MS);
    }
  advance_to_next_timer (fx);
  md_fake_server_receive (fx->server, &again);
  g_assert_cmpuint (again.mid, !=, first.mid);
  g_assert_cmpmem (again.token, again.token_len, first.token, first.token_len);
  /* An ACK to the first Message ID still counts as the answer. */
  md_fake_server_reply (fx->server, &first, MD_COAP_CONTENT, "late");
  md_fake_pump_until (&fx->done);
  g_assert_no_error (fx->error);
  assert_payload (fx->response, "late");
  g_assert_cmpuint (fx->response->retransmissions, ==, 5);
}

/* RFC 9175: 4.01 with Echo, answered by the same request with that Echo,
 * which later requests also carry. */
static void
test_echo (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, challenge, again, later;
  const MdCoapOption *echo;

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  g_assert_false (md_coap_message_has_option (&request, MD_COAP_OPTION_ECHO));
  md_coap_message_init_response (&challenge, &request, MD_COAP_UNAUTHORIZED, 0);
  g_assert_true (md_coap_message_add_option (&challenge, MD_COAP_OPTION_ECHO, "nonce", 5));
  md_fake_server_send (fx->server, &challenge);
  md_fake_pump_pending ();
  g_assert_false (fx->done);
  md_fake_server_receive (fx->server, &again);
  g_assert_cmpuint (again.mid, !=, request.mid);
  echo = md_coap_message_find_option (&again, MD_COAP_OPTION_ECHO);
  g_assert_nonnull (echo);
  g_assert_cmpmem (echo->value, echo->length, "nonce", 5);
  md_fake_server_reply (fx->server, &again, MD_COAP_CONTENT, "proved");
  md_fake_pump_until (&fx->done);
  g_assert_no_error (fx->error);
  assert_payload (fx->response, "proved");

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &later);
  echo = md_coap_message_find_option (&later, MD_COAP_OPTION_ECHO);
  g_assert_nonnull (echo);
  g_assert_cmpmem (echo->value, echo->length, "nonce", 5);
}

/* A 2.05 with an Echo value is the small block an unproven address gets
 * instead of a full one: the request goes again with the value, and the
 * answer to that is the result. */
static void
test_echo_offered_with_content (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, small, again;
  const MdCoapOption *echo;
  MdCoapBlock block = { 0, TRUE, 0 };

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_coap_message_init_response (&small, &request, MD_COAP_CONTENT, 0);
  g_assert_true (md_coap_message_add_block (&small, MD_COAP_OPTION_BLOCK2, &block));
  g_assert_true (md_coap_message_add_option (&small, MD_COAP_OPTION_ECHO, "offer", 5));
  g_assert_true (md_coap_message_set_payload (&small, "sixteen bytes...", 16));
  md_fake_server_send (fx->server, &small);
  md_fake_pump_pending ();
  g_assert_false (fx->done);
  md_fake_server_receive (fx->server, &again);
  g_assert_cmpuint (again.mid, !=, request.mid);
  echo = md_coap_message_find_option (&again, MD_COAP_OPTION_ECHO);
  g_assert_nonnull (echo);
  g_assert_cmpmem (echo->value, echo->length, "offer", 5);
  md_fake_server_reply (fx->server, &again, MD_COAP_CONTENT, "the whole body");
  md_fake_pump_until (&fx->done);
  g_assert_no_error (fx->error);
  assert_payload (fx->response, "the whole body");
}

/* A server that asks for Echo forever gets its 4.01 back after a few
 * rounds instead of a loop. */
static void
test_echo_forever (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, challenge;
  guint rounds = 0;

  start_get (fx, NULL);
  while (!fx->done && rounds < 10)
    {
      md_fake_server_receive (fx->server, &request);
      md_coap_message_init_response (&challenge, &request, MD_COAP_UNAUTHORIZED, 0);
      g_assert_true (md_coap_message_add_option (&challenge, MD_COAP_OPTION_ECHO, "n", 1));
      md_fake_server_send (fx->server, &challenge);
      md_fake_pump_pending ();
      rounds++;
    }
  g_assert_true (fx->done);
  g_assert_cmpuint (rounds, ==, 4);
  g_assert_cmpuint (fx->response->code, ==, MD_COAP_UNAUTHORIZED);
}

/* The answer was lost: the retransmission gets it.  Then a separate
 * response whose ACK is lost: the server sends it again and the client
 * acknowledges it again, but delivers it once. */
static void
test_lost_ack (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, again, empty_ack, separate, ack;

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  advance_to_next_timer (fx);
  md_fake_server_receive (fx->server, &again);
  md_coap_message_init (&empty_ack, MD_COAP_TYPE_ACK, MD_COAP_EMPTY, again.mid);
  md_fake_server_send (fx->server, &empty_ack);
  md_fake_pump_pending ();
  /* Acknowledged: no more retransmissions, only the deadline. */
  g_assert_cmpint (md_client_clock_next_due (fx->clock), ==, 15 * G_USEC_PER_SEC);

  md_coap_message_init (&separate, MD_COAP_TYPE_CON, MD_COAP_CONTENT, 0x4242);
  md_coap_message_set_token (&separate, request.token, request.token_len);
  g_assert_true (md_coap_message_set_payload (&separate, "separate", 8));
  for (guint i = 0; i < 2; i++)
    {
      md_fake_server_send (fx->server, &separate);
      if (i == 0)
        md_fake_pump_until (&fx->done);
      else
        md_fake_pump_pending ();
      md_fake_server_receive (fx->server, &ack);
      g_assert_cmpint (ack.type, ==, MD_COAP_TYPE_ACK);
      g_assert_cmpuint (ack.code, ==, MD_COAP_EMPTY);
      g_assert_cmpuint (ack.mid, ==, 0x4242);
    }
  g_assert_cmpuint (fx->completions, ==, 1);
  assert_payload (fx->response, "separate");
}

/* The same answer twice (a duplicated datagram): one completion, and the
 * duplicate never answers the next request. */
static void
test_duplicate_response (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, next;

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_fake_server_reply (fx->server, &request, MD_COAP_CONTENT, "one");
  md_fake_server_reply (fx->server, &request, MD_COAP_CONTENT, "one");
  md_fake_pump_until (&fx->done);
  md_fake_pump_pending ();
  g_assert_cmpuint (fx->completions, ==, 1);
  /* An ACK is never answered, not even with a Reset. */
  g_assert_false (md_fake_server_pending (fx->server));

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &next);
  md_fake_server_reply (fx->server, &request, MD_COAP_CONTENT, "one");
  md_fake_pump_pending ();
  g_assert_false (fx->done);
  md_fake_server_reply (fx->server, &next, MD_COAP_CONTENT, "two");
  md_fake_pump_until (&fx->done);
  assert_payload (fx->response, "two");
  g_assert_cmpuint (fx->completions, ==, 2);
}

/* Silence: retransmissions, bounded, until the deadline; then a timeout
 * that names the address. */
static void
test_no_answer (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request;
  guint sent = 0;

  start_get (fx, NULL);
  for (guint i = 0; i < 100 && !fx->done; i++)
    {
      while (md_fake_server_pending (fx->server))
        {
          md_fake_server_receive (fx->server, &request);
          sent++;
        }
      advance_to_next_timer (fx);
      md_fake_pump_pending ();
    }
  g_assert_true (fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (fx->error->message, fx->server->address));
  g_assert_cmpint (md_client_clock_now (fx->clock), ==, 15 * G_USEC_PER_SEC);
  /* Rounds of 5 sends over about 31 ACK_TIMEOUTs (3.1-4.6 s), each with a
   * fresh Message ID: at most 30 datagrams in 15 s, not a flood. */
  g_assert_cmpuint (sent, >=, 15);
  g_assert_cmpuint (sent, <=, 30);
  g_assert_cmpint (md_client_clock_next_due (fx->clock), ==, -1);
}

/* Garbage, answers to nobody and a wrong token are ignored; an unexpected
 * confirmable message gets a Reset; the real answer still counts. */
static void
test_garbage (Fixture *fx, gconstpointer data)
{
  static const guint8 junk[] = { 0xff, 0x00, 0x12 };
  static const guint8 bad_version[] = { 0x80, 0x45, 0x00, 0x01 };
  MdCoapMessage request, wrong, stray, reset;
  guint8 big[MD_COAP_MAX_DATAGRAM + 100];

  memset (big, 0x41, sizeof big);
  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_fake_server_send_raw (fx->server, junk, sizeof junk);
  md_fake_server_send_raw (fx->server, bad_version, sizeof bad_version);
  md_fake_server_send_raw (fx->server, big, sizeof big);
  md_coap_message_init_response (&wrong, &request, MD_COAP_CONTENT, 0);
  md_coap_message_set_token (&wrong, (const guint8 *)"xxxx", 4);
  md_fake_server_send (fx->server, &wrong);
  md_coap_message_init (&stray, MD_COAP_TYPE_CON, MD_COAP_CONTENT, 0x7777);
  md_coap_message_set_token (&stray, (const guint8 *)"zzzz", 4);
  md_fake_server_send (fx->server, &stray);
  md_fake_pump_pending ();
  g_assert_false (fx->done);
  md_fake_server_receive (fx->server, &reset);
  g_assert_cmpint (reset.type, ==, MD_COAP_TYPE_RST);
  g_assert_cmpuint (reset.mid, ==, 0x7777);
  md_fake_server_reply (fx->server, &request, MD_COAP_CONTENT, "real");
  md_fake_pump_until (&fx->done);
  g_assert_no_error (fx->error);
  assert_payload (fx->response, "real");
}

/* Only garbage ever comes back: the request times out; nothing crashes. */
static void
test_garbage_only (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request;
  guint8 noise[64];

  start_get (fx, NULL);
  for (guint i = 0; i < 100 && !fx->done; i++)
    {
      while (md_fake_server_pending (fx->server))
        {
          md_fake_server_receive (fx->server, &request);
          for (guint j = 0; j < sizeof noise; j++)
            noise[j] = (guint8)g_test_rand_int_range (0, 256);
          /* Keep the version bits valid half of the time. */
          if (i % 2 == 0)
            noise[0] = (guint8)(0x40 | (noise[0] & 0x3f));
          md_fake_server_send_raw (fx->server, noise, (gsize)g_test_rand_int_range (1, 64));
        }
      md_fake_pump_pending ();
      if (!fx->done)
        advance_to_next_timer (fx);
    }
  g_assert_true (fx->done);
  g_assert_nonnull (fx->error);
}

/* A Reset to the request ends it at once. */
static void
test_reset (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request, reset;

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &request);
  md_coap_message_init (&reset, MD_COAP_TYPE_RST, MD_COAP_EMPTY, request.mid);
  md_fake_server_send (fx->server, &reset);
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_REJECTED);
}

/* Cancelling ends the exchange promptly and stops its timers. */
static void
test_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  MdCoapMessage request;

  start_get (fx, cancellable);
  md_fake_server_receive (fx->server, &request);
  g_cancellable_cancel (cancellable);
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (md_client_clock_next_due (fx->clock), ==, -1);
  md_fake_server_reply (fx->server, &request, MD_COAP_CONTENT, "too late");
  md_fake_pump_pending ();
  g_assert_cmpuint (fx->completions, ==, 1);
}

#define KEY "0b6a1f6e-3c2d-4b8e-9a7f-5d4c3b2a1908"

static void
on_added (GObject *source, GAsyncResult *result, gpointer data)
{
  Fixture *fx = data;
  guint64 id = 0;

  g_clear_error (&fx->error);
  if (md_client_add_note_finish (fx->client, result, &id, &fx->error))
    g_assert_cmpuint (id, ==, 7);
  fx->done = TRUE;
}

/* PUT /notes/KEY with If-None-Match, answered with @code and @line. */
static void
add_answered (Fixture *fx, guint8 code, const char *line)
{
  MdCoapMessage request;
  g_autofree char *path = NULL;

  md_client_add_note_async (fx->client, KEY, "hello", 5, NULL, on_added, fx);
  md_fake_server_receive (fx->server, &request);
  path = md_coap_message_get_path (&request);
  g_assert_cmpuint (request.code, ==, MD_COAP_PUT);
  g_assert_cmpstr (path, ==, "notes/" KEY);
  g_assert_true (md_coap_message_has_option (&request, MD_COAP_OPTION_IF_NONE_MATCH));
  g_assert_cmpmem (request.payload, request.payload_len, "hello", 5);
  md_fake_server_reply (fx->server, &request, code, line);
  md_fake_pump_until (&fx->done);
}

static void
test_add_created (Fixture *fx, gconstpointer data)
{
  add_answered (fx, MD_COAP_CREATED, "7\t2026-12-01T10:00:00Z\talice\thello\n");
  g_assert_no_error (fx->error);
}

/* 4.12 with our own text: an earlier transmission was stored. */
static void
test_add_stored_before (Fixture *fx, gconstpointer data)
{
  add_answered (fx, MD_COAP_PRECONDITION_FAILED, "7\t2026-12-01T10:00:00Z\talice\thello\n");
  g_assert_no_error (fx->error);
}

/* 4.12 with other text: the key was reused, nothing was stored. */
static void
test_add_key_reused (Fixture *fx, gconstpointer data)
{
  add_answered (fx, MD_COAP_PRECONDITION_FAILED,
                "3\t2026-12-01T10:00:00Z\talice\tsomething else\n");
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_REJECTED);
  g_assert_true (g_str_has_prefix (fx->error->message, "note rejected: "));
}

/* A 2.01 that does not say which note: not "added". */
static void
test_add_garbled_answer (Fixture *fx, gconstpointer data)
{
  add_answered (fx, MD_COAP_CREATED, "no id here");
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_MALFORMED);
}

/* A bad note never reaches the wire. */
static void
test_add_invalid (Fixture *fx, gconstpointer data)
{
  md_client_add_note_async (fx->client, KEY, "bad\tnote", 8, NULL, on_added, fx);
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_INVALID_NOTE);
  g_assert_false (md_fake_server_pending (fx->server));
}

static void
receive_put (Fixture *fx, MdCoapMessage *request)
{
  g_autofree char *path = NULL;

  md_fake_server_receive (fx->server, request);
  path = md_coap_message_get_path (request);
  g_assert_cmpuint (request->code, ==, MD_COAP_PUT);
  g_assert_cmpstr (path, ==, "notes/" KEY);
}

static void
reply_busy (Fixture *fx, const MdCoapMessage *request, guint32 max_age)
{
  MdCoapMessage response;

  md_coap_message_init_response (&response, request, MD_COAP_SERVICE_UNAVAILABLE, 0);
  g_assert_true (md_coap_message_add_uint_option (&response, MD_COAP_OPTION_MAX_AGE, max_age));
  md_fake_server_send (fx->server, &response);
}

/* 5.03 with Max-Age (the rate limit): the client waits that long on its
 * clock, sends the same PUT again, and does not give up at --timeout. */
static void
test_add_rate_limited (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request;
  gint64 start = md_client_clock_now (fx->clock);

  md_client_add_note_async (fx->client, KEY, "hello", 5, NULL, on_added, fx);
  /* 20 s per wait, longer than the 15 s timeout: waiting is an answer. */
  for (guint i = 0; i < 3; i++)
    {
      receive_put (fx, &request);
      reply_busy (fx, &request, 20);
      md_fake_pump_pending ();
      while (!md_fake_server_pending (fx->server) && md_client_clock_next_due (fx->clock) >= 0)
        {
          g_assert_false (fx->done);
          advance_to_next_timer (fx);
          md_fake_pump_pending ();
        }
      g_assert_cmpint (md_client_clock_now (fx->clock) - start, >=,
                       (i + 1) * 20 * G_TIME_SPAN_SECOND);
    }
  receive_put (fx, &request);
  g_assert_cmpmem (request.payload, request.payload_len, "hello", 5);
  md_fake_server_reply (fx->server, &request, MD_COAP_CREATED,
                        "7\t2026-12-01T10:00:00Z\talice\thello\n");
  md_fake_pump_until (&fx->done);
  g_assert_no_error (fx->error);
}

/* A wait past the budget is a refusal, not an endless wait. */
static void
test_add_rate_limited_too_long (Fixture *fx, gconstpointer data)
{
  MdCoapMessage request;

  md_client_add_note_async (fx->client, KEY, "hello", 5, NULL, on_added, fx);
  receive_put (fx, &request);
  reply_busy (fx, &request, MD_CLIENT_ADD_MAX_BUSY_WAIT_S + 1);
  md_fake_pump_until (&fx->done);
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_REJECTED);
}

/* 5.03 without Max-Age (notebook full): a refusal with the reason. */
static void
test_add_unavailable (Fixture *fx, gconstpointer data)
{
  add_answered (fx, MD_COAP_SERVICE_UNAVAILABLE, "notebook full");
  g_assert_error (fx->error, MD_ERROR, MD_ERROR_REJECTED);
  g_assert_cmpstr (fx->error->message, ==, "note rejected: notebook full");
}

/* The server answers each late copy of a retransmitted request with its
 * deduplicated 4.01 + Echo: one Echo round must do, and the later copies of
 * the challenge neither restart the request nor end it on a 4.01. */
static void
test_late_echo_duplicates (Fixture *fx, gconstpointer data)
{
  MdCoapMessage first, copy, challenge, again;
  guint copies = 1, rounds = 0;

  start_get (fx, NULL);
  md_fake_server_receive (fx->server, &first);
  for (guint i = 0; i < 3; i++)
    {
      advance_to_next_timer (fx);
      md_fake_server_receive (fx->server, &copy);
      copies++;
    }
  md_coap_message_init_response (&challenge, &first, MD_COAP_UNAUTHORIZED, 0);
  g_assert_true (md_coap_message_add_option (&challenge, MD_COAP_OPTION_ECHO, "nonce", 5));
  for (guint i = 0; i < copies; i++)
    {
      md_fake_server_send (fx->server, &challenge);
      md_fake_pump_pending ();
      while (md_fake_server_pending (fx->server))
        {
          md_fake_server_receive (fx->server, &again);
          rounds++;
        }
    }
  g_assert_cmpuint (rounds, ==, 1);
  g_assert_false (fx->done);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/client/exchange/retransmit-backoff", test_retransmit_backoff);
  ADD ("/client/exchange/echo", test_echo);
  ADD ("/client/exchange/echo-forever", test_echo_forever);
  ADD ("/client/exchange/echo-offered-with-content", test_echo_offered_with_content);
  ADD ("/client/exchange/lost-ack", test_lost_ack);
  ADD ("/client/exchange/duplicate-response", test_duplicate_response);
  ADD ("/client/exchange/no-answer", test_no_answer);
  ADD ("/client/exchange/garbage", test_garbage);
  ADD ("/client/exchange/garbage-only", test_garbage_only);
  ADD ("/client/exchange/reset", test_reset);
  ADD ("/client/exchange/cancel", test_cancel);
  ADD ("/client/add/created", test_add_created);
  ADD ("/client/add/stored-before", test_add_stored_before);
  ADD ("/client/add/key-reused", test_add_key_reused);
  ADD ("/client/add/garbled-answer", test_add_garbled_answer);
  ADD ("/client/add/invalid", test_add_invalid);
  ADD ("/client/exchange/late-echo-duplicates", test_late_echo_duplicates);
  ADD ("/client/add/rate-limited", test_add_rate_limited);
  ADD ("/client/add/rate-limited-too-long", test_add_rate_limited_too_long);
  ADD ("/client/add/unavailable", test_add_unavailable);
#undef ADD
  return g_test_run ();
}
