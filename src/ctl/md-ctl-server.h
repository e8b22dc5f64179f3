/* Which server mydailyctl talks to, and how: the options (-s, $MYDAILY_SERVER,
 * --key-file, $MYDAILY_KEY_FILE) and the stored credentials turned into one
 * {scheme, host, port, credential}.
 *
 *   -s coaps://HOST[:PORT]   DTLS (port 5684), with the key of --key-file or
 *                            the credential stored for HOST[:PORT]
 *   -s coap://HOST[:PORT]    plain CoAP (port 5683), never a key
 *   -s HOST[:PORT]           DTLS when there is a key for it (a key file, or
 *                            a credential for HOST:PORT, or for HOST with
 *                            any port when no PORT is given); else plain
 *
 * With a key, PORT is the DTLS port. */
#pragma once

#include "md-client.h"
#include "md-credentials.h"

G_BEGIN_DECLS

typedef enum
{
  MD_CTL_SCHEME_COAP,
  MD_CTL_SCHEME_COAPS,
} MdCtlScheme;

typedef struct
{
  MdCtlScheme scheme;
  char *host; /* without brackets */
  guint16 port;
  char *host_port;          /* "HOST:PORT" (IPv6 in brackets): how the outbox names it */
  MdCredential *credential; /* coaps only */
} MdCtlServer;

void md_ctl_server_free (MdCtlServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCtlServer, md_ctl_server_free)

/* @server: "[coap://|coaps://]HOST[:PORT]" (NULL: localhost); @key_file: a
 * "NAME KEY" file or NULL; @credentials: the stored ones (NULL: none).
 * Fails with G_IO_ERROR_INVALID_ARGUMENT for a malformed @server, and
 * MD_ERROR_FAILED for coaps without a key or a bad key file. */
MdCtlServer *md_ctl_server_choose (const char *server, const char *key_file,
                                   MdCredentials *credentials, GError **error);

/* "coaps://alice@notes.lan:5684" or "coap://notes.lan:5683", for messages. */
char *md_ctl_server_describe (const MdCtlServer *server);

MdClient *md_ctl_server_connect (const MdCtlServer *server, double timeout_s, GError **error);

G_END_DECLS
