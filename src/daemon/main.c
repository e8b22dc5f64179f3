#include "config.h"

#include "md-coaps.h"
#include "md-config.h"
#include "md-error.h"
#include "md-listen-named.h"
#include "md-listen.h"
#include "md-log.h"
#include "md-multicast.h"
#include "md-notify.h"
#include "md-rate-limit.h"
#include "md-server.h"
#include "md-store.h"
#include "md-udp-transport.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

/* The wiring: settings, sockets (md-listen), store, server, sd_notify
 * (md-notify) and signals, around one GLib main loop. */
typedef struct
{
  MdConfig config;
  GArray *fds;      /* the sockets served */
  GArray *dtls_fds; /* those served as coaps */
  MdCoaps *coaps;   /* NULL without a coaps socket */
  MdStore *store;
  MdRateLimit *rate_limit;
  MdServer *server;
  MdNotify *notify;
  GMainLoop *loop;
  guint sigterm_id;
  guint sigint_id;
  guint rejoin_id; /* the multicast groups on new interfaces */
} MdDaemon;

/* How often the plain sockets join the multicast groups on interfaces that
 * came up since: the sandboxed daemon cannot watch netlink for them. */
#define MD_DAEMON_REJOIN_SECONDS 10

/* Logs a fatal start-up error as syslog "err" (not a GLib critical, which the
 * test setup makes fatal) and returns the exit status. */
static int fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  {
    const GLogField fields[] = {
      { "MESSAGE", message, -1 },
      { "PRIORITY", "3", -1 },
      { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
    };

    g_log_structured_array (G_LOG_LEVEL_WARNING, fields, G_N_ELEMENTS (fields));
  }
  return EXIT_FAILURE;
}

static gboolean
open_store (MdDaemon *daemon, GError **error)
{
  g_autofree char *directory = md_config_get_state_directory (&daemon->config);

  if (g_mkdir_with_parents (directory, 0700) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, MD_ERROR, MD_ERROR_IO, _ ("cannot create the state directory %s: %s"),
                   directory, g_strerror (saved_errno));
      return FALSE;
    }
  /* The store logs a torn tail it drops (md_log_recovered). */
  daemon->store = md_store_open (directory, NULL, error);
  if (daemon->store == NULL)
    {
      g_prefix_error (error, _ ("cannot open the notes in %s: "), directory);
      return FALSE;
    }
  md_store_set_max_size (daemon->store, daemon->config.settings.max_notes_file_size);
  return TRUE;
}

static gboolean
make_rate_limit (MdDaemon *daemon, GError **error)
{
  const MdSettings *settings = &daemon->config.settings;
  MdAddressSet *exempt
      = md_address_set_new ((const char *const *)settings->rate_limit_exempt, error);

  if (exempt == NULL)
    return FALSE;
  daemon->rate_limit
      = md_rate_limit_new (settings->rate_limit_adds, settings->rate_limit_burst, exempt);
  return TRUE;
}

static gboolean
on_stop_signal (gpointer user_data)
{
  MdDaemon *daemon = user_data;

  md_notify_stopping (daemon->notify);
  /* Requests already queued were sent before the signal: answer them. */
  md_server_drain (daemon->server);
  md_log_stopped (md_store_get_count (daemon->store));
  g_main_loop_quit (daemon->loop);
  g_clear_handle_id (&daemon->sigterm_id, g_source_remove);
  g_clear_handle_id (&daemon->sigint_id, g_source_remove);
  return G_SOURCE_REMOVE;
}

static void
log_started (MdDaemon *daemon)
{
  g_autoptr (GString) addresses = g_string_new (NULL);

  for (guint i = 0; i < daemon->fds->len + daemon->dtls_fds->len; i++)
    {
      gboolean dtls = i >= daemon->fds->len;
      int fd = dtls ? g_array_index (daemon->dtls_fds, int, i - daemon->fds->len)
                    : g_array_index (daemon->fds, int, i);
      char address[64];

      if (i > 0)
        g_string_append (addresses, ", ");
      g_string_append (addresses, md_listen_describe (fd, address));
      if (dtls)
        g_string_append (addresses, " (coaps)");
    }
  md_log_started (addresses->str, md_store_get_count (daemon->store),
                  md_store_get_path (daemon->store));
}

/* The port of the first coaps socket, for the coaps= link attribute; 0
 * when DTLS is not offered. */
