/* mydailyctl --debug: one line on stderr for every datagram the client
 * sends or receives, decoded as the daemon's verbose log decodes them
 * (md-coap-describe.h), so the two logs and a capture line up:
 *
 *   13:04:11.123456 send to 127.0.0.1:5683: CON GET mid=0xda30 token=6a5ecda8 path=status
 *   13:04:11.124012 recv from 127.0.0.1:5683: ACK 2.05 mid=0xda30 token=6a5ecda8 ct=0 payload=201B
 *
 * The time is local, to the microsecond, as `tshark -t ad` shows it. */
#pragma once

#include "md-client.h"

G_BEGIN_DECLS

/* The line for one datagram (no newline), with @time_us the real time in
 * microseconds since the epoch (g_get_real_time ()). */
char *md_ctl_trace_format (MdClientDirection direction, const char *peer, const guint8 *data,
                           gsize len, gint64 time_us);

/* An MdClientTraceFunc that prints md_ctl_trace_format () on stderr. */
void md_ctl_trace_print (MdClientDirection direction, const char *peer, const guint8 *data,
                         gsize len, gpointer user_data);

G_END_DECLS
