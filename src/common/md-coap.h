/* CoAP message codec (RFC 7252 §3), with the Block (RFC 7959), Observe
 * (RFC 7641) and Echo (RFC 9175) option numbers this profile uses.
 *
 * Parsing never allocates: option values and the payload point into the
 * datagram, which must outlive the message.  Building copies values into the
 * message's own storage, so a built message is self-contained. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_COAP_VERSION 1
#define MD_COAP_MAX_TOKEN 8
#define MD_COAP_MAX_OPTIONS 32
/* Bytes for option values and payload of a built message: one 1024-byte
 * block plus room for options. */
#define MD_COAP_STORAGE 2048
/* Largest datagram either side sends (one block and its header). */
#define MD_COAP_MAX_DATAGRAM 1280
#define MD_COAP_MAX_BLOCK_SZX 6 /* 1024 bytes */

typedef enum
{
  MD_COAP_TYPE_CON = 0,
  MD_COAP_TYPE_NON = 1,
  MD_COAP_TYPE_ACK = 2,
  MD_COAP_TYPE_RST = 3,
} MdCoapType;

#define MD_COAP_CODE(class, detail) ((guint8)(((class) << 5) | (detail)))
#define MD_COAP_CODE_CLASS(code) ((code) >> 5)
#define MD_COAP_CODE_DETAIL(code) ((code)&0x1f)

typedef enum
{
  MD_COAP_EMPTY = 0,
  MD_COAP_GET = 1,
  MD_COAP_POST = 2,
  MD_COAP_PUT = 3,
  MD_COAP_DELETE = 4,
  MD_COAP_CREATED = MD_COAP_CODE (2, 1),
  MD_COAP_VALID = MD_COAP_CODE (2, 3),
  MD_COAP_CHANGED = MD_COAP_CODE (2, 4),
  MD_COAP_CONTENT = MD_COAP_CODE (2, 5),
  MD_COAP_BAD_REQUEST = MD_COAP_CODE (4, 0),
  MD_COAP_UNAUTHORIZED = MD_COAP_CODE (4, 1),
  MD_COAP_BAD_OPTION = MD_COAP_CODE (4, 2),
  MD_COAP_NOT_FOUND = MD_COAP_CODE (4, 4),
  MD_COAP_METHOD_NOT_ALLOWED = MD_COAP_CODE (4, 5),
  MD_COAP_NOT_ACCEPTABLE = MD_COAP_CODE (4, 6),
  MD_COAP_PRECONDITION_FAILED = MD_COAP_CODE (4, 12),
  MD_COAP_REQUEST_ENTITY_TOO_LARGE = MD_COAP_CODE (4, 13),
  MD_COAP_UNSUPPORTED_CONTENT_FORMAT = MD_COAP_CODE (4, 15),
  MD_COAP_INTERNAL_SERVER_ERROR = MD_COAP_CODE (5, 0),
  MD_COAP_NOT_IMPLEMENTED = MD_COAP_CODE (5, 1),
  MD_COAP_SERVICE_UNAVAILABLE = MD_COAP_CODE (5, 3),
  MD_COAP_PROXYING_NOT_SUPPORTED = MD_COAP_CODE (5, 5),
} MdCoapCode;

typedef enum
{
  MD_COAP_OPTION_IF_MATCH = 1,
  MD_COAP_OPTION_URI_HOST = 3,
  MD_COAP_OPTION_ETAG = 4,
  MD_COAP_OPTION_IF_NONE_MATCH = 5,
  MD_COAP_OPTION_OBSERVE = 6,
  MD_COAP_OPTION_URI_PORT = 7,
  MD_COAP_OPTION_LOCATION_PATH = 8,
  MD_COAP_OPTION_URI_PATH = 11,
  MD_COAP_OPTION_CONTENT_FORMAT = 12,
  MD_COAP_OPTION_MAX_AGE = 14,
  MD_COAP_OPTION_URI_QUERY = 15,
  MD_COAP_OPTION_ACCEPT = 17,
  MD_COAP_OPTION_LOCATION_QUERY = 20,
  MD_COAP_OPTION_BLOCK2 = 23,
  MD_COAP_OPTION_BLOCK1 = 27,
  MD_COAP_OPTION_SIZE2 = 28,
  MD_COAP_OPTION_PROXY_URI = 35,
  MD_COAP_OPTION_PROXY_SCHEME = 39,
  MD_COAP_OPTION_SIZE1 = 60,
  MD_COAP_OPTION_ECHO = 252,
} MdCoapOptionNumber;

#define MD_COAP_FORMAT_TEXT_PLAIN 0
#define MD_COAP_FORMAT_LINK_FORMAT 40
#define MD_COAP_FORMAT_JSON 50

/* Odd option numbers are critical (RFC 7252 §5.4.1). */
#define MD_COAP_OPTION_IS_CRITICAL(number) (((number)&1) != 0)

typedef struct
{
  guint16 number;
  guint16 length;
  const guint8 *value;
} MdCoapOption;

