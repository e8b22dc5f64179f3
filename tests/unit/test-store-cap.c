/* MaxNotesFileSize= in the store: an append that would pass the cap is
 * refused before it writes, so the file never exceeds it. */
#include "config.h"

#include "md-error.h"
#include "md-store.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define T0 G_GINT64_CONSTANT (1795549377)
/* Who the notes of these tests are by. */
#define AUTHOR "alice"
/* Six records of the text below and 2 bytes, less than any record. */
#define CAP 320

static guint64
file_size (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return (guint64)st.st_size;
}

static void
test_cap (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("md-store-cap-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, MD_STORE_NOTES_FILE, NULL);
  g_autofree char *id_path = g_build_filename (dir, "notebook-id", NULL);
  g_autoptr (MdStore) store = md_store_open (dir, NULL, &error);
  const char *text = "a note of a few bytes";
  guint64 stored = 0, size_full;

  g_assert_no_error (error);
  g_assert_cmpuint (md_store_get_max_size (store), ==, G_MAXUINT64);
  md_store_set_max_size (store, CAP);
  while (md_store_append (store, NULL, AUTHOR, text, strlen (text), T0, NULL, &error))
    {
      stored++;
      g_assert_cmpuint (md_store_get_size (store), <=, CAP);
    }
  g_assert_error (error, MD_ERROR, MD_ERROR_NOTEBOOK_FULL);
  g_assert_nonnull (strstr (error->message, "notebook full"));
  g_clear_error (&error);
  g_assert_cmpuint (stored, >, 3);
  g_assert_true (md_store_commit (store, &error));
  size_full = file_size (path);
  g_assert_cmpuint (size_full, <=, CAP);
  g_assert_cmpuint (size_full, ==, md_store_get_size (store));
  g_assert_cmpuint (md_store_get_count (store), ==, stored);
  /* Refused again, and nothing of it reaches the file. */
  g_assert_false (md_store_append (store, NULL, AUTHOR, "x", 1, T0, NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_NOTEBOOK_FULL);
  g_clear_error (&error);
  g_assert_cmpuint (file_size (path), ==, size_full);
  /* A raised cap takes adds again. */
  md_store_set_max_size (store, CAP * 2);
  g_assert_true (md_store_append (store, NULL, AUTHOR, text, strlen (text), T0, NULL, &error));
  g_assert_true (md_store_commit (store, &error));
  g_assert_cmpuint (md_store_get_count (store), ==, stored + 1);
  /* A cap below the file's size refuses, and cuts nothing. */
  md_store_set_max_size (store, 10);
  g_assert_false (md_store_append (store, NULL, AUTHOR, "x", 1, T0, NULL, &error));
  g_assert_cmpuint (file_size (path), >, 10);

  g_clear_pointer (&store, md_store_free);
  g_unlink (path);
  g_unlink (id_path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/cap", test_cap);
  return g_test_run ();
}
