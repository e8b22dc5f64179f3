#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "md-credentials.h"
#include "md-ctl-signals.h"
#include "md-error.h"
#include "md-psk.h"
#include "mydailyctl.h"

/* A line of key text read at most: a key is 64 characters. */
#define KEY_INPUT_MAX 4096

static const char *
strip_coaps (const char *host)
{
  return g_ascii_strncasecmp (host, "coaps://", 8) == 0 ? host + 8 : host;
}

/* The key of one line: "KEY", or "NAME KEY" for @name (what keygen
 * printed). */
static char *
key_from_line (const char *line, const char *name, GError **error)
{
  g_autofree char *line_name = NULL;
  g_autoptr (MdPskSecret) key = NULL;

  if (strpbrk (line, " \t") == NULL && md_psk_secret_is_valid (line))
    return g_strdup (line);
  if (strpbrk (line, " \t") == NULL || !md_psk_parse_line (line, &line_name, &key, NULL))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   /* TRANSLATORS: KEY and NAME KEY are not translated */
                   _ ("expected a KEY (%d to %d printable characters) or a “NAME KEY” line"),
                   MD_PSK_SECRET_MIN, MD_PSK_SECRET_MAX);
      return NULL;
    }
  if (!g_str_equal (line_name, name))
    {
      /* TRANSLATORS: both %s are names of people */
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("the key line is for “%s”, not “%s”"),
                   line_name, name);
      return NULL;
    }
  return g_steal_pointer (&key);
}

/* The key on the first line of @text that is not blank. */
static char *
key_from_text (const char *text, const char *name, GError **error)
{
  g_auto (MdPskSecretStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0')
      return key_from_line (lines[i], name, error);
  return key_from_line ("", name, error);
}

/* One line from stdin; on a terminal asked for without echo. */
static char *
read_key_input (const char *name, const char *host)
{
  char line[KEY_INPUT_MAX];
  gboolean tty = isatty (STDIN_FILENO);
  struct termios saved, quiet;
  char *got;
  char *text;

  if (tty)
    {
      /* TRANSLATORS: a prompt; %s a person's name and a host */
      fprintf (stderr, _ ("Key for “%s” at %s: "), name, host);
      tcgetattr (STDIN_FILENO, &saved);
      md_ctl_signals_save_terminal (&saved);
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t)ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  got = fgets (line, sizeof line, stdin);
  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      md_ctl_signals_clear_terminal ();
      fputc ('\n', stderr);
    }
  text = g_strdup (got != NULL ? line : "");
  explicit_bzero (line, sizeof line);
  return text;
}

/* Read as carefully as the global --key-file: a key file is small, and
 * anything else is refused. */
static gboolean
read_key_file (const char *path, char **text, GError **error)
{
  gsize len = 0;

  *text = md_credentials_read_secret (path, &len, error);
  if (*text != NULL && len > KEY_INPUT_MAX)
    {
      explicit_bzero (*text, len);
      g_clear_pointer (text, g_free);
      /* TRANSLATORS: %s is a file name */
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("%s: not a key file"), path);
    }
  return *text != NULL;
}

static char *
read_key (const char *key_file, const char *name, const char *host, GError **error)
{
  g_autofree char *text = NULL;
  char *key;

  if (key_file == NULL)
    text = read_key_input (name, host);
  else if (!read_key_file (key_file, &text, error))
    return NULL;
  key = key_from_text (text, name, error);
  explicit_bzero (text, strlen (text));
  return key;
}

/* A handshake with the key and a GET of /status: the key works, and the
 * notebook's identity comes with it. */
static char *
check_key (MdCtlOptions *options, const char *host, const char *name, const char *key,
           GError **error)
{
  const MdClientPsk psk = { name, key };
  g_autoptr (MdClient) client
      = md_client_new_full (host, MD_PROTOCOL_PORT_DTLS, &psk, options->timeout_s, error);
  char *notebook = NULL;

  if (client == NULL)
    return NULL;
  if (options->trace != NULL)
    md_ctl_trace_attach (options->trace, client);
  if (!md_ctl_learn_notebook (client, &notebook, NULL, error))
    return NULL;
  return notebook;
}

