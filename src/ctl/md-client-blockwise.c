#include "config.h"

#include "md-client-blockwise.h"

#include <glib/gi18n.h>

#include "md-client-exchange.h"
#include "md-error.h"

#define MAX_BLOCK_NUM 0xfffff /* Block NUM is 20 bits */
/* A server that keeps saying "beyond the end" for a block its predecessor
 * promised is broken; give up after this many. */
#define MAX_BEYOND_END 16
/* 4.02 is how the daemon answers a block past the end of the body. */
#define BEYOND_END MD_COAP_BAD_OPTION

typedef struct
{
  GTask *task; /* owns the reader as its task data */
  MdClient *client;
  char *path;
  char *query;
  MdClientBodyLimits limits;
  MdClientBodyFunc func;
  gpointer func_data;
  GCancellable *requests; /* cancels the blocks in flight */
  GSource *cancelled;
  guint deadline_timer;
  guint szx;
  guint generation; /* bumped when the block size shrinks */
  guint32 next_num; /* the next block to hand to the sink */
  guint64 delivered;
  gint64 end_num;     /* the highest block believed to exist */
  GHashTable *ready;  /* num -> MdClientResponse, waiting for its turn */
  GHashTable *flying; /* num -> TRUE */
  double window;
  guint beyond_end;
} Reader;

typedef struct
{
  Reader *reader;
  GTask *task; /* keeps the reader alive */
  guint32 num;
  guint generation;
} BlockRequest;

static void
reader_free (gpointer data)
{
  Reader *reader = data;

  md_client_unref (reader->client);
  g_free (reader->path);
  g_free (reader->query);
  g_object_unref (reader->requests);
  g_hash_table_unref (reader->ready);
  g_hash_table_unref (reader->flying);
  g_free (reader);
}

static gboolean
reader_done (Reader *reader)
{
  return reader->task == NULL;
}

static void
finish (Reader *reader, GError *error)
{
  GTask *task = g_steal_pointer (&reader->task);

  g_cancellable_cancel (reader->requests);
  md_client_clock_clear_timer (md_client_get_clock (reader->client), &reader->deadline_timer);
  if (reader->cancelled != NULL)
    g_source_destroy (reader->cancelled);
  g_clear_pointer (&reader->cancelled, g_source_unref);
  g_hash_table_remove_all (reader->ready);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
fail (Reader *reader, MdError code, const char *message)
{
  finish (reader, g_error_new_literal (MD_ERROR, code, message));
}

static void on_block (GObject *source, GAsyncResult *result, gpointer data);

static void
request_block (Reader *reader, guint32 num)
{
  BlockRequest *block = g_new0 (BlockRequest, 1);
  MdClientRequest request = {
    .method = MD_COAP_GET,
    .path = reader->path,
    .query = reader->query,
    .has_block2 = TRUE,
    .block2 = { .num = num, .more = FALSE, .szx = reader->szx },
  };

  block->reader = reader;
  block->task = g_object_ref (reader->task);
  block->num = num;
  block->generation = reader->generation;
  g_hash_table_add (reader->flying, GUINT_TO_POINTER (num));
  md_client_request_async (reader->client, &request, reader->requests, on_block, block);
}

/* Fills the window with the missing blocks next in line.  Block 0 goes
 * alone: its answer says how large the body is. */
static void
schedule (Reader *reader)
{
  guint32 last = reader->next_num + reader->limits.max_window - 1;

  if (reader->next_num == 0 && reader->delivered == 0)
    last = 0;
  for (guint32 num = reader->next_num; num <= last && (gint64)num <= reader->end_num; num++)
    {
      if (g_hash_table_size (reader->flying) >= (guint)reader->window)
        return;
      if (num > MAX_BLOCK_NUM)
        {
          fail (reader, MD_ERROR_FAILED, _ ("the answer is too large"));
          return;
        }
      if (!g_hash_table_contains (reader->flying, GUINT_TO_POINTER (num))
          && !g_hash_table_contains (reader->ready, GUINT_TO_POINTER (num)))
        request_block (reader, num);
    }
}

/* Hands the blocks that are next to the sink; TRUE when the body is done. */
static gboolean
deliver (Reader *reader, GError **error)
{
  MdClientResponse *response;

  while ((response = g_hash_table_lookup (reader->ready, GUINT_TO_POINTER (reader->next_num)))
         != NULL)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (response->payload, &len);
      gboolean more = response->block2.more;

      if (len > 0 && !reader->func (data, len, reader->func_data, error))
        return FALSE;
      reader->delivered += len;
      g_hash_table_remove (reader->ready, GUINT_TO_POINTER (reader->next_num));
      reader->next_num++;
      if (!more)
        return TRUE;
    }
  return FALSE;
}

