/* The remembered notebook (md-ctl-choice.h): saved, read back, and a file
 * that does not check ignored. */
#include "config.h"

#include "md-ctl-choice.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#define UUID "0b2c6a4e-1f3d-4c5b-9a8e-7d6f5e4c3b2a"

static void
test_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  MdCtlChoice choice = { UUID, "kitchen 厨房", "[fe80::1%eth0]:5683" };
  g_auto (MdCtlChoice) loaded = { 0 };
  g_autofree char *path = md_ctl_choice_path ();
  GStatBuf st;

  g_assert_true (md_ctl_choice_save (&choice, &error));
  g_assert_no_error (error);
  g_assert_true (md_ctl_choice_load (&loaded));
  g_assert_cmpstr (loaded.identity, ==, UUID);
  g_assert_cmpstr (loaded.name, ==, "kitchen 厨房");
  g_assert_cmpstr (loaded.server, ==, "[fe80::1%eth0]:5683");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

static void
test_bad_files (void)
{
  const char *files[] = {
    "",
    "[Notebook]\nIdentity=not-a-uuid\nName=x\nServer=h:1\n",
    "[Notebook]\nIdentity=" UUID "\nName=\033]0;x\007\nServer=h:1\n",
    "[Notebook]\nIdentity=" UUID "\nName=x\n",
    "junk",
  };
  g_autofree char *path = md_ctl_choice_path ();

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_auto (MdCtlChoice) loaded = { 0 };

      g_assert_true (g_file_set_contents (path, files[i], -1, NULL));
      g_assert_false (md_ctl_choice_load (&loaded));
      g_assert_null (loaded.identity);
    }
  g_unlink (path);
  {
    g_auto (MdCtlChoice) loaded = { 0 };

    g_assert_false (md_ctl_choice_load (&loaded));
  }
}

int
main (int argc, char **argv)
{
  g_autofree char *home = g_dir_make_tmp ("test-ctl-choice-XXXXXX", NULL);
  int status;

  /* Before GLib reads it. */
  g_setenv ("XDG_STATE_HOME", home, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl-choice/round-trip", test_round_trip);
  g_test_add_func ("/ctl-choice/bad-files", test_bad_files);
  status = g_test_run ();
  {
    g_autofree char *path = md_ctl_choice_path ();
    g_autofree char *dir = g_path_get_dirname (path);

    g_unlink (path);
    g_rmdir (dir);
    g_rmdir (home);
  }
  return status;
}
