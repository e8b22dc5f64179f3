#include "config.h"

#include "md-error.h"
#include "md-log.h"
#include "md-peer.h"
#include "md-server.h"
#include "md-store.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define MD_DEFAULT_CONFIG "/etc/mydaily/mydailyd.conf"
#define MD_DEFAULT_PORT "5683"
/* STATUS= is refreshed at most this often, and only when it changed. */
#define MD_STATUS_INTERVAL_S 1

typedef struct
{
  char **listen;
  char *state_directory;
  char *config;
  gboolean verbose;
  gboolean version;
} MdOptions;

typedef struct
{
  MdOptions options;
  GArray *fds;          /* the sockets served */
  GPtrArray *addresses; /* their local addresses, for the log */
  MdStore *store;
  MdServer *server;
  GMainLoop *loop;
  char *status; /* last STATUS= sent */
  guint status_id;
  guint watchdog_id;
  guint sigterm_id;
  guint sigint_id;
} MdDaemon;

/* ---- errors ------------------------------------------------------------- */

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

/* ---- options and configuration ------------------------------------------ */

static gboolean
parse_options (MdOptions *options, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    /* TRANSLATORS: description of --listen */
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options->listen,
      N_ ("Bind a UDP socket to ADDR:PORT unless systemd passed sockets (repeatable)"),
      /* TRANSLATORS: placeholder of --listen */
      N_ ("ADDR:PORT") },
    /* TRANSLATORS: description of --state-directory */
    { "state-directory", 0, 0, G_OPTION_ARG_FILENAME, &options->state_directory,
      N_ ("Keep the notes in DIR (default: $STATE_DIRECTORY, then /var/lib/mydaily)"),
      /* TRANSLATORS: placeholder of --state-directory */
      N_ ("DIR") },
    /* TRANSLATORS: description of --config */
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &options->config,
      N_ ("Read settings from FILE (default: /etc/mydaily/mydailyd.conf)"),
      /* TRANSLATORS: placeholder of --config */
      N_ ("FILE") },
    /* TRANSLATORS: description of --verbose */
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &options->verbose,
      N_ ("Log every datagram received and sent"), NULL },
    /* TRANSLATORS: description of --version */
    { "version", 0, 0, G_OPTION_ARG_NONE, &options->version, N_ ("Print the version and exit"),
      NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = NULL;

  context = g_option_context_new (NULL);
  /* TRANSLATORS: summary line of mydailyd --help */
  g_option_context_set_summary (context, _ ("Serve the LAN notebook over CoAP."));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, _ ("unexpected argument “%s”"),
                   (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

static void
free_options (MdOptions *options)
{
  g_strfreev (options->listen);
  g_free (options->state_directory);
  g_free (options->config);
}

/* A missing default file is fine; a missing --config file is a mistake. */
static gboolean
load_config (const MdOptions *options, gboolean *verbose, GError **error)
{
  const char *path = options->config != NULL ? options->config : MD_DEFAULT_CONFIG;
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  gboolean value;

  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, &local_error))
    {
      if (options->config == NULL
          && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }
  if (!g_key_file_has_key (keyfile, "daemon", "verbose", NULL))
    return TRUE;
  value = g_key_file_get_boolean (keyfile, "daemon", "verbose", &local_error);
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }
  *verbose = *verbose || value;
  return TRUE;
}

/* ---- sockets ------------------------------------------------------------ */

static void
remember_socket (MdDaemon *daemon, int fd)
{
  MdPeer local = { .fd = fd };
  char address[64];

  local.addr_len = sizeof local.addr;
  if (getsockname (fd, (struct sockaddr *)&local.addr, &local.addr_len) < 0)
    g_strlcpy (address, "?", sizeof address);
  else
    md_peer_to_string (&local, address);
  g_array_append_val (daemon->fds, fd);
  g_ptr_array_add (daemon->addresses, g_strdup (address));
  g_info ("listening on %s", address);
}

