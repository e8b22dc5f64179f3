/* What the exchanges and observations of the library need from MdClient;
 * not for the commands. */
#pragma once

#include "md-client.h"

G_BEGIN_DECLS

#define MD_CLIENT_TOKEN_LEN 4

/* Offered each incoming message; TRUE takes it (a confirmable one is then
 * acknowledged by the client). */
typedef gboolean (*MdClientMessageFunc) (const MdCoapMessage *msg, gpointer user_data);
/* With @failure NULL: the current address refused, and the client moved on
 * to the next one.  Otherwise the transport failed for good (the server
 * refused the key): requests end with @failure. */
typedef void (*MdClientRefusedFunc) (const GError *failure, gpointer user_data);

guint md_client_add_listener (MdClient *client, MdClientMessageFunc message,
                              MdClientRefusedFunc refused, gpointer user_data);
void md_client_remove_listener (MdClient *client, guint id);

/* Sends what the kernel takes; a failure moves on to the next address. */
void md_client_send (MdClient *client, const guint8 *data, gsize len);
guint16 md_client_next_mid (MdClient *client);
void md_client_make_token (MdClient *client, guint8 token[MD_CLIENT_TOKEN_LEN]);
guint md_client_get_n_addresses (MdClient *client);

/* The last Echo value (RFC 9175) a server asked for, sent with every later
 * request so that a read of many blocks needs one challenge, not one each. */
GBytes *md_client_get_echo (MdClient *client);
void md_client_set_echo (MdClient *client, GBytes *echo);

/* A finished exchange's token: a retransmitted response that still carries
 * it is acknowledged instead of reset. */
void md_client_remember_token (MdClient *client, const guint8 *token);

G_END_DECLS
