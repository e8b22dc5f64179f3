/* The transport interface: how datagrams reach the message layer and how
 * its answers leave.
 *
 * The message layer sees a datagram as (endpoint, identity, bytes): the
 * endpoint is where the answer goes (an MdPeer: our socket, the client's
 * address, and the address of ours it spoke to), the identity who the
 * transport proved the sender to be (NULL over plain UDP, which proves
 * nothing; a PSK identity over DTLS), and the bytes one CoAP message.  So
 * it never knows whether they came over DTLS: a DTLS transport decrypts in
 * receive() and encrypts in send(), beside plain UDP (md-udp-transport.h).
 *
 * Every call is on the main loop and never blocks. */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

/* Datagrams one receive() returns at most. */
#define MD_TRANSPORT_RECEIVE_MAX 64
/* Larger than any UDP payload (65535 - headers), so a datagram marked
 * truncated was cut by a bug or is an IPv6 jumbogram. */
#define MD_TRANSPORT_DATAGRAM_MAX (65536 + 1)

typedef struct _MdTransport MdTransport;

/* One datagram in: valid until the next receive() on its transport. */
typedef struct
{
  MdPeer peer;          /* the endpoint: where an answer goes */
  const char *identity; /* NULL: anonymous */
  const guint8 *data;
  gsize len;
  gboolean truncated; /* longer than MD_TRANSPORT_DATAGRAM_MAX */
  /* Sent to a multicast (or broadcast) address: only discovery answers
   * those (md-discovery.h), never the message layer. */
  gboolean to_group;
} MdDatagram;

/* One datagram out. */
typedef struct
{
  const MdPeer *peer;
  const guint8 *data;
  gsize len;
} MdOutgoing;

typedef struct
{
  const char *name; /* "udp", for logs */
  /* Every datagram's source has proved that it receives at its address
   * (DTLS: the cookie exchange), so answers need no Echo (RFC 9175). */
  gboolean proves_address;
  /* Fills up to @max (<= MD_TRANSPORT_RECEIVE_MAX) datagrams that are
   * waiting; returns how many, 0 when none is. */
  guint (*receive) (MdTransport *self, MdDatagram *datagrams, guint max);
  /* Sends each of @n datagrams, as many per system call as it can; a
   * datagram that cannot go is logged (debug) and dropped, as UDP may. */
  void (*send) (MdTransport *self, const MdOutgoing *datagrams, guint n);
  void (*free) (MdTransport *self);
} MdTransportClass;

/* The part every transport begins with. */
struct _MdTransport
{
  const MdTransportClass *klass;
  int fd; /* readable when receive() has something */
};

guint md_transport_receive (MdTransport *self, MdDatagram *datagrams, guint max);
void md_transport_send (MdTransport *self, const MdOutgoing *datagrams, guint n);
int md_transport_get_fd (MdTransport *self);
/* Whether @peer came through a transport that proves_address. */
gboolean md_transport_proves_address (const MdPeer *peer);
void md_transport_free (MdTransport *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdTransport, md_transport_free)

G_END_DECLS
