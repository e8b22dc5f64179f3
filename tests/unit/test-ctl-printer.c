#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "md-ctl-printer.h"
#include "md-error.h"
#include "md-note.h"

/* Feeds @body to a tsv printer writing into a memory stream; returns what
 * it printed, or NULL with @error set when the feed failed. */
static char *
feed_tsv (const char *body, gsize len, GError **error)
{
  char *printed = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&printed, &size);
  MdCtlPrinter *printer = md_ctl_printer_new (out, MD_CTL_FORMAT_TSV, FALSE);
  gboolean ok = md_ctl_printer_feed ((const guint8 *)body, len, printer, error)
                && md_ctl_printer_flush (printer, error);

  md_ctl_printer_free (printer);
  fclose (out);
  if (!ok)
    g_clear_pointer (&printed, free);
  return printed;
}

static void
test_line_split_across_feeds (void)
{
  g_autoptr (GError) error = NULL;
  const char *body
      = "1\t2026-11-24T19:40:00Z\talice\tfirst\n2\t2026-11-24T19:41:00Z\talice\tsecond\n";
  g_autofree char *printed = feed_tsv (body, strlen (body), &error);

  g_assert_no_error (error);
  g_assert_cmpstr (printed, ==, body);
}

/* A hostile body without newlines fails as soon as it is longer than any
 * note line, instead of growing the buffer with the whole read. */
static void
test_endless_line_refused (void)
{
  g_autoptr (GError) error = NULL;
  gsize len = MD_NOTE_MAX_WIRE_LINE + 1;
  g_autofree char *body = g_malloc (len);
  g_autofree char *printed = NULL;

  memset (body, 'x', len);
  printed = feed_tsv (body, len, &error);
  g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
  g_assert_null (printed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl/printer/lines", test_line_split_across_feeds);
  g_test_add_func ("/ctl/printer/endless-line", test_endless_line_refused);
  return g_test_run ();
}
