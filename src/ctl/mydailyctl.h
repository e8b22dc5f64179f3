/* What the subcommands of mydailyctl share: global options, exit codes and
 * the helpers every command needs.  The protocol logic is in the client
 * library (md-client-*.h, md-ctl-*.h); this is the command-line glue. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "md-client.h"
#include "md-ctl-server.h"
#include "md-discover.h"
#include "md-protocol.h"
#include "md-ctl-console.h"
#include "md-ctl-printer.h"
#include "md-ctl-signals.h"
#include "md-ctl-trace.h"

G_BEGIN_DECLS

/* Exit codes of the contract ("Client CLI"). */
typedef enum
{
  MD_CTL_EXIT_OK = 0,
  MD_CTL_EXIT_REJECTED = 1, /* the server answered 4.xx/5.xx, or a local failure */
  MD_CTL_EXIT_NO_ANSWER = 2,
  MD_CTL_EXIT_USAGE = 64,  /* EX_USAGE */
  MD_CTL_EXIT_QUEUED = 75, /* EX_TEMPFAIL: no answer, the note waits in the outbox */
} MdCtlExit;

#define MD_CTL_DEFAULT_TIMEOUT_S 15.0
/* How many notes follow and history -f print before following. */
#define MD_CTL_DEFAULT_FOLLOW_LINES 10

typedef struct
{
  const char *server;   /* "HOST:PORT" of @target, as the outbox and cache name it */
  MdCtlServer *target;  /* the server, scheme and key (md-ctl-server.h) */
  GError *target_error; /* why there is no @target: md_ctl_connect() says it */
  const char *key_file; /* --key-file, else $MYDAILY_KEY_FILE, or NULL */
  double timeout_s;
  gboolean no_queue;         /* --no-queue: no answer fails (2) instead of queueing (75) */
  gboolean debug;            /* --debug */
  MdCtlTrace *trace;         /* with --debug: every datagram on stderr (md-ctl-trace.h) */
  GCancellable *cancellable; /* fires on SIGINT/SIGTERM/SIGHUP once graceful */
} MdCtlOptions;

/* A subcommand: @argv[0] is its name. */
typedef int (*MdCtlCommandFunc) (MdCtlOptions *options, int argc, char **argv);

int md_ctl_add (MdCtlOptions *options, int argc, char **argv);
int md_ctl_history (MdCtlOptions *options, int argc, char **argv);
int md_ctl_follow (MdCtlOptions *options, int argc, char **argv);
int md_ctl_status (MdCtlOptions *options, int argc, char **argv);
int md_ctl_keygen (MdCtlOptions *options, int argc, char **argv);
int md_ctl_sync (MdCtlOptions *options, int argc, char **argv);
int md_ctl_discover (MdCtlOptions *options, int argc, char **argv);
int md_ctl_login (MdCtlOptions *options, int argc, char **argv);
int md_ctl_logout (MdCtlOptions *options, int argc, char **argv);
/* Without a command: the notebook on a terminal, else md_ctl_add_lines(). */
int md_ctl_notebook (MdCtlOptions *options);
int md_ctl_add_lines (MdCtlOptions *options, FILE *input);
/* follow and history -f: the newest @last_n notes (-1: all), then new ones. */
int md_ctl_run_follow (MdCtlOptions *options, gint64 last_n, MdCtlFormat format);

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
/* -n N or -n all (*@last_n = -1); NULL leaves *@last_n.  FALSE: exit 64. */
gboolean md_ctl_parse_lines (const char *command, const char *text, gint64 *last_n);

/* Quits @loop when @cancellable fires (Ctrl-C: a normal end).  Destroy the
 * returned source when the loop has ended. */
GSource *md_ctl_quit_on_cancel (GCancellable *cancellable, GMainLoop *loop);

/* A client for options->target. */
MdClient *md_ctl_connect (MdCtlOptions *options, GError **error);
/* Chooses options->target and options->server from -s (@server), the
 * environment and the stored credentials.  A failure (a bad credentials
 * file, coaps:// without a key) waits in options->target_error for
 * md_ctl_connect(), so that "COMMAND --help" still works. */
void md_ctl_choose_server (MdCtlOptions *options, const char *server);

