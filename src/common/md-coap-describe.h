/* One-line decodes of CoAP datagrams, for people reading a log.
 *
 * The daemon's verbose log and mydailyctl --debug print the same text, so
 * a journal line, a --debug line and a packet in tshark for one datagram
 * read alike:
 *
 *   CON GET mid=0xda31 token=6a5ecda8 path=notes query=after=3
 *       block2=1/0/1024 echo=000001863f9a01c2...(12B)
 *   ACK 2.05 mid=0xda31 token=6a5ecda8 ct=0 block2=1/1/1024 payload=1024B
 *
 * Fields, each only when present: type, code (a method by name, else
 * "class.detail"), Message ID, token (hex), path, query, location (each
 * segment escaped, joined with '/' or '&'), ct (Content-Format), max-age,
 * block1 and block2 (number/more/size in bytes), size1, size2, observe,
 * if-none-match, etag (hex), echo (hex, the first 8 bytes, and the length),
 * optN=LENGTHB for any other option, payload=LENGTHB.
 *
 * Safe on hostile input: the text is one line with no control characters
 * (md-terminal.h escaping; a space inside a value shows as \x20, so fields
 * stay apart). */
#pragma once

#include "md-coap.h"

G_BEGIN_DECLS

gchar *md_coap_message_describe (const MdCoapMessage *msg);

/* The same from a datagram's bytes.  Never fails: a datagram that does not
 * parse is "malformed: REASON (N bytes)", after its header fields when it
 * has a CoAP header. */
gchar *md_coap_datagram_describe (const guint8 *data, gsize len);

G_END_DECLS
