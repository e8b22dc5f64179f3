/* mydailyd's settings: the command line, then the config file
 * (/etc/mydaily/mydailyd.conf unless --config says otherwise), and where the
 * notes live. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char **listen;      /* --listen values, NULL when none */
  char **listen_dtls; /* --listen-dtls values (coaps), NULL when none */
  char *keys;         /* --keys: the keys file (md-keys.h), NULL: the default */
  char *state_directory;
  char *config;
  gboolean verbose;
  gboolean version;
} MdConfig;

/* Parses the command line into @self (zeroed by the caller); no argument
 * may remain but the program name. */
gboolean md_config_parse_args (MdConfig *self, int *argc, char ***argv, GError **error);
/* Reads the config file: a missing default file is fine, a missing --config
 * file an error.  [daemon] verbose=true turns verbose on; false leaves a
 * --verbose in force. */
gboolean md_config_load_file (MdConfig *self, GError **error);
/* --state-directory, then $STATE_DIRECTORY (its first entry: systemd joins
 * several with ':'), then the compile-time default. */
char *md_config_get_state_directory (const MdConfig *self);
void md_config_clear (MdConfig *self);

G_END_DECLS
