/* The settings of the config file's [Server] group, as one table: a key is
 * one row (name, type, default, doc) plus its field in MdSettings.  Defaults
 * are written as they would be in the file and parsed by the same code, so
 * the table is also what `mydailyd --print-config` prints. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_SETTINGS_GROUP "Server"

typedef struct
{
  gboolean verbose;
  guint64 max_notes_file_size;
  double rate_limit_adds;   /* per second per host; 0: no limit */
  guint rate_limit_burst;   /* adds at once per host */
  char **rate_limit_exempt; /* CIDR networks (md-address-set.h) */
  gboolean discovery;       /* answer multicast discovery (md-discovery.h) */
  char *name;               /* the notebook's name; "": the host name */
  char **plain_from;        /* CIDR networks the plain port serves (md-plain-filter.h) */
} MdSettings;

/* Every setting at its default. */
void md_settings_init (MdSettings *self);
void md_settings_clear (MdSettings *self);

/* Name=, or the host name when it is empty: NULL when that is no valid
 * name (md_notes_link_name_is_valid). */
const char *md_settings_get_name (const MdSettings *self);

/* Takes every key of [Server] in @keyfile; an unknown key or a bad value is
 * an error naming it, and then @self is as it was before the bad key. */
gboolean md_settings_load (MdSettings *self, GKeyFile *keyfile, GError **error);

/* The [Server] group with every setting's doc, and its value in @self, as a
 * config file. */
char *md_settings_to_data (const MdSettings *self);

G_END_DECLS
