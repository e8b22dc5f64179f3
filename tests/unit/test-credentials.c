/* The credentials file (md-credentials.h) and server selection
 * (md-ctl-server.h): what a stored login and the options turn into, and
 * hostile file content refused with its line number. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md-credentials.h"
#include "md-ctl-server.h"
#include "md-error.h"

#define UUID_A "0b7c0c8e-3a3c-4a4e-9d0e-6f1f2f6d1a11"
#define UUID_B "5d1f9f4e-2c6b-4f7a-8d3e-1a2b3c4d5e6f"
#define KEY_A "Ck3ql0cXg7mS9Vw2bR5tY8uI1oP4aD6fG0hJ3kL"
#define KEY_B "zz3ql0cXg7mS9Vw2bR5tY8uI1oP4aD6fG0hJ3kL"

#define GOOD_FILE                                                                                  \
  "# a comment\n"                                                                                  \
  "\n"                                                                                             \
  "notes.lan:5684 " UUID_A " alice " KEY_A "\n"                                                    \
  "[::1]:6000\t-\tbob\t" KEY_B "\n"

static MdCredentials *
parse_good (void)
{
  g_autoptr (GError) error = NULL;
  MdCredentials *credentials = md_credentials_parse (GOOD_FILE, strlen (GOOD_FILE), "f", &error);

  g_assert_no_error (error);
  g_assert_nonnull (credentials);
  return credentials;
}

static void
test_parse_and_lookup (void)
{
  g_autoptr (MdCredentials) credentials = parse_good ();
  const MdCredential *c;

  g_assert_cmpuint (md_credentials_get_count (credentials), ==, 2);
  c = md_credentials_lookup_host (credentials, "notes.lan:5684");
  g_assert_nonnull (c);
  g_assert_cmpstr (c->name, ==, "alice");
  g_assert_cmpstr (c->key, ==, KEY_A);
  g_assert_cmpstr (c->notebook, ==, UUID_A);
  g_assert_true (md_credentials_lookup_notebook (credentials, UUID_A) == c);
  g_assert_true (md_credentials_lookup_bare_host (credentials, "NOTES.lan") == c);
  g_assert_null (md_credentials_lookup_host (credentials, "notes.lan:5683"));
  g_assert_null (md_credentials_lookup_bare_host (credentials, "notes"));
  c = md_credentials_lookup_bare_host (credentials, "::1");
  g_assert_nonnull (c);
  g_assert_cmpstr (c->name, ==, "bob");
  g_assert_null (c->notebook);
  g_assert_null (md_credentials_lookup_notebook (credentials, UUID_B));
}

static void
test_set_remove_text (void)
{
  g_autoptr (MdCredentials) credentials = parse_good ();
  g_autoptr (MdCredential) moved = md_credential_new ("notes.lan:5684", UUID_B, "carol", KEY_B);
  g_autoptr (MdCredentials) again = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  md_credentials_set (credentials, moved);
  g_assert_cmpuint (md_credentials_get_count (credentials), ==, 2);
  g_assert_cmpstr (md_credentials_lookup_host (credentials, "notes.lan:5684")->name, ==, "carol");
  g_assert_true (md_credentials_remove (credentials, "[::1]:6000"));
  g_assert_false (md_credentials_remove (credentials, "[::1]:6000"));
  text = md_credentials_to_text (credentials);
  g_assert_nonnull (strstr (text, "notes.lan:5684 " UUID_B " carol " KEY_B "\n"));
  again = md_credentials_parse (text, strlen (text), "again", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (md_credentials_get_count (again), ==, 1);
}

static void
assert_refused (const char *text, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCredentials) credentials = md_credentials_parse (text, strlen (text), "f", &error);

  g_assert_null (credentials);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  if (!g_str_has_prefix (error->message, expected))
    g_error ("“%s” does not start with “%s”", error->message, expected);
}

static void
test_bad_lines (void)
{
  assert_refused ("# ok\nnotes.lan:5684 " UUID_A " alice\n", "f:2: expected");
  assert_refused ("notes.lan:5684 " UUID_A " alice " KEY_A " extra\n", "f:1: expected");
  assert_refused ("notes.lan " UUID_A " alice " KEY_A "\n", "f:1: the server");
  assert_refused ("Notes.lan:5684 " UUID_A " alice " KEY_A "\n", "f:1: the server");
  assert_refused ("no\x1b[1m:5684 " UUID_A " alice " KEY_A "\n", "f:1: the server");
  assert_refused ("notes.lan:0 " UUID_A " alice " KEY_A "\n", "f:1: the server");
  assert_refused ("notes.lan:99999 " UUID_A " alice " KEY_A "\n", "f:1: the server");
  assert_refused ("notes.lan:5684 not-a-uuid alice " KEY_A "\n", "f:1: the notebook");
  assert_refused ("notes.lan:5684 0B7C0C8E-3A3C-4A4E-9D0E-6F1F2F6D1A11 alice " KEY_A "\n",
                  "f:1: the notebook");
  assert_refused ("\n\nnotes.lan:5684 - -alice " KEY_A "\n", "f:3: a name");
  assert_refused ("notes.lan:5684 - alice short\n", "f:1: a key");
  assert_refused ("notes.lan:5684 - alice " KEY_A "\nnotes.lan:5684 - bob " KEY_B "\n",
                  "f:2: a second credential");
}

static void
test_hostile_bytes (void)
{
  const char nul[] = "notes.lan:5684 - alice " KEY_A "\0\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCredentials) credentials = md_credentials_parse (nul, sizeof nul - 1, "f", &error);
  g_autofree char *long_line = g_strnfill (100000, 'x');

  g_assert_null (credentials);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  assert_refused ("notes.lan:5684 - alice \xff\xfe" KEY_A "\n", "f: not a text file");
  assert_refused (long_line, "f:1: expected");
}

static char *
write_file (const char *dir, const char *name, const char *text, int mode)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE, mode, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
test_file_mode (void)
{
  g_autofree char *dir = g_dir_make_tmp ("md-credentials-XXXXXX", NULL);
  g_autofree char *path = write_file (dir, "credentials", GOOD_FILE, 0644);
  g_autofree char *missing = g_build_filename (dir, "sub", "credentials", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCredentials) credentials = md_credentials_load (path, &error);
  g_autoptr (MdCredentials) empty = NULL;
  g_autoptr (MdCredentials) loaded = NULL;
  struct stat st;

  /* Others may read it: refused, not tightened. */
  g_assert_null (credentials);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "mode 0644"));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  g_clear_error (&error);

  /* Missing: empty; saved: 0600 in a 0700 directory, and read back. */
  empty = md_credentials_load (missing, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (md_credentials_get_count (empty), ==, 0);
  credentials = parse_good ();
  g_assert_true (md_credentials_save (credentials, missing, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (missing, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  loaded = md_credentials_load (missing, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (md_credentials_get_count (loaded), ==, 2);
  g_unlink (missing);
  g_unlink (path);
  g_autofree char *sub = g_path_get_dirname (missing);
  g_rmdir (sub);
  g_rmdir (dir);
}

static void
test_key_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("md-credentials-XXXXXX", NULL);
  g_autofree char *good = write_file (dir, "good", "# from keygen\nalice " KEY_A "\n", 0600);
  g_autofree char *open = write_file (dir, "open", "alice " KEY_A "\n", 0640);
  g_autofree char *two = write_file (dir, "two", "alice " KEY_A "\nbob " KEY_B "\n", 0600);
  g_autofree char *bad = write_file (dir, "bad", "\nalice\n", 0600);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCredential) c = md_credentials_read_key_file (good, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->name, ==, "alice");
  g_assert_cmpstr (c->key, ==, KEY_A);
  g_assert_null (md_credentials_read_key_file (open, &error));
  g_assert_nonnull (strstr (error->message, "mode 0640"));
  g_clear_error (&error);
  g_assert_null (md_credentials_read_key_file (two, &error));
  g_assert_true (g_str_has_suffix (error->message, ":2: a key file holds one “NAME KEY” line"));
  g_clear_error (&error);
  g_assert_null (md_credentials_read_key_file (bad, &error));
  g_assert_nonnull (strstr (error->message, "bad:2: "));
  g_unlink (good);
  g_unlink (open);
  g_unlink (two);
  g_unlink (bad);
  g_rmdir (dir);
}

/* ---- server selection ---------------------------------------------------- */

static MdCtlServer *
choose (const char *server, MdCredentials *credentials)
{
  g_autoptr (GError) error = NULL;
  MdCtlServer *chosen = md_ctl_server_choose (server, NULL, credentials, &error);

  g_assert_no_error (error);
  return chosen;
}

static void
assert_server (const char *server, MdCredentials *credentials, MdCtlScheme scheme,
               const char *host_port, const char *name)
{
  g_autoptr (MdCtlServer) chosen = choose (server, credentials);

  g_assert_cmpint (chosen->scheme, ==, scheme);
  g_assert_cmpstr (chosen->host_port, ==, host_port);
  if (name == NULL)
    g_assert_null (chosen->credential);
  else
    g_assert_cmpstr (chosen->credential->name, ==, name);
}

static void
test_choose (void)
{
  g_autoptr (MdCredentials) credentials = parse_good ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCtlServer) none = NULL;

  assert_server (NULL, credentials, MD_CTL_SCHEME_COAP, "localhost:5683", NULL);
  assert_server ("notes.lan", credentials, MD_CTL_SCHEME_COAPS, "notes.lan:5684", "alice");
  assert_server ("notes.lan:5684", credentials, MD_CTL_SCHEME_COAPS, "notes.lan:5684", "alice");
  assert_server ("notes.lan:5683", credentials, MD_CTL_SCHEME_COAP, "notes.lan:5683", NULL);
  assert_server ("coap://notes.lan", credentials, MD_CTL_SCHEME_COAP, "notes.lan:5683", NULL);
  assert_server ("coaps://notes.lan/", credentials, MD_CTL_SCHEME_COAPS, "notes.lan:5684", "alice");
  assert_server ("[::1]", credentials, MD_CTL_SCHEME_COAPS, "[::1]:6000", "bob");
  assert_server ("other.lan", credentials, MD_CTL_SCHEME_COAP, "other.lan:5683", NULL);
  assert_server ("other.lan", NULL, MD_CTL_SCHEME_COAP, "other.lan:5683", NULL);

  none = md_ctl_server_choose ("coaps://other.lan", NULL, credentials, &error);
  g_assert_null (none);
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "other.lan:5684"));
  g_clear_error (&error);
  for (const char *const *bad
       = (const char *const[]){ "", "coaps://", "a b", "host:port", "coap://x/y", NULL };
       *bad != NULL; bad++)
    {
      none = md_ctl_server_choose (**bad == '\0' ? "coap://" : *bad, NULL, credentials, &error);
      g_assert_null (none);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
}

