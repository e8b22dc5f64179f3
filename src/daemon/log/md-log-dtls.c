#include "config.h"

#include "md-log-dtls.h"

void
md_log_dtls_handshake_failed (const char *peer, const char *identity, const char *reason,
                              guint suppressed)
{
  g_autofree char *more = suppressed > 0
                              ? g_strdup_printf (" (%u more failure(s) not logged)", suppressed)
                              : g_strdup ("");

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_DTLS_HANDSHAKE_FAILED, MD_PROTOCOL_FIELD_PEER, peer,
                    MD_PROTOCOL_FIELD_PSK_IDENTITY, identity, MD_PROTOCOL_FIELD_REASON, reason,
                    "MESSAGE", "DTLS handshake from %s as “%s” failed: %s%s", peer, identity,
                    reason, more);
}

void
md_log_keys_loaded (const char *path, guint count, guint ended)
{
  g_autofree char *ended_text
      = ended > 0 ? g_strdup_printf ("; ended %u session(s) of keys gone or changed", ended)
                  : g_strdup ("");

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_KEYS_LOADED, MD_PROTOCOL_FIELD_KEYS_FILE, path,
                    "MESSAGE", "read %u key(s) from %s%s", count, path, ended_text);
}

void
md_log_keys_refused (const char *path, const char *reason)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID",
                    MD_PROTOCOL_MESSAGE_ID_KEYS_LOADED, MD_PROTOCOL_FIELD_KEYS_FILE, path,
                    MD_PROTOCOL_FIELD_REASON, reason, "MESSAGE",
                    "refused the keys file, the keys in force stay: %s", reason);
}