static gboolean
adopt_passed_sockets (MdDaemon *daemon, int n_fds, GError **error)
{
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n_fds; fd++)
    {
      if (sd_is_socket_inet (fd, AF_UNSPEC, SOCK_DGRAM, -1, 0) <= 0)
        {
          g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                       _ ("file descriptor %d from systemd is not an IPv4 or IPv6 UDP socket"), fd);
          return FALSE;
        }
      remember_socket (daemon, fd);
    }
  return TRUE;
}

/* "127.0.0.1:0", "[::1]:5683", "localhost:5683", ":5683" (any address) or a
 * host alone (port 5683). */
static gboolean
split_listen (const char *spec, char **host, char **port, GError **error)
{
  const char *colon = strrchr (spec, ':');
  const char *end = colon != NULL ? colon : spec + strlen (spec);

  if (spec[0] == '[')
    {
      const char *close = strchr (spec, ']');

      if (close == NULL || (close[1] != '\0' && close[1] != ':'))
        goto bad;
      *host = g_strndup (spec + 1, close - spec - 1);
      *port = g_strdup (close[1] == ':' ? close + 2 : MD_DEFAULT_PORT);
    }
  else if (colon != NULL && strchr (spec, ':') != colon)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("bad --listen=%s: write an IPv6 address in brackets, as in [::1]:5683"),
                   spec);
      return FALSE;
    }
  else
    {
      *host = g_strndup (spec, end - spec);
      *port = g_strdup (colon != NULL ? colon + 1 : MD_DEFAULT_PORT);
    }
  if (g_ascii_string_to_unsigned (*port, 10, 0, G_MAXUINT16, NULL, NULL))
    return TRUE;
  g_clear_pointer (host, g_free);
  g_clear_pointer (port, g_free);
bad:
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
               _ ("bad --listen=%s: expected ADDR:PORT, as in 127.0.0.1:5683 or [::1]:5683"), spec);
  return FALSE;
}

static int
bind_address (const struct addrinfo *ai, GError **error)
{
  int fd = socket (ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;

  if (fd < 0)
    {
      md_error_set_errno (error, errno, "socket");
      return -1;
    }
  /* One socket per address: [::] must not also take the IPv4 port. */
  if (ai->ai_family == AF_INET6 && setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
    {
      md_error_set_errno (error, errno, "setsockopt(IPV6_V6ONLY)");
      close (fd);
      return -1;
    }
  if (bind (fd, ai->ai_addr, ai->ai_addrlen) < 0)
    {
      md_error_set_errno (error, errno, "bind");
      close (fd);
      return -1;
    }
  return fd;
}

static struct addrinfo *
resolve_listen (const char *spec, GError **error)
{
  const struct addrinfo hints = {
    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_DGRAM,
    .ai_protocol = IPPROTO_UDP,
  };
  g_autofree char *host = NULL;
  g_autofree char *port = NULL;
  struct addrinfo *result = NULL;
  int r;

  if (!split_listen (spec, &host, &port, error))
    return NULL;
  r = getaddrinfo (*host != '\0' ? host : NULL, port, &hints, &result);
  if (r != 0)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("bad --listen=%s: %s"), spec,
                   r == EAI_SYSTEM ? g_strerror (errno) : gai_strerror (r));
      return NULL;
    }
  return result;
}

/* Binds every address @spec names (a name such as localhost may have an IPv4
 * and an IPv6 one); fails only if none can be bound. */
