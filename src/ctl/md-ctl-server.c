#include "config.h"

#include "md-ctl-server.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "md-error.h"
#include "md-protocol.h"

#define COAP_PREFIX "coap://"
#define COAPS_PREFIX "coaps://"
#define DEFAULT_HOST "localhost"

typedef enum
{
  CHOICE_AUTO,
  CHOICE_PLAIN,
  CHOICE_DTLS,
} Choice;

void
md_ctl_server_free (MdCtlServer *server)
{
  if (server == NULL)
    return;
  g_free (server->host);
  g_free (server->host_port);
  md_credential_free (server->credential);
  g_free (server);
}

/* Takes the scheme off @server; a URI may end in one '/'. */
static char *
strip_scheme (const char *server, Choice *choice)
{
  gsize len;

  *choice = CHOICE_AUTO;
  if (g_ascii_strncasecmp (server, COAPS_PREFIX, strlen (COAPS_PREFIX)) == 0)
    {
      *choice = CHOICE_DTLS;
      server += strlen (COAPS_PREFIX);
    }
  else if (g_ascii_strncasecmp (server, COAP_PREFIX, strlen (COAP_PREFIX)) == 0)
    {
      *choice = CHOICE_PLAIN;
      server += strlen (COAP_PREFIX);
    }
  len = strlen (server);
  if (*choice != CHOICE_AUTO && len > 0 && server[len - 1] == '/')
    len--;
  return g_strndup (server, len);
}

/* HOST and PORT (0 when none is given) of "HOST[:PORT]". */
static gboolean
split_host_port (const char *text, const char *given, char **host, guint16 *port, GError **error)
{
  g_autoptr (GSocketConnectable) address = NULL;
  g_autofree char *key = md_credentials_host_key (text, 1, NULL);

  if (*text != '\0' && key != NULL)
    address = g_network_address_parse (text, 0, NULL);
  if (address == NULL)
    {
      /* TRANSLATORS: %s is what -s or $MYDAILY_SERVER gave */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("invalid server “%s”: expected [coap://|coaps://]HOST[:PORT]"), given);
      return FALSE;
    }
  *host = g_ascii_strdown (g_network_address_get_hostname (G_NETWORK_ADDRESS (address)), -1);
  *port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
  return TRUE;
}

static char *
format_host_port (const char *host, guint16 port)
{
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

/* The stored credential for @host (and @port, unless 0). */
static const MdCredential *
find_credential (MdCredentials *credentials, const char *host, guint16 port)
{
  g_autofree char *key = NULL;

  if (credentials == NULL)
    return NULL;
  if (port == 0)
    return md_credentials_lookup_bare_host (credentials, host);
  key = format_host_port (host, port);
  return md_credentials_lookup_host (credentials, key);
}

/* The port a credential was stored with. */
static guint16
credential_port (const MdCredential *credential)
{
  const char *colon = strrchr (credential->host, ':');

  return (guint16)g_ascii_strtoull (colon + 1, NULL, 10);
}

static MdCredential *
choose_credential (Choice choice, const char *host, guint16 *port, const char *key_file,
                   MdCredentials *credentials, GError **error)
{
  const MdCredential *stored;

  if (choice == CHOICE_PLAIN)
    return NULL;
  if (key_file != NULL)
    return md_credentials_read_key_file (key_file, error);
  stored = find_credential (credentials, host, *port);
  if (stored != NULL)
    {
      *port = credential_port (stored);
      return md_credential_copy (stored);
    }
  if (choice == CHOICE_DTLS)
    {
      g_autofree char *where = format_host_port (host, *port != 0 ? *port : MD_PROTOCOL_PORT_DTLS);

      /* TRANSLATORS: %s is HOST:PORT; mydailyctl login and --key-file are not translated */
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("no key for %s: log in first (mydailyctl login %s NAME), or give --key-file"),
                   where, where);
    }
  return NULL;
}

MdCtlServer *
md_ctl_server_choose (const char *server, const char *key_file, MdCredentials *credentials,
                      GError **error)
{
  g_autoptr (MdCtlServer) self = g_new0 (MdCtlServer, 1);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *rest = NULL;
  Choice choice;

  rest = strip_scheme (server != NULL && *server != '\0' ? server : DEFAULT_HOST, &choice);
  if (!split_host_port (rest, server, &self->host, &self->port, error))
    return NULL;
  self->credential
      = choose_credential (choice, self->host, &self->port, key_file, credentials, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  self->scheme = self->credential != NULL ? MD_CTL_SCHEME_COAPS : MD_CTL_SCHEME_COAP;
  if (self->port == 0)
    self->port = self->scheme == MD_CTL_SCHEME_COAPS ? MD_PROTOCOL_PORT_DTLS : MD_PROTOCOL_PORT;
  self->host_port = format_host_port (self->host, self->port);
  return g_steal_pointer (&self);
}

char *
md_ctl_server_describe (const MdCtlServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);

  if (server->scheme == MD_CTL_SCHEME_COAPS)
    return g_strdup_printf (COAPS_PREFIX "%s@%s", server->credential->name, server->host_port);
  return g_strdup_printf (COAP_PREFIX "%s", server->host_port);
}

MdClient *
md_ctl_server_connect (const MdCtlServer *server, double timeout_s, GError **error)
{
  MdClientPsk psk = { 0 };

  g_return_val_if_fail (server != NULL, NULL);

  if (server->credential == NULL)
    return md_client_new_full (server->host_port, server->port, NULL, timeout_s, error);
  psk.name = server->credential->name;
  psk.key = server->credential->key;
  return md_client_new_full (server->host_port, server->port, &psk, timeout_s, error);
}
