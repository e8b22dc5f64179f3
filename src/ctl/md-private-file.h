/* Files only the user may touch: the directories and files of the client's
 * cache and outbox.
 *
 * A cache or outbox that someone else can write would let them put words in
 * the notebook's mouth or send notes in the user's name.  So every directory
 * and file here is opened without following a symbolic link in its last
 * component, must be owned by the user, and loses any group or other
 * permission it has (the user's own file, so tightening is safe).  Anything
 * else is refused with a message naming the path.
 *
 * On failure the int functions return -1 and leave errno as the failing call
 * set it, so a caller can tell ENOENT from damage. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens the directory @path, making it and its parents (mode 0700) when
 * missing. */
int md_private_dir_open (const char *path, GError **error);

/* Opens the directory @name inside @dirfd, making it (mode 0700) when
 * missing. */
int md_private_dir_open_at (int dirfd, const char *name, GError **error);

/* Opens @name inside @dirfd with @flags (O_RDONLY, O_RDWR, O_CREAT...); a
 * file it makes has mode 0600.  It must be a regular file. */
int md_private_file_open_at (int dirfd, const char *name, int flags, GError **error);

/* The whole of @name inside @dirfd, if it has at most @max_len bytes.  On
 * failure errno says why, EFBIG for a larger file. */
char *md_private_file_read_at (int dirfd, const char *name, gsize max_len, gsize *len,
                               GError **error);

/* Replaces @name inside @dirfd by @data so that a crash leaves either the
 * old or the new file, never a part: a temporary file, fsync, rename, and an
 * fsync of the directory. */
gboolean md_private_file_replace_at (int dirfd, const char *name, const char *data, gsize len,
                                     GError **error);

/* Writes all of @data at the file offset, retrying short writes. */
gboolean md_private_write_all (int fd, const char *data, gsize len, GError **error);

/* Makes the directory's renames and unlinks durable. */
gboolean md_private_dir_sync (int dirfd, GError **error);

G_END_DECLS
