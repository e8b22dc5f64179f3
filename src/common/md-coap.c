#include "config.h"

#include "md-coap.h"

#include "md-error.h"

#include <string.h>

/* Option header nibbles (RFC 7252 §3.1). */
#define NIBBLE_EXT8 13
#define NIBBLE_EXT16 14
#define NIBBLE_RESERVED 15
#define EXT8_BASE 13
#define EXT16_BASE 269
#define PAYLOAD_MARKER 0xff
#define HEADER_LEN 4

/* A cursor over the datagram; every read checks the bytes left first. */
typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} Reader;

static gboolean
malformed (GError **error, const char *reason)
{
  g_set_error_literal (error, MD_ERROR, MD_ERROR_MALFORMED, reason);
  return FALSE;
}

static gsize
reader_left (const Reader *r)
{
  return r->len - r->pos;
}

/* Turns a delta or length nibble into its value, consuming the extended
 * bytes.  Nibble 15 never reaches here. */
static gboolean
read_extended (Reader *r, guint nibble, guint32 *value, GError **error)
{
  if (nibble < NIBBLE_EXT8)
    {
      *value = nibble;
      return TRUE;
    }
  if (nibble == NIBBLE_EXT8)
    {
      if (reader_left (r) < 1)
        return malformed (error, "option header runs past the end");
      *value = EXT8_BASE + (guint32)r->data[r->pos];
      r->pos += 1;
      return TRUE;
    }
  if (reader_left (r) < 2)
    return malformed (error, "option header runs past the end");
  *value = EXT16_BASE + (((guint32)r->data[r->pos] << 8) | r->data[r->pos + 1]);
  r->pos += 2;
  return TRUE;
}

/* Reads one option after the first byte @b; @number is the running number. */
static gboolean
parse_option (Reader *r, guint8 b, guint32 *number, MdCoapMessage *msg, GError **error)
{
  guint32 delta, length;
  MdCoapOption *opt;

  if ((b >> 4) == NIBBLE_RESERVED || (b & 0x0f) == NIBBLE_RESERVED)
    return malformed (error, "option nibble 15 is reserved");
  if (!read_extended (r, b >> 4, &delta, error) || !read_extended (r, b & 0x0f, &length, error))
    return FALSE;
  *number += delta;
  if (*number > G_MAXUINT16)
    return malformed (error, "option number exceeds 65535");
  if (length > reader_left (r))
    return malformed (error, "option value runs past the end");
  if (length > G_MAXUINT16)
    return malformed (error, "option value is longer than 65535 bytes");
  if (msg->n_options >= MD_COAP_MAX_OPTIONS)
    return malformed (error, "too many options");
  opt = &msg->options[msg->n_options++];
  opt->number = (guint16)*number;
  opt->length = (guint16)length;
  opt->value = r->data + r->pos;
  r->pos += length;
  return TRUE;
}

/* Options run until the payload marker or the end of the datagram. */
static gboolean
parse_options_and_payload (Reader *r, MdCoapMessage *msg, GError **error)
{
  guint32 number = 0;

  while (reader_left (r) > 0)
    {
      guint8 b = r->data[r->pos++];

      if (b == PAYLOAD_MARKER)
        {
          if (reader_left (r) == 0)
            return malformed (error, "payload marker without payload");
          msg->payload = r->data + r->pos;
          msg->payload_len = reader_left (r);
          return TRUE;
        }
      if (!parse_option (r, b, &number, msg, error))
        return FALSE;
    }
  return TRUE;
}

/* Options and payload; the token is in the header, not in storage. */
static void
message_clear_options (MdCoapMessage *msg)
{
  msg->n_options = 0;
  msg->payload = NULL;
  msg->payload_len = 0;
  msg->storage_used = 0;
}

static void
message_clear_body (MdCoapMessage *msg)
{
  msg->token_len = 0;
  message_clear_options (msg);
}

