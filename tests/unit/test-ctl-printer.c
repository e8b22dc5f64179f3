#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-ctl-printer.h"
#include "md-error.h"
#include "md-note.h"

/* Feeds @body to a printer of @format writing into a memory stream; returns
 * what it printed, or NULL with @error set when the feed failed. */
static char *
feed_as (MdCtlFormat format, gboolean color, const char *body, gsize len, GError **error)
{
  char *printed = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&printed, &size);
  MdCtlPrinter *printer = md_ctl_printer_new (out, format, color);
  gboolean ok = md_ctl_printer_feed ((const guint8 *)body, len, printer, error)
                && md_ctl_printer_flush (printer, error);

  md_ctl_printer_free (printer);
  fclose (out);
  if (!ok)
    g_clear_pointer (&printed, free);
  return printed;
}

static char *
feed_tsv (const char *body, gsize len, GError **error)
{
  return feed_as (MD_CTL_FORMAT_TSV, FALSE, body, len, error);
}

/* Two notes, the second from before authors; times in UTC (main sets TZ). */
static const char authors_body[] = "1\t2026-11-24T19:40:00Z\talice\tfirst\n"
                                   "2\t2026-11-24T19:41:00Z\t-\tsecond\n";

static void
test_short_authors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *plain
      = feed_as (MD_CTL_FORMAT_SHORT, FALSE, authors_body, strlen (authors_body), &error);
  g_autofree char *colored
      = feed_as (MD_CTL_FORMAT_SHORT, TRUE, authors_body, strlen (authors_body), &error);

  g_assert_no_error (error);
  g_assert_cmpstr (plain, ==,
                   "2026-11-24 19:40  alice  first\n"
                   "2026-11-24 19:41  -  second\n");
  /* Colour only where the caller asks (md_ctl_use_color: a terminal,
   * without NO_COLOR): the time dim, the author cyan, the text as it is. */
  g_assert_cmpstr (colored, ==,
                   "\033[2m2026-11-24 19:40\033[0m  \033[36malice\033[0m  first\n"
                   "\033[2m2026-11-24 19:41\033[0m  \033[36m-\033[0m  second\n");
}

/* The -o json schema, as README.md "Output formats" documents it: one object
 * a line, exactly these members in this order, of these types. */
static void
assert_json_schema (const char *line, gint64 id, const char *time, const char *author,
                    const char *text)
{
  static const char *const members[] = { "id", "time", "author", "text" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = json_from_string (line, &error);
  g_autoptr (GList) names = NULL;
  JsonObject *object;
  guint i = 0;

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  names = json_object_get_members (object);
  g_assert_cmpuint (g_list_length (names), ==, G_N_ELEMENTS (members));
  for (GList *l = names; l != NULL; l = l->next)
    g_assert_cmpstr (l->data, ==, members[i++]);
  g_assert_true (json_node_get_value_type (json_object_get_member (object, "id")) == G_TYPE_INT64);
  for (i = 1; i < G_N_ELEMENTS (members); i++)
    g_assert_true (json_node_get_value_type (json_object_get_member (object, members[i]))
                   == G_TYPE_STRING);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (object, "time"), ==, time);
  g_assert_cmpstr (json_object_get_string_member (object, "author"), ==, author);
  g_assert_cmpstr (json_object_get_string_member (object, "text"), ==, text);
}

static void
test_json_schema (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *printed
      = feed_as (MD_CTL_FORMAT_JSON, FALSE, authors_body, strlen (authors_body), &error);
  g_auto (GStrv) lines = NULL;

  g_assert_no_error (error);
  lines = g_strsplit (printed, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  assert_json_schema (lines[0], 1, "2026-11-24T19:40:00Z", "alice", "first");
  assert_json_schema (lines[1], 2, "2026-11-24T19:41:00Z", "-", "second");
  g_assert_cmpstr (lines[2], ==, "");
  /* The exact bytes, so that a reordering or a new member is a decision. */
  g_assert_cmpstr (
      lines[0], ==,
      "{\"id\":1,\"time\":\"2026-11-24T19:40:00Z\",\"author\":\"alice\",\"text\":\"first\"}");
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
  /* Before any time is converted: short prints local times. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl/printer/lines", test_line_split_across_feeds);
  g_test_add_func ("/ctl/printer/short-authors", test_short_authors);
  g_test_add_func ("/ctl/printer/json-schema", test_json_schema);
  g_test_add_func ("/ctl/printer/endless-line", test_endless_line_refused);
  return g_test_run ();
}
