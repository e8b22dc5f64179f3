#include "config.h"

#include "fuzz-common.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static gboolean verbose;

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
                 gpointer user_data)
{
  gboolean fatal
      = (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) != 0;

  if (fatal || verbose)
    g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  /* abort() rather than returning: libFuzzer and ASan report the stack. */
  if (fatal)
    abort ();
  return G_LOG_WRITER_HANDLED;
}

void
md_fuzz_init_logging (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      verbose = g_getenv ("MD_FUZZ_VERBOSE") != NULL;
      g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
}

static char *state_dir;
static char **state_files;

static void
remove_state_dir (void)
{
  for (guint i = 0; state_files != NULL && state_files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (state_dir, state_files[i], NULL);

      g_unlink (path);
    }
  g_rmdir (state_dir);
}

const char *
md_fuzz_make_state_dir (const char *const *files)
{
  const char *base = g_getenv ("MD_FUZZ_TMPDIR");
  g_autofree char *template = NULL;

  g_assert_null (state_dir);
  if (base == NULL)
    base = access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir ();
  template = g_build_filename (base, "mydaily-fuzz-XXXXXX", NULL);
  state_dir = g_mkdtemp (g_steal_pointer (&template));
  if (state_dir == NULL)
    g_error ("cannot make a state directory under %s: %s", base, g_strerror (errno));
  state_files = g_strdupv ((char **)files);
  atexit (remove_state_dir);
  return state_dir;
}
