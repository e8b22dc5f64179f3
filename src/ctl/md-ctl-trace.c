#include "config.h"

#include "md-ctl-trace.h"

#include <stdio.h>

#include "md-coap-describe.h"
#include "md-terminal.h"

/* "13:04:11.123456", local time. */
static char *
format_time (gint64 time_us)
{
  g_autoptr (GDateTime) local = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  g_autofree char *seconds = local != NULL ? g_date_time_format (local, "%H:%M:%S") : NULL;

  return g_strdup_printf ("%s.%06d", seconds != NULL ? seconds : "?",
                          (int)(time_us % G_USEC_PER_SEC));
}

char *
md_ctl_trace_format (MdClientDirection direction, const char *peer, const guint8 *data, gsize len,
                     gint64 time_us)
{
  g_autofree char *when = NULL;
  g_autofree char *what = NULL;
  g_autofree char *safe_peer = NULL;

  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (time_us >= 0, NULL);

  when = format_time (time_us);
  what = md_coap_datagram_describe (data, len);
  /* A name from the resolver, but still nothing for a terminal to act on. */
  safe_peer = md_terminal_dup_safe (peer, -1, MD_TERMINAL_NONE);
  return g_strdup_printf ("%s %s %s: %s", when,
                          direction == MD_CLIENT_SENT ? "send to" : "recv from", safe_peer, what);
}

void
md_ctl_trace_print (MdClientDirection direction, const char *peer, const guint8 *data, gsize len,
                    gpointer user_data)
{
  g_autofree char *line = md_ctl_trace_format (direction, peer, data, len, g_get_real_time ());

  fprintf (stderr, "%s\n", line);
}
