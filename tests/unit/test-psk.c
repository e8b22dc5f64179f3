#include "config.h"

#include "md-error.h"
#include "md-psk.h"

#include <string.h>

#define KEY32 "abcdefghijklmnopqrstuvwxyz012345"

static void
test_name_rules (void)
{
  const char *good[] = { "alice", "A", "bob.smith", "x_y-z", "0", "a.", NULL };
  const char *bad[]
      = { "", "-alice", ".hidden", "a b", "a\tb", "é", "a/b", "a:b", "@1.2.3.4", NULL };
  g_autofree char *longest = g_strnfill (MD_PSK_NAME_MAX, 'n');
  g_autofree char *too_long = g_strnfill (MD_PSK_NAME_MAX + 1, 'n');

  for (guint i = 0; good[i] != NULL; i++)
    g_assert_true (md_psk_name_is_valid (good[i]));
  for (guint i = 0; bad[i] != NULL; i++)
    g_assert_false (md_psk_name_is_valid (bad[i]));
  g_assert_true (md_psk_name_is_valid (longest));
  g_assert_false (md_psk_name_is_valid (too_long));
}

static void
test_secret_rules (void)
{
  g_autofree char *shortest = g_strnfill (MD_PSK_SECRET_MIN, 'k');
  g_autofree char *too_short = g_strnfill (MD_PSK_SECRET_MIN - 1, 'k');
  g_autofree char *longest = g_strnfill (MD_PSK_SECRET_MAX, 'k');
  g_autofree char *too_long = g_strnfill (MD_PSK_SECRET_MAX + 1, 'k');

  g_assert_true (md_psk_secret_is_valid (shortest));
  g_assert_true (md_psk_secret_is_valid (longest));
  g_assert_true (md_psk_secret_is_valid ("!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123"));
  g_assert_false (md_psk_secret_is_valid (too_short));
  g_assert_false (md_psk_secret_is_valid (too_long));
  g_assert_false (md_psk_secret_is_valid ("abcdefghijklmnop qrstuvwxyz0123456"));
  g_assert_false (md_psk_secret_is_valid ("abcdefghijklmnopqrstuvwxyz012345\r"));
  g_assert_false (md_psk_secret_is_valid ("abcdefghijklmnopqrstuvwxyz01234\xc3\xa9"));
}

static void
test_parse_line_good (void)
{
  const char *lines[]
      = { "alice " KEY32, "alice\t" KEY32, "  alice   " KEY32 "  ", "alice \t " KEY32 "\t" };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = NULL;
      g_autofree char *secret = NULL;

      g_assert_true (md_psk_parse_line (lines[i], &name, &secret, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (name, ==, "alice");
      g_assert_cmpstr (secret, ==, KEY32);
    }
}

static void
test_parse_line_skipped (void)
{
  const char *lines[] = { "", "   ", "\t", ("# alice " KEY32), "  #comment" };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *secret = NULL;

      g_assert_true (md_psk_parse_line (lines[i], &name, &secret, NULL));
      g_assert_null (name);
      g_assert_null (secret);
    }
}

static void
test_parse_line_bad (void)
{
  const char *lines[]
      = { "alice", "alice " KEY32 " extra", "alice short", "-x " KEY32, "a/b " KEY32, KEY32 };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autoptr (GError) error = NULL;
      char *name = NULL;
      char *secret = NULL;

      g_assert_false (md_psk_parse_line (lines[i], &name, &secret, &error));
      g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
      g_assert_null (name);
      g_assert_null (secret);
    }
}

static void
test_generate (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = md_psk_generate_secret (&error);
  g_autofree char *b = md_psk_generate_secret (&error);

  g_assert_no_error (error);
  g_assert_true (md_psk_secret_is_valid (a));
  g_assert_cmpuint (strlen (a), ==, 43);
  g_assert_cmpuint (strspn (a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                    ==, strlen (a));
  g_assert_cmpstr (a, !=, b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/psk/name-rules", test_name_rules);
  g_test_add_func ("/psk/secret-rules", test_secret_rules);
  g_test_add_func ("/psk/parse-line/good", test_parse_line_good);
  g_test_add_func ("/psk/parse-line/skipped", test_parse_line_skipped);
  g_test_add_func ("/psk/parse-line/bad", test_parse_line_bad);
  g_test_add_func ("/psk/generate", test_generate);
  return g_test_run ();
}
