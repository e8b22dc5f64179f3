#include "config.h"

#include "md-dtls-transport.h"

#include "md-datagram.h"
#include "md-dtls-server.h"
#include "md-udp-transport.h"

#include <string.h>

/* The largest plaintext of a record (RFC 6347 §4.1). */
#define MD_DTLS_PLAIN_MAX 16384
/* Batches of raw datagrams one receive() reads at most. */
#define MD_DTLS_RECEIVE_ROUNDS 4

typedef struct
{
  MdTransport parent;
  MdDtlsServer *server;
  guint8 *raw;   /* MD_TRANSPORT_RECEIVE_MAX of MD_TRANSPORT_DATAGRAM_MAX */
  guint8 *plain; /* MD_TRANSPORT_RECEIVE_MAX of MD_DTLS_PLAIN_MAX */
  /* Copied: a session may end before the datagram is handled. */
  char identities[MD_TRANSPORT_RECEIVE_MAX][MD_PSK_NAME_MAX + 1];
  /* The receive() being filled. */
  MdDatagram *out;
  guint out_n;
  guint out_max;
} MdDtlsTransport;

static const MdTransportClass md_dtls_transport_class;

static void
send_datagram (const MdPeer *peer, const guint8 *data, gsize len, gpointer user_data)
{
  md_udp_send_one (peer, data, len);
}

static void
deliver (const MdPeer *peer, const char *identity, const guint8 *data, gsize len,
         gpointer user_data)
{
  MdDtlsTransport *self = user_data;
  MdDatagram *out;

  if (self->out_n == self->out_max)
    {
      g_debug ("DTLS record of %s dropped: the batch is full", identity);
      return;
    }
  out = &self->out[self->out_n];
  memcpy (self->plain + (gsize)self->out_n * MD_DTLS_PLAIN_MAX, data, MIN (len, MD_DTLS_PLAIN_MAX));
  g_strlcpy (self->identities[self->out_n], identity, sizeof self->identities[0]);
  *out = (MdDatagram){
    .peer = *peer,
    .identity = self->identities[self->out_n],
    .data = self->plain + (gsize)self->out_n * MD_DTLS_PLAIN_MAX,
    .len = MIN (len, MD_DTLS_PLAIN_MAX),
  };
  out->peer.transport = &self->parent;
  self->out_n++;
}

static guint
md_dtls_transport_receive (MdTransport *transport, MdDatagram *datagrams, guint max)
{
  MdDtlsTransport *self = (MdDtlsTransport *)transport;
  MdDatagram raw[MD_TRANSPORT_RECEIVE_MAX];
  gint64 now_us = g_get_monotonic_time ();

  self->out = datagrams;
  self->out_n = 0;
  self->out_max = max;
  /* Handshake datagrams deliver nothing: read on while there is room. */
  for (guint round = 0; round < MD_DTLS_RECEIVE_ROUNDS && self->out_n < max; round++)
    {
      guint n = md_datagram_receive_many (transport->fd, self->raw, MD_TRANSPORT_DATAGRAM_MAX, raw,
                                          max - self->out_n);

      for (guint i = 0; i < n; i++)
        if (!raw[i].truncated)
          md_dtls_server_receive (self->server, &raw[i].peer, raw[i].data, raw[i].len, now_us,
                                  deliver, self);
      if (n == 0)
        break;
    }
  self->out = NULL;
  return self->out_n;
}

static void
md_dtls_transport_send (MdTransport *transport, const MdOutgoing *datagrams, guint n)
{
  MdDtlsTransport *self = (MdDtlsTransport *)transport;

  for (guint i = 0; i < n; i++)
    if (!md_dtls_server_send (self->server, datagrams[i].peer, datagrams[i].data, datagrams[i].len))
      g_debug ("no DTLS session for an answer of %" G_GSIZE_FORMAT " bytes", datagrams[i].len);
}

static void
md_dtls_transport_free (MdTransport *transport)
{
  MdDtlsTransport *self = (MdDtlsTransport *)transport;

  md_dtls_server_free (self->server);
  g_free (self->raw);
  g_free (self->plain);
  g_free (self);
}

static const MdTransportClass md_dtls_transport_class = {
  .name = "dtls",
  /* A session starts only after the cookie exchange. */
  .proves_address = TRUE,
  .receive = md_dtls_transport_receive,
  .send = md_dtls_transport_send,
  .free = md_dtls_transport_free,
};

MdTransport *
md_dtls_transport_new (int fd, MdDtlsLookupFunc lookup, gpointer lookup_data, GError **error)
{
  MdDtlsServer *server;
  MdDtlsTransport *self;
  MdTransport *udp;

  g_return_val_if_fail (lookup != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The same socket set-up as plain UDP: local addresses, non-blocking. */
  udp = md_udp_transport_new (fd, error);
  if (udp == NULL)
    return NULL;
  md_transport_free (udp);
  server = md_dtls_server_new (lookup, lookup_data, send_datagram, NULL, error);
  if (server == NULL)
    return NULL;
  self = g_new0 (MdDtlsTransport, 1);
  self->parent.klass = &md_dtls_transport_class;
  self->parent.fd = fd;
  self->server = server;
  /* Untouched pages cost no memory. */
  self->raw = g_malloc ((gsize)MD_TRANSPORT_RECEIVE_MAX * MD_TRANSPORT_DATAGRAM_MAX);
  self->plain = g_malloc ((gsize)MD_TRANSPORT_RECEIVE_MAX * MD_DTLS_PLAIN_MAX);
  return &self->parent;
}

gboolean
md_dtls_transport_is_dtls (MdTransport *transport)
{
  return transport != NULL && transport->klass == &md_dtls_transport_class;
}

guint
md_dtls_transport_check_keys (MdTransport *transport)
{
  g_return_val_if_fail (md_dtls_transport_is_dtls (transport), 0);

  return md_dtls_server_check_keys (((MdDtlsTransport *)transport)->server);
}
