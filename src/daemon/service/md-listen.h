/* The UDP sockets mydailyd serves: the ones systemd passes (socket
 * activation, sd_listen_fds), else one bound for each --listen=ADDR:PORT.
 * Both end as plain fds in one array, checked (systemd's) or made (bound)
 * as IPv4 or IPv6 UDP sockets, so the server serves them alike without
 * checking them again. */
#pragma once

#include "md-protocol.h"

#include <glib.h>

G_BEGIN_DECLS

/* IANA's "coap" port, for a --listen without one. */
#define MD_LISTEN_DEFAULT_PORT MD_PROTOCOL_PORT_STRING

/* Splits a --listen value: "127.0.0.1:0", "[::1]:5683", "localhost:5683",
 * ":5683" (@host "": any address) or a host alone (the default port). */
gboolean md_listen_split (const char *spec, char **host, char **port, GError **error);
/* Binds a socket to every address @spec names (a name such as localhost may
 * have an IPv4 and an IPv6 one) and appends them to @fds (of int); fails
 * only if none can be bound. */
gboolean md_listen_bind (const char *spec, GArray *fds, GError **error);
/* The sockets from systemd when it passed any, else those bound for each of
 * @specs (NULL-terminated, may be NULL); appended to @fds, which keeps the
 * ones obtained before a failure, for the caller to close. */
gboolean md_listen_open (const char *const *specs, GArray *fds, GError **error);
/* The local address of @fd as "127.0.0.1:40123" or "[::1]:5683", "?" when
 * it has none; into @out, which is returned. */
const char *md_listen_describe (int fd, char out[64]);

G_END_DECLS
