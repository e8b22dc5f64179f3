#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "mydailyctl.h"

typedef struct
{
  const char *name;
  const char *summary;
  MdCtlCommandFunc func;
  gboolean needs_server; /* -s and the credentials are resolved first */
} MdCtlCommand;

static const MdCtlCommand commands[] = {
  /* TRANSLATORS: summary of "mydailyctl add" in --help */
  { "add", N_ ("Add a note (TEXT…, or “-” for one note per input line)"), md_ctl_add, TRUE },
  /* TRANSLATORS: summary of "mydailyctl history" in --help */
  { "history", N_ ("Print past notes"), md_ctl_history, TRUE },
  /* TRANSLATORS: summary of "mydailyctl follow" in --help */
  { "follow", N_ ("Print new notes as they arrive"), md_ctl_follow, TRUE },
  /* TRANSLATORS: summary of "mydailyctl status" in --help */
  { "status", N_ ("Print the daemon's status"), md_ctl_status, TRUE },
  /* TRANSLATORS: summary of "mydailyctl keygen" in --help */
  { "keygen", N_ ("Print a new key line for the server's keys file"), md_ctl_keygen, FALSE },
  /* TRANSLATORS: summary of "mydailyctl login" in --help */
  { "login", N_ ("Store a key for a server, after checking it there"), md_ctl_login, FALSE },
  /* TRANSLATORS: summary of "mydailyctl logout" in --help */
  { "logout", N_ ("Forget the key stored for a server"), md_ctl_logout, FALSE },
  /* TRANSLATORS: summary of "mydailyctl sync" in --help */
  { "sync", N_ ("Send the notes queued while the server did not answer"), md_ctl_sync, TRUE },
  /* TRANSLATORS: summary of "mydailyctl discover" in --help */
  { "discover", N_ ("List the notebooks on the LAN"), md_ctl_discover, FALSE },
};

static const MdCtlCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

/* The command list of --help comes from the table. */
static char *
describe_commands (void)
{
  GString *text = g_string_new (_ ("Commands:"));

  g_string_append_c (text, '\n');
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %-10s %s\n", commands[i].name, _ (commands[i].summary));
  g_string_append_c (text, '\n');
  g_string_append (text, _ ("Without a command, mydailyctl opens an interactive notebook when its\n"
                            "input is a terminal, and otherwise adds one note per input line."));
  g_string_append (text, "\n\n");
  g_string_append (text, _ ("Use “mydailyctl COMMAND --help” for the options of a command."));
  g_string_append_c (text, '\n');
  return g_string_free (text, FALSE);
}

static void
init_i18n (void)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static gboolean
parse_global_options (MdCtlOptions *options, char **server, char **key_file, int *argc,
                      char ***argv, gboolean *version)
{
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, server,
      /* TRANSLATORS: help of --server; coap:// and coaps:// are not translated */
      N_ ("The daemon to talk to (default: $MYDAILY_SERVER, else localhost); coaps:// forces "
          "DTLS, coap:// plain CoAP, and a bare HOST uses DTLS when you logged in there"),
      N_ ("[coaps://]HOST[:PORT]") },
    { "key-file", 0, 0, G_OPTION_ARG_FILENAME, key_file,
      /* TRANSLATORS: help of --key-file; NAME KEY is the keys file's line, not translated */
      N_ ("Use DTLS with the “NAME KEY” line of FILE (default: $MYDAILY_KEY_FILE)"), N_ ("FILE") },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &options->timeout_s,
      /* TRANSLATORS: help of --timeout */
      N_ ("How long one request may take (default: 15)"), N_ ("SECONDS") },
    { "no-queue", 0, 0, G_OPTION_ARG_NONE, &options->no_queue,
      /* TRANSLATORS: help of --no-queue */
      N_ ("Do not queue notes the server does not answer: fail with status 2"), NULL },
    { "debug", 0, 0, G_OPTION_ARG_NONE, &options->debug,
      /* TRANSLATORS: help of --debug */
      N_ ("Print every datagram sent and received on standard error, decoded"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, version,
      /* TRANSLATORS: help of --version */
      N_ ("Print the version and exit"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("[COMMAND [ARGS…]]"));
  g_autofree char *description = describe_commands ();

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _ ("Write to and read from the LAN notebook."));
  g_option_context_set_description (context, description);
  /* Options after the command belong to the command. */
  g_option_context_set_strict_posix (context, TRUE);
  return md_ctl_parse_options (context, NULL, argc, argv);
}