static gboolean
store_credential (const MdCredential *credential, GError **error)
{
  g_autofree char *path = md_credentials_get_path ();
  g_autoptr (MdCredentials) credentials = NULL;
  int lock = md_credentials_lock (path, error);
  gboolean ok;

  if (lock < 0)
    return FALSE;
  credentials = md_credentials_load (path, error);
  if (credentials != NULL)
    md_credentials_set (credentials, credential);
  ok = credentials != NULL && md_credentials_save (credentials, path, error);
  md_credentials_unlock (lock);
  return ok;
}

static int
log_in (MdCtlOptions *options, const char *key_file, const char *host, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = read_key (key_file, name, host, &error);
  g_autofree char *notebook = NULL;
  g_autoptr (MdCredential) credential = NULL;

  if (key == NULL)
    return md_ctl_fail (error);
  notebook = check_key (options, host, name, key, &error);
  if (notebook == NULL)
    return md_ctl_fail (error);
  credential = md_credential_new (host, notebook, name, key);
  explicit_bzero (key, strlen (key));
  if (!store_credential (credential, &error))
    return md_ctl_fail (error);
  /* TRANSLATORS: a host, a person's name and a notebook's UUID */
  printf (_ ("Logged in to %s as “%s” (notebook %s).\n"), host, name, notebook);
  return MD_CTL_EXIT_OK;
}

int
md_ctl_login (MdCtlOptions *options, int argc, char **argv)
{
  g_autofree char *key_file = NULL;
  const GOptionEntry entries[] = {
    { "key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file,
      /* TRANSLATORS: help of "login --key-file" */
      N_ ("Read the key (or keygen's “NAME KEY” line) from FILE, not from the input"),
      N_ ("FILE") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = md_ctl_option_context_new (
      "login", _ ("HOST[:PORT] NAME"),
      _ ("Check the key of NAME at the server's DTLS port (default 5684) and store it in\n"
         "$XDG_CONFIG_HOME/mydaily/credentials; from then on, commands for HOST use DTLS.\n"
         "The key is read from --key-file or the input, never from the command line."));
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!md_ctl_parse_options (context, "login", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc != 3)
    return md_ctl_usage_error ("login", _ ("expected HOST[:PORT] and NAME"));
  host = md_credentials_host_key (strip_coaps (argv[1]), MD_PROTOCOL_PORT_DTLS, &error);
  if (host == NULL)
    return md_ctl_usage_error ("login", "%s", error->message);
  if (!md_psk_check_name (argv[2], &error))
    return md_ctl_usage_error ("login", _ ("bad NAME “%s”: %s"), argv[2], error->message);
  return log_in (options, key_file != NULL ? key_file : options->key_file, host, argv[2]);
}

/* Removes @host's credential; an exit status. */
static int
forget (const char *path, const char *host, GError **error)
{
  g_autoptr (MdCredentials) credentials = md_credentials_load (path, error);

  if (credentials == NULL)
    return md_ctl_fail (*error);
  if (!md_credentials_remove (credentials, host))
    {
      /* TRANSLATORS: %s is HOST:PORT */
      md_ctl_print_error (_ ("no key stored for %s"), host);
      return MD_CTL_EXIT_REJECTED;
    }
  if (!md_credentials_save (credentials, path, error))
    return md_ctl_fail (*error);
  return MD_CTL_EXIT_OK;
}

int
md_ctl_logout (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = md_ctl_option_context_new (
      "logout", _ ("HOST[:PORT]"), _ ("Forget the key stored for the server by “login”."));
  g_autofree char *path = md_credentials_get_path ();
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL;
  int lock;
  int status;

  if (!md_ctl_parse_options (context, "logout", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc != 2)
    return md_ctl_usage_error ("logout", _ ("expected HOST[:PORT]"));
  host = md_credentials_host_key (strip_coaps (argv[1]), MD_PROTOCOL_PORT_DTLS, &error);
  if (host == NULL)
    return md_ctl_usage_error ("logout", "%s", error->message);
  lock = md_credentials_lock (path, &error);
  if (lock < 0)
    return md_ctl_fail (error);
  status = forget (path, host, &error);
  md_credentials_unlock (lock);
  return status;
}
