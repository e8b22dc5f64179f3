/* Following the notebook, for `follow`, `history -f` and the interactive
 * notebook: the newest N notes first, then every new note once, in id
 * order.
 *
 * An observation of /latest (RFC 7641) is the doorbell: a notification
 * that is the next note is printed as it is, anything else fetches the gap
 * with GET /notes?after=LAST.  The printer prints no id twice, and fetches
 * never overlap, so nothing is missed and nothing repeats.
 *
 * A daemon that restarts forgets its observers.  So the watch also polls:
 * every MD_CTL_WATCH_POLL_MS it asks for GET /notes?after=LAST.  When
 * nothing is new that is a 38-byte request (with an Echo) and a 12-byte
 * answer, about 110 bytes a second per follower with IPv4 and UDP headers;
 * when the poll finds notes the doorbell did not announce, the
 * observation was lost and is registered again at once.  New notes thus
 * reach a follower within one poll interval of the daemon answering. */
#pragma once

#include "md-client.h"
#include "md-ctl-printer.h"

G_BEGIN_DECLS

#define MD_CTL_WATCH_POLL_MS 1000
/* How often the observation is registered again; the daemon forgets it
 * after 5 min. */
#define MD_CTL_WATCH_REFRESH_S 60

typedef struct _MdCtlWatch MdCtlWatch;

/* The first registration answered: @latest_id is the newest note (0: none).
 * Called before the newest notes are printed. */
typedef void (*MdCtlWatchStartedFunc) (guint64 latest_id, gpointer user_data);
/* The newest notes are printed (@error NULL), or the server could not be
 * reached at the start (@error set; the watch then does nothing more). */
typedef void (*MdCtlWatchReadyFunc) (const GError *error, gpointer user_data);

/* @client and @printer must outlive the watch.  The watch cancels @stop
 * when the output goes away. */
MdCtlWatch *md_ctl_watch_new (MdClient *client, MdCtlPrinter *printer, GCancellable *stop);
void md_ctl_watch_free (MdCtlWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCtlWatch, md_ctl_watch_free)

void md_ctl_watch_set_started_func (MdCtlWatch *watch, MdCtlWatchStartedFunc func,
                                    gpointer user_data);

/* Prints the newest @last_n notes (-1: all), then follows. */
void md_ctl_watch_start (MdCtlWatch *watch, gint64 last_n, MdCtlWatchReadyFunc ready,
                         gpointer user_data);

G_END_DECLS
