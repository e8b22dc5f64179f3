/* mydailyctl --debug: one line on stderr for every datagram the client
 * sends or receives, decoded as the daemon's verbose log decodes them
 * (md-coap-describe.h), so the two logs and a capture line up:
 *
 *   13:04:11.123456 send to 127.0.0.1:5683: CON GET mid=0xda30 token=6a5ecda8 path=status
 *   13:04:11.124012 recv from 127.0.0.1:5683: ACK 2.05 mid=0xda30 token=6a5ecda8 ct=0 payload=201B
 *
 * Over DTLS a line per record (md-dtls-describe.h), and under each
 * application record the CoAP message inside it:
 *
 *   13:04:11.130001 send to 127.0.0.1:5684: DTLS application_data epoch=1 seq=1 len=61
 *   13:04:11.130001   CON GET mid=0xda31 token=6a5ecda8 path=notes block2=0/0/1024
 *
 * The time is local, to the microsecond, as `tshark -t ad` shows it. */
#pragma once

#include "md-client.h"

G_BEGIN_DECLS

/* The line for one plain CoAP datagram (no newline), with @time_us the real
 * time in microseconds since the epoch (g_get_real_time ()). */
char *md_ctl_trace_format (MdClientDirection direction, const char *peer, const guint8 *data,
                           gsize len, gint64 time_us);

typedef void (*MdCtlTraceWriteFunc) (const char *line, gpointer user_data);

typedef struct _MdCtlTrace MdCtlTrace;

/* A tracer writing each line through @write (NULL: to stderr). */
MdCtlTrace *md_ctl_trace_new (MdCtlTraceWriteFunc write, gpointer user_data);
/* Writes what it still holds (messages given to a DTLS session that never
 * sent them), then frees. */
void md_ctl_trace_free (MdCtlTrace *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCtlTrace, md_ctl_trace_free)

/* The MdClientTraceFunc behind md_ctl_trace_attach (), @user_data the
 * tracer. */
void md_ctl_trace_datagram (MdClientDirection direction, MdClientTraceLayer layer, const char *peer,
                            const guint8 *data, gsize len, gpointer user_data);

/* Traces @client's datagrams until @self is freed (which must come after
 * the client's last datagram). */
void md_ctl_trace_attach (MdCtlTrace *self, MdClient *client);

G_END_DECLS
