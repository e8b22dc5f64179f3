/* A scripted CoAP server for the client library's unit tests: a real UDP
 * socket on 127.0.0.1 that the test reads requests from and writes chosen
 * answers to, so every loss, duplicate, challenge or lie is the test's own
 * choice.  The client under test runs on a manual MdClientClock; the
 * server's waits are bounded in real time (the datagrams are on loopback,
 * so a sent request is already queued when md_client_send() returns). */
#pragma once

#include <gio/gio.h>

#include "md-client.h"
#include "md-coap.h"

G_BEGIN_DECLS

typedef struct
{
  GSocket *socket;
  GSocketAddress *peer; /* the client, once it sent something */
  char *address;        /* "127.0.0.1:PORT" */
  guint8 buffer[MD_COAP_MAX_DATAGRAM];
  gsize len;
} MdFakeServer;

MdFakeServer *md_fake_server_new (void);
void md_fake_server_free (MdFakeServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdFakeServer, md_fake_server_free)

/* A client of @server on a manual clock at 0, with @timeout_s per request. */
MdClient *md_fake_server_new_client (MdFakeServer *server, double timeout_s, MdClientClock **clock);

/* The next datagram from the client, parsed; asserts that one comes. */
void md_fake_server_receive (MdFakeServer *server, MdCoapMessage *msg);
/* TRUE when a datagram from the client waits (does not take it). */
gboolean md_fake_server_pending (MdFakeServer *server);
void md_fake_server_send (MdFakeServer *server, const MdCoapMessage *msg);
void md_fake_server_send_raw (MdFakeServer *server, const void *data, gsize len);
/* A piggybacked answer (ACK, same Message ID and token) to @request. */
void md_fake_server_reply (MdFakeServer *server, const MdCoapMessage *request, guint8 code,
                           const char *payload);

/* Runs the default main context until *@flag is TRUE: asserts it becomes
 * TRUE within 2 s of real time. */
void md_fake_pump_until (gboolean *flag);
/* Runs what is ready now, without blocking. */
void md_fake_pump_pending (void);

G_END_DECLS
