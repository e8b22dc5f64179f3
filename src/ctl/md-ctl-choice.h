/* The notebook mydailyctl uses when no server is given (no -s, no
 * $MYDAILY_SERVER) and none answers on localhost: the user's choice among
 * those found on the LAN, remembered by notebook identity.
 *
 * It lives in $XDG_STATE_HOME/mydaily/notebook (default
 * ~/.local/state/mydaily/notebook), a key file:
 *
 *   [Notebook]
 *   Identity=0b2c6a4e-1f3d-4c5b-9a8e-7d6f5e4c3b2a
 *   Name=kitchen
 *   Server=192.168.1.5:5683
 *
 * State, not configuration: it is written by mydailyctl, never needs
 * editing, and losing it costs one question.  The identity is what is
 * chosen; Server is only where it was last seen, used when it does not
 * answer discovery (so a note still queues for it), and updated when
 * discovery finds it at another address. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *identity; /* a notebook UUID */
  char *name;     /* as it was announced; may be "" */
  char *server;   /* HOST:PORT */
} MdCtlChoice;

void md_ctl_choice_clear (MdCtlChoice *choice);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MdCtlChoice, md_ctl_choice_clear)

/* The path of the file, for messages. */
char *md_ctl_choice_path (void);
/* FALSE when there is no choice yet, or the file does not check (then it
 * is ignored, as if absent: the user is asked again). */
gboolean md_ctl_choice_load (MdCtlChoice *choice);
/* Writes @choice (every field set) atomically, mode 0600. */
gboolean md_ctl_choice_save (const MdCtlChoice *choice, GError **error);

G_END_DECLS
