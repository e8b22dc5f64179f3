#include "config.h"

#include "md-plain-client.h"

#include "md-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ATTEMPTS 5
#define ATTEMPT_MS 1000
/* A 100 KB body in 16-byte blocks, with room. */
#define MAX_BLOCKS 20000

static void
set_address (struct sockaddr_storage *out, socklen_t *out_len, const char *address, guint16 port)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)out;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

  memset (out, 0, sizeof *out);
  if (inet_pton (AF_INET, address, &sin->sin_addr) == 1)
    {
      sin->sin_family = AF_INET;
      sin->sin_port = htons (port);
      *out_len = sizeof *sin;
      return;
    }
  g_assert_cmpint (inet_pton (AF_INET6, address, &sin6->sin6_addr), ==, 1);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons (port);
  *out_len = sizeof *sin6;
}

void
md_plain_client_init (MdPlainClient *self, const char *address, guint16 port, const char *local)
{
  socklen_t unused;

  memset (self, 0, sizeof *self);
  set_address (&self->server, &self->server_len, address, port);
  if (local != NULL)
    set_address (&self->local, &unused, local, 0);
  self->token_len = 4;
  self->next_mid = (guint16)g_random_int_range (0, 0x10000);
  self->smallest_block = G_MAXUINT;
}

static int
open_socket (MdPlainClient *self)
{
  int fd = socket (self->server.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (self->local.ss_family != 0)
    g_assert_cmpint (bind (fd, (struct sockaddr *)&self->local,
                           self->local.ss_family == AF_INET ? sizeof (struct sockaddr_in)
                                                            : sizeof (struct sockaddr_in6)),
                     ==, 0);
  return fd;
}

/* The answer to a request with @mid and @token on @fd within ATTEMPT_MS
 * (piggybacked or an RST: the same Message ID; separate: the same token),
 * or -1. */
static gssize
receive_answer (int fd, guint16 mid, const guint8 *token, guint8 token_len, MdCoapMessage *answer,
                guint8 *buf)
{
  gint64 deadline = g_get_monotonic_time () + ATTEMPT_MS * 1000;
  gint64 left;

  while ((left = deadline - g_get_monotonic_time ()) > 0)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      ssize_t n;

      if (poll (&p, 1, (int)(left / 1000) + 1) <= 0)
        continue;
      n = recv (fd, buf, MD_COAP_MAX_DATAGRAM, MSG_DONTWAIT);
      if (n < 0 || !md_coap_parse (buf, (gsize)n, answer, NULL))
        continue;
      if (((answer->type == MD_COAP_TYPE_ACK || answer->type == MD_COAP_TYPE_RST)
           && answer->mid == mid)
          || (answer->token_len == token_len && token_len > 0
              && memcmp (answer->token, token, token_len) == 0))
        return n;
    }
  return -1;
}

static void
count (MdPlainClient *self, gsize sent, gsize received)
{
  self->requests++;
  self->sent_bytes += sent;
  self->received_bytes += received;
  self->worst_ratio = MAX (self->worst_ratio, (double)received / (double)sent);
}

gssize
md_plain_client_exchange_raw (MdPlainClient *self, const guint8 *data, gsize len,
                              MdCoapMessage *answer, guint8 buf[MD_COAP_MAX_DATAGRAM])
{
  guint8 token_len = len > 0 ? MIN (data[0] & 0x0f, MD_COAP_MAX_TOKEN) : 0;
  guint16 mid = len >= 4 ? (guint16)(data[2] << 8 | data[3]) : 0;
  int fd = open_socket (self);
  gssize n = -1;

  if (len < 4u + token_len)
    token_len = 0;
  for (guint attempt = 0; attempt < ATTEMPTS && n < 0; attempt++)
    {
      g_assert_cmpint (
          sendto (fd, data, len, 0, (struct sockaddr *)&self->server, self->server_len), ==,
          (gssize)len);
      n = receive_answer (fd, mid, data + 4, token_len, answer, buf);
    }
  close (fd);
  if (n >= 0)
    count (self, len, (gsize)n);
  return n;
}

