/* The outbox in the commands: which notebook a server is, queueing a note
 * that got no answer, and sending the queued notes first (md-outbox.h has
 * the rules). */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "md-cache.h"
#include "md-client-add.h"
#include "md-client-status.h"
#include "md-error.h"
#include "md-note.h"
#include "md-outbox.h"
#include "mydailyctl.h"

char *
md_ctl_server_name (const char *server)
{
  g_autoptr (GSocketConnectable) address = g_network_address_parse (server, MD_PROTOCOL_PORT, NULL);
  g_autofree char *host = NULL;
  guint16 port;

  /* md_client_new() rejects what does not parse, so this is for safety. */
  if (address == NULL)
    return g_strdup (server);
  host = g_ascii_strdown (g_network_address_get_hostname (G_NETWORK_ADDRESS (address)), -1);
  port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

gboolean
md_ctl_learn_notebook (MdClient *client, char **notebook, GBytes **status, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *value = NULL;

  md_client_get_status_async (client, NULL, md_ctl_keep_result, &result);
  body = md_client_get_status_finish (client, md_ctl_wait (&result), error);
  if (body == NULL)
    return FALSE;
  value = md_client_status_get_string (body, MD_PROTOCOL_STATUS_NOTEBOOK, error);
  if (value == NULL)
    return FALSE;
  if (!md_note_key_is_valid (value, strlen (value)))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED,
                   /* TRANSLATORS: "notebook" is a field of GET /status, not translated */
                   _ ("the server's status names no valid notebook"));
      return FALSE;
    }
  *notebook = g_ascii_strdown (value, -1);
  if (status != NULL)
    *status = g_steal_pointer (&body);
  return TRUE;
}

MdOutbox *
md_ctl_open_outbox (void)
{
  g_autofree char *dir = md_outbox_default_dir ();
  g_autoptr (GError) error = NULL;
  MdOutbox *outbox = md_outbox_open (dir, &error);

  if (outbox == NULL)
    md_ctl_print_error ("%s", error->message);
  return outbox;
}

static void
print_outbox_warnings (MdOutbox *outbox)
{
  const GPtrArray *warnings = md_outbox_get_warnings (outbox);

  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    md_ctl_print_error ("%s", (const char *)warnings->pdata[i]);
}

char *
md_ctl_cached_notebook (const char *server)
{
  g_autofree char *dir = md_cache_default_dir ();

  return md_cache_find_notebook (dir, server);
}

gboolean
md_ctl_keep_note (MdOutbox *outbox, const char *server, const char *key, const char *text,
                  gsize len, GError **error)
{
  g_autofree char *notebook = md_ctl_cached_notebook (server);

  return md_outbox_add (outbox, notebook, server, key, text, len, g_get_real_time (), error);
}

gboolean
md_ctl_queue_note (MdOutbox *outbox, const char *server, const char *key, const char *text,
                   gsize len, GError **error)
{
  if (!md_ctl_keep_note (outbox, server, key, text, len, error))
    return FALSE;
  /* TRANSLATORS: %s is the server, HOST:PORT */
  md_ctl_print_error (_ ("no answer from %s; the note is queued and will be sent by the next "
                         "mydailyctl that reaches it"),
                      server);
  return TRUE;
}

/* Sends one entry; TRUE when it is settled (stored, or refused and set
 * aside), FALSE when the server stopped answering. */
static gboolean
flush_entry (MdClient *client, MdOutbox *outbox, const MdOutboxEntry *entry, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) local = NULL;

  md_client_add_note_async (client, entry->key, entry->text, entry->text_len, NULL,
                            md_ctl_keep_result, &result);
  if (md_client_add_note_finish (client, md_ctl_wait (&result), NULL, &local))
    return md_outbox_remove (outbox, entry->key, error);
  if (!g_error_matches (local, MD_ERROR, MD_ERROR_REJECTED)
      && !g_error_matches (local, MD_ERROR, MD_ERROR_INVALID_NOTE))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  md_ctl_print_error (_ ("a queued note was refused and set aside: %s"), local->message);
  return md_outbox_reject (outbox, entry->key, error);
}

static gboolean
flush_entries (MdClient *client, MdOutbox *outbox, const char *notebook, guint *n_sent,
               GError **error)
{
  g_autoptr (GError) busy = NULL;
  g_autoptr (MdOutboxLock) lock = md_outbox_try_lock (outbox, notebook, &busy);
  g_autoptr (GPtrArray) entries = NULL;

  /* Another run flushes these right now: leave them to it. */
  if (lock == NULL)
    return g_error_matches (busy, G_IO_ERROR, G_IO_ERROR_BUSY)
               ? TRUE
               : (g_propagate_error (error, g_steal_pointer (&busy)), FALSE);
  entries = md_outbox_list (outbox, notebook, error);
  if (entries == NULL)
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      if (!flush_entry (client, outbox, entries->pdata[i], error))
        return FALSE;
      (*n_sent)++;
    }
  return TRUE;
}

gboolean
md_ctl_flush_outbox (MdClient *client, MdOutbox *outbox, const char *server, const char *notebook,
                     guint *n_sent, GError **error)
{
  guint sent = 0;
  gboolean ok;

  ok = md_outbox_bind (outbox, server, notebook, NULL, error)
       && flush_entries (client, outbox, notebook, &sent, error);
  print_outbox_warnings (outbox);
  if (sent > 0)
    {
      g_autofree char *count = g_strdup_printf ("%u", sent);

      /* TRANSLATORS: %s is a number of notes */
      md_ctl_print_error (
          g_dngettext (GETTEXT_PACKAGE, "sent %s queued note", "sent %s queued notes", sent),
          count);
    }
  if (n_sent != NULL)
    *n_sent = sent;
  return ok;
}

gboolean
md_ctl_is_no_answer (const GError *error)
{
  return g_error_matches (error, MD_ERROR, MD_ERROR_TIMEOUT);
}
