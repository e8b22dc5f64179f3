/* coaps in the daemon: the keys file and the DTLS transports that ask it.
 *
 * The keys are read at start and again on SIGHUP (the unit's ExecReload=):
 * a file that is refused keeps the keys in force, and the sessions of a key
 * that went away or changed end at once. */
#pragma once

#include "md-server.h"

G_BEGIN_DECLS

typedef struct _MdCoaps MdCoaps;

/* Reads the keys file that @keys_option (--keys, may be NULL) names
 * (md_keys_resolve_path).  A missing file is an error only when named by
 * --keys: otherwise nobody can use coaps until one is made and the daemon
 * reloaded. */
MdCoaps *md_coaps_new (const char *keys_option, GError **error);
void md_coaps_free (MdCoaps *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCoaps, md_coaps_free)

/* Serves each of @fds (of int, checked UDP sockets) as coaps on @server,
 * and re-reads the keys on SIGHUP from now on. */
gboolean md_coaps_serve (MdCoaps *self, MdServer *server, GArray *fds, GError **error);
/* What SIGHUP does: re-reads the keys file, then ends the sessions of keys
 * gone or changed; FALSE (logged) when the file is refused. */
gboolean md_coaps_reload (MdCoaps *self);

G_END_DECLS
