#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "md-coap.h"
#include "md-credentials.h"
#include "md-ctl-choice.h"
#include "md-ctl-server.h"
#include "md-discover.h"
#include "md-terminal.h"
#include "mydailyctl.h"

/* How long a daemon on this host has to answer a ping: long enough for
 * socket activation to start it. */
#define MD_CTL_LOCAL_WAIT_MS 1000
/* The ping is sent again after this long (a first datagram may start the
 * daemon rather than reach it). */
#define MD_CTL_LOCAL_RESEND_MS 250
/* Answers to the prompt, at most. */
#define MD_CTL_PROMPT_TRIES 3

/* ---- localhost ---- */

/* A connected socket to @address:5683 that has sent a CoAP ping (an empty
 * CON, answered by RST); -1 when none could be sent. */
static int
send_ping (int family, const char *address, const guint8 *ping, gsize len)
{
  struct sockaddr_storage to = { .ss_family = family };
  socklen_t to_len;
  int fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (family == AF_INET)
    {
      ((struct sockaddr_in *)&to)->sin_port = htons (MD_PROTOCOL_PORT);
      inet_pton (AF_INET, address, &((struct sockaddr_in *)&to)->sin_addr);
      to_len = sizeof (struct sockaddr_in);
    }
  else
    {
      ((struct sockaddr_in6 *)&to)->sin6_port = htons (MD_PROTOCOL_PORT);
      inet_pton (AF_INET6, address, &((struct sockaddr_in6 *)&to)->sin6_addr);
      to_len = sizeof (struct sockaddr_in6);
    }
  if (fd >= 0 && (connect (fd, (struct sockaddr *)&to, to_len) < 0 || send (fd, ping, len, 0) < 0))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Whether an RST to @mid came back on one of @fds within @wait_ms; a
 * refused port (ICMP) ends that socket's wait at once. */
static gboolean
wait_pong (int *fds, guint n, const guint8 *ping, gsize len, guint16 mid)
{
  gint64 start = g_get_monotonic_time ();
  gboolean resent = FALSE;

  for (gint64 now = start; now - start < MD_CTL_LOCAL_WAIT_MS * 1000; now = g_get_monotonic_time ())
    {
      struct pollfd pfds[2];
      gint64 elapsed_ms = (now - start) / 1000;

      if (!resent && elapsed_ms >= MD_CTL_LOCAL_RESEND_MS)
        {
          for (guint i = 0; i < n; i++)
            if (fds[i] >= 0 && send (fds[i], ping, len, 0) < 0)
              fds[i] = -1;
          resent = TRUE;
        }
      for (guint i = 0; i < n; i++)
        pfds[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
      if (poll (pfds, n, resent ? 50 : MD_CTL_LOCAL_RESEND_MS - (int)elapsed_ms) <= 0)
        continue;
      for (guint i = 0; i < n; i++)
        {
          guint8 answer[64];
          ssize_t got = pfds[i].revents ? recv (fds[i], answer, sizeof answer, 0) : -1;
          MdCoapType type;
          guint8 code;
          guint16 answer_mid;

          if (got < 0 && errno == ECONNREFUSED)
            pfds[i].fd = fds[i] = -1;
          if (got >= 4 && md_coap_peek_header (answer, (gsize)got, &type, &code, &answer_mid)
              && type == MD_COAP_TYPE_RST && answer_mid == mid)
            return TRUE;
        }
      if ((n < 1 || fds[0] < 0) && (n < 2 || fds[1] < 0))
        return FALSE;
    }
  return FALSE;
}

static gboolean
localhost_answers (void)
{
  guint16 mid = (guint16)g_random_int ();
  guint8 ping[4] = { 0x40, 0x00, (guint8)(mid >> 8), (guint8)mid };
  int fds[2] = { send_ping (AF_INET, "127.0.0.1", ping, sizeof ping),
                 send_ping (AF_INET6, "::1", ping, sizeof ping) };
  int closing[2] = { fds[0], fds[1] };
  gboolean answered = (fds[0] >= 0 || fds[1] >= 0) && wait_pong (fds, 2, ping, sizeof ping, mid);

  for (guint i = 0; i < 2; i++)
    if (closing[i] >= 0)
      close (closing[i]);
  return answered;
}

/* ---- the LAN ---- */

static GPtrArray *
discover (MdCtlOptions *options)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GPtrArray *found;

  md_discover_async (MD_DISCOVER_DEFAULT_WINDOW_MS, options->cancellable, md_ctl_keep_result,
                     &result);
  found = md_discover_finish (md_ctl_wait (&result), &error);
  if (found == NULL)
    g_debug ("discovery: %s", error->message);
  return found;
}

/* The best address of @identity (the list has it first), or NULL. */
static const MdDiscovered *
find_notebook (GPtrArray *found, const char *identity)
{
  for (guint i = 0; i < found->len; i++)
    {
      const MdDiscovered *f = g_ptr_array_index (found, i);

      if (strcmp (f->link.notebook, identity) == 0)
        return f;
    }
  return NULL;
}

/* One entry per notebook, its best address. */
static GPtrArray *
distinct_notebooks (GPtrArray *found)
{
  GPtrArray *notebooks = g_ptr_array_new ();

  for (guint i = 0; i < found->len; i++)
    {
      const MdDiscovered *f = g_ptr_array_index (found, i);

      /* Only DNS-SD announced it: no identity to remember it by. */
      if (f->link.notebook[0] != '\0' && find_notebook (notebooks, f->link.notebook) == NULL)
        g_ptr_array_add (notebooks, (gpointer)f);
    }
  return notebooks;
}

static void
remember (const MdDiscovered *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *server = md_discovered_server (f);
  MdCtlChoice choice = { (char *)f->link.notebook, f->link.name, server };

  if (!md_ctl_choice_save (&choice, &error))
    md_ctl_print_error (_ ("cannot remember the notebook chosen: %s"), error->message);
}

static void
list_notebooks (GPtrArray *notebooks)
{
  for (guint i = 0; i < notebooks->len; i++)
    {
      const MdDiscovered *f = g_ptr_array_index (notebooks, i);
      g_autofree char *name = md_terminal_dup_safe (f->link.name, -1, MD_TERMINAL_NONE);
      g_autofree char *server = md_discovered_server (f);

      fprintf (stderr, "  %u) %s  %s  %s\n", i + 1, name, server, f->link.notebook);
    }
}

/* The user's pick among @notebooks on the terminal, or NULL. */
static const MdDiscovered *
ask (GPtrArray *notebooks)
{
  fprintf (stderr, _ ("These notebooks answered on the LAN:\n"));
  list_notebooks (notebooks);
  for (guint tries = 0; tries < MD_CTL_PROMPT_TRIES; tries++)
    {
      char line[32];
      guint64 pick;

      /* TRANSLATORS: %u is the number of notebooks listed */
      fprintf (stderr, _ ("Which one? [1-%u] "), notebooks->len);
      fflush (stderr);
      if (fgets (line, sizeof line, stdin) == NULL)
        return NULL;
      g_strstrip (line);
      if (g_ascii_string_to_unsigned (line, 10, 1, notebooks->len, &pick, NULL))
        return g_ptr_array_index (notebooks, pick - 1);
    }
  return NULL;
}

static int
refuse_to_guess (GPtrArray *notebooks)
{
  md_ctl_print_error ("%s", _ ("several notebooks answered on the LAN; choose one with -s:"));
  list_notebooks (notebooks);
  return MD_CTL_EXIT_USAGE;
}

/* Several notebooks, or one that is not the one chosen before: never
 * switch silently, ask (on a terminal) or refuse (NULL). */
static const MdDiscovered *
choose_among (GPtrArray *notebooks)
{
  const MdDiscovered *pick;

  if (!isatty (STDIN_FILENO) || !isatty (STDERR_FILENO))
    return NULL;
  pick = ask (notebooks);
  if (pick != NULL)
    remember (pick);
  return pick;
}

static const MdDiscovered *
use_only (const MdDiscovered *f)
{
  remember (f);
  return f;
}

/* Said once, when a notebook is first taken without asking. */
static void
announce (const MdDiscovered *f, const MdCtlServer *target)
{
  g_autofree char *name = md_terminal_dup_safe (f->link.name, -1, MD_TERMINAL_NONE);
  g_autofree char *server = md_ctl_server_describe (target);

  /* TRANSLATORS: first use of a notebook found on the LAN; %s: its name, then HOST:PORT */
  fprintf (
      stderr,
      _ ("Using the notebook “%s” at %s, found on the LAN (remembered; -s chooses another).\n"),
      name, server);
}

/* The remembered notebook, wherever discovery found it now. */
static const MdDiscovered *
use_remembered (const MdCtlChoice *choice, const MdDiscovered *f)
{
  g_autofree char *server = md_discovered_server (f);

  if (g_strcmp0 (server, choice->server) != 0)
    {
      g_debug ("notebook %s moved from %s to %s", choice->identity, choice->server, server);
      remember (f);
    }
  return f;
}

/* options->target for @server (NULL: localhost), as -s would make it. */
static int
choose_target (MdCtlOptions *options, const char *server, MdCredentials *credentials)
{
  g_autoptr (GError) error = NULL;

  options->target = md_ctl_server_choose (server, options->key_file, credentials, &error);
  if (options->target == NULL)
    return md_ctl_fail (error);
  options->server = options->target->host_port;
  return MD_CTL_EXIT_OK;
}

/* DTLS when the notebook offers it and a key was stored for its identity
 * (`mydailyctl login`), wherever it lives now; plain CoAP otherwise. */
static int
use_discovered (MdCtlOptions *options, const MdDiscovered *f, MdCredentials *credentials)
{
  const MdCredential *stored = md_ctl_credential_for (credentials, f);
  g_autofree char *plain = md_discovered_server (f);
  g_autofree char *coaps = NULL;
  g_autofree char *host_key = NULL;
  g_autoptr (MdCredentials) moved = NULL;
  g_autoptr (MdCredential) credential = NULL;

  if (stored == NULL || f->link.coaps_port == 0)
    {
      g_autofree char *server = g_strconcat ("coap://", plain, NULL);

      return choose_target (options, server, credentials);
    }
  coaps = g_strdup_printf (strchr (f->host, ':') != NULL ? "coaps://[%s]:%u" : "coaps://%s:%u",
                           f->host, f->link.coaps_port);
  host_key = md_credentials_host_key (coaps + strlen ("coaps://"), MD_PROTOCOL_PORT_DTLS, NULL);
  if (host_key == NULL)
    return choose_target (options, coaps, credentials);
  /* The stored key, under the address the notebook answers at now. */
  moved = md_credentials_new ();
  credential = md_credential_new (host_key, stored->notebook, stored->name, stored->key);
  md_credentials_set (moved, credential);
  return choose_target (options, coaps, moved);
}

static int
choose_on_lan (MdCtlOptions *options, MdCredentials *credentials)
{
  g_autoptr (GPtrArray) found = discover (options);
  g_autoptr (GPtrArray) notebooks = NULL;
  g_auto (MdCtlChoice) choice = { 0 };
  gboolean chosen = md_ctl_choice_load (&choice);
  const MdDiscovered *f = NULL;
  gboolean first = FALSE;
  int status;

  notebooks = found != NULL ? distinct_notebooks (found) : NULL;
  /* Nothing answered: the last place of the chosen notebook, else
   * localhost; either way a note waits in the outbox. */
  if (notebooks == NULL || notebooks->len == 0)
    return choose_target (options, chosen ? choice.server : NULL, credentials);
  if (chosen)
    f = find_notebook (found, choice.identity);
  if (f != NULL)
    f = use_remembered (&choice, f);
  else if (notebooks->len == 1 && !chosen)
    {
      f = use_only (g_ptr_array_index (notebooks, 0));
      first = TRUE;
    }
  else
    f = choose_among (notebooks);
  if (f == NULL)
    return refuse_to_guess (notebooks);
  status = use_discovered (options, f, credentials);
  if (status == MD_CTL_EXIT_OK && first)
    announce (f, options->target);
  return status;
}

int
md_ctl_find_server (MdCtlOptions *options)
{
  g_autofree char *path = md_credentials_get_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCredentials) credentials = NULL;

  g_return_val_if_fail (options != NULL, MD_CTL_EXIT_USAGE);

  credentials = md_credentials_load (path, &error);
  if (credentials == NULL)
    return md_ctl_fail (error);
  if (localhost_answers ())
    return choose_target (options, NULL, credentials);
  return choose_on_lan (options, credentials);
}

const MdCredential *
md_ctl_credential_for (MdCredentials *credentials, const MdDiscovered *found)
{
  const MdCredential *credential = NULL;
  g_autofree char *host_key = NULL;

  g_return_val_if_fail (credentials != NULL && found != NULL, NULL);

  if (found->link.notebook[0] != '\0')
    credential = md_credentials_lookup_notebook (credentials, found->link.notebook);
  if (credential == NULL && found->link.coaps_port != 0)
    {
      g_autofree char *host_port
          = g_strdup_printf (strchr (found->host, ':') != NULL ? "[%s]:%u" : "%s:%u", found->host,
                             found->link.coaps_port);

      host_key = md_credentials_host_key (host_port, MD_PROTOCOL_PORT_DTLS, NULL);
      if (host_key != NULL)
        credential = md_credentials_lookup_host (credentials, host_key);
    }
  return credential;
}
