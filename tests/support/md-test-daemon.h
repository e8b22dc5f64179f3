/* Test harness: runs a real mydailyd on loopback and real mydailyctl against it.
 *
 * The daemon gets a private temporary directory (state, notify socket, log) that
 * is removed again when the harness is freed.  Readiness is the daemon's own
 * sd_notify READY=1, received on a unix datagram socket the harness owns, so no
 * test ever sleeps while waiting for the daemon.  Every wait pumps the default
 * main context with a deadline. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  /* mydailyd --listen=127.0.0.1:PORT binds its own socket. */
  MD_TEST_DAEMON_LISTEN,
  /* systemd-socket-activate --datagram holds the socket and execs mydailyd on
   * the first datagram, speaking the real LISTEN_FDS protocol. */
  MD_TEST_DAEMON_SOCKET_ACTIVATE,
  /* The harness holds the socket itself, like systemd does for mydaily.socket,
   * and passes it as fd 3 each time it (re)starts mydailyd.  Datagrams that
   * arrive while the daemon is down wait in the socket buffer. */
  MD_TEST_DAEMON_HELD,
} MdTestDaemonMode;

typedef struct _MdTestDaemon MdTestDaemon;

/* "listen", "activated" or "held": the GTest path component of @mode. */
const char *md_test_daemon_mode_name (MdTestDaemonMode mode);

/* FALSE with a reason when @mode needs a tool this machine lacks. */
gboolean md_test_daemon_mode_available (MdTestDaemonMode mode, char **reason);

/* Makes the temporary directory; does not start the daemon. */
MdTestDaemon *md_test_daemon_new (MdTestDaemonMode mode);
void md_test_daemon_free (MdTestDaemon *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdTestDaemon, md_test_daemon_free)

/* One more argument for every daemon process, e.g. --listen-dtls=...;
 * call before md_test_daemon_start(). */
void md_test_daemon_add_arg (MdTestDaemon *self, const char *arg);

/* Starts the daemon and waits for READY=1.  Fails (FALSE, @error naming the
 * daemon's exit and its stderr) if it exits first or is not ready in time. */
gboolean md_test_daemon_start (MdTestDaemon *self, GError **error);

/* SIGTERM, then waits for the exit.  FALSE if it did not exit 0 in time. */
gboolean md_test_daemon_stop (MdTestDaemon *self, GError **error);

/* Sends @signum and waits until the process is gone (not restarted, even with
 * auto-restart on: call md_test_daemon_restart or let auto-restart do it). */
gboolean md_test_daemon_kill (MdTestDaemon *self, int signum, GError **error);

/* Starts the daemon again after a stop or kill; in LISTEN and SOCKET_ACTIVATE
 * mode on the same port when it is still free, in HELD mode on the held socket. */
gboolean md_test_daemon_restart (MdTestDaemon *self, GError **error);

/* Like systemd's Restart=always: whenever the daemon exits without being
 * stopped by the harness, start it again at once (and do not wait for READY). */
void md_test_daemon_set_auto_restart (MdTestDaemon *self, gboolean auto_restart);

/* Sends @signum without waiting (for kills in the middle of client traffic). */
void md_test_daemon_signal (MdTestDaemon *self, int signum);

/* HELD mode: bytes waiting in the held socket's receive queue (datagrams that
 * arrived while no daemon read them); -1 in other modes. */
gssize md_test_daemon_get_queued_bytes (MdTestDaemon *self);

/* Pumps the main context until the process that runs now has exited. */
gboolean md_test_daemon_wait_exit (MdTestDaemon *self, guint timeout_ms, GError **error);

gboolean md_test_daemon_is_running (MdTestDaemon *self);
/* How many times a daemon process was started. */
guint md_test_daemon_get_start_count (MdTestDaemon *self);
/* Last exit status (wait status as waitpid gives it), -1 before any exit. */
int md_test_daemon_get_last_wait_status (MdTestDaemon *self);

/* "127.0.0.1:PORT", valid once started. */
const char *md_test_daemon_get_address (MdTestDaemon *self);
guint16 md_test_daemon_get_port (MdTestDaemon *self);
const char *md_test_daemon_get_state_dir (MdTestDaemon *self);
/* STATE/notes */
const char *md_test_daemon_get_notes_path (MdTestDaemon *self);
/* Everything the daemon (and systemd-socket-activate) wrote to stderr. */
char *md_test_daemon_get_log (MdTestDaemon *self);
/* The last STATUS= the daemon sent, or NULL. */
const char *md_test_daemon_get_status (MdTestDaemon *self);
/* Whether the running (or last) daemon sent STOPPING=1. */
gboolean md_test_daemon_get_stopping (MdTestDaemon *self);

