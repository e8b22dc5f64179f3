/* The sockets of both transports: systemd's, sorted by FileDescriptorName
 * (mydaily.socket names the plain one "coap" and the DTLS one "coaps"),
 * else those bound for --listen and --listen-dtls. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_LISTEN_NAME_PLAIN "coap"
#define MD_LISTEN_NAME_DTLS "coaps"

/* Appends systemd's sockets named "coaps" to @dtls_fds and all others to
 * @plain_fds (an unnamed socket is plain, as before names); without
 * systemd's, binds each of @plain_specs and @dtls_specs (NULL-terminated,
 * may be NULL; a DTLS spec without a port gets 5684).  Each array keeps the
 * sockets obtained before a failure, for the caller to close. */
gboolean md_listen_open_named (const char *const *plain_specs, const char *const *dtls_specs,
                               GArray *plain_fds, GArray *dtls_fds, GError **error);
/* @spec with the coaps port appended when it names none. */
char *md_listen_dtls_spec (const char *spec);

G_END_DECLS
