#include "config.h"

#include "md-error.h"
#include "md-keys.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("test-keys-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "keys", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
write_keys (Fixture *f, const char *text, int mode)
{
  g_autoptr (GError) error = NULL;

  g_unlink (f->path);
  g_assert_true (
      g_file_set_contents_full (f->path, text, -1, G_FILE_SET_CONTENTS_NONE, mode, &error));
  g_assert_no_error (error);
  /* The umask may have taken bits away. */
  g_assert_cmpint (g_chmod (f->path, mode), ==, 0);
}

static void
test_load (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdKeys) keys = NULL;

  write_keys (f, "# people\nalice " KEY_A "\n\n  bob\t" KEY_B "  \n", 0600);
  keys = md_keys_load (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (md_keys_get_count (keys), ==, 2);
  g_assert_cmpstr (md_keys_lookup (keys, "alice"), ==, KEY_A);
  g_assert_cmpstr (md_keys_lookup (keys, "bob"), ==, KEY_B);
  g_assert_null (md_keys_lookup (keys, "carol"));
  g_assert_null (md_keys_lookup (keys, "Alice"));
}

static void
test_no_final_newline (Fixture *f, gconstpointer data)
{
  g_autoptr (MdKeys) keys = NULL;

  write_keys (f, "alice " KEY_A, 0400);
  keys = md_keys_load (f->path, NULL);
  g_assert_nonnull (keys);
  g_assert_cmpstr (md_keys_lookup (keys, "alice"), ==, KEY_A);
}

static void
assert_refused (Fixture *f, const char *text, int mode, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdKeys) keys = NULL;

  write_keys (f, text, mode);
  keys = md_keys_load (f->path, &error);
  g_assert_null (keys);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  if (!g_str_has_prefix (error->message, message) && strstr (error->message, message) == NULL)
    g_error ("“%s” does not say “%s”", error->message, message);
}

static void
test_readable_by_others (Fixture *f, gconstpointer data)
{
  assert_refused (f, "alice " KEY_A "\n", 0644, "may be read or changed by others (mode 0644)");
  assert_refused (f, "alice " KEY_A "\n", 0640, "(mode 0640)");
  assert_refused (f, "alice " KEY_A "\n", 0602, "(mode 0602)");
}

static void
test_bad_lines (Fixture *f, gconstpointer data)
{
  g_autofree char *at_line_2 = g_strdup_printf ("%s:2: ", f->path);
  g_autofree char *at_line_3 = g_strdup_printf ("%s:3: ", f->path);

  assert_refused (f, "alice " KEY_A "\nbob short\n", 0600, at_line_2);
  assert_refused (f, "alice " KEY_A "\n\nbob\n", 0600, at_line_3);
  assert_refused (f, "alice " KEY_A "\nb@d " KEY_B "\n", 0600, at_line_2);
  assert_refused (f, "alice " KEY_A "\r\n", 0600, "printable ASCII");
  assert_refused (f, "alice " KEY_A "\n\nalice " KEY_B "\n", 0600, "“alice” has a key already");
  assert_refused (f, "alice " KEY_A "\n\nalice " KEY_B "\n", 0600, at_line_3);
}

static void
test_credential_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdKeys) keys = NULL;

  /* systemd's ACL for the service user shows as group bits. */
  write_keys (f, "alice " KEY_A "\n", 0440);
  keys = md_keys_load_credential (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (md_keys_lookup (keys, "alice"), ==, KEY_A);
  g_clear_pointer (&keys, md_keys_free);
  /* Bad lines are refused all the same. */
  write_keys (f, "alice short\n", 0400);
  g_assert_null (md_keys_load_credential (f->path, NULL));
}

static void
test_nul_byte (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char text[] = "alice " KEY_A "\n\0bob x\n";

  g_unlink (f->path);
  g_assert_true (g_file_set_contents_full (f->path, text, sizeof text - 1, G_FILE_SET_CONTENTS_NONE,
                                           0600, &error));
  g_assert_null (md_keys_load (f->path, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
}

static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (md_keys_load (f->path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, f->path));
}

static void
test_not_regular (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (md_keys_load (f->dir, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
}

static void
test_resolve_path (void)
{
  g_autofree char *given = NULL;
  g_autofree char *credential = NULL;
  g_autofree char *fallback = NULL;

  g_setenv ("CREDENTIALS_DIRECTORY", "/run/credentials/mydaily.service", TRUE);
  given = md_keys_resolve_path ("/tmp/k");
  credential = md_keys_resolve_path (NULL);
  g_unsetenv ("CREDENTIALS_DIRECTORY");
  fallback = md_keys_resolve_path (NULL);
  g_assert_cmpstr (given, ==, "/tmp/k");
  g_assert_cmpstr (credential, ==, "/run/credentials/mydaily.service/keys");
  g_assert_cmpstr (fallback, ==, MD_KEYS_DEFAULT_FILE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/keys/load", test_load);
  ADD ("/keys/no-final-newline", test_no_final_newline);
  ADD ("/keys/refused/readable-by-others", test_readable_by_others);
  ADD ("/keys/refused/bad-lines", test_bad_lines);
  ADD ("/keys/refused/nul-byte", test_nul_byte);
  ADD ("/keys/credential-mode", test_credential_mode);
  ADD ("/keys/refused/not-regular", test_not_regular);
  ADD ("/keys/missing", test_missing);
#undef ADD
  g_test_add_func ("/keys/resolve-path", test_resolve_path);
  return g_test_run ();
}