/* A GSpawnChildSetupFunc: the child gets SIGKILL when the test program dies,
 * so an aborted test leaves no daemon or client behind. */
void md_test_die_with_parent (gpointer unused);

/* A port on 127.0.0.1 that was free a moment ago (bound to port 0, closed). */
guint16 md_test_free_udp_port (GError **error);

/* Pumps the default main context until @done (@data) is TRUE; FALSE on timeout.
 * Bounded by @timeout_ms and by an iteration count. */
gboolean md_test_pump_until (gboolean (*done) (gpointer data), gpointer data, guint timeout_ms);

/* For conditions no event announces (a file growing, a socket queue filling):
 * also re-checks @done every @interval_ms.  Bounded like md_test_pump_until. */
gboolean md_test_poll_until (gboolean (*done) (gpointer data), gpointer data, guint interval_ms,
                             guint timeout_ms);

/* ---- mydailyctl ---- */

typedef struct
{
  int exit_status; /* exit code, or 128 + signal when killed, -1 if it never ended */
  char *out;       /* stdout, NUL-terminated (may hold invalid UTF-8) */
  gsize out_len;
  char *err; /* stderr, NUL-terminated */
} MdTestCtlResult;

void md_test_ctl_result_free (MdTestCtlResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdTestCtlResult, md_test_ctl_result_free)

typedef struct _MdTestCtl MdTestCtl;

/* The directory holding the current test's cache/, state/ and config/ (the
 * clients' $XDG_CACHE_HOME, $XDG_STATE_HOME and $XDG_CONFIG_HOME): one per test, removed
 * when the next test starts or the program ends. */
const char *md_test_ctl_get_home (void);

/* Starts "$MYDAILYCTL -s @server ARGV..." with @stdin_data (NULL: /dev/null). */
MdTestCtl *md_test_ctl_spawn (const char *server, GBytes *stdin_data, const char *const *argv,
                              GError **error);
/* Any program (@argv[0] looked up in PATH), run the same way. */
MdTestCtl *md_test_command_spawn (const char *const *argv, GBytes *stdin_data, GError **error);
/* Waits for it (pumping the main context); kills it after @timeout_ms. */
MdTestCtlResult *md_test_ctl_wait (MdTestCtl *ctl, guint timeout_ms);
void md_test_ctl_free (MdTestCtl *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdTestCtl, md_test_ctl_free)

/* Runs one client to its end; @stdin_text may be NULL. */
MdTestCtlResult *md_test_ctl_run (const char *server, const char *stdin_text,
                                  const char *const *argv, guint timeout_ms);
/* Same, against @daemon, argv given as NULL-terminated varargs. */
MdTestCtlResult *md_test_ctl_runv (MdTestDaemon *daemon, const char *stdin_text,
                                   const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

/* Starts @n clients at once, client i with @argvs[i] and @stdins[i] (may be
 * NULL), and waits for all of them.  Returns an array of MdTestCtlResult. */
GPtrArray *md_test_ctl_run_many (const char *server, guint n, const char *const *const *argvs,
                                 GBytes *const *stdins, guint timeout_ms);

/* ---- the notes file ---- */

typedef struct
{
  guint64 id;
  char *time; /* "2026-11-24T19:42:57Z" */
  char *key;  /* canonical UUID or "-" */
  char *text;
} MdTestRecord;

/* Reads STATE/notes into an array of MdTestRecord.  Every complete line must
 * have four fields and a decimal id; a last line without '\n' is a torn tail
 * and left out (*torn_tail says whether there was one).  A missing file is an
 * empty array. */
GPtrArray *md_test_read_notes (const char *path, gboolean *torn_tail, GError **error);
/* The same, asserting the file reads and has no torn tail: what a test
 * expects after every acknowledged note. */
GPtrArray *md_test_read_complete_notes (const char *path);
/* "ID\tTIME\tTEXT\n" for every record: what GET /notes and history -o tsv give. */
char *md_test_records_to_wire (GPtrArray *records);

G_END_DECLS
