#include "config.h"

#include "md-log.h"

#include <string.h>

#define T0 (G_GINT64_CONSTANT (1000) * G_USEC_PER_SEC)

static struct
{
  guint rejected;
  char last_refused[32];
} seen;

static const char *
field_value (const GLogField *fields, gsize n_fields, const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, key) == 0)
      return fields[i].value;
  return "";
}

static GLogWriterOutput
counting_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (strcmp (field_value (fields, n_fields, "MESSAGE_ID"), MD_PROTOCOL_MESSAGE_ID_REQUEST_REJECTED)
      == 0)
    {
      seen.rejected++;
      g_strlcpy (seen.last_refused, field_value (fields, n_fields, MD_PROTOCOL_FIELD_REFUSED),
                 sizeof seen.last_refused);
    }
  return G_LOG_WRITER_HANDLED;
}

/* A flood of bad requests writes a burst, then nothing until the interval
 * ends; the first line after it counts what went unlogged. */
static void
test_rejected_flood_is_cut_to_a_burst (void)
{
  for (guint i = 0; i < 10 * MD_LOG_REJECTED_BURST; i++)
    md_log_request_rejected_at ("192.0.2.1:5000", "4.00", "bad option", T0 + i);
  g_assert_cmpuint (seen.rejected, ==, MD_LOG_REJECTED_BURST);
  g_assert_cmpstr (seen.last_refused, ==, "");

  md_log_request_rejected_at ("192.0.2.1:5000", "4.00", "bad option",
                              T0 + MD_LOG_LIMIT_INTERVAL_US);
  g_assert_cmpuint (seen.rejected, ==, MD_LOG_REJECTED_BURST + 1);
  g_assert_cmpstr (seen.last_refused, ==, "540");

  md_log_request_rejected_at ("192.0.2.1:5000", "4.00", "bad option",
                              T0 + MD_LOG_LIMIT_INTERVAL_US + 1);
  g_assert_cmpuint (seen.rejected, ==, MD_LOG_REJECTED_BURST + 2);
  g_assert_cmpstr (seen.last_refused, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (counting_writer, NULL, NULL);
  g_test_add_func ("/log/rejected/flood-is-cut-to-a-burst", test_rejected_flood_is_cut_to_a_burst);
  return g_test_run ();
}