gboolean
md_coap_peek_header (const guint8 *data, gsize len, MdCoapType *type, guint8 *code, guint16 *mid)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (len < HEADER_LEN || (data[0] >> 6) != MD_COAP_VERSION)
    return FALSE;
  if (type != NULL)
    *type = (MdCoapType)((data[0] >> 4) & 0x03);
  if (code != NULL)
    *code = data[1];
  if (mid != NULL)
    *mid = (guint16)((data[2] << 8) | data[3]);
  return TRUE;
}

gboolean
md_coap_parse (const guint8 *data, gsize len, MdCoapMessage *msg, GError **error)
{
  Reader r = { data, len, HEADER_LEN };
  guint tkl;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  message_clear_body (msg);
  if (len < HEADER_LEN)
    return malformed (error, "message shorter than the 4-byte header");
  if ((data[0] >> 6) != MD_COAP_VERSION)
    return malformed (error, "unsupported CoAP version");
  md_coap_peek_header (data, len, &msg->type, &msg->code, &msg->mid);
  tkl = data[0] & 0x0f;
  if (tkl > MD_COAP_MAX_TOKEN)
    return malformed (error, "token length 9-15 is reserved");
  if (msg->code == MD_COAP_EMPTY && len != HEADER_LEN)
    return malformed (error, "empty message with token, options or payload");
  if (tkl > reader_left (&r))
    return malformed (error, "token runs past the end");
  memcpy (msg->token, data + HEADER_LEN, tkl);
  msg->token_len = (guint8)tkl;
  r.pos += tkl;
  return parse_options_and_payload (&r, msg, error);
}

void
md_coap_message_init (MdCoapMessage *msg, MdCoapType type, guint8 code, guint16 mid)
{
  g_return_if_fail (msg != NULL);

  msg->type = type;
  msg->code = code;
  msg->mid = mid;
  message_clear_body (msg);
}

void
md_coap_message_reset (MdCoapMessage *msg, guint8 code)
{
  g_return_if_fail (msg != NULL);

  msg->code = code;
  message_clear_options (msg);
}

void
md_coap_message_set_token (MdCoapMessage *msg, const guint8 *token, guint8 len)
{
  g_return_if_fail (msg != NULL);
  g_return_if_fail (len <= MD_COAP_MAX_TOKEN);
  g_return_if_fail (token != NULL || len == 0);

  if (len > 0)
    memcpy (msg->token, token, len);
  msg->token_len = len;
}

/* Copies @len bytes into the message's storage; NULL when full. */
static const guint8 *
storage_copy (MdCoapMessage *msg, const void *data, gsize len)
{
  guint8 *dest;

  if (len > MD_COAP_STORAGE - msg->storage_used)
    return NULL;
  dest = msg->storage + msg->storage_used;
  if (len > 0)
    memmove (dest, data, len);
  msg->storage_used += len;
  return dest;
}

gboolean
md_coap_message_add_option (MdCoapMessage *msg, guint16 number, const void *value, gsize len)
{
  const guint8 *copy;
  guint pos;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (value != NULL || len == 0, FALSE);

  if (msg->n_options >= MD_COAP_MAX_OPTIONS || len > G_MAXUINT16)
    return FALSE;
  copy = storage_copy (msg, value, len);
  if (copy == NULL)
    return FALSE;
  /* After every option with the same number, so repeats keep their order. */
  for (pos = msg->n_options; pos > 0 && msg->options[pos - 1].number > number; pos--)
    ;
  memmove (&msg->options[pos + 1], &msg->options[pos],
           (msg->n_options - pos) * sizeof (MdCoapOption));
  msg->options[pos].number = number;
  msg->options[pos].length = (guint16)len;
  msg->options[pos].value = copy;
  msg->n_options++;
  return TRUE;
}

gboolean
md_coap_message_add_uint_option (MdCoapMessage *msg, guint16 number, guint32 value)
{
  guint8 bytes[4];
  guint n = 0;
  int shift;

  g_return_val_if_fail (msg != NULL, FALSE);

  for (shift = 24; shift >= 0; shift -= 8)
    {
      guint8 b = (guint8)(value >> shift);

      if (n > 0 || b != 0)
        bytes[n++] = b;
    }
  return md_coap_message_add_option (msg, number, bytes, n);
}

