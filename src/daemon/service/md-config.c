#include "config.h"

#include "md-config.h"

#include <glib/gi18n.h>
#include <string.h>

#define MD_CONFIG_DEFAULT_FILE "/etc/mydaily/mydaily.conf"
/* Before issue 9: [daemon] verbose= only. */
#define MD_CONFIG_OLD_FILE "/etc/mydaily/mydailyd.conf"
#define MD_CONFIG_OLD_GROUP "daemon"

gboolean
md_config_parse_args (MdConfig *self, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    /* TRANSLATORS: description of --listen */
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &self->listen,
      N_ ("Bind a UDP socket to ADDR:PORT unless systemd passed sockets (repeatable)"),
      /* TRANSLATORS: placeholder of --listen */
      N_ ("ADDR:PORT") },
    /* TRANSLATORS: description of --listen-dtls */
    { "listen-dtls", 0, 0, G_OPTION_ARG_STRING_ARRAY, &self->listen_dtls,
      N_ ("Bind a DTLS (coaps) socket to ADDR:PORT unless systemd passed sockets (repeatable)"),
      /* TRANSLATORS: placeholder of --listen-dtls */
      N_ ("ADDR:PORT") },
    /* TRANSLATORS: description of --keys */
    { "keys", 0, 0, G_OPTION_ARG_FILENAME, &self->keys,
      N_ ("Read the people's keys from FILE (default: $CREDENTIALS_DIRECTORY/keys, then "
          "/etc/mydaily/keys)"),
      /* TRANSLATORS: placeholder of --keys */
      N_ ("FILE") },
    /* TRANSLATORS: description of --state-directory */
    { "state-directory", 0, 0, G_OPTION_ARG_FILENAME, &self->state_directory,
      N_ ("Keep the notes in DIR (default: $STATE_DIRECTORY, then /var/lib/mydaily)"),
      /* TRANSLATORS: placeholder of --state-directory */
      N_ ("DIR") },
    /* TRANSLATORS: description of --config */
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &self->config,
      N_ ("Read settings from FILE (default: /etc/mydaily/mydaily.conf)"),
      /* TRANSLATORS: placeholder of --config */
      N_ ("FILE") },
    /* TRANSLATORS: description of --verbose */
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &self->verbose,
      N_ ("Log every datagram received and sent"), NULL },
    /* TRANSLATORS: description of --print-config */
    { "print-config", 0, 0, G_OPTION_ARG_NONE, &self->print_config,
      N_ ("Print the settings in force, with their defaults, as a config file, and exit"), NULL },
    /* TRANSLATORS: description of --join-groups */
    { "join-groups", 0, 0, G_OPTION_ARG_NONE, &self->join_groups,
      N_ ("Join the multicast discovery groups on the plain sockets systemd passed, and exit "
          "without reading a datagram"),
      NULL },
    /* TRANSLATORS: description of --version */
    { "version", 0, 0, G_OPTION_ARG_NONE, &self->version, N_ ("Print the version and exit"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = NULL;

  g_return_val_if_fail (self != NULL && argc != NULL && argv != NULL, FALSE);

  md_settings_init (&self->settings);
  context = g_option_context_new (NULL);
  /* TRANSLATORS: summary line of mydailyd --help */
  g_option_context_set_summary (context, _ ("Serve the LAN notebook over CoAP."));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("unexpected argument “%s”"),
                   (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
fail_in_file (const char *path, GError *local_error, GError **error)
{
  g_propagate_prefixed_error (error, local_error, "%s: ", path);
  return FALSE;
}

static void
note_deprecated (const char *path, const char *what)
{
  g_message ("%s: %s is deprecated: use Verbose= under [%s] in %s", path, what, MD_SETTINGS_GROUP,
             MD_CONFIG_DEFAULT_FILE);
}

/* The only key of the old [daemon] group. */
static gboolean
load_old_group (MdConfig *self, GKeyFile *keyfile, const char *path, GError **error)
{
  gboolean value;
  GError *local_error = NULL;

  if (!g_key_file_has_key (keyfile, MD_CONFIG_OLD_GROUP, "verbose", NULL))
    return TRUE;
  note_deprecated (path, "[" MD_CONFIG_OLD_GROUP "] verbose=");
  value = g_key_file_get_boolean (keyfile, MD_CONFIG_OLD_GROUP, "verbose", &local_error);
  if (local_error != NULL)
    return fail_in_file (path, local_error, error);
  self->settings.verbose = self->settings.verbose || value;
  return TRUE;
}

/* Reads @path into the settings; a missing file is fine unless @required. */
static gboolean
load_one_file (MdConfig *self, const char *path, gboolean required, GError **error)
{
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  GError *local_error = NULL;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local_error))
    {
      if (!required && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_error_free (local_error);
          return TRUE;
        }
      return fail_in_file (path, local_error, error);
    }
  if (!md_settings_load (&self->settings, keyfile, &local_error))
    return fail_in_file (path, local_error, error);
  return load_old_group (self, keyfile, path, error);
}

static gboolean
load_default_files (MdConfig *self, GError **error)
{
  if (g_file_test (MD_CONFIG_OLD_FILE, G_FILE_TEST_EXISTS))
    {
      g_message ("%s is deprecated: its settings move to %s", MD_CONFIG_OLD_FILE,
                 MD_CONFIG_DEFAULT_FILE);
      if (!load_one_file (self, MD_CONFIG_OLD_FILE, FALSE, error))
        return FALSE;
    }
  return load_one_file (self, MD_CONFIG_DEFAULT_FILE, FALSE, error);
}

gboolean
md_config_load_file (MdConfig *self, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->config != NULL)
    ok = load_one_file (self, self->config, TRUE, error);
  else
    ok = load_default_files (self, error);
  self->verbose = self->verbose || self->settings.verbose;
  return ok;
}

char *
md_config_get_state_directory (const MdConfig *self)
{
  const char *env = g_getenv ("STATE_DIRECTORY");

  g_return_val_if_fail (self != NULL, NULL);

  if (self->state_directory != NULL)
    return g_strdup (self->state_directory);
  if (env != NULL && *env != '\0')
    return g_strndup (env, strcspn (env, ":"));
  return g_strdup (MD_DEFAULT_STATE_DIRECTORY);
}

void
md_config_clear (MdConfig *self)
{
  g_return_if_fail (self != NULL);

  g_clear_pointer (&self->listen, g_strfreev);
  g_clear_pointer (&self->listen_dtls, g_strfreev);
  g_clear_pointer (&self->keys, g_free);
  g_clear_pointer (&self->state_directory, g_free);
  g_clear_pointer (&self->config, g_free);
  md_settings_clear (&self->settings);
}