static int
check_global_options (MdCtlOptions *options, const char *key_file)
{
  options->key_file = key_file != NULL ? key_file : g_getenv ("MYDAILY_KEY_FILE");
  if (options->key_file != NULL && *options->key_file == '\0')
    options->key_file = NULL;
  if (!(options->timeout_s > 0 && options->timeout_s <= 24 * 3600))
    return md_ctl_usage_error (NULL, _ ("--timeout needs a number of seconds between 0 and 86400"));
  return MD_CTL_EXIT_OK;
}

static gboolean
wants_help (int argc, char **argv)
{
  for (int i = 2; i < argc; i++)
    if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h")
        || g_str_equal (argv[i], "-?") || g_str_equal (argv[i], "--"))
      return !g_str_equal (argv[i], "--");
  return FALSE;
}

/* No -s and no $MYDAILY_SERVER: localhost if a daemon answers there, else
 * the LAN (mydailyctl-choose.c); --help needs no server. */
static gboolean
finds_server (const char *server, int argc, char **argv)
{
  const char *env = g_getenv ("MYDAILY_SERVER");

  return server == NULL && (env == NULL || *env == '\0') && !wants_help (argc, argv);
}

static int
run_command (MdCtlOptions *options, const char *server, int argc, char **argv)
{
  const MdCtlCommand *command = argc < 2 ? NULL : find_command (argv[1]);

  if (argc >= 2 && command == NULL)
    return md_ctl_usage_error (NULL, _ ("unknown command “%s”"), argv[1]);
  if ((command == NULL || command->needs_server) && finds_server (server, argc, argv))
    {
      int status = md_ctl_find_server (options);

      if (status != MD_CTL_EXIT_OK)
        return status;
    }
  else if (command == NULL || command->needs_server)
    md_ctl_choose_server (options, server);
  if (command == NULL)
    return md_ctl_notebook (options);
  return command->func (options, argc - 1, argv + 1);
}

int
main (int argc, char **argv)
{
  g_autoptr (GCancellable) cancellable = NULL;
  g_autofree char *server = NULL;
  g_autofree char *key_file = NULL;
  MdCtlOptions options = { .timeout_s = MD_CTL_DEFAULT_TIMEOUT_S };
  gboolean version = FALSE;
  int status;

  /* Debug output (G_MESSAGES_DEBUG=mydailyctl) must not mix with notes;
   * GLib takes this only before the first thread. */
  g_log_writer_default_set_use_stderr (TRUE);
  cancellable = md_ctl_signals_init ();
  options.cancellable = cancellable;
  init_i18n ();
  g_set_prgname ("mydailyctl");
  if (!parse_global_options (&options, &server, &key_file, &argc, &argv, &version))
    return MD_CTL_EXIT_USAGE;
  if (version)
    {
      printf ("mydailyctl %s\n", PACKAGE_VERSION);
      return MD_CTL_EXIT_OK;
    }
  status = check_global_options (&options, key_file);
  if (options.debug)
    options.trace = md_ctl_trace_new (NULL, NULL);
  if (status == MD_CTL_EXIT_OK)
    status = run_command (&options, server, argc, argv);
  md_ctl_trace_free (options.trace);
  md_ctl_server_free (options.target);
  g_clear_error (&options.target_error);
  return status;
}