gboolean
md_coap_message_add_string_option (MdCoapMessage *msg, guint16 number, const char *value)
{
  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return md_coap_message_add_option (msg, number, value, strlen (value));
}

gboolean
md_coap_message_add_path (MdCoapMessage *msg, guint16 number, const char *path)
{
  const char *p = path;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  while (*p != '\0')
    {
      const char *end = strchr (p, '/');
      gsize seg_len = end != NULL ? (gsize)(end - p) : strlen (p);

      if (seg_len > 0 && !md_coap_message_add_option (msg, number, p, seg_len))
        return FALSE;
      p += seg_len;
      if (*p == '/')
        p++;
    }
  return TRUE;
}

gboolean
md_coap_message_add_block (MdCoapMessage *msg, guint16 number, const MdCoapBlock *block)
{
  guint32 value;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (block != NULL, FALSE);
  g_return_val_if_fail (block->szx < 7, FALSE);
  g_return_val_if_fail (block->num < (1u << 20), FALSE);

  value = (block->num << 4) | (block->more ? 0x08u : 0u) | block->szx;
  return md_coap_message_add_uint_option (msg, number, value);
}

gboolean
md_coap_message_set_payload (MdCoapMessage *msg, const void *data, gsize len)
{
  const guint8 *copy;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (len == 0)
    {
      msg->payload = NULL;
      msg->payload_len = 0;
      return TRUE;
    }
  copy = storage_copy (msg, data, len);
  if (copy == NULL)
    return FALSE;
  msg->payload = copy;
  msg->payload_len = len;
  return TRUE;
}

void
md_coap_message_init_response (MdCoapMessage *response, const MdCoapMessage *request, guint8 code,
                               guint16 next_mid)
{
  g_return_if_fail (response != NULL);
  g_return_if_fail (request != NULL);

  if (request->type == MD_COAP_TYPE_CON)
    md_coap_message_init (response, MD_COAP_TYPE_ACK, code, request->mid);
  else
    md_coap_message_init (response, MD_COAP_TYPE_NON, code, next_mid);
  md_coap_message_set_token (response, request->token, request->token_len);
}

/* Splits a delta or length into its nibble and extended bytes. */
static guint
encode_extended (guint32 value, guint8 ext[2], gsize *ext_len)
{
  if (value < EXT8_BASE)
    {
      *ext_len = 0;
      return value;
    }
  if (value < EXT16_BASE)
    {
      ext[0] = (guint8)(value - EXT8_BASE);
      *ext_len = 1;
      return NIBBLE_EXT8;
    }
  value -= EXT16_BASE;
  ext[0] = (guint8)(value >> 8);
  ext[1] = (guint8)value;
  *ext_len = 2;
  return NIBBLE_EXT16;
}

/* A bounded writer: overflow is remembered and reported once at the end. */
typedef struct
{
  guint8 *out;
  gsize size;
  gsize pos;
  gboolean overflow;
} Writer;

static void
writer_put (Writer *w, const void *data, gsize len)
{
  if (w->overflow || len > w->size - w->pos)
    {
      w->overflow = TRUE;
      return;
    }
  if (len > 0)
    memcpy (w->out + w->pos, data, len);
  w->pos += len;
}

static void
encode_option (Writer *w, guint32 delta, const MdCoapOption *opt)
{
  guint8 delta_ext[2], length_ext[2];
  gsize delta_ext_len, length_ext_len;
  guint8 first;

  first = (guint8)(encode_extended (delta, delta_ext, &delta_ext_len) << 4);
  first |= (guint8)encode_extended (opt->length, length_ext, &length_ext_len);
  writer_put (w, &first, 1);
  writer_put (w, delta_ext, delta_ext_len);
  writer_put (w, length_ext, length_ext_len);
  writer_put (w, opt->value, opt->length);
}

static gboolean
options_are_sorted (const MdCoapMessage *msg)
{
  for (guint i = 1; i < msg->n_options; i++)
    if (msg->options[i].number < msg->options[i - 1].number)
      return FALSE;
  return TRUE;
}