static void
test_choose_key_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("md-credentials-XXXXXX", NULL);
  g_autofree char *path = write_file (dir, "key", "carol " KEY_B "\n", 0600);
  g_autoptr (MdCredentials) credentials = parse_good ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCtlServer) keyed = md_ctl_server_choose ("notes.lan", path, credentials, &error);
  g_autoptr (MdCtlServer) plain = NULL;

  /* The key file wins over the stored credential; coap:// over both. */
  g_assert_no_error (error);
  g_assert_cmpint (keyed->scheme, ==, MD_CTL_SCHEME_COAPS);
  g_assert_cmpstr (keyed->credential->name, ==, "carol");
  g_assert_cmpstr (keyed->host_port, ==, "notes.lan:5684");
  plain = md_ctl_server_choose ("coap://notes.lan", path, credentials, &error);
  g_assert_no_error (error);
  g_assert_null (plain->credential);
  g_unlink (path);
  g_rmdir (dir);
}

/* The lock is exclusive: while one is held, another descriptor cannot take
 * it; once released it can. */
static void
test_lock (void)
{
  g_autofree char *dir = g_dir_make_tmp ("md-credentials-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sub", "credentials", NULL);
  g_autofree char *lock_path = g_strconcat (path, ".lock", NULL);
  g_autofree char *sub = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;
  int held = md_credentials_lock (path, &error);
  int other;

  g_assert_no_error (error);
  g_assert_cmpint (held, >=, 0);
  other = open (lock_path, O_RDWR | O_CLOEXEC);
  g_assert_cmpint (other, >=, 0);
  g_assert_cmpint (flock (other, LOCK_EX | LOCK_NB), ==, -1);
  g_assert_cmpint (errno, ==, EWOULDBLOCK);
  md_credentials_unlock (held);
  g_assert_cmpint (flock (other, LOCK_EX | LOCK_NB), ==, 0);
  close (other);
  g_unlink (lock_path);
  g_rmdir (sub);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/credentials/parse-and-lookup", test_parse_and_lookup);
  g_test_add_func ("/credentials/set-remove-text", test_set_remove_text);
  g_test_add_func ("/credentials/bad-lines", test_bad_lines);
  g_test_add_func ("/credentials/hostile-bytes", test_hostile_bytes);
  g_test_add_func ("/credentials/file-mode", test_file_mode);
  g_test_add_func ("/credentials/key-file", test_key_file);
  g_test_add_func ("/credentials/lock", test_lock);
  g_test_add_func ("/ctl-server/choose", test_choose);
  g_test_add_func ("/ctl-server/choose-key-file", test_choose_key_file);
  return g_test_run ();
}