gboolean
md_plain_client_exchange (MdPlainClient *self, const MdCoapMessage *request, MdCoapMessage *answer,
                          guint8 buf[MD_COAP_MAX_DATAGRAM])
{
  guint8 out[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (request, out, sizeof out, NULL);

  g_assert_cmpint (len, >, 0);
  return md_plain_client_exchange_raw (self, out, (gsize)len, answer, buf) >= 0;
}

void
md_plain_client_make_request (MdPlainClient *self, MdCoapMessage *request, guint8 code,
                              const char *path, const char *query)
{
  guint8 token[MD_COAP_MAX_TOKEN];

  for (guint i = 0; i < self->token_len; i++)
    token[i] = (guint8)g_random_int_range (0, 256);
  md_coap_message_init (request, MD_COAP_TYPE_CON, code, self->next_mid++);
  md_coap_message_set_token (request, token, self->token_len);
  g_assert_true (md_coap_message_add_path (request, MD_COAP_OPTION_URI_PATH, path));
  if (query != NULL)
    g_assert_true (md_coap_message_add_string_option (request, MD_COAP_OPTION_URI_QUERY, query));
}

/* Adds @answer's block to @body, checking it lies where the body ends. */
static gboolean
take_block (MdPlainClient *self, const MdCoapMessage *answer, GByteArray *body, MdCoapBlock *block,
            GError **error)
{
  gsize size;

  if (answer->code != MD_COAP_CONTENT)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "answered %u.%02u", answer->code >> 5,
                   answer->code & 31);
      return FALSE;
    }
  if (!md_coap_message_get_block (answer, MD_COAP_OPTION_BLOCK2, block))
    {
      g_byte_array_append (body, answer->payload, (guint)answer->payload_len);
      block->more = FALSE;
      return TRUE;
    }
  size = md_coap_block_size (block->szx);
  if ((guint64)block->num * size != body->len || (block->more && answer->payload_len != size))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "block %u/%u at offset %u", block->num,
                   (guint)size, body->len);
      return FALSE;
    }
  self->smallest_block = MIN (self->smallest_block, (guint)size);
  self->largest_block = MAX (self->largest_block, (guint)size);
  g_byte_array_append (body, answer->payload, (guint)answer->payload_len);
  return TRUE;
}

GBytes *
md_plain_client_get_from (MdPlainClient *self, const char *path, const char *query,
                          GByteArray *prefix, guint32 num, guint szx, GError **error)
{
  g_autoptr (GByteArray) body = prefix != NULL ? g_byte_array_ref (prefix) : g_byte_array_new ();
  g_autofree MdCoapMessage *request = g_new0 (MdCoapMessage, 1);
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  guint8 buf[MD_COAP_MAX_DATAGRAM];
  MdCoapBlock block = { num, TRUE, szx };
  gboolean first = prefix == NULL && num == 0;

  for (guint i = 0; i < MAX_BLOCKS && block.more; i++)
    {
      md_plain_client_make_request (self, request, MD_COAP_GET, path, query);
      /* The first request leaves the size to the server. */
      if (!first)
        g_assert_true (md_coap_message_add_block (request, MD_COAP_OPTION_BLOCK2, &block));
      first = FALSE;
      if (!md_plain_client_exchange (self, request, answer, buf))
        {
          g_set_error (error, MD_ERROR, MD_ERROR_TIMEOUT, "no answer");
          return NULL;
        }
      if (!take_block (self, answer, body, &block, error))
        return NULL;
      block.num++;
    }
  if (block.more)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "more than %d blocks", MAX_BLOCKS);
      return NULL;
    }
  return g_bytes_new (body->data, body->len);
}

GBytes *
md_plain_client_get (MdPlainClient *self, const char *path, const char *query, GError **error)
{
  return md_plain_client_get_from (self, path, query, NULL, 0, MD_COAP_MAX_BLOCK_SZX, error);
}