gssize
md_coap_encode (const MdCoapMessage *msg, guint8 *out, gsize out_size, GError **error)
{
  Writer w = { out, out_size, 0, FALSE };
  guint8 header[HEADER_LEN];
  guint16 prev = 0;

  g_return_val_if_fail (msg != NULL, -1);
  g_return_val_if_fail (out != NULL || out_size == 0, -1);
  g_return_val_if_fail (msg->token_len <= MD_COAP_MAX_TOKEN, -1);
  g_return_val_if_fail (msg->n_options <= MD_COAP_MAX_OPTIONS, -1);
  g_return_val_if_fail (options_are_sorted (msg), -1);

  header[0] = (guint8)((MD_COAP_VERSION << 6) | ((msg->type & 0x03) << 4) | msg->token_len);
  header[1] = msg->code;
  header[2] = (guint8)(msg->mid >> 8);
  header[3] = (guint8)msg->mid;
  writer_put (&w, header, HEADER_LEN);
  writer_put (&w, msg->token, msg->token_len);
  for (guint i = 0; i < msg->n_options; i++)
    {
      encode_option (&w, (guint32)msg->options[i].number - prev, &msg->options[i]);
      prev = msg->options[i].number;
    }
  if (msg->payload_len > 0)
    {
      const guint8 marker = PAYLOAD_MARKER;

      writer_put (&w, &marker, 1);
      writer_put (&w, msg->payload, msg->payload_len);
    }
  if (w.overflow || w.pos > G_MAXSSIZE)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   "CoAP message does not fit in %" G_GSIZE_FORMAT " bytes", out_size);
      return -1;
    }
  return (gssize)w.pos;
}

const MdCoapOption *
md_coap_message_find_option (const MdCoapMessage *msg, guint16 number)
{
  g_return_val_if_fail (msg != NULL, NULL);

  for (guint i = 0; i < msg->n_options; i++)
    if (msg->options[i].number == number)
      return &msg->options[i];
  return NULL;
}

gboolean
md_coap_message_has_option (const MdCoapMessage *msg, guint16 number)
{
  g_return_val_if_fail (msg != NULL, FALSE);

  return md_coap_message_find_option (msg, number) != NULL;
}

gboolean
md_coap_message_get_uint_option (const MdCoapMessage *msg, guint16 number, guint32 *value)
{
  const MdCoapOption *opt;
  guint32 v = 0;

  g_return_val_if_fail (msg != NULL, FALSE);

  opt = md_coap_message_find_option (msg, number);
  if (opt == NULL || opt->length > 4)
    return FALSE;
  for (guint i = 0; i < opt->length; i++)
    v = (v << 8) | opt->value[i];
  if (value != NULL)
    *value = v;
  return TRUE;
}

gboolean
md_coap_message_get_block (const MdCoapMessage *msg, guint16 number, MdCoapBlock *block)
{
  const MdCoapOption *opt;
  guint32 v;

  g_return_val_if_fail (msg != NULL, FALSE);

  opt = md_coap_message_find_option (msg, number);
  if (opt == NULL || opt->length > 3 || !md_coap_message_get_uint_option (msg, number, &v))
    return FALSE;
  if ((v & 0x07) == 7)
    return FALSE;
  if (block != NULL)
    {
      block->num = v >> 4;
      block->more = (v & 0x08) != 0;
      block->szx = v & 0x07;
    }
  return TRUE;
}

gchar *
md_coap_message_get_path (const MdCoapMessage *msg)
{
  g_autoptr (GString) path = g_string_new (NULL);
  gboolean first = TRUE;

  g_return_val_if_fail (msg != NULL, NULL);

  for (guint i = 0; i < msg->n_options; i++)
    {
      const MdCoapOption *opt = &msg->options[i];

      if (opt->number != MD_COAP_OPTION_URI_PATH)
        continue;
      if (opt->length > 0
          && (memchr (opt->value, '/', opt->length) != NULL
              || memchr (opt->value, '\0', opt->length) != NULL))
        return NULL;
      if (!first)
        g_string_append_c (path, '/');
      g_string_append_len (path, (const char *)opt->value, opt->length);
      first = FALSE;
    }
  return g_string_free (g_steal_pointer (&path), FALSE);
}

