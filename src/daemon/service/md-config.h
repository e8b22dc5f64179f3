/* mydailyd's settings: the command line, then the config file
 * (/etc/mydaily/mydaily.conf unless --config says otherwise; its [Server]
 * keys are md-settings.h's), and where the notes live. */
#pragma once

#include "md-settings.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char **listen;      /* --listen values, NULL when none */
  char **listen_dtls; /* --listen-dtls values (coaps), NULL when none */
  char *keys;         /* --keys: the keys file (md-keys.h), NULL: the default */
  char *state_directory;
  char *config;
  gboolean verbose; /* --verbose, or Verbose=true */
  gboolean version;
  gboolean print_config;
  gboolean join_groups; /* --join-groups: join the multicast groups and exit */
  MdSettings settings;  /* the config file's, or the defaults */
} MdConfig;

/* Parses the command line into @self (zeroed by the caller; the settings
 * start at their defaults); no argument may remain but the program name. */
gboolean md_config_parse_args (MdConfig *self, int *argc, char ***argv, GError **error);
/* Reads the config file: a missing default file is fine, a missing --config
 * file an error.  Without --config, the old /etc/mydaily/mydailyd.conf is
 * read too (before the new file, which wins), and its [daemon] verbose= in
 * any file, each with a deprecation note in the log.  Verbose=true (or the
 * old verbose=true) turns verbose on; false leaves a --verbose in force. */
gboolean md_config_load_file (MdConfig *self, GError **error);
/* --state-directory, then $STATE_DIRECTORY (its first entry: systemd joins
 * several with ':'), then the compile-time default. */
char *md_config_get_state_directory (const MdConfig *self);
void md_config_clear (MdConfig *self);

G_END_DECLS