/* The block was answered at the first try: one more in flight; it needed a
 * retransmission: half as many. */
static void
adapt_window (Reader *reader, const MdClientResponse *response)
{
  if (response->retransmissions > 0)
    reader->window = MAX (1.0, reader->window / 2);
  else
    reader->window = MIN ((double)reader->limits.max_window, reader->window + 1);
}

static gboolean
block_is_known_more (Reader *reader, guint32 num)
{
  MdClientResponse *response = g_hash_table_lookup (reader->ready, GUINT_TO_POINTER (num));

  return num < reader->next_num || (response != NULL && response->block2.more);
}

/* A block past the end: expected beyond the last block, else the body grew
 * between two answers and the block is asked for again. */
static void
on_beyond_end (Reader *reader, guint32 num)
{
  if (num > 0 && block_is_known_more (reader, num - 1))
    {
      if (++reader->beyond_end > MAX_BEYOND_END)
        fail (reader, MD_ERROR_MALFORMED, _ ("the server sent blocks out of order"));
      return;
    }
  reader->end_num = MIN (reader->end_num, (gint64)num - 1);
}

/* A smaller block than asked for (RFC 7959 §2.4): everything from the
 * delivered offset on is asked for again in the new size. */
static void
shrink_blocks (Reader *reader, guint szx)
{
  gsize size = md_coap_block_size (szx);

  g_cancellable_cancel (reader->requests);
  g_object_unref (reader->requests);
  reader->requests = g_cancellable_new ();
  g_hash_table_remove_all (reader->flying);
  g_hash_table_remove_all (reader->ready);
  reader->generation++;
  reader->szx = szx;
  reader->next_num = (guint32)(reader->delivered / size);
  reader->end_num = MAX (reader->end_num, (gint64)reader->next_num);
}

static gboolean
check_block (Reader *reader, guint32 num, const MdClientResponse *response, GError **error)
{
  gsize size = md_coap_block_size (reader->szx);
  gsize len = g_bytes_get_size (response->payload);

  if (response->block2.num != num || response->block2.szx != reader->szx)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server sent blocks out of order"));
      return FALSE;
    }
  if (len > size || (response->block2.more && len != size))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server sent a short block"));
      return FALSE;
    }
  if ((guint64)num * size + len > reader->limits.max_size
      || (response->has_size2 && response->size2 > reader->limits.max_size))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the answer is too large"));
      return FALSE;
    }
  return TRUE;
}

/* What a valid block says about where the body ends. */
static void
learn_end (Reader *reader, guint32 num, const MdClientResponse *response)
{
  gsize size = md_coap_block_size (reader->szx);

  if (num == 0 && response->has_size2 && response->size2 > 0)
    reader->end_num = MAX (reader->end_num, (gint64)((response->size2 - 1) / size));
  if (response->block2.more)
    reader->end_num = MAX (reader->end_num, (gint64)num + 1);
  else
    reader->end_num = MIN (reader->end_num, (gint64)num);
}

/* Without Block2 the payload is the whole body; it must be block 0. */
static gboolean
take_whole_body (Reader *reader, guint32 num, MdClientResponse *response, GError **error)
{
  if (num != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, _ ("the server sent blocks out of order"));
      return FALSE;
    }
  response->has_block2 = TRUE;
  response->block2 = (MdCoapBlock){ .num = 0, .more = FALSE, .szx = reader->szx };
  return g_bytes_get_size (response->payload) <= reader->limits.max_size
         || (g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the answer is too large")), FALSE);
}

/* FALSE with @error set when the read must end. */
static gboolean
handle_block (Reader *reader, guint32 num, MdClientResponse *response, GError **error)
{
  if (response->code == BEYOND_END && num > 0)
    {
      on_beyond_end (reader, num);
      md_client_response_free (response);
      return TRUE;
    }
  if (response->code != MD_COAP_CONTENT)
    {
      md_client_response_set_error (response, error);
      md_client_response_free (response);
      return FALSE;
    }
  if (response->has_block2 && response->block2.szx < reader->szx)
    {
      shrink_blocks (reader, response->block2.szx);
      md_client_response_free (response);
      return TRUE;
    }
  if ((!response->has_block2 && !take_whole_body (reader, num, response, error))
      || !check_block (reader, num, response, error))
    {
      md_client_response_free (response);
      return FALSE;
    }
  adapt_window (reader, response);
  learn_end (reader, num, response);
  g_hash_table_insert (reader->ready, GUINT_TO_POINTER (num), response);
  return TRUE;
}

