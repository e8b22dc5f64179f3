/* What the subcommands of mydailyctl share: global options, exit codes and
 * the helpers every command needs. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "md-client.h"
#include "md-ctl-printer.h"

G_BEGIN_DECLS

/* Exit codes of the contract ("Client CLI"). */
typedef enum
{
  MD_CTL_EXIT_OK = 0,
  MD_CTL_EXIT_REJECTED = 1, /* the server answered 4.xx/5.xx, or a local failure */
  MD_CTL_EXIT_NO_ANSWER = 2,
  MD_CTL_EXIT_USAGE = 64, /* EX_USAGE */
} MdCtlExit;

#define MD_CTL_DEFAULT_SERVER "localhost:5683"
#define MD_CTL_DEFAULT_TIMEOUT_S 15.0

typedef struct
{
  const char *server;
  double timeout_s;
  GCancellable *cancellable; /* fires on SIGINT/SIGTERM/SIGHUP */
} MdCtlOptions;

/* A subcommand: @argv[0] is its name. */
typedef int (*MdCtlCommandFunc) (MdCtlOptions *options, int argc, char **argv);

int md_ctl_add (MdCtlOptions *options, int argc, char **argv);
int md_ctl_history (MdCtlOptions *options, int argc, char **argv);
int md_ctl_follow (MdCtlOptions *options, int argc, char **argv);
int md_ctl_status (MdCtlOptions *options, int argc, char **argv);
int md_ctl_keygen (MdCtlOptions *options, int argc, char **argv);
/* Without a command: the notebook on a terminal, else md_ctl_add_lines(). */
int md_ctl_notebook (MdCtlOptions *options);
int md_ctl_add_lines (MdCtlOptions *options, FILE *input);

/* Blocks the termination signals in every thread and turns them into a
 * cancellation (when @graceful) or the default action.  Call before any
 * thread starts. */
GCancellable *md_ctl_signals_init (void);
/* From now on a termination signal cancels instead of killing. */
void md_ctl_signals_set_graceful (void);

/* Prints "mydailyctl: MESSAGE" on stderr. */
void md_ctl_print_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* Prints @error and returns the exit code its kind calls for. */
int md_ctl_fail (const GError *error);
/* Prints the usage error and a hint to @command's --help; returns 64. */
int md_ctl_usage_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Parses @command's options, printing any error: FALSE means exit 64. */
gboolean md_ctl_parse_options (GOptionContext *context, const char *command, int *argc,
                               char ***argv);
/* A GOptionContext for "mydailyctl @command". */
GOptionContext *md_ctl_option_context_new (const char *command, const char *parameters,
                                           const char *summary);

/* The -o option of the commands that print notes; the name goes to *@name. */
GOptionEntry md_ctl_output_option (char **name);
/* Sets *@format from the -o argument @name (NULL: leave it); an unknown
 * name prints the usage error for @command: FALSE means exit 64. */
gboolean md_ctl_parse_format (const char *command, const char *name, MdCtlFormat *format);

/* Quits @loop when @cancellable fires (Ctrl-C: a normal end).  Destroy the
 * returned source when the loop has ended. */
GSource *md_ctl_quit_on_cancel (GCancellable *cancellable, GMainLoop *loop);

/* TRUE when @fd is a terminal and NO_COLOR is not set. */
gboolean md_ctl_use_color (int fd);

MdClient *md_ctl_connect (MdCtlOptions *options, GError **error);

/* Stores one note under @key (a UUID; NULL for a fresh random one) with a
 * create-only PUT, so retries never store it twice; *@id is the id the
 * server gave it.  Rejections (local or by the server) read
 * "note rejected: REASON". */
gboolean md_ctl_add_note (MdClient *client, const char *key, const char *text, gsize len,
                          guint64 *id, GError **error);

/* GET /status: the value of "@key: VALUE" as a number. */
gboolean md_ctl_get_status_number (MdClient *client, const char *key, guint64 *value,
                                   GError **error);

G_END_DECLS