static gboolean
bind_listen (MdDaemon *daemon, const char *spec, GError **error)
{
  struct addrinfo *result = resolve_listen (spec, error);
  g_autoptr (GError) first_error = NULL;
  guint bound = 0;

  if (result == NULL)
    return FALSE;
  for (const struct addrinfo *ai = result; ai != NULL; ai = ai->ai_next)
    {
      g_autoptr (GError) local_error = NULL;
      int fd = bind_address (ai, &local_error);

      if (fd >= 0)
        {
          remember_socket (daemon, fd);
          bound++;
        }
      else if (first_error == NULL)
        first_error = g_steal_pointer (&local_error);
    }
  freeaddrinfo (result);
  if (bound > 0)
    return TRUE;
  g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("cannot listen on %s: %s"), spec,
               first_error->message);
  return FALSE;
}

static gboolean
open_sockets (MdDaemon *daemon, GError **error)
{
  int n_fds = sd_listen_fds (TRUE);

  if (n_fds < 0)
    {
      md_error_set_errno (error, -n_fds, "sd_listen_fds");
      return FALSE;
    }
  if (n_fds > 0)
    {
      if (daemon->options.listen != NULL)
        g_info ("using the %d socket(s) from systemd, not --listen", n_fds);
      return adopt_passed_sockets (daemon, n_fds, error);
    }
  if (daemon->options.listen == NULL || daemon->options.listen[0] == NULL)
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                           _ ("no socket: pass --listen=ADDR:PORT or start via mydaily.socket"));
      return FALSE;
    }
  for (guint i = 0; daemon->options.listen[i] != NULL; i++)
    if (!bind_listen (daemon, daemon->options.listen[i], error))
      return FALSE;
  return TRUE;
}

/* ---- store -------------------------------------------------------------- */

/* --state-directory, then $STATE_DIRECTORY (its first entry: systemd joins
 * several with ':'), then the compile-time default. */
static char *
resolve_state_directory (const MdOptions *options)
{
  const char *env = g_getenv ("STATE_DIRECTORY");

  if (options->state_directory != NULL)
    return g_strdup (options->state_directory);
  if (env != NULL && *env != '\0')
    return g_strndup (env, strcspn (env, ":"));
  return g_strdup (MD_DEFAULT_STATE_DIRECTORY);
}

static gboolean
open_store (MdDaemon *daemon, GError **error)
{
  g_autofree char *directory = resolve_state_directory (&daemon->options);

  if (g_mkdir_with_parents (directory, 0700) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, MD_ERROR, MD_ERROR_IO, _ ("cannot create the state directory %s: %s"),
                   directory, g_strerror (saved_errno));
      return FALSE;
    }
  /* The store logs a torn tail it drops (MD_MESSAGE_ID_RECOVERED). */
  daemon->store = md_store_open (directory, NULL, error);
  if (daemon->store == NULL)
    {
      g_prefix_error (error, _ ("cannot open the notes in %s: "), directory);
      return FALSE;
    }
  return TRUE;
}

/* ---- systemd notifications and signals ---------------------------------- */

