/* The keys file: one "NAME KEY" line per person who may use coaps
 * (md-psk.h has the rules of a line).  Loaded whole or not at all: a file
 * that others may read, or with any bad line, is refused with a message
 * naming it (and the line), and the keys in force stay as they were. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_KEYS_DEFAULT_FILE "/etc/mydaily/keys"
/* The name under $CREDENTIALS_DIRECTORY (LoadCredential=keys:...). */
#define MD_KEYS_CREDENTIAL "keys"
/* A bigger file is surely not a keys file: one line per person. */
#define MD_KEYS_FILE_MAX (1024 * 1024)

typedef struct _MdKeys MdKeys;

/* @option (--keys) when set, else $CREDENTIALS_DIRECTORY/keys when that is
 * set, else MD_KEYS_DEFAULT_FILE. */
char *md_keys_resolve_path (const char *option);

/* Reads @path: a regular file that only its owner may access (no group or
 * other permission bits), of valid lines with no name twice.  A missing
 * file is G_FILE_ERROR_NOENT, for the caller to decide on. */
MdKeys *md_keys_load (const char *path, GError **error);
/* The same for a file under $CREDENTIALS_DIRECTORY, without the mode
 * check: systemd makes that directory the service's alone (mode 0500, not
 * even root's to write), and where it can it grants the service user read
 * access with an ACL, whose mask shows as group bits (0440). */
MdKeys *md_keys_load_credential (const char *path, GError **error);
/* No keys: every handshake fails. */
MdKeys *md_keys_new_empty (void);
void md_keys_free (MdKeys *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdKeys, md_keys_free)

/* The key of @name, or NULL; valid while @self is. */
const char *md_keys_lookup (const MdKeys *self, const char *name);
guint md_keys_get_count (const MdKeys *self);

G_END_DECLS
