/* Live following of /latest (RFC 7641) for `follow` and the notebook.
 *
 * Each notification is a doorbell: Observe may skip states, so when the
 * newest id is more than one past the last printed note the gap is fetched
 * with GET /notes?after=LAST.  The observation is registered again every
 * MD_CLIENT_OBSERVE_REFRESH_S seconds, which also heals a daemon restart. */
#pragma once

#include "md-client.h"
#include "md-ctl-printer.h"

G_BEGIN_DECLS

typedef struct _MdCtlWatch MdCtlWatch;

/* @requests (for gap fetches) and @printer must outlive the watch; the
 * observation gets a client of its own.  The watch cancels @stop when the
 * output goes away. */
MdCtlWatch *md_ctl_watch_new (MdClient *requests, MdCtlPrinter *printer, GCancellable *stop);
void md_ctl_watch_free (MdCtlWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCtlWatch, md_ctl_watch_free)

/* Registers in the thread-default main context.  With @from_latest the
 * newest note counts as printed already. */
gboolean md_ctl_watch_start (MdCtlWatch *watch, gboolean from_latest, GError **error);

G_END_DECLS
