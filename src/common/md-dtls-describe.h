/* The DTLS record layer (RFC 6347 §4.1) of a datagram, for people reading a
 * log: mydailyctl --debug shows each record of a coaps datagram as
 *
 *   DTLS application_data epoch=1 seq=5 len=61
 *
 * with the decrypted CoAP message under it.  The 13-byte record header is
 * in the clear even when the record is encrypted; a handshake record of
 * epoch 0 (not yet encrypted) also names its message (client_hello, ...).
 *
 * Pure and safe on hostile input: it reads only the bytes it is given. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_DTLS_RECORD_HEADER 13
#define MD_DTLS_CONTENT_APPLICATION_DATA 23

typedef struct
{
  guint8 content_type;
  guint16 version; /* 0xfefd is DTLS 1.2, 0xfeff DTLS 1.0 */
  guint16 epoch;
  guint64 seq;  /* 48 bits */
  gsize length; /* of the fragment after the header */
  /* epoch 0 handshake: the first fragment byte (message type), else -1 */
  gint handshake_type;
} MdDtlsRecord;

/* The record at the start of @data (@len bytes left in the datagram).
 * FALSE if the header is short or the fragment runs past the end. */
gboolean md_dtls_record_parse (const guint8 *data, gsize len, MdDtlsRecord *record);

/* "DTLS application_data epoch=1 seq=5 len=61". */
gchar *md_dtls_record_describe (const MdDtlsRecord *record);

G_END_DECLS