typedef struct
{
  MdCoapType type;
  guint8 code;
  guint16 mid;
  guint8 token_len;
  guint8 token[MD_COAP_MAX_TOKEN];
  guint n_options; /* kept sorted by number, stable for repeated options */
  MdCoapOption options[MD_COAP_MAX_OPTIONS];
  const guint8 *payload;
  gsize payload_len;
  /* private: backing store for values added by the builder functions */
  gsize storage_used;
  guint8 storage[MD_COAP_STORAGE];
} MdCoapMessage;

typedef struct
{
  guint32 num;
  gboolean more;
  guint szx; /* block size is 1 << (szx + 4) */
} MdCoapBlock;

/* Parsing.  Fails with MD_ERROR_MALFORMED and a reason for anything RFC 7252
 * calls a message format error: short header, version != 1, token length
 * 9-15, option nibble 15 outside the payload marker, option running past the
 * end, payload marker with no payload, more than MD_COAP_MAX_OPTIONS options,
 * or an empty message (code 0.00) with a token, options or payload. */
gboolean md_coap_parse (const guint8 *data, gsize len, MdCoapMessage *msg, GError **error);

/* Reads only the 4-byte header (for an RST to an unparsable CON and for
 * dedup): FALSE if @len < 4 or the version is not 1. */
gboolean md_coap_peek_header (const guint8 *data, gsize len, MdCoapType *type, guint8 *code,
                              guint16 *mid);

/* Building. */
void md_coap_message_init (MdCoapMessage *msg, MdCoapType type, guint8 code, guint16 mid);
void md_coap_message_set_token (MdCoapMessage *msg, const guint8 *token, guint8 len);
/* Sets @code and drops every option and the payload, keeping type, Message
 * ID and token: a half-built response can still become another one. */
void md_coap_message_reset (MdCoapMessage *msg, guint8 code);
/* Adds an option, keeping the list sorted; FALSE when storage or the option
 * table is full. */
gboolean md_coap_message_add_option (MdCoapMessage *msg, guint16 number, const void *value,
                                     gsize len) G_GNUC_WARN_UNUSED_RESULT;
/* Unsigned integer option in its minimal big-endian encoding (0 is empty). */
gboolean md_coap_message_add_uint_option (MdCoapMessage *msg, guint16 number,
                                          guint32 value) G_GNUC_WARN_UNUSED_RESULT;
gboolean md_coap_message_add_string_option (MdCoapMessage *msg, guint16 number,
                                            const char *value) G_GNUC_WARN_UNUSED_RESULT;
/* Adds one Uri-Path (or Location-Path) option per non-empty '/' segment. */
gboolean md_coap_message_add_path (MdCoapMessage *msg, guint16 number,
                                   const char *path) G_GNUC_WARN_UNUSED_RESULT;
gboolean md_coap_message_add_block (MdCoapMessage *msg, guint16 number,
                                    const MdCoapBlock *block) G_GNUC_WARN_UNUSED_RESULT;
/* Copies the payload into storage; FALSE if it does not fit. */
gboolean md_coap_message_set_payload (MdCoapMessage *msg, const void *data,
                                      gsize len) G_GNUC_WARN_UNUSED_RESULT;
/* Makes a response skeleton for @request: ACK with the same MID for a CON,
 * NON with @next_mid for a NON; the token is copied. */
void md_coap_message_init_response (MdCoapMessage *response, const MdCoapMessage *request,
                                    guint8 code, guint16 next_mid);

/* Encodes into @out; returns the length or -1 (MD_ERROR_FAILED) when
 * @out_size is too small. */
gssize md_coap_encode (const MdCoapMessage *msg, guint8 *out, gsize out_size,
                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Reading options. */
const MdCoapOption *md_coap_message_find_option (const MdCoapMessage *msg, guint16 number);
gboolean md_coap_message_has_option (const MdCoapMessage *msg, guint16 number);
/* FALSE if absent or longer than 4 bytes. */
gboolean md_coap_message_get_uint_option (const MdCoapMessage *msg, guint16 number, guint32 *value);
/* FALSE if absent or malformed (longer than 3 bytes, SZX 7). */
gboolean md_coap_message_get_block (const MdCoapMessage *msg, guint16 number, MdCoapBlock *block);
/* The Uri-Path segments joined with '/', without a leading '/'; "" for none.
 * Returns NULL if a segment contains '/' or a NUL byte. */
gchar *md_coap_message_get_path (const MdCoapMessage *msg);
/* The value of the first Uri-Query "NAME=VALUE" with @name, NUL-terminated,
 * or NULL. */
gchar *md_coap_message_get_query (const MdCoapMessage *msg, const char *name);
/* First option with a number this endpoint does not know that is critical,
 * or 0.  @known is a 0-terminated list. */
guint16 md_coap_message_find_unknown_critical (const MdCoapMessage *msg, const guint16 *known);

/* "2.05", "4.04", ... into a static buffer-free string of the caller. */
void md_coap_code_format (guint8 code, char out[5]);
const char *md_coap_type_to_string (MdCoapType type);
const char *md_coap_option_name (guint16 number); /* "Uri-Path" or NULL */

gsize md_coap_block_size (guint szx);

G_END_DECLS
