#include "config.h"

#include "md-dtls-describe.h"

typedef struct
{
  guint value;
  const char *name;
} Name;

static const Name content_types[] = {
  { 20, "change_cipher_spec" },
  { 21, "alert" },
  { 22, "handshake" },
  { 23, "application_data" },
};

/* RFC 6347 §4.2.2 and RFC 5246 §7.4. */
static const Name handshake_types[] = {
  { 1, "client_hello" },       { 2, "server_hello" },         { 3, "hello_verify_request" },
  { 11, "certificate" },       { 12, "server_key_exchange" }, { 13, "certificate_request" },
  { 14, "server_hello_done" }, { 15, "certificate_verify" },  { 16, "client_key_exchange" },
  { 20, "finished" },
};

#define HANDSHAKE 22

static const char *
find_name (const Name *names, gsize n, guint value)
{
  for (gsize i = 0; i < n; i++)
    if (names[i].value == value)
      return names[i].name;
  return NULL;
}

static guint64
read_be (const guint8 *p, guint n)
{
  guint64 value = 0;

  for (guint i = 0; i < n; i++)
    value = value << 8 | p[i];
  return value;
}

gboolean
md_dtls_record_parse (const guint8 *data, gsize len, MdDtlsRecord *record)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);

  if (len < MD_DTLS_RECORD_HEADER)
    return FALSE;
  record->content_type = data[0];
  record->version = (guint16)read_be (data + 1, 2);
  record->epoch = (guint16)read_be (data + 3, 2);
  record->seq = read_be (data + 5, 6);
  record->length = (gsize)read_be (data + 11, 2);
  if (record->length > len - MD_DTLS_RECORD_HEADER)
    return FALSE;
  record->handshake_type = -1;
  if (record->content_type == HANDSHAKE && record->epoch == 0 && record->length > 0)
    record->handshake_type = data[MD_DTLS_RECORD_HEADER];
  return TRUE;
}

gchar *
md_dtls_record_describe (const MdDtlsRecord *record)
{
  g_autoptr (GString) out = g_string_new ("DTLS ");
  const char *type;

  g_return_val_if_fail (record != NULL, NULL);

  type = find_name (content_types, G_N_ELEMENTS (content_types), record->content_type);
  if (type != NULL)
    g_string_append (out, type);
  else
    g_string_append_printf (out, "type%u", record->content_type);
  if (record->handshake_type >= 0)
    {
      const char *name = find_name (handshake_types, G_N_ELEMENTS (handshake_types),
                                    (guint)record->handshake_type);

      if (name != NULL)
        g_string_append_printf (out, "(%s)", name);
      else
        g_string_append_printf (out, "(%d)", record->handshake_type);
    }
  g_string_append_printf (out, " epoch=%u seq=%" G_GUINT64_FORMAT " len=%" G_GSIZE_FORMAT,
                          record->epoch, record->seq, record->length);
  if (record->version != 0xfefd)
    g_string_append_printf (out, " version=0x%04x", record->version);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
