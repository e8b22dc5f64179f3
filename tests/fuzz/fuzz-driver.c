/* Runs a fuzz target without libFuzzer: every file named on the command
 * line, and every file in every directory named (sorted, not recursive), goes
 * once through LLVMFuzzerTestOneInput.  The test suite uses this to replay the
 * committed seed corpus and the regression inputs in every build, so a crash
 * the fuzzer once found stays fixed.  A path that does not exist is skipped
 * (an empty regressions/ folder is not kept by git); running no input at all
 * is a failure. */
#include "config.h"

#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>

/* Corpus files are small; anything larger is not a datagram or a test file. */
#define MAX_INPUT_SIZE (1024 * 1024)
#define MAX_DIR_ENTRIES 100000

static gboolean
run_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return FALSE;
    }
  if (len > MAX_INPUT_SIZE)
    {
      fprintf (stderr, "%s: larger than %d bytes\n", path, MAX_INPUT_SIZE);
      return FALSE;
    }
  if (g_getenv ("MD_FUZZ_VERBOSE") != NULL)
    fprintf (stderr, "running %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  /* An exact-size heap copy, so a read past the end is an ASan report. */
  {
    g_autofree guint8 *input = g_memdup2 (contents, len);

    LLVMFuzzerTestOneInput (input, len);
  }
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

/* Returns how many files ran, or -1 on an error. */
static gint64
run_directory (const char *dir_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &error);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return -1;
    }
  while ((name = g_dir_read_name (dir)) != NULL && paths->len < MAX_DIR_ENTRIES)
    {
      char *path = g_build_filename (dir_path, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (paths, path);
      else
        g_free (path);
    }
  g_ptr_array_sort (paths, compare_names);
  for (guint i = 0; i < paths->len; i++)
    if (!run_file (g_ptr_array_index (paths, i)))
      return -1;
  return paths->len;
}

int
main (int argc, char **argv)
{
  gint64 total = 0;

  md_fuzz_init_logging ();
  for (int i = 1; i < argc; i++)
    {
      gint64 n = 1;

      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        n = run_directory (argv[i]);
      else if (!g_file_test (argv[i], G_FILE_TEST_EXISTS))
        n = 0;
      else if (!run_file (argv[i]))
        n = -1;
      if (n < 0)
        return EXIT_FAILURE;
      printf ("%s: %" G_GINT64_FORMAT " input(s)\n", argv[i], n);
      total += n;
    }
  if (total == 0)
    {
      fprintf (stderr, "no input ran\n");
      return EXIT_FAILURE;
    }
  printf ("ran %" G_GINT64_FORMAT " input(s) without a failure\n", total);
  return EXIT_SUCCESS;
}
