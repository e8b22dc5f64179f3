/* The keys a person logged in with: $XDG_CONFIG_HOME/mydaily/credentials.
 *
 * One line per server, fields separated by blanks, '#' comments:
 *
 *   # HOST:PORT NOTEBOOK NAME KEY
 *   notes.lan:5684 0b7c0c8e-3a3c-4a4e-9d0e-6f1f2f6d1a11 alice Ck3…
 *
 * HOST:PORT is the server's DTLS address as the person typed it (lower
 * case, IPv6 in brackets); NOTEBOOK the identity of the notebook it served
 * at login ("-" when unknown), so a credential can be found again when the
 * notebook moves to another host; NAME and KEY follow the keys file's rules
 * (md-psk.h).  The file holds secrets: anything but mode 0600, owned by the
 * user, is refused, and so is a bad line, with its number. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest credentials file read. */
#define MD_CREDENTIALS_MAX_SIZE (1024 * 1024)

typedef struct
{
  char *host;     /* "HOST:PORT" */
  char *notebook; /* canonical UUID, or NULL */
  char *name;
  char *key;
} MdCredential;

MdCredential *md_credential_new (const char *host, const char *notebook, const char *name,
                                 const char *key);
void md_credential_free (MdCredential *credential);
MdCredential *md_credential_copy (const MdCredential *credential);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCredential, md_credential_free)

typedef struct _MdCredentials MdCredentials;

MdCredentials *md_credentials_new (void);
void md_credentials_free (MdCredentials *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCredentials, md_credentials_free)

/* Parses a file's @text; errors say "@origin:LINE: what is wrong". */
MdCredentials *md_credentials_parse (const char *text, gsize len, const char *origin,
                                     GError **error);
/* The file as it is written. */
char *md_credentials_to_text (MdCredentials *self);

/* $XDG_CONFIG_HOME/mydaily/credentials */
char *md_credentials_get_path (void);
/* Loads @path; a missing file is an empty set.  A file others may read or
 * write, or not the user's own, is refused. */
MdCredentials *md_credentials_load (const char *path, GError **error);
/* Replaces @path (mode 0600, its directory made 0700) in one rename. */
gboolean md_credentials_save (MdCredentials *self, const char *path, GError **error);
/* An exclusive lock on "@path.lock" (flock, waiting for it), held around a
 * load, edit and save so that two of them never lose each other's change;
 * the lock's descriptor, or -1. */
int md_credentials_lock (const char *path, GError **error);
void md_credentials_unlock (int fd);

/* "HOST:PORT" as stored: lower case, an IPv6 host in brackets.  NULL (and
 * @error) for a malformed one; @default_port when it has none. */
char *md_credentials_host_key (const char *host_port, guint16 default_port, GError **error);

const MdCredential *md_credentials_lookup_host (MdCredentials *self, const char *host_key);
/* The first credential for the bare @host (no port), whatever its port. */
const MdCredential *md_credentials_lookup_bare_host (MdCredentials *self, const char *host);
const MdCredential *md_credentials_lookup_notebook (MdCredentials *self, const char *notebook);
/* Adds @credential, replacing one for the same host. */
void md_credentials_set (MdCredentials *self, const MdCredential *credential);
/* FALSE when there was none for @host_key. */
gboolean md_credentials_remove (MdCredentials *self, const char *host_key);
guint md_credentials_get_count (MdCredentials *self);

/* A script's key file (MYDAILY_KEY_FILE, --key-file): one "NAME KEY"
 * line, the keygen format; mode 0600 like the credentials.  The
 * credential's host and notebook are NULL. */
MdCredential *md_credentials_read_key_file (const char *path, GError **error);
/* The whole of @path, NUL-terminated, as the key files are read: not
 * through a symbolic link, only a regular file of the user's own that
 * nobody else may read or write, checked on the file opened. */
char *md_credentials_read_secret (const char *path, gsize *len, GError **error);

G_END_DECLS
