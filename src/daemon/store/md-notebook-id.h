/* The notebook's identity: a random UUID made with the notes file and kept
 * beside it, in STATE_DIRECTORY/notebook-id ("UUID\n").  Clients key their
 * caches on it, so a re-created notebook never mixes with a cached one.
 *
 * The file is written once, durably (temporary file, fsync, rename, fsync of
 * the directory), so a crash leaves either no identity or the whole one; it
 * is never rewritten.  A damaged file is an error naming it, never silently
 * replaced: a new identity would make every client drop its cache. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_NOTEBOOK_ID_FILE "notebook-id"
/* A canonical UUID: 8-4-4-4-12 lowercase hex digits. */
#define MD_NOTEBOOK_ID_LEN 36

/* Reads @directory's identity, creating it if there is none yet.  Returns
 * the UUID in lower case, or NULL with MD_ERROR_CORRUPT_STORE (damaged file)
 * or MD_ERROR_IO / MD_ERROR_NO_SPACE. */
char *md_notebook_id_load (const char *directory, GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