gchar *
md_coap_message_get_query (const MdCoapMessage *msg, const char *name)
{
  gsize name_len;

  g_return_val_if_fail (msg != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  name_len = strlen (name);
  for (guint i = 0; i < msg->n_options; i++)
    {
      const MdCoapOption *opt = &msg->options[i];
      const char *value = (const char *)opt->value;

      if (opt->number != MD_COAP_OPTION_URI_QUERY || opt->length <= name_len
          || memcmp (value, name, name_len) != 0 || value[name_len] != '=')
        continue;
      /* A NUL would silently cut the value short; treat it as no value. */
      if (memchr (value, '\0', opt->length) != NULL)
        return NULL;
      return g_strndup (value + name_len + 1, opt->length - name_len - 1);
    }
  return NULL;
}

static gboolean
number_in_list (guint16 number, const guint16 *list)
{
  for (; *list != 0; list++)
    if (*list == number)
      return TRUE;
  return FALSE;
}

guint16
md_coap_message_find_unknown_critical (const MdCoapMessage *msg, const guint16 *known)
{
  g_return_val_if_fail (msg != NULL, 0);
  g_return_val_if_fail (known != NULL, 0);

  for (guint i = 0; i < msg->n_options; i++)
    {
      guint16 number = msg->options[i].number;

      if (MD_COAP_OPTION_IS_CRITICAL (number) && !number_in_list (number, known))
        return number;
    }
  return 0;
}

void
md_coap_code_format (guint8 code, char out[5])
{
  g_return_if_fail (out != NULL);

  g_snprintf (out, 5, "%u.%02u", (guint)MD_COAP_CODE_CLASS (code),
              (guint)MD_COAP_CODE_DETAIL (code));
}

const char *
md_coap_type_to_string (MdCoapType type)
{
  static const char *const names[] = { "CON", "NON", "ACK", "RST" };

  if ((guint)type < G_N_ELEMENTS (names))
    return names[type];
  return "???";
}

typedef struct
{
  guint16 number;
  const char *name;
} OptionName;

static const OptionName option_names[] = {
  { MD_COAP_OPTION_IF_MATCH, "If-Match" },
  { MD_COAP_OPTION_URI_HOST, "Uri-Host" },
  { MD_COAP_OPTION_ETAG, "ETag" },
  { MD_COAP_OPTION_IF_NONE_MATCH, "If-None-Match" },
  { MD_COAP_OPTION_OBSERVE, "Observe" },
  { MD_COAP_OPTION_URI_PORT, "Uri-Port" },
  { MD_COAP_OPTION_LOCATION_PATH, "Location-Path" },
  { MD_COAP_OPTION_URI_PATH, "Uri-Path" },
  { MD_COAP_OPTION_CONTENT_FORMAT, "Content-Format" },
  { MD_COAP_OPTION_MAX_AGE, "Max-Age" },
  { MD_COAP_OPTION_URI_QUERY, "Uri-Query" },
  { MD_COAP_OPTION_ACCEPT, "Accept" },
  { MD_COAP_OPTION_LOCATION_QUERY, "Location-Query" },
  { MD_COAP_OPTION_BLOCK2, "Block2" },
  { MD_COAP_OPTION_BLOCK1, "Block1" },
  { MD_COAP_OPTION_SIZE2, "Size2" },
  { MD_COAP_OPTION_PROXY_URI, "Proxy-Uri" },
  { MD_COAP_OPTION_PROXY_SCHEME, "Proxy-Scheme" },
  { MD_COAP_OPTION_SIZE1, "Size1" },
  { MD_COAP_OPTION_ECHO, "Echo" },
};

const char *
md_coap_option_name (guint16 number)
{
  for (guint i = 0; i < G_N_ELEMENTS (option_names); i++)
    if (option_names[i].number == number)
      return option_names[i].name;
  return NULL;
}

gsize
md_coap_block_size (guint szx)
{
  g_return_val_if_fail (szx < 7, 0);

  return (gsize)1 << (szx + 4);
}
