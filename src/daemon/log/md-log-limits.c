#include "config.h"

/* The refusals of a limit (a full notebook, a rate limit) come in floods:
 * one journal message per minute per limit says it, with how many requests
 * it refused since the message before, so the journal does not grow with
 * the flood. */

#include "md-log.h"

typedef struct
{
  gint64 next_us;  /* the next message may go at this time; 0: at once */
  guint64 refused; /* since the last message, this one included */
} MdLogThrottle;

/* Counts a refusal; TRUE when its message is due, with *@refused the count
 * it reports. */
static gboolean
md_log_throttle (MdLogThrottle *throttle, gint64 now_us, guint64 *refused)
{
  throttle->refused++;
  if (throttle->next_us != 0 && now_us < throttle->next_us)
    return FALSE;
  *refused = throttle->refused;
  throttle->refused = 0;
  throttle->next_us = now_us + MD_LOG_LIMIT_INTERVAL_US;
  return TRUE;
}

static void
md_log_limit (const char *message_id, const char *what, const char *peer, const char *reason,
              guint64 refused)
{
  g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, refused);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID", message_id,
                    MD_PROTOCOL_FIELD_REASON, reason, MD_PROTOCOL_FIELD_PEER, peer,
                    MD_PROTOCOL_FIELD_REFUSED, count, "MESSAGE",
                    "%s: refused %s add(s) in the last minute, the latest from %s: %s", what, count,
                    peer, reason);
}

void
md_log_notebook_full (const char *peer, const char *reason, gint64 now_us)
{
  static MdLogThrottle throttle;
  guint64 refused;

  if (md_log_throttle (&throttle, now_us, &refused))
    md_log_limit (MD_PROTOCOL_MESSAGE_ID_NOTEBOOK_FULL, "notebook full", peer, reason, refused);
}

void
md_log_rate_limited (const char *peer, const char *reason, gint64 now_us)
{
  static MdLogThrottle throttle;
  guint64 refused;

  if (md_log_throttle (&throttle, now_us, &refused))
    md_log_limit (MD_PROTOCOL_MESSAGE_ID_RATE_LIMITED, "rate limit", peer, reason, refused);
}

/* Rejections are logged one by one, so a person debugging a client sees
 * each of its bad requests; a hostile flood of them is cut to a burst per
 * interval. */
typedef struct
{
  gint64 window_end_us;
  guint logged;          /* in this window */
  guint64 unlogged;      /* in this window, past the burst */
  guint64 unlogged_prev; /* of the last window, not reported yet */
} MdLogBurst;

static gboolean
md_log_burst_admit (MdLogBurst *burst, gint64 now_us)
{
  if (now_us >= burst->window_end_us)
    {
      burst->unlogged_prev += burst->unlogged;
      burst->unlogged = 0;
      burst->logged = 0;
      burst->window_end_us = now_us + MD_LOG_LIMIT_INTERVAL_US;
    }
  if (burst->logged >= MD_LOG_REJECTED_BURST)
    {
      burst->unlogged++;
      return FALSE;
    }
  burst->logged++;
  return TRUE;
}

static void
md_log_rejected (const char *peer, const char *code, const char *reason, guint64 unlogged)
{
  g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, unlogged);

  if (unlogged == 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID",
                      MD_PROTOCOL_MESSAGE_ID_REQUEST_REJECTED, MD_PROTOCOL_FIELD_REASON, reason,
                      MD_PROTOCOL_FIELD_COAP_CODE, code, MD_PROTOCOL_FIELD_PEER, peer, "MESSAGE",
                      "rejected a request from %s: %s %s", peer, code, reason);
  else
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID",
                      MD_PROTOCOL_MESSAGE_ID_REQUEST_REJECTED, MD_PROTOCOL_FIELD_REASON, reason,
                      MD_PROTOCOL_FIELD_COAP_CODE, code, MD_PROTOCOL_FIELD_PEER, peer,
                      MD_PROTOCOL_FIELD_REFUSED, count, "MESSAGE",
                      "rejected a request from %s: %s %s (and %s more before it, not logged)", peer,
                      code, reason, count);
}

void
md_log_request_rejected_at (const char *peer, const char *code, const char *reason, gint64 now_us)
{
  static MdLogBurst burst;
  guint64 unlogged;

  if (!md_log_burst_admit (&burst, now_us))
    return;
  unlogged = burst.unlogged_prev;
  burst.unlogged_prev = 0;
  md_log_rejected (peer, code, reason, unlogged);
}

void
md_log_request_rejected (const char *peer, const char *code, const char *reason)
{
  md_log_request_rejected_at (peer, code, reason, g_get_monotonic_time ());
}

/* Not an add but any datagram, and nothing was answered: its own words. */
void
md_log_plain_refused (const char *peer, gint64 now_us)
{
  static MdLogThrottle throttle;
  g_autofree char *count = NULL;
  guint64 refused;

  if (!md_log_throttle (&throttle, now_us, &refused))
    return;
  count = g_strdup_printf ("%" G_GUINT64_FORMAT, refused);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_PLAIN_REFUSED, MD_PROTOCOL_FIELD_PEER, peer,
                    MD_PROTOCOL_FIELD_REFUSED, count, "MESSAGE",
                    "plain port: dropped %s datagram(s) from outside PlainFrom= in the last "
                    "minute, the latest from %s",
                    count, peer);
}
