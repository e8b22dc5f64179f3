/* Who wrote a note, from the datagram that brought it (ARCHITECTURE.md,
 * "Wire protocol"): the key's name for one that came over DTLS, "@" and
 * the source address for one over plain CoAP.  The identity the transport
 * hands the message layer is what the resources store. */
#pragma once

#include "md-note.h"
#include "md-transport.h"

G_BEGIN_DECLS

/* An author and its NUL: "@" + an IPv6 address (INET6_ADDRSTRLEN), or a
 * PSK name of up to MD_PSK_NAME_MAX characters. */
#define MD_AUTHOR_MAX (MD_NOTE_AUTHOR_MAX_LEN + 1)

/* "alice", "@192.0.2.1" or "@2001:db8::1" (no port: a client opens a new
 * port per request); into @out, which is returned. */
const char *md_author_from_datagram (const MdDatagram *datagram, char out[MD_AUTHOR_MAX]);

G_END_DECLS
