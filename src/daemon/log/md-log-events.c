#include "config.h"

/* The journal events, one helper each: their MESSAGE_IDs and fields come
 * from md-protocol.h, so the README's table, the tests and journalctl
 * filters all name the same thing. */

#include "md-log.h"

#include <string.h>

void
md_log_started (const char *addresses, guint64 count, const char *path)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", MD_PROTOCOL_MESSAGE_ID_STARTED,
                    "MESSAGE", "started version %s on %s with %" G_GUINT64_FORMAT " notes in %s",
                    PACKAGE_VERSION, addresses, count, path);
}

void
md_log_stopped (guint64 count)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID", MD_PROTOCOL_MESSAGE_ID_STOPPED,
                    "MESSAGE", "stopped with %" G_GUINT64_FORMAT " notes", count);
}

void
md_log_note_stored (guint64 id, const char *key, const char *peer)
{
  char id_text[24];
  g_autofree char *message = NULL;
  gsize n_fields;

  g_snprintf (id_text, sizeof id_text, "%" G_GUINT64_FORMAT, id);
  message = g_strdup_printf ("stored note %s from %s", id_text, peer);
  {
    /* NOTE_KEY last, so that a note without a key leaves it out. */
    const GLogField fields[] = {
      { "MESSAGE", message, -1 },
      { "PRIORITY", "6", -1 }, /* what g_log_structured() gives G_LOG_LEVEL_INFO */
      { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
      { "MESSAGE_ID", MD_PROTOCOL_MESSAGE_ID_NOTE_STORED, -1 },
      { MD_PROTOCOL_FIELD_NOTE_ID, id_text, -1 },
      { MD_PROTOCOL_FIELD_PEER, peer, -1 },
      { MD_PROTOCOL_FIELD_NOTE_KEY, key, -1 },
    };

    n_fields = G_N_ELEMENTS (fields) - (key == NULL || key[0] == '\0' ? 1 : 0);
    g_log_structured_array (G_LOG_LEVEL_INFO, fields, n_fields);
  }
}

void
md_log_commit_failed (const char *reason, guint n_lost)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_STORAGE_ERROR, MD_PROTOCOL_FIELD_REASON, reason,
                    "MESSAGE", "could not commit %u note(s), answered 5.03: %s", n_lost, reason);
}

void
md_log_store_broken (const char *reason)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_STORAGE_ERROR, MD_PROTOCOL_FIELD_REASON, reason,
                    "MESSAGE", "%s", reason);
}

void
md_log_recovered (const char *path, guint64 dropped_bytes, guint64 kept_records, const char *reason)
{
  g_autofree char *dropped = g_strdup_printf ("%" G_GUINT64_FORMAT, dropped_bytes);
  g_autofree char *kept = g_strdup_printf ("%" G_GUINT64_FORMAT, kept_records);

  /* A torn tail is the expected trace of a crash, not an operator error. */
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_RECOVERED, MD_PROTOCOL_FIELD_DROPPED_BYTES, dropped,
                    MD_PROTOCOL_FIELD_KEPT_RECORDS, kept, MD_PROTOCOL_FIELD_REASON, reason,
                    "MESSAGE", "notes file %s: dropped a torn tail of %s bytes (%s), kept %s notes",
                    path, dropped, reason, kept);
}

void
md_log_send_failed (const char *peer, gsize len, int errno_value)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, MD_PROTOCOL_FIELD_PEER, peer,
                    MD_PROTOCOL_FIELD_REASON, g_strerror (errno_value), "MESSAGE",
                    "sending %" G_GSIZE_FORMAT " bytes to %s failed: %s", len, peer,
                    g_strerror (errno_value));
}