static void
take_block (Reader *reader, const BlockRequest *block, GAsyncResult *result)
{
  g_autoptr (GError) error = NULL;
  MdClientResponse *response = md_client_request_finish (reader->client, result, &error);

  if (reader_done (reader) || block->generation != reader->generation)
    {
      md_client_response_free (response);
      return;
    }
  g_hash_table_remove (reader->flying, GUINT_TO_POINTER (block->num));
  if (response == NULL || !handle_block (reader, block->num, response, &error)
      || deliver (reader, &error) || error != NULL)
    {
      finish (reader, g_steal_pointer (&error));
      return;
    }
  schedule (reader);
  if (!reader_done (reader) && g_hash_table_size (reader->flying) == 0)
    fail (reader, MD_ERROR_MALFORMED, _ ("the server's body ended without a last block"));
}

/* The block's reference to the task keeps the reader alive until here. */
static void
on_block (GObject *source, GAsyncResult *result, gpointer data)
{
  BlockRequest *block = data;

  take_block (block->reader, block, result);
  g_object_unref (block->task);
  g_free (block);
}

static void
on_deadline (gpointer data)
{
  Reader *reader = data;

  reader->deadline_timer = 0;
  finish (reader,
          g_error_new (MD_ERROR, MD_ERROR_TIMEOUT,
                       /* TRANSLATORS: %g is a number of seconds */
                       _ ("reading the answer took longer than %g s"), reader->limits.deadline_s));
}

static gboolean
on_cancelled (GCancellable *cancellable, gpointer data)
{
  Reader *reader = data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  finish (reader, error);
  return G_SOURCE_REMOVE;
}

static Reader *
reader_new (MdClient *client, const char *path, const char *query, const MdClientBodyLimits *limits)
{
  Reader *reader = g_new0 (Reader, 1);

  reader->client = md_client_ref (client);
  reader->path = g_strdup (path);
  reader->query = g_strdup (query);
  if (limits != NULL)
    reader->limits = *limits;
  if (reader->limits.max_size == 0)
    reader->limits.max_size = MD_CLIENT_BODY_DEFAULT_MAX_SIZE;
  if (reader->limits.deadline_s <= 0)
    reader->limits.deadline_s = MD_CLIENT_BODY_DEFAULT_DEADLINE_S;
  if (reader->limits.max_window == 0)
    reader->limits.max_window = MD_CLIENT_BODY_DEFAULT_WINDOW;
  reader->requests = g_cancellable_new ();
  reader->szx = MD_COAP_MAX_BLOCK_SZX;
  reader->end_num = 0;
  reader->ready = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)md_client_response_free);
  reader->flying = g_hash_table_new (NULL, NULL);
  reader->window = MIN (2.0, (double)reader->limits.max_window);
  return reader;
}

void
md_client_get_body_async (MdClient *client, const char *path, const char *query,
                          const MdClientBodyLimits *limits, MdClientBodyFunc func,
                          gpointer func_data, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  MdClientClock *clock;
  Reader *reader;

  g_return_if_fail (client != NULL);
  g_return_if_fail (path != NULL);
  g_return_if_fail (func != NULL);

  clock = md_client_get_clock (client);
  reader = reader_new (client, path, query, limits);
  reader->func = func;
  reader->func_data = func_data;
  reader->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (reader->task, md_client_get_body_async);
  g_task_set_task_data (reader->task, reader, reader_free);
  reader->deadline_timer = md_client_clock_add_timer (
      clock, md_client_clock_now (clock) + (gint64)(reader->limits.deadline_s * G_USEC_PER_SEC),
      on_deadline, reader);
  if (cancellable != NULL)
    {
      reader->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (reader->cancelled, G_SOURCE_FUNC (on_cancelled), reader, NULL);
      g_source_attach (reader->cancelled, g_main_context_get_thread_default ());
    }
  request_block (reader, 0);
}

gboolean
md_client_get_body_finish (MdClient *client, GAsyncResult *result, guint64 *size, GError **error)
{
  Reader *reader;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  reader = g_task_get_task_data (G_TASK (result));
  if (size != NULL)
    *size = reader->delivered;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
append_to_array (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  g_byte_array_append (user_data, data, (guint)len);
  return TRUE;
}

static void
on_bytes_read (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  GByteArray *body = g_task_get_task_data (task);
  GError *error = NULL;

  if (!md_client_get_body_finish (NULL, result, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_bytes_new (body->data, body->len),
                           (GDestroyNotify)g_bytes_unref);
}

void
md_client_get_bytes_async (MdClient *client, const char *path, const char *query,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  GByteArray *body = g_byte_array_new ();

  g_task_set_source_tag (task, md_client_get_bytes_async);
  g_task_set_task_data (task, body, (GDestroyNotify)g_byte_array_unref);
  md_client_get_body_async (client, path, query, NULL, append_to_array, body, cancellable,
                            on_bytes_read, task);
}

GBytes *
md_client_get_bytes_finish (MdClient *client, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
