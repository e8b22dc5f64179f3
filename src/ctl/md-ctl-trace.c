#include "config.h"

#include "md-ctl-trace.h"

#include <stdio.h>

#include "md-coap-describe.h"
#include "md-dtls-describe.h"
#include "md-terminal.h"

/* Messages handed to a DTLS session before their record leaves: a few are
 * kept while the handshake runs (md-client-dtls.h). */
#define MAX_PENDING 32

struct _MdCtlTrace
{
  MdCtlTraceWriteFunc write;
  gpointer user_data;
  GQueue pending; /* GBytes: sent CoAP messages awaiting their record */
};

/* "13:04:11.123456", local time. */
static char *
format_time (gint64 time_us)
{
  g_autoptr (GDateTime) local = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  g_autofree char *seconds = local != NULL ? g_date_time_format (local, "%H:%M:%S") : NULL;

  return g_strdup_printf ("%s.%06d", seconds != NULL ? seconds : "?",
                          (int)(time_us % G_USEC_PER_SEC));
}

/* "13:04:11.123456 send to PEER: " */
static char *
format_prefix (MdClientDirection direction, const char *peer, gint64 time_us)
{
  g_autofree char *when = format_time (time_us);
  /* A name from the resolver, but still nothing for a terminal to act on. */
  g_autofree char *safe_peer = md_terminal_dup_safe (peer, -1, MD_TERMINAL_NONE);

  return g_strdup_printf ("%s %s %s: ", when, direction == MD_CLIENT_SENT ? "send to" : "recv from",
                          safe_peer);
}

char *
md_ctl_trace_format (MdClientDirection direction, const char *peer, const guint8 *data, gsize len,
                     gint64 time_us)
{
  g_autofree char *prefix = NULL;
  g_autofree char *what = NULL;

  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (time_us >= 0, NULL);

  prefix = format_prefix (direction, peer, time_us);
  what = md_coap_datagram_describe (data, len);
  return g_strconcat (prefix, what, NULL);
}

static void
write_stderr (const char *line, gpointer user_data)
{
  fprintf (stderr, "%s\n", line);
}

MdCtlTrace *
md_ctl_trace_new (MdCtlTraceWriteFunc write, gpointer user_data)
{
  MdCtlTrace *self = g_new0 (MdCtlTrace, 1);

  self->write = write != NULL ? write : write_stderr;
  self->user_data = user_data;
  g_queue_init (&self->pending);
  return self;
}

static void
write_decrypted (MdCtlTrace *self, gint64 time_us, const char *note, GBytes *message)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  g_autofree char *when = format_time (time_us);
  g_autofree char *what = md_coap_datagram_describe (data, len);
  g_autofree char *line = g_strdup_printf ("%s   %s%s", when, note, what);

  self->write (line, self->user_data);
}

void
md_ctl_trace_free (MdCtlTrace *self)
{
  GBytes *message;

  if (self == NULL)
    return;
  while ((message = g_queue_pop_head (&self->pending)) != NULL)
    {
      write_decrypted (self, g_get_real_time (), "(never sent) ", message);
      g_bytes_unref (message);
    }
  g_free (self);
}

static void
keep_pending (MdCtlTrace *self, const guint8 *data, gsize len)
{
  if (self->pending.length == MAX_PENDING)
    g_bytes_unref (g_queue_pop_head (&self->pending));
  g_queue_push_tail (&self->pending, g_bytes_new (data, len));
}

/* A line per record; under a sent application record, the message it
 * carries (received ones come decrypted after their datagram). */
static void
write_records (MdCtlTrace *self, MdClientDirection direction, const char *prefix,
               const guint8 *data, gsize len, gint64 time_us)
{
  MdDtlsRecord record;
  gsize at = 0;

  while (at < len && md_dtls_record_parse (data + at, len - at, &record))
    {
      g_autofree char *what = md_dtls_record_describe (&record);
      g_autofree char *line = g_strconcat (prefix, what, NULL);
      g_autoptr (GBytes) message = NULL;

      self->write (line, self->user_data);
      at += MD_DTLS_RECORD_HEADER + record.length;
      if (direction != MD_CLIENT_SENT || record.content_type != MD_DTLS_CONTENT_APPLICATION_DATA)
        continue;
      message = g_queue_pop_head (&self->pending);
      if (message != NULL)
        write_decrypted (self, time_us, "", message);
    }
  if (at < len)
    {
      g_autofree char *line
          = g_strdup_printf ("%sDTLS malformed: %" G_GSIZE_FORMAT " bytes left", prefix, len - at);

      self->write (line, self->user_data);
    }
}

void
md_ctl_trace_datagram (MdClientDirection direction, MdClientTraceLayer layer, const char *peer,
                       const guint8 *data, gsize len, gpointer user_data)
{
  MdCtlTrace *self = user_data;
  gint64 now = g_get_real_time ();
  g_autofree char *prefix = NULL;
  g_autofree char *line = NULL;

  if (layer == MD_CLIENT_TRACE_DECRYPTED && direction == MD_CLIENT_SENT)
    {
      keep_pending (self, data, len);
      return;
    }
  if (layer == MD_CLIENT_TRACE_DECRYPTED)
    {
      g_autoptr (GBytes) message = g_bytes_new (data, len);

      write_decrypted (self, now, "", message);
      return;
    }
  prefix = format_prefix (direction, peer, now);
  if (layer == MD_CLIENT_TRACE_DTLS)
    {
      write_records (self, direction, prefix, data, len, now);
      return;
    }
  line = md_ctl_trace_format (direction, peer, data, len, now);
  self->write (line, self->user_data);
}

void
md_ctl_trace_attach (MdCtlTrace *self, MdClient *client)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (client != NULL);

  md_client_set_trace (client, md_ctl_trace_datagram, self);
}