static gboolean
refresh_status (gpointer user_data)
{
  MdDaemon *daemon = user_data;
  g_autofree char *status = md_server_describe (daemon->server);

  if (g_strcmp0 (status, daemon->status) != 0)
    {
      sd_notifyf (FALSE, "STATUS=%s", status);
      g_free (daemon->status);
      daemon->status = g_steal_pointer (&status);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
send_watchdog (gpointer user_data)
{
  sd_notify (FALSE, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

/* READY=1 only now that sockets and store are open; a STATUS= poll only
 * when someone listens, so a plain run wakes up for datagrams alone. */
static void
start_notifications (MdDaemon *daemon)
{
  guint64 watchdog_us = 0;

  daemon->status = md_server_describe (daemon->server);
  sd_notifyf (FALSE, "READY=1\nSTATUS=%s", daemon->status);
  if (g_getenv ("NOTIFY_SOCKET") != NULL)
    daemon->status_id = g_timeout_add_seconds (MD_STATUS_INTERVAL_S, refresh_status, daemon);
  if (sd_watchdog_enabled (FALSE, &watchdog_us) > 0)
    daemon->watchdog_id = g_timeout_add (MAX (watchdog_us / 2 / 1000, 1), send_watchdog, daemon);
}

static gboolean
on_stop_signal (gpointer user_data)
{
  MdDaemon *daemon = user_data;

  sd_notify (FALSE, "STOPPING=1");
  /* Requests already queued were sent before the signal: answer them. */
  md_server_drain (daemon->server);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", MD_MESSAGE_ID_STOPPED, "MESSAGE",
                    "stopped with %" G_GUINT64_FORMAT " notes", md_store_get_count (daemon->store));
  g_main_loop_quit (daemon->loop);
  g_clear_handle_id (&daemon->sigterm_id, g_source_remove);
  g_clear_handle_id (&daemon->sigint_id, g_source_remove);
  return G_SOURCE_REMOVE;
}

static void
log_started (MdDaemon *daemon)
{
  g_autofree char *addresses = NULL;

  g_ptr_array_add (daemon->addresses, NULL);
  addresses = g_strjoinv (", ", (char **)daemon->addresses->pdata);
  g_ptr_array_remove_index (daemon->addresses, daemon->addresses->len - 1);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", MD_MESSAGE_ID_STARTED, "MESSAGE",
                    "started version %s on %s with %" G_GUINT64_FORMAT " notes in %s",
                    PACKAGE_VERSION, addresses, md_store_get_count (daemon->store),
                    md_store_get_path (daemon->store));
}

/* ---- main --------------------------------------------------------------- */

static gboolean
serve (MdDaemon *daemon, GError **error)
{
  daemon->server = md_server_new (daemon->store);
  md_server_set_verbose (daemon->server, daemon->options.verbose);
  for (guint i = 0; i < daemon->fds->len; i++)
    if (!md_server_add_socket (daemon->server, g_array_index (daemon->fds, int, i), error))
      return FALSE;
  daemon->sigterm_id = g_unix_signal_add (SIGTERM, on_stop_signal, daemon);
  daemon->sigint_id = g_unix_signal_add (SIGINT, on_stop_signal, daemon);
  start_notifications (daemon);
  log_started (daemon);
  g_main_loop_run (daemon->loop);
  return TRUE;
}

static int
run (MdDaemon *daemon)
{
  g_autoptr (GError) error = NULL;

  if (!open_sockets (daemon, &error) || !open_store (daemon, &error) || !serve (daemon, &error))
    return fail ("%s", error->message);
  return EXIT_SUCCESS;
}

static void
daemon_clear (MdDaemon *daemon)
{
  g_clear_handle_id (&daemon->status_id, g_source_remove);
  g_clear_handle_id (&daemon->watchdog_id, g_source_remove);
  g_clear_handle_id (&daemon->sigterm_id, g_source_remove);
  g_clear_handle_id (&daemon->sigint_id, g_source_remove);
  g_clear_pointer (&daemon->server, md_server_free);
  g_clear_pointer (&daemon->store, md_store_free);
  for (guint i = 0; i < daemon->fds->len; i++)
    close (g_array_index (daemon->fds, int, i));
  g_array_unref (daemon->fds);
  g_ptr_array_unref (daemon->addresses);
  g_main_loop_unref (daemon->loop);
  g_free (daemon->status);
  free_options (&daemon->options);
}

static int
print_version (void)
{
  g_print ("mydailyd %s\n", PACKAGE_VERSION);
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
  daemon.addresses = g_ptr_array_new_with_free_func (g_free);
  daemon.loop = g_main_loop_new (NULL, FALSE);
  if (!parse_options (&daemon.options, &argc, &argv, &error))
    status = fail ("%s", error->message);
  else if (daemon.options.version)
    status = print_version ();
  else if (!load_config (&daemon.options, &daemon.options.verbose, &error))
    status = fail ("%s", error->message);
  else
    {
      md_log_init (daemon.options.verbose);
      status = run (&daemon);
    }
  daemon_clear (&daemon);
  return status;
}