/* No -s and no $MYDAILY_SERVER (mydailyctl-choose.c): options->target is
 * a daemon on this host if one answers a ping, else the notebook found on
 * the LAN: the one chosen before (md-ctl-choice.h), the only one, or the
 * one the user picks now; over DTLS when a key was stored for its
 * identity.  Returns the exit status (printed what failed). */
int md_ctl_find_server (MdCtlOptions *options);
/* The stored credential for a notebook found on the LAN: by its identity,
 * else by its DTLS address; NULL when none. */
const MdCredential *md_ctl_credential_for (MdCredentials *credentials, const MdDiscovered *found);

/* ---- the outbox (mydailyctl-outbox.c) ---- */

typedef struct _MdOutbox MdOutbox;

/* @server ("HOST[:PORT]") as the outbox and the cache name it: "HOST:PORT". */
char *md_ctl_server_name (const char *server);
/* The notebook's identity (lower case) from GET /status; the status itself
 * to *@status when not NULL. */
gboolean md_ctl_learn_notebook (MdClient *client, char **notebook, GBytes **status, GError **error);
/* The notebook last cached from @server: which one a queued note is for. */
char *md_ctl_cached_notebook (const char *server);
/* The user's outbox, or NULL (the reason printed). */
MdOutbox *md_ctl_open_outbox (void);
/* Queues a note that got no answer, for the notebook last cached from
 * @server (if any). */
gboolean md_ctl_keep_note (MdOutbox *outbox, const char *server, const char *key, const char *text,
                           gsize len, GError **error);
/* The same, saying so in one line on stderr. */
gboolean md_ctl_queue_note (MdOutbox *outbox, const char *server, const char *key, const char *text,
                            gsize len, GError **error);
/* Binds the entries written for @server to @notebook and sends those of
 * @notebook, oldest first, unless another run is sending them now.  Fails
 * with MD_ERROR_TIMEOUT when the server stops answering. */
gboolean md_ctl_flush_outbox (MdClient *client, MdOutbox *outbox, const char *server,
                              const char *notebook, guint *n_sent, GError **error);
/* TRUE for the errors that mean "no answer" (exit 2, or queue). */
gboolean md_ctl_is_no_answer (const GError *error);

/* ---- the cache (mydailyctl-cache.c) ---- */

typedef struct _MdCache MdCache;

/* The cache of @notebook, or NULL (the reason printed); a repair is said. */
MdCache *md_ctl_open_cache (const char *notebook);
/* Fetches what is new (?after=LAST), verifying note LAST in the same read;
 * a cache that no longer matches is set aside and rebuilt. */
gboolean md_ctl_cache_update (MdClient *client, MdCache *cache, const char *server,
                              GCancellable *cancellable, GError **error);
/* One line on stderr: the server did not answer, the cache is this old. */
void md_ctl_print_cache_age (MdCache *cache, const char *server);

/* Adding notes with the outbox behind: what add, add - and the notebook
 * share (mydailyctl-add.c). */
typedef struct
{
  MdClient *client;
  char *server;         /* md_ctl_server_name() */
  MdOutbox *outbox;     /* NULL if it cannot be opened */
  gboolean queue;       /* queue unanswered notes (no --no-queue, an outbox) */
  gboolean unreachable; /* the last request got no answer: queue without trying */
} MdCtlAdder;

/* Connects and first sends what the outbox holds for this server. */
MdCtlAdder *md_ctl_adder_new (MdCtlOptions *options, GError **error);
void md_ctl_adder_free (MdCtlAdder *adder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCtlAdder, md_ctl_adder_free)
/* Stores one note under @key (NULL: a fresh one); returns the exit status:
 * OK (*@id set), QUEUED, or the failure's, which it has printed. */
int md_ctl_adder_add (MdCtlAdder *adder, const char *key, const char *text, gsize len, guint64 *id);

/* A GAsyncReadyCallback keeping the result in *@data (a GAsyncResult *). */
void md_ctl_keep_result (GObject *source, GAsyncResult *result, gpointer data);
/* Runs the default main context until md_ctl_keep_result() filled
 * *@result; for commands, never from inside a callback.  Every operation of
 * the library ends by its own deadline, so this ends too. */
GAsyncResult *md_ctl_wait (GAsyncResult **result);

G_END_DECLS
