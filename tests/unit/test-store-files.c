/* The store's care with its files (issue 9, item 6): who may write the
 * state directory, links, modes, and a hand-damaged last line. */
#include "config.h"

#include "md-error.h"
#include "md-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 G_GINT64_CONSTANT (1795549377)
/* Who the notes of these tests are by. */
#define AUTHOR "alice"

typedef struct
{
  char *tmp;
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->tmp = g_dir_make_tmp ("md-store-files-XXXXXX", NULL);
  g_assert_nonnull (f->tmp);
  f->dir = g_build_filename (f->tmp, "state", NULL);
  f->path = g_build_filename (f->dir, MD_STORE_NOTES_FILE, NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  chmod (f->tmp, 0700);
  remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
  g_free (f->path);
}

static guint
mode_of (const char *path)
{
  struct stat st;

  g_assert_no_errno (lstat (path, &st));
  return st.st_mode & 07777;
}

static void
add_note (const char *dir, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdStore) store = md_store_open (dir, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (md_store_append (store, NULL, AUTHOR, text, strlen (text), T0, NULL, &error));
  g_assert_true (md_store_commit (store, &error));
}

static void
assert_open_fails (Fixture *f, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdStore) store = md_store_open (f->dir, NULL, &error);

  g_assert_null (store);
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, expected));
}

/* 0700 and 0600 whatever the umask of whoever starts the daemon. */
static void
test_modes (Fixture *f, gconstpointer data)
{
  const mode_t umasks[] = { 0, 022, 077, 0777 };

  for (guint i = 0; i < G_N_ELEMENTS (umasks); i++)
    {
      mode_t old = umask (umasks[i]);

      add_note (f->dir, "mode");
      umask (old);
      g_assert_cmphex (mode_of (f->dir), ==, 0700);
      g_assert_cmphex (mode_of (f->path), ==, 0600);
      remove_tree (f->dir);
    }
}

/* What an older version (or a hand) left too open is made private. */
static void
test_modes_tightened (Fixture *f, gconstpointer data)
{
  add_note (f->dir, "one");
  g_assert_no_errno (chmod (f->dir, 0755));
  g_assert_no_errno (chmod (f->path, 0644));
  add_note (f->dir, "two");
  g_assert_cmphex (mode_of (f->dir), ==, 0700);
  g_assert_cmphex (mode_of (f->path), ==, 0600);
}

static void
test_writable_directory (Fixture *f, gconstpointer data)
{
  const mode_t modes[] = { 0777, 0770, 0702, 01777 };

  add_note (f->dir, "one");
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_assert_no_errno (chmod (f->dir, modes[i]));
      assert_open_fails (f, "writable by others");
      /* Refused, not repaired: someone else may have been in there. */
      g_assert_cmphex (mode_of (f->dir), ==, modes[i]);
    }
}

/* A link where the notes file should be is refused, and what it points to
 * is not touched, not even a torn-looking tail. */
static void
test_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->tmp, "precious", NULL);
  const char *contents = "not notes\nand no newline at the end";
  g_autofree char *after = NULL;
  struct stat st;

  g_assert_no_errno (g_mkdir (f->dir, 0700));
  g_assert_true (g_file_set_contents (target, contents, -1, NULL));
  g_assert_no_errno (symlink (target, f->path));
  assert_open_fails (f, "symbolic link");
  g_assert_true (g_file_get_contents (target, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, contents);
  g_assert_no_errno (lstat (f->path, &st));
  g_assert_true (S_ISLNK (st.st_mode));
  /* A dangling link is no way to create a file elsewhere either. */
  g_assert_no_errno (g_unlink (target));
  assert_open_fails (f, "symbolic link");
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
}

static void
test_not_regular (Fixture *f, gconstpointer data)
{
  g_assert_no_errno (g_mkdir (f->dir, 0700));
  g_assert_no_errno (mkfifo (f->path, 0600));
  assert_open_fails (f, "not a regular file");
}

/* A hand edit that breaks the last line, newline and all: refused with the
 * line named, and the file left as it is. */
static void
test_hand_damaged_last_line (Fixture *f, gconstpointer data)
{
  g_autofree char *contents = NULL;
  g_autofree char *damaged = NULL;
  g_autofree char *after = NULL;
  gsize len;

  add_note (f->dir, "one");
  add_note (f->dir, "two");
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  damaged = g_strconcat (contents, "3 2026-11-24 typed by hand\n", NULL);
  g_assert_true (g_file_set_contents (f->path, damaged, -1, NULL));
  g_assert_no_errno (chmod (f->path, 0600));
  assert_open_fails (f, "damaged at line 3");
  g_assert_true (g_file_get_contents (f->path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, damaged);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/store/files/modes", test_modes);
  ADD ("/store/files/modes-tightened", test_modes_tightened);
  ADD ("/store/files/writable-directory", test_writable_directory);
  ADD ("/store/files/symlink", test_symlink);
  ADD ("/store/files/not-regular", test_not_regular);
  ADD ("/store/files/hand-damaged-last-line", test_hand_damaged_last_line);
#undef ADD
  return g_test_run ();
}
