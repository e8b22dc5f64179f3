#include "config.h"

#include "md-config.h"
#include "md-error.h"
#include "md-settings.h"

#include <glib/gstdio.h>
#include <string.h>

static gboolean
load (MdSettings *settings, const char *data, GError **error)
{
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();

  g_assert_true (g_key_file_load_from_data (keyfile, data, -1, G_KEY_FILE_NONE, NULL));
  return md_settings_load (settings, keyfile, error);
}

static void
test_settings_defaults (void)
{
  MdSettings settings;

  md_settings_init (&settings);
  g_assert_false (settings.verbose);
  g_assert_cmpuint (settings.max_notes_file_size, ==, G_GUINT64_CONSTANT (1) << 30);
  g_assert_cmpfloat (settings.rate_limit_adds, ==, 20);
  g_assert_cmpuint (settings.rate_limit_burst, ==, 200);
  g_assert_cmpstrv (settings.rate_limit_exempt, ((const char *[]){ "127.0.0.0/8", "::1", NULL }));
  g_assert_true (settings.discovery);
  g_assert_cmpstr (settings.name, ==, "");
  md_settings_clear (&settings);
}

/* Name= is the notebook's name in its link; empty means the host name. */
static void
test_settings_name (void)
{
  g_autoptr (GError) error = NULL;
  MdSettings settings;

  md_settings_init (&settings);
  g_assert_cmpstr (md_settings_get_name (&settings), ==, g_get_host_name ());
  g_assert_true (load (&settings, "[Server]\nName=厨房 notebook\nDiscovery=false\n", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (md_settings_get_name (&settings), ==, "厨房 notebook");
  g_assert_false (settings.discovery);
  md_settings_clear (&settings);
}

static void
test_settings_load (void)
{
  g_autoptr (GError) error = NULL;
  MdSettings settings;

  md_settings_init (&settings);
  g_assert_true (load (&settings,
                       "[Server]\nVerbose=yes\nMaxNotesFileSize=64K\nRateLimitAdds=0.5\n"
                       "RateLimitBurst=3\nRateLimitExempt=127.0.0.1, 10.0.0.0/8\n"
                       "[Other]\nIgnored=1\n",
                       &error));
  g_assert_no_error (error);
  g_assert_true (settings.verbose);
  g_assert_cmpuint (settings.max_notes_file_size, ==, 65536);
  g_assert_cmpfloat (settings.rate_limit_adds, ==, 0.5);
  g_assert_cmpuint (settings.rate_limit_burst, ==, 3);
  g_assert_cmpstrv (settings.rate_limit_exempt,
                    ((const char *[]){ "127.0.0.1", "10.0.0.0/8", NULL }));
  g_assert_true (load (&settings, "[Server]\nRateLimitExempt=\nMaxNotesFileSize=2G\n", &error));
  g_assert_cmpuint (g_strv_length (settings.rate_limit_exempt), ==, 0);
  g_assert_cmpuint (settings.max_notes_file_size, ==, G_GUINT64_CONSTANT (2) << 30);
  md_settings_clear (&settings);
}

static void
test_settings_bad (void)
{
  const char *const bad[] = {
    "[Server]\nVerbose=maybe\n",
    "[Server]\nMaxNotesFileSize=-1\n",
    "[Server]\nMaxNotesFileSize=1Q\n",
    "[Server]\nMaxNotesFileSize=99999999999T\n",
    "[Server]\nMaxNotesFileSize=99999999999999999999999\n",
    "[Server]\nRateLimitAdds=fast\n",
    "[Server]\nRateLimitBurst=1.5\n",
    "[Server]\nRateLimitExempt=nowhere\n",
    "[Server]\nMaxNoteFileSize=1\n",
    "[Server]\nDiscovery=sometimes\n",
    "[Server]\nName=a\"b\n",
    "[Server]\nName=a\\\\b\n",
    "[Server]\nName=\\e]0;pwned\\a\n",
    "[Server]\nName=a\033]0;pwned\007\n",
    "[Server]\nName=0123456789012345678901234567890123456789012345678901234567890123\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      MdSettings settings;

      md_settings_init (&settings);
      g_assert_false (load (&settings, bad[i], &error));
      g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
      /* Nothing changed: the defaults stand. */
      g_assert_cmpuint (settings.max_notes_file_size, ==, G_GUINT64_CONSTANT (1) << 30);
      g_assert_cmpuint (g_strv_length (settings.rate_limit_exempt), ==, 2);
      md_settings_clear (&settings);
    }
}

/* PlainFrom=: loopback by default, IPv4 and IPv6 networks, and a bad
 * network is an error that names it and leaves the setting alone. */
static void
test_settings_plain_from (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  MdSettings settings;

  md_settings_init (&settings);
  g_assert_cmpstrv (settings.plain_from, ((const char *[]){ "127.0.0.0/8", "::1", NULL }));
  g_assert_true (
      load (&settings, "[Server]\nPlainFrom=127.0.0.0/8 ::1 192.168.1.0/24 fd00::/8\n", &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (settings.plain_from,
                    ((const char *[]){ "127.0.0.0/8", "::1", "192.168.1.0/24", "fd00::/8", NULL }));
  data = md_settings_to_data (&settings);
  g_assert_nonnull (strstr (data, "\nPlainFrom=127.0.0.0/8 ::1 192.168.1.0/24 fd00::/8\n"));
  g_assert_false (load (&settings, "[Server]\nPlainFrom=10.0.0.0/8 10.1.0.0/33\n", &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "PlainFrom="));
  g_assert_nonnull (strstr (error->message, "“10.1.0.0/33”"));
  g_assert_cmpuint (g_strv_length (settings.plain_from), ==, 4);
  g_clear_error (&error);
  /* Empty: the plain port serves nobody, DTLS only. */
  g_assert_true (load (&settings, "[Server]\nPlainFrom=\n", &error));
  g_assert_cmpuint (g_strv_length (settings.plain_from), ==, 0);
  md_settings_clear (&settings);
}

/* What --print-config prints reads back as the same settings. */
static void
test_settings_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  MdSettings settings, again;

  md_settings_init (&settings);
  g_assert_true (load (&settings, "[Server]\nMaxNotesFileSize=12345\nRateLimitAdds=2.25\n", NULL));
  data = md_settings_to_data (&settings);
  md_settings_init (&again);
  g_assert_true (load (&again, data, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (again.max_notes_file_size, ==, 12345);
  g_assert_cmpfloat (again.rate_limit_adds, ==, 2.25);
  g_assert_cmpstrv (again.rate_limit_exempt, settings.rate_limit_exempt);
  md_settings_clear (&settings);
  md_settings_clear (&again);
}

/* Parses "mydailyd --config=@path" into @config, then reads that file. */
static gboolean
load_config (MdConfig *config, const char *path, GError **error)
{
  g_autofree char *option = g_strdup_printf ("--config=%s", path);
  char *argv_data[] = { "mydailyd", option, NULL };
  char **argv = argv_data;
  int argc = 2;

  g_assert_true (md_config_parse_args (config, &argc, &argv, error));
  return md_config_load_file (config, error);
}

/* --config: the new [Server] keys and the deprecated [daemon] verbose=. */
static void
test_config_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("md-settings-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "mydaily.conf", NULL);
  MdConfig config = { 0 };

  g_assert_true (g_file_set_contents (
      path, "[Server]\nMaxNotesFileSize=1M\n[daemon]\nverbose=true\n", -1, NULL));
  g_assert_true (load_config (&config, path, &error));
  g_assert_no_error (error);
  g_assert_true (config.verbose);
  g_assert_cmpuint (config.settings.max_notes_file_size, ==, 1 << 20);
  md_config_clear (&config);

  /* A --config file that is missing is an error. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  memset (&config, 0, sizeof config);
  g_assert_false (load_config (&config, path, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  md_config_clear (&config);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/settings/defaults", test_settings_defaults);
  g_test_add_func ("/settings/name", test_settings_name);
  g_test_add_func ("/settings/load", test_settings_load);
  g_test_add_func ("/settings/bad", test_settings_bad);
  g_test_add_func ("/settings/plain-from", test_settings_plain_from);
  g_test_add_func ("/settings/round-trip", test_settings_round_trip);
  g_test_add_func ("/settings/config-file", test_config_file);
  return g_test_run ();
}