static guint16
coaps_port (MdDaemon *daemon)
{
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;

  if (daemon->dtls_fds->len == 0
      || getsockname (g_array_index (daemon->dtls_fds, int, 0), (struct sockaddr *)&addr, &len) < 0)
    return 0;
  if (addr.ss_family == AF_INET)
    return g_ntohs (((struct sockaddr_in *)&addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return g_ntohs (((struct sockaddr_in6 *)&addr)->sin6_port);
  return 0;
}

static gboolean
join_groups (gpointer user_data)
{
  MdDaemon *daemon = user_data;

  for (guint i = 0; i < daemon->fds->len; i++)
    md_multicast_join (g_array_index (daemon->fds, int, i));
  return G_SOURCE_CONTINUE;
}

static void
setup_discovery (MdDaemon *daemon)
{
  const MdSettings *settings = &daemon->config.settings;

  md_server_set_identity (daemon->server, md_settings_get_name (settings), coaps_port (daemon));
  md_server_set_discovery (daemon->server, settings->discovery);
  if (!settings->discovery)
    return;
  join_groups (daemon);
  daemon->rejoin_id = g_timeout_add_seconds (MD_DAEMON_REJOIN_SECONDS, join_groups, daemon);
}

/* READY=1 only now that sockets and store are open. */
static gboolean
serve (MdDaemon *daemon, GError **error)
{
  if (!make_rate_limit (daemon, error))
    return FALSE;
  daemon->server = md_server_new (daemon->store);
  md_server_set_verbose (daemon->server, daemon->config.verbose);
  md_server_set_rate_limit (daemon->server, daemon->rate_limit);
  setup_discovery (daemon);
  if (!md_server_set_plain_from (daemon->server,
                                 (const char *const *)daemon->config.settings.plain_from, error))
    return FALSE;
  for (guint i = 0; i < daemon->fds->len; i++)
    {
      /* md-listen checked the sockets it was given and made the others. */
      MdTransport *transport = md_udp_transport_new (g_array_index (daemon->fds, int, i), error);

      if (transport == NULL)
        return FALSE;
      md_server_add_transport (daemon->server, transport);
    }
  if (daemon->coaps != NULL
      && !md_coaps_serve (daemon->coaps, daemon->server, daemon->dtls_fds, error))
    return FALSE;
  daemon->sigterm_id = g_unix_signal_add (SIGTERM, on_stop_signal, daemon);
  daemon->sigint_id = g_unix_signal_add (SIGINT, on_stop_signal, daemon);
  daemon->notify = md_notify_ready (daemon->server);
  log_started (daemon);
  g_main_loop_run (daemon->loop);
  return TRUE;
}

/* The keys, only when there is a coaps socket to use them. */
static gboolean
open_coaps (MdDaemon *daemon, GError **error)
{
  if (daemon->dtls_fds->len == 0)
    return TRUE;
  daemon->coaps = md_coaps_new (daemon->config.keys, error);
  return daemon->coaps != NULL;
}

static int
run (MdDaemon *daemon)
{
  g_autoptr (GError) error = NULL;

  if (!md_listen_open_named ((const char *const *)daemon->config.listen,
                             (const char *const *)daemon->config.listen_dtls, daemon->fds,
                             daemon->dtls_fds, &error)
      || !open_store (daemon, &error) || !open_coaps (daemon, &error) || !serve (daemon, &error))
    return fail ("%s", error->message);
  return EXIT_SUCCESS;
}

static void
daemon_clear (MdDaemon *daemon)
{
  g_clear_pointer (&daemon->notify, md_notify_free);
  g_clear_handle_id (&daemon->sigterm_id, g_source_remove);
  g_clear_handle_id (&daemon->sigint_id, g_source_remove);
  g_clear_handle_id (&daemon->rejoin_id, g_source_remove);
  g_clear_pointer (&daemon->server, md_server_free);
  g_clear_pointer (&daemon->rate_limit, md_rate_limit_free);
  /* After the server: its DTLS transports ask the keys until they go. */
  g_clear_pointer (&daemon->coaps, md_coaps_free);
  g_clear_pointer (&daemon->store, md_store_free);
  for (guint i = 0; i < daemon->fds->len; i++)
    close (g_array_index (daemon->fds, int, i));
  g_array_unref (daemon->fds);
  for (guint i = 0; i < daemon->dtls_fds->len; i++)
    close (g_array_index (daemon->dtls_fds, int, i));
  g_array_unref (daemon->dtls_fds);
  g_main_loop_unref (daemon->loop);
  md_config_clear (&daemon->config);
}

static int
print_version (void)
{
  g_print ("mydailyd %s\n", PACKAGE_VERSION);
  return EXIT_SUCCESS;
}

static int
print_config (const MdConfig *config)
{
  g_autofree char *data = md_settings_to_data (&config->settings);

  g_print ("%s", data);
  return EXIT_SUCCESS;
}

static void
setup_i18n (void)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  MdDaemon daemon = { 0 };
  int status;

  setup_i18n ();
  g_set_prgname ("mydailyd");
  md_log_init (FALSE);
  daemon.fds = g_array_new (FALSE, FALSE, sizeof (int));
  daemon.dtls_fds = g_array_new (FALSE, FALSE, sizeof (int));
  daemon.loop = g_main_loop_new (NULL, FALSE);
  if (!md_config_parse_args (&daemon.config, &argc, &argv, &error))
    status = fail ("%s", error->message);
  else if (daemon.config.version)
    status = print_version ();
  else if (!md_config_load_file (&daemon.config, &error))
    status = fail ("%s", error->message);
  else if (daemon.config.print_config)
    status = print_config (&daemon.config);
  else
    {
      md_log_init (daemon.config.verbose);
      status = run (&daemon);
    }
  daemon_clear (&daemon);
  return status;
}
