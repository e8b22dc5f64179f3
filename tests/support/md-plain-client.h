/* A CoAP client as another stack might be: no Echo (RFC 9175) at all, and
 * a new socket, so a new source port, for every request.  It follows the
 * server's Block2 size (RFC 7959 §2.4), ACKs confirmable notifications and
 * keeps count of what each request cost, for the amplification checks.
 *
 * Written for the tests from the shared codec (md-coap.h); blocking, with
 * every wait bounded. */
#pragma once

#include "md-coap.h"

#include <netinet/in.h>

G_BEGIN_DECLS

typedef struct
{
  struct sockaddr_storage server;
  socklen_t server_len;
  struct sockaddr_storage local; /* bind here (port 0), or family 0: any */
  guint8 token_len;
  guint16 next_mid;
  /* Totals over every exchange. */
  guint requests;
  guint64 sent_bytes;
  guint64 received_bytes;
  double worst_ratio; /* largest answer / its request */
  guint smallest_block;
  guint largest_block;
} MdPlainClient;

/* @address: "127.0.0.1"; @local may be NULL. */
void md_plain_client_init (MdPlainClient *self, const char *address, guint16 port,
                           const char *local);

/* One CON request from a new socket, sent again (same Message ID) up to 4
 * times; fills @answer, whose options point into @buf.  FALSE on timeout. */
gboolean md_plain_client_exchange (MdPlainClient *self, const MdCoapMessage *request,
                                   MdCoapMessage *answer, guint8 buf[MD_COAP_MAX_DATAGRAM]);

/* The same for a datagram as it is (a test's malformed one); matches the
 * answer by the Message ID in its header.  Returns the answer's length, or
 * -1 on timeout. */
gssize md_plain_client_exchange_raw (MdPlainClient *self, const guint8 *data, gsize len,
                                     MdCoapMessage *answer, guint8 buf[MD_COAP_MAX_DATAGRAM]);

/* A CON request skeleton: next Message ID, a random token, Uri-Path @path
 * and, unless NULL, Uri-Query @query. */
void md_plain_client_make_request (MdPlainClient *self, MdCoapMessage *request, guint8 code,
                                   const char *path, const char *query);

/* The whole body of GET @path[?@query], block by block in the size the
 * server answers with; NULL with @error on a non-2.05 or a broken block
 * sequence. */
GBytes *md_plain_client_get (MdPlainClient *self, const char *path, const char *query,
                             GError **error);

/* The rest of a body from block @num of size @szx on, after @prefix. */
GBytes *md_plain_client_get_from (MdPlainClient *self, const char *path, const char *query,
                                  GByteArray *prefix, guint32 num, guint szx, GError **error);

G_END_DECLS
