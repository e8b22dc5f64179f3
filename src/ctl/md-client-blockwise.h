/* Block-wise GET (RFC 7959) with several blocks in flight.
 *
 * Block 0 goes alone: it brings any Echo challenge and, in Size2, the size
 * of the body.  Then up to a window of block requests are outstanding at
 * once, since a served block never changes.  The window grows by one for
 * each block answered at the first try and halves for each that needed a
 * retransmission.  Blocks are handed to the sink in order, as soon as each
 * is next; at most max_window blocks wait in memory.  The body may grow
 * while it is read: the read ends at the first block that says "no more".
 * A body larger than max_size or a read longer than deadline_s fails, so a
 * hostile server cannot keep the reader forever. */
#pragma once

#include <gio/gio.h>

#include "md-client.h"

G_BEGIN_DECLS

#define MD_CLIENT_BODY_DEFAULT_MAX_SIZE (G_GUINT64_CONSTANT (1) << 30)
#define MD_CLIENT_BODY_DEFAULT_WINDOW 32
#define MD_CLIENT_BODY_DEFAULT_DEADLINE_S 600.0

typedef struct
{
  guint64 max_size;  /* 0: MD_CLIENT_BODY_DEFAULT_MAX_SIZE */
  double deadline_s; /* 0: MD_CLIENT_BODY_DEFAULT_DEADLINE_S */
  guint max_window;  /* 0: MD_CLIENT_BODY_DEFAULT_WINDOW; 1 is stop-and-wait */
} MdClientBodyLimits;

/* Called for each piece of the body, in order. */
typedef gboolean (*MdClientBodyFunc) (const guint8 *data, gsize len, gpointer user_data,
                                      GError **error);

/* GET @path[?@query].  Anything but 2.05 fails with MD_ERROR_REJECTED
 * carrying the server's diagnostic; a broken block sequence with
 * MD_ERROR_MALFORMED.  @limits may be NULL. */
void md_client_get_body_async (MdClient *client, const char *path, const char *query,
                               const MdClientBodyLimits *limits, MdClientBodyFunc func,
                               gpointer func_data, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
/* *@size (may be NULL): the bytes handed to the sink. */
gboolean md_client_get_body_finish (MdClient *client, GAsyncResult *result, guint64 *size,
                                    GError **error);

/* The same, concatenated (for small bodies such as /status). */
void md_client_get_bytes_async (MdClient *client, const char *path, const char *query,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
GBytes *md_client_get_bytes_finish (MdClient *client, GAsyncResult *result, GError **error);

G_END_DECLS
