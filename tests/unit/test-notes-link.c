/* The </notes> link: written within a size, read strictly (md-notes-link.h). */
#include "config.h"

#include "md-error.h"
#include "md-notes-link.h"

#include <string.h>

#define UUID "0b2c6a4e-1f3d-4c5b-9a8e-7d6f5e4c3b2a"

static MdNotesLink
sample (const char *name, guint16 coaps)
{
  MdNotesLink link = { .name = (char *)name, .coaps_port = coaps };

  g_strlcpy (link.notebook, UUID, sizeof link.notebook);
  return link;
}

static void
test_format_full (void)
{
  MdNotesLink link = sample ("kitchen", 5684);
  g_autofree gchar *text = md_notes_link_format (&link, G_MAXSIZE);

  g_assert_cmpstr (text, ==,
                   "</notes>;rt=\"mydaily.notes\";ct=0;notebook=\"" UUID
                   "\";title=\"kitchen\";coaps=\"5684\"");
}

/* Each shape is the longest that fits: title= goes first, then ct=, then
 * everything but rt= and ct=. */
static void
test_format_trimmed (void)
{
  MdNotesLink link = sample ("kitchen", 5684);
  g_autofree gchar *full = md_notes_link_format (&link, G_MAXSIZE);
  g_autofree gchar *no_title = md_notes_link_format (&link, strlen (full) - 1);
  g_autofree gchar *essential = NULL;
  g_autofree gchar *minimal = NULL;
  g_autofree gchar *none = NULL;

  g_assert_cmpstr (no_title, ==,
                   "</notes>;rt=\"mydaily.notes\";ct=0;notebook=\"" UUID "\";coaps=\"5684\"");
  essential = md_notes_link_format (&link, strlen (no_title) - 1);
  g_assert_cmpstr (essential, ==,
                   "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";coaps=\"5684\"");
  minimal = md_notes_link_format (&link, strlen (essential) - 1);
  g_assert_cmpstr (minimal, ==, "</notes>;rt=\"mydaily.notes\";ct=0");
  none = md_notes_link_format (&link, strlen (minimal) - 1);
  g_assert_null (none);
}

static void
test_name_valid (void)
{
  g_autofree gchar *longest = g_strnfill (63, 'a');
  g_autofree gchar *too_long = g_strnfill (64, 'a');

  g_assert_true (md_notes_link_name_is_valid ("kitchen"));
  g_assert_true (md_notes_link_name_is_valid ("厨房的笔记本"));
  g_assert_true (md_notes_link_name_is_valid ("beta's notebook; <x>, y=z"));
  g_assert_true (md_notes_link_name_is_valid (longest));
  g_assert_false (md_notes_link_name_is_valid (too_long));
  g_assert_false (md_notes_link_name_is_valid (""));
  g_assert_false (md_notes_link_name_is_valid ("a\"b"));
  g_assert_false (md_notes_link_name_is_valid ("a\\b"));
  g_assert_false (md_notes_link_name_is_valid ("a\033]0;x\007"));
  g_assert_false (md_notes_link_name_is_valid ("a\302\233b")); /* C1 CSI */
  g_assert_false (md_notes_link_name_is_valid ("a\377b"));
}

static void
test_parse_round_trip (void)
{
  MdNotesLink link = sample ("beta's notebook; <x>, y=z", 5684);
  g_autofree gchar *text = md_notes_link_format (&link, G_MAXSIZE);
  g_autofree gchar *body = g_strconcat ("</latest>;rt=\"mydaily.note\";obs,", text,
                                        ",</status>;rt=\"mydaily.status\"", NULL);
  g_autoptr (GError) error = NULL;
  MdNotesLink parsed;

  g_assert_true (md_notes_link_parse (body, strlen (body), &parsed, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (parsed.notebook, ==, UUID);
  g_assert_cmpstr (parsed.name, ==, "beta's notebook; <x>, y=z");
  g_assert_cmpuint (parsed.coaps_port, ==, 5684);
  md_notes_link_clear (&parsed);
}

static void
test_parse_plain_only (void)
{
  const char *body = "</notes>;rt=mydaily.notes;notebook=" UUID;
  g_autoptr (GError) error = NULL;
  MdNotesLink parsed;

  g_assert_true (md_notes_link_parse (body, strlen (body), &parsed, &error));
  g_assert_cmpstr (parsed.name, ==, "");
  g_assert_cmpuint (parsed.coaps_port, ==, 0);
  md_notes_link_clear (&parsed);
}

/* Hostile answers: each is refused, none crashes. */
static void
test_parse_hostile (void)
{
  const char *bodies[] = {
    "",
    "</notes>",
    "</notes>;rt=\"mydaily.notes\"",                                           /* no identity */
    "</notes>;rt=\"mydaily.notes\";notebook=\"not-a-uuid\"",                   /* bad identity */
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";title=\"a\033[2Jb\"", /* ESC */
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";title=\"a\\\"b\"",    /* '"' */
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";coaps=\"0\"",
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";coaps=\"65536\"",
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";coaps=\"5684x\"",
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";notebook=\"" UUID "\"",
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID, /* unterminated */
    "</notes;rt=\"mydaily.notes\"",
    "notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\"",
    "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\" junk",
    "</notes>;=x",
    "</other>;rt=\"other.type\"",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GError) error = NULL;
      MdNotesLink parsed;

      g_test_message ("body %" G_GSIZE_FORMAT ": %s", i, bodies[i]);
      g_assert_false (md_notes_link_parse (bodies[i], strlen (bodies[i]), &parsed, &error));
      g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
      md_notes_link_clear (&parsed);
    }
}

/* A NUL inside, and a body far too long. */
static void
test_parse_binary (void)
{
  const char body[] = "</notes>;rt=\"mydaily.notes\";notebook=\"" UUID "\";title=\"a\0b\"";
  g_autofree gchar *huge = g_strnfill (100000, ',');
  MdNotesLink parsed;

  g_assert_false (md_notes_link_parse (body, sizeof body - 1, &parsed, NULL));
  md_notes_link_clear (&parsed);
  g_assert_false (md_notes_link_parse (huge, strlen (huge), &parsed, NULL));
  md_notes_link_clear (&parsed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/notes-link/format/full", test_format_full);
  g_test_add_func ("/notes-link/format/trimmed", test_format_trimmed);
  g_test_add_func ("/notes-link/name/valid", test_name_valid);
  g_test_add_func ("/notes-link/parse/round-trip", test_parse_round_trip);
  g_test_add_func ("/notes-link/parse/plain-only", test_parse_plain_only);
  g_test_add_func ("/notes-link/parse/hostile", test_parse_hostile);
  g_test_add_func ("/notes-link/parse/binary", test_parse_binary);
  return g_test_run ();
}
