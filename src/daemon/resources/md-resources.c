#include "config.h"

#include "md-resources.h"

#include <stdarg.h>
#include <string.h>

#include "md-author.h"
#include "md-diagnostic.h"
#include "md-error.h"
#include "md-log.h"
#include "md-note.h"
#include "md-notes-link.h"
#include "md-protocol.h"

/* How much of an unknown path a 4.04 repeats back. */
#define MD_PATH_ECHO_MAX 48

struct _MdResources
{
  MdStore *store;                    /* not owned */
  MdObservers *observers;            /* not owned, may be NULL */
  MdRateLimit *rate_limit;           /* not owned, may be NULL */
  const MdPlainFilter *plain_filter; /* not owned, may be NULL */
  gint64 started_us;                 /* same clock as the now_us the server passes */
  gchar *name;                       /* the notebook's name (Name=), NULL: none */
  guint16 coaps_port;                /* 0: no DTLS offered */
};

/* One request being answered: what every handler needs. */
typedef struct
{
  MdResources *self;
  const MdCoapMessage *request;
  const MdPeer *peer;
  const char *identity; /* the transport's proof of who sent it, or NULL */
  gint64 now_us;
  MdCoapMessage *response;
  MdStoredNote *stored; /* never NULL */
  MdHandled flags;      /* added to what the handler returns */
} MdExchange;

MdResources *
md_resources_new (MdStore *store, MdObservers *observers)
{
  MdResources *self;

  g_return_val_if_fail (store != NULL, NULL);

  self = g_new0 (MdResources, 1);
  self->store = store;
  self->observers = observers;
  /* The server's now_us comes from g_get_monotonic_time(), so uptime does not
   * jump with the wall clock. */
  self->started_us = g_get_monotonic_time ();
  return self;
}

void
md_resources_free (MdResources *self)
{
  if (self == NULL)
    return;
  g_free (self->name);
  g_free (self);
}

void
md_resources_set_identity (MdResources *self, const char *name, guint16 coaps_port)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (name == NULL || md_notes_link_name_is_valid (name));

  g_free (self->name);
  self->name = g_strdup (name);
  self->coaps_port = coaps_port;
}

gchar *
md_resources_format_notes_link (MdResources *self, gsize max)
{
  MdNotesLink link = { .name = self->name, .coaps_port = self->coaps_port };

  g_return_val_if_fail (self != NULL, NULL);

  g_strlcpy (link.notebook, md_store_get_notebook_id (self->store), sizeof link.notebook);
  return md_notes_link_format (&link, max);
}

/* ---- building responses ---- */

/* An error response: code and diagnostic payload, no Content-Format
 * (RFC 7252 §5.5.2). */
static MdHandled respond_error (MdExchange *ex, guint8 code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static MdHandled
respond_error (MdExchange *ex, guint8 code, const char *format, ...)
{
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  md_diagnostic_set (ex->response, code, text);
  return MD_HANDLED_READ;
}

void
md_resources_fail (MdCoapMessage *response, guint8 code, const char *reason)
{
  g_return_if_fail (response != NULL);
  g_return_if_fail (MD_COAP_CODE_CLASS (code) >= 4);

  md_diagnostic_set (response, code, reason != NULL ? reason : "storage error");
}

/* A full notebook refuses every add until an operator acts: the journal
 * says so once a minute, not once per note.  No Max-Age: retrying soon would
 * not help, so a client reports it and gives up. */
static void
respond_notebook_full (MdExchange *ex, const GError *error)
{
  char address[64];

  respond_error (ex, MD_COAP_SERVICE_UNAVAILABLE, "%s", error->message);
  md_log_notebook_full (md_peer_to_string (ex->peer, address), error->message, ex->now_us);
  ex->flags |= MD_HANDLED_LOGGED;
}

static void
respond_storage_error (MdExchange *ex, const GError *error)
{
  if (g_error_matches (error, MD_ERROR, MD_ERROR_NOTEBOOK_FULL))
    respond_notebook_full (ex, error);
  else if (g_error_matches (error, MD_ERROR, MD_ERROR_NO_SPACE))
    respond_error (ex, MD_COAP_SERVICE_UNAVAILABLE, "storage full: %s", error->message);
  else
    respond_error (ex, MD_COAP_SERVICE_UNAVAILABLE, "%s", error->message);
}

/* 2.05 or 2.01 with a text/plain payload; a body that does not fit the
 * message is a bug in the caller's sizes, answered as 5.00. */
static void
respond_text (MdExchange *ex, guint8 code, guint32 format, const void *data, gsize len)
{
  md_coap_message_reset (ex->response, code);
  if (!md_coap_message_add_uint_option (ex->response, MD_COAP_OPTION_CONTENT_FORMAT, format)
      || !md_coap_message_set_payload (ex->response, data, len))
    respond_error (ex, MD_COAP_INTERNAL_SERVER_ERROR, "response too large");
}

/* An option the response has no room for is a bug in the sizes: 5.00. */
static gboolean
check_built (MdExchange *ex, gboolean built)
{
  if (!built)
    respond_error (ex, MD_COAP_INTERNAL_SERVER_ERROR, "response too large");
  return built;
}

/* ---- request checks ---- */

/* "/notes/%C3%A9": the path as a person can read it, bounded. */
static gchar *
describe_path (const char *path)
{
  GString *out = g_string_new ("/");

  for (const char *p = path; *p != '\0' && out->len < MD_PATH_ECHO_MAX; p++)
    {
      guint8 byte = (guint8)*p;

      if (byte > 0x20 && byte < 0x7f && byte != '%')
        g_string_append_c (out, (char)byte);
      else
        g_string_append_printf (out, "%%%02X", byte);
    }
  if (out->len >= MD_PATH_ECHO_MAX)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static MdHandled
respond_no_resource (MdExchange *ex, const char *path)
{
  g_autofree gchar *shown = describe_path (path);

  return respond_error (ex, MD_COAP_NOT_FOUND, "no such resource: %s", shown);
}

static MdHandled
respond_bad_method (MdExchange *ex, const char *allowed)
{
  return respond_error (ex, MD_COAP_METHOD_NOT_ALLOWED, "method not allowed; use %s", allowed);
}

/* RFC 7252 §5.10.4: an Accept naming another format gets 4.06. */
static gboolean
check_accept (MdExchange *ex, guint32 format)
{
  guint32 accept;

  if (!md_coap_message_has_option (ex->request, MD_COAP_OPTION_ACCEPT))
    return TRUE;
  if (md_coap_message_get_uint_option (ex->request, MD_COAP_OPTION_ACCEPT, &accept)
      && accept == format)
    return TRUE;
  if (format == MD_COAP_FORMAT_LINK_FORMAT)
    respond_error (ex, MD_COAP_NOT_ACCEPTABLE, "only application/link-format (40) is available");
  else
    respond_error (ex, MD_COAP_NOT_ACCEPTABLE, "only text/plain (0) is available");
  return FALSE;
}

/* A note is text/plain; no Content-Format means the same. */
static gboolean
check_content_format (MdExchange *ex)
{
  guint32 format;

  if (!md_coap_message_has_option (ex->request, MD_COAP_OPTION_CONTENT_FORMAT))
    return TRUE;
  if (md_coap_message_get_uint_option (ex->request, MD_COAP_OPTION_CONTENT_FORMAT, &format)
      && format == MD_COAP_FORMAT_TEXT_PLAIN)
    return TRUE;
  respond_error (ex, MD_COAP_UNSUPPORTED_CONTENT_FORMAT, "a note must be text/plain (0)");
  return FALSE;
}

/* Digits only, no sign or spaces, no overflow (all checked by
 * g_ascii_string_to_unsigned); a leading zero only when allowed. */
static gboolean
parse_decimal (const char *text, gboolean allow_leading_zero, guint64 *value)
{
  if (!allow_leading_zero && text[0] == '0' && text[1] != '\0')
    return FALSE;
  return g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, value, NULL);
}

/* The request payload as a note, checked against the note rules. */
static gboolean
check_note (MdExchange *ex, const char **text, gsize *len)
{
  g_autoptr (GError) error = NULL;

  *text = ex->request->payload != NULL ? (const char *)ex->request->payload : "";
  *len = ex->request->payload != NULL ? ex->request->payload_len : 0;
  if (*len > MD_NOTE_MAX_BYTES)
    {
      respond_error (ex, MD_COAP_REQUEST_ENTITY_TOO_LARGE, "note is longer than %d bytes",
                     MD_NOTE_MAX_BYTES);
      /* RFC 7252 §5.9.2.9: Size1 tells the client the largest it may send. */
      check_built (ex, md_coap_message_add_uint_option (ex->response, MD_COAP_OPTION_SIZE1,
                                                        MD_NOTE_MAX_BYTES));
      return FALSE;
    }
  if (!md_note_validate (*text, *len, &error))
    {
      respond_error (ex, MD_COAP_BAD_REQUEST, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* 5.03 with Max-Age (RFC 7252 §5.9.3.4): the seconds until this host may
 * add again, which a client waits out before it retries. */
static gboolean
check_rate_limit (MdExchange *ex)
{
  char address[64];
  g_autofree char *reason = NULL;
  guint retry_after_s;

  if (ex->self->rate_limit == NULL
      || md_rate_limit_take (ex->self->rate_limit, ex->peer, ex->now_us, &retry_after_s))
    return TRUE;
  reason = g_strdup_printf ("too many notes from this address: try again in %u s", retry_after_s);
  respond_error (ex, MD_COAP_SERVICE_UNAVAILABLE, "%s", reason);
  check_built (
      ex, md_coap_message_add_uint_option (ex->response, MD_COAP_OPTION_MAX_AGE, retry_after_s));
  md_log_rate_limited (md_peer_to_string (ex->peer, address), reason, ex->now_us);
  ex->flags |= MD_HANDLED_LOGGED;
  return FALSE;
}

/* Who the note is by (md-author.h), into @ex->stored.  A DTLS identity
 * comes from the keys file, whose names are all valid authors; refusing
 * anything else keeps a bug there out of the notes file. */
static gboolean
take_author (MdExchange *ex)
{
  MdDatagram datagram = { .peer = *ex->peer, .identity = ex->identity };
  const char *author = md_author_from_datagram (&datagram, ex->stored->author);

  if (md_note_author_is_valid (author, strlen (author)))
    return TRUE;
  respond_error (ex, MD_COAP_UNAUTHORIZED, "this identity cannot be an author");
  return FALSE;
}

static gboolean
append_note (MdExchange *ex, const char *key, const char *text, gsize len, guint64 *id)
{
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!check_rate_limit (ex) || !take_author (ex))
    return FALSE;
  if (md_store_append (ex->self->store, key, ex->stored->author, text, len, now, id, &error))
    {
      ex->stored->id = *id;
      g_strlcpy (ex->stored->key, key != NULL ? key : "", sizeof ex->stored->key);
      return TRUE;
    }
  respond_storage_error (ex, error);
  return FALSE;
}

static void
add_location (MdExchange *ex, guint64 id)
{
  g_autofree gchar *location
      = g_strdup_printf (MD_PROTOCOL_PATH_NOTES_PREFIX "%" G_GUINT64_FORMAT, id);

  check_built (ex, md_coap_message_add_path (ex->response, MD_COAP_OPTION_LOCATION_PATH, location));
}

/* ---- /notes ---- */

static MdHandled
post_note (MdExchange *ex, const char *unused)
{
  const char *text;
  gsize len;
  guint64 id;

  if (!check_content_format (ex) || !check_note (ex, &text, &len))
    return MD_HANDLED_READ;
  if (!append_note (ex, NULL, text, len, &id))
    return MD_HANDLED_READ;
  md_coap_message_reset (ex->response, MD_COAP_CREATED);
  add_location (ex, id);
  return MD_HANDLED_WROTE;
}

/* ?after=N, 0 when absent. */
static gboolean
get_after (MdExchange *ex, guint64 *after)
{
  g_autofree gchar *value = md_coap_message_get_query (ex->request, MD_PROTOCOL_QUERY_AFTER);

  *after = 0;
  if (value == NULL || parse_decimal (value, TRUE, after))
    return TRUE;
  respond_error (ex, MD_COAP_BAD_REQUEST, "after must be a note id");
  return FALSE;
}

/* The Block2 the client asked for, or block 0 of the largest size. */
static gboolean
get_requested_block (MdExchange *ex, MdCoapBlock *block, gboolean *requested)
{
  *requested = md_coap_message_has_option (ex->request, MD_COAP_OPTION_BLOCK2);
  block->num = 0;
  block->more = FALSE;
  block->szx = MD_COAP_MAX_BLOCK_SZX;
  if (!*requested)
    return TRUE;
  /* SZX 7 is reserved and "MUST lead to a 4.00" (RFC 7959 §2.2). */
  if (!md_coap_message_get_block (ex->request, MD_COAP_OPTION_BLOCK2, block))
    {
      respond_error (ex, MD_COAP_BAD_REQUEST, "bad Block2 option");
      return FALSE;
    }
  /* A server may answer with a smaller block than asked for (RFC 7959 §2.4). */
  block->szx = MIN (block->szx, MD_COAP_MAX_BLOCK_SZX);
  block->more = FALSE;
  return TRUE;
}

static void
add_block_options (MdExchange *ex, const MdCoapBlock *block, guint64 total)
{
  if (!check_built (ex, md_coap_message_add_block (ex->response, MD_COAP_OPTION_BLOCK2, block)))
    return;
  /* Size2 on the first block tells the client the whole size (RFC 7959 §4). */
  if (block->num == 0)
    check_built (ex, md_coap_message_add_uint_option (ex->response, MD_COAP_OPTION_SIZE2,
                                                      (guint32)MIN (total, G_MAXUINT32)));
}

/* One block of the body.  The body only grows at its end, so serving each
 * block statelessly still gives a reader a consistent prefix. */
static MdHandled
serve_body_block (MdExchange *ex, guint64 after, MdCoapBlock *block, gboolean requested)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[1u << (MD_COAP_MAX_BLOCK_SZX + 4)];
  gsize size = md_coap_block_size (block->szx);
  guint64 total = md_store_get_body_size (ex->self->store, after);
  guint64 offset = (guint64)block->num * size; /* < 2^30: no overflow */
  gssize n;

  if (offset > 0 && offset >= total)
    return respond_error (ex, MD_COAP_BAD_OPTION, "block beyond end");
  n = md_store_read_body (ex->self->store, after, offset, buf, MIN (size, sizeof buf), &error);
  if (n < 0)
    {
      respond_storage_error (ex, error);
      return MD_HANDLED_READ;
    }
  block->more = offset + (guint64)n < total;
  if (block->more && (gsize)n != size)
    return respond_error (ex, MD_COAP_SERVICE_UNAVAILABLE, "short read of the notes file");
  respond_text (ex, MD_COAP_CONTENT, MD_COAP_FORMAT_TEXT_PLAIN, buf, (gsize)n);
  if (requested || total > size)
    add_block_options (ex, block, total);
  return MD_HANDLED_READ;
}

static MdHandled
get_notes (MdExchange *ex, const char *unused)
{
  MdCoapBlock block;
  gboolean requested;
  guint64 after;

  if (!check_accept (ex, MD_COAP_FORMAT_TEXT_PLAIN) || !get_after (ex, &after)
      || !get_requested_block (ex, &block, &requested))
    return MD_HANDLED_READ;
  return serve_body_block (ex, after, &block, requested);
}

/* ---- /notes/ID and /notes/KEY ---- */

/* A note's wire line as 2.05 (or @code), or FALSE with an error response. */
static gboolean
respond_wire_line (MdExchange *ex, guint8 code, guint64 id)
{
  g_autoptr (GString) line = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (!md_store_append_wire_line (ex->self->store, id, line, &error))
    {
      respond_storage_error (ex, error);
      return FALSE;
    }
  respond_text (ex, code, MD_COAP_FORMAT_TEXT_PLAIN, line->str, line->len);
  return TRUE;
}

/* Keys are stored lowercase, whatever case the client sent. */
static gboolean
lookup_key (MdExchange *ex, const char *segment, guint64 *id)
{
  g_autofree gchar *key = g_ascii_strdown (segment, -1);

  return md_store_lookup_key (ex->self->store, key, id);
}

/* Only durable notes are visible: a GET answer goes out at once, before any
 * pending append is committed. */
static MdHandled
get_one_note (MdExchange *ex, const char *segment)
{
  gboolean is_key = md_note_key_is_valid (segment, strlen (segment));
  guint64 id = 0;

  if (!is_key && !parse_decimal (segment, FALSE, &id))
    {
      g_autofree gchar *path = g_strconcat (MD_PROTOCOL_PATH_NOTES_PREFIX, segment, NULL);

      return respond_no_resource (ex, path);
    }
  if (!check_accept (ex, MD_COAP_FORMAT_TEXT_PLAIN))
    return MD_HANDLED_READ;
  if (is_key && !lookup_key (ex, segment, &id))
    id = 0;
  if (id == 0 || id > md_store_get_count (ex->self->store))
    return respond_error (ex, MD_COAP_NOT_FOUND, "no note %s", segment);
  respond_wire_line (ex, MD_COAP_CONTENT, id);
  return MD_HANDLED_READ;
}

/* The key exists: 4.12 with its line, so a retried PUT learns its note is
 * stored.  A note still pending must not be reported before its commit, so
 * that answer waits like a write (and becomes 5.03 if the commit fails). */
static MdHandled
respond_existing_key (MdExchange *ex, guint64 id)
{
  if (!respond_wire_line (ex, MD_COAP_PRECONDITION_FAILED, id))
    return MD_HANDLED_READ;
  return id > md_store_get_count (ex->self->store) ? MD_HANDLED_WROTE : MD_HANDLED_READ;
}

static MdHandled
put_note (MdExchange *ex, const char *segment)
{
  g_autofree gchar *key = NULL;
  const char *text;
  gsize len;
  guint64 id;

  if (!md_note_key_is_valid (segment, strlen (segment)))
    return respond_error (ex, MD_COAP_BAD_REQUEST, "key must be a UUID");
  if (!md_coap_message_has_option (ex->request, MD_COAP_OPTION_IF_NONE_MATCH))
    return respond_error (ex, MD_COAP_BAD_REQUEST,
                          "PUT needs If-None-Match: notes are create-only");
  if (!check_accept (ex, MD_COAP_FORMAT_TEXT_PLAIN) || !check_content_format (ex))
    return MD_HANDLED_READ;
  key = g_ascii_strdown (segment, -1);
  if (md_store_lookup_key (ex->self->store, key, &id))
    return respond_existing_key (ex, id);
  if (!check_note (ex, &text, &len) || !append_note (ex, key, text, len, &id))
    return MD_HANDLED_READ;
  if (!respond_wire_line (ex, MD_COAP_CREATED, id))
    return MD_HANDLED_WROTE; /* stored, but say 5.03: the client retries into a 4.12 */
  add_location (ex, id);
  return MD_HANDLED_WROTE;
}

/* ---- /latest ---- */

/* RFC 7641 §2: Observe 0 registers, 1 deregisters. */
static void
handle_observe (MdExchange *ex)
{
  const MdCoapMessage *request = ex->request;
  guint32 observe;

  if (ex->self->observers == NULL
      || !md_coap_message_get_uint_option (request, MD_COAP_OPTION_OBSERVE, &observe))
    return;
  if (observe == 1)
    md_observers_deregister (ex->self->observers, ex->peer, request->token, request->token_len);
  else if (observe == 0
           && md_observers_register (ex->self->observers, ex->peer, request->token,
                                     request->token_len, ex->now_us)
           && !check_built (ex, md_coap_message_add_uint_option (
                                    ex->response, MD_COAP_OPTION_OBSERVE,
                                    md_observers_get_sequence (ex->self->observers))))
    md_observers_deregister (ex->self->observers, ex->peer, request->token, request->token_len);
}

static MdHandled
get_latest (MdExchange *ex, const char *unused)
{
  guint64 count = md_store_get_count (ex->self->store);

  if (!check_accept (ex, MD_COAP_FORMAT_TEXT_PLAIN))
    return MD_HANDLED_READ;
  if (count == 0)
    respond_text (ex, MD_COAP_CONTENT, MD_COAP_FORMAT_TEXT_PLAIN, "", 0);
  else if (!respond_wire_line (ex, MD_COAP_CONTENT, count))
    return MD_HANDLED_READ; /* an error is no registration (RFC 7641 §4.1) */
  handle_observe (ex);
  return MD_HANDLED_READ;
}

/* ---- /status and /.well-known/core ---- */

gchar *
md_resources_describe_status (MdResources *self, gint64 now_us)
{
  GString *out = g_string_new (NULL);
  guint64 count;

  g_return_val_if_fail (self != NULL, NULL);

  /* Ids have no gaps, so the last durable id is the count; pending notes are
   * not reported before their commit. */
  count = md_store_get_count (self->store);
  g_string_append_printf (out, MD_PROTOCOL_STATUS_VERSION ": %s\n", PACKAGE_VERSION);
  g_string_append_printf (out, MD_PROTOCOL_STATUS_NOTES ": %" G_GUINT64_FORMAT "\n", count);
  g_string_append_printf (out, MD_PROTOCOL_STATUS_LAST_ID ": %" G_GUINT64_FORMAT "\n", count);
  g_string_append_printf (out, MD_PROTOCOL_STATUS_UPTIME ": %" G_GINT64_FORMAT "\n",
                          MAX (now_us - self->started_us, 0) / G_USEC_PER_SEC);
  g_string_append_printf (out, MD_PROTOCOL_STATUS_OBSERVERS ": %u\n",
                          self->observers != NULL ? md_observers_get_count (self->observers, now_us)
                                                  : 0);
  g_string_append_printf (out, MD_PROTOCOL_STATUS_STATE_FILE ": %s\n",
                          md_store_get_path (self->store));
  g_string_append_printf (out, MD_PROTOCOL_STATUS_NOTEBOOK ": %s\n",
                          md_store_get_notebook_id (self->store));
  g_string_append_printf (out, MD_PROTOCOL_STATUS_NOTES_FILE_SIZE ": %" G_GUINT64_FORMAT "\n",
                          md_store_get_size (self->store));
  if (md_store_get_max_size (self->store) != G_MAXUINT64)
    g_string_append_printf (out, MD_PROTOCOL_STATUS_NOTES_FILE_MAX ": %" G_GUINT64_FORMAT "\n",
                            md_store_get_max_size (self->store));
  if (self->plain_filter != NULL)
    g_string_append_printf (out, MD_PROTOCOL_STATUS_PLAIN_REFUSED ": %" G_GUINT64_FORMAT "\n",
                            md_plain_filter_get_refused (self->plain_filter));
  return g_string_free (out, FALSE);
}

static MdHandled
get_status (MdExchange *ex, const char *unused)
{
  g_autofree gchar *status = NULL;

  if (!check_accept (ex, MD_COAP_FORMAT_TEXT_PLAIN))
    return MD_HANDLED_READ;
  status = md_resources_describe_status (ex->self, ex->now_us);
  respond_text (ex, MD_COAP_CONTENT, MD_COAP_FORMAT_TEXT_PLAIN, status, strlen (status));
  return MD_HANDLED_READ;
}

/* ---- the route table, and /.well-known/core made from it ---- */

typedef MdHandled (*MdHandler) (MdExchange *ex, const char *segment);

typedef struct
{
  /* A path, or a prefix ending in '/' that takes exactly one more segment
   * (given to the handlers). */
  const char *path;
  MdHandler get;
  MdHandler post;
  MdHandler put;
  /* Its link in /.well-known/core (RFC 6690); unlisted when @rt is NULL. */
  const char *rt;
  const char *title;
  gboolean observable;
  gboolean names_notebook; /* carries the notebook= attribute */
} MdRoute;

static MdHandled get_core (MdExchange *ex, const char *unused);

static const MdRoute routes[] = {
  { MD_PROTOCOL_PATH_NOTES, get_notes, post_note, NULL, MD_PROTOCOL_RT_NOTES, NULL, FALSE, TRUE },
  { MD_PROTOCOL_PATH_NOTES_PREFIX, get_one_note, NULL, put_note, NULL, NULL, FALSE, FALSE },
  { MD_PROTOCOL_PATH_LATEST, get_latest, NULL, NULL, MD_PROTOCOL_RT_NOTE, "newest note", TRUE,
    FALSE },
  { MD_PROTOCOL_PATH_STATUS, get_status, NULL, NULL, MD_PROTOCOL_RT_STATUS, "daemon status", FALSE,
    FALSE },
  { MD_PROTOCOL_PATH_CORE, get_core, NULL, NULL, NULL, NULL, FALSE, FALSE },
};

/* RFC 6690 §4.1: "?rt=VALUE" keeps the links of that type; a VALUE ending
 * in '*' matches as a prefix. */
static gboolean
rt_matches (const char *rt, const char *filter)
{
  gsize len;

  if (filter == NULL)
    return TRUE;
  len = strlen (filter);
  if (len > 0 && filter[len - 1] == '*')
    return strncmp (rt, filter, len - 1) == 0;
  return strcmp (rt, filter) == 0;
}

static void
append_link (GString *out, MdResources *self, const MdRoute *route)
{
  if (out->len > 0)
    g_string_append_c (out, ',');
  /* The notebook's own link is the discovery answer too (md-notes-link.h). */
  if (route->names_notebook)
    {
      g_autofree gchar *link = md_resources_format_notes_link (self, G_MAXSIZE);

      g_string_append (out, link);
      return;
    }
  g_string_append_printf (out, "</%s>;rt=\"%s\";title=\"%s\"", route->path, route->rt,
                          route->title);
  if (route->observable)
    g_string_append (out, ";obs");
  g_string_append_printf (out, ";ct=%d", MD_PROTOCOL_FORMAT_TEXT_PLAIN);
}

static MdHandled
get_core (MdExchange *ex, const char *unused)
{
  g_autoptr (GString) links = g_string_new (NULL);
  g_autofree gchar *filter = NULL;

  if (!check_accept (ex, MD_COAP_FORMAT_LINK_FORMAT))
    return MD_HANDLED_READ;
  filter = md_coap_message_get_query (ex->request, MD_PROTOCOL_QUERY_RT);
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    if (routes[i].rt != NULL && rt_matches (routes[i].rt, filter))
      append_link (links, ex->self, &routes[i]);
  respond_text (ex, MD_COAP_CONTENT, MD_COAP_FORMAT_LINK_FORMAT, links->str, links->len);
  return MD_HANDLED_READ;
}

/* The segment after a prefix route's path, or NULL when @path is not one
 * segment below it.  Segments hold no '/' (md_coap_message_get_path joins
 * them with it), so a second '/' means a deeper path. */
static const char *
match_prefix (const MdRoute *route, const char *path)
{
  const char *segment;

  if (!g_str_has_prefix (path, route->path))
    return NULL;
  segment = path + strlen (route->path);
  if (*segment == '\0' || strchr (segment, '/') != NULL)
    return NULL;
  return segment;
}

/* The route for @path, with the segment a prefix route takes. */
static const MdRoute *
find_route (const char *path, const char **segment)
{
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      const MdRoute *route = &routes[i];

      /* A prefix route ("notes/") takes exactly one segment: "notes/" with
       * an empty last segment is no note. */
      *segment = NULL;
      if (g_str_has_suffix (route->path, "/"))
        {
          *segment = match_prefix (route, path);
          if (*segment != NULL)
            return route;
        }
      else if (g_str_equal (route->path, path))
        return route;
    }
  return NULL;
}

/* "GET or POST": the methods @route answers, for a 4.05. */
static MdHandled
respond_route_methods (MdExchange *ex, const MdRoute *route)
{
  const MdHandler handlers[] = { route->get, route->post, route->put };
  const char *const names[] = { "GET", "POST", "PUT" };
  g_autoptr (GString) allowed = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++)
    if (handlers[i] != NULL)
      g_string_append_printf (allowed, "%s%s", allowed->len > 0 ? " or " : "", names[i]);
  return respond_bad_method (ex, allowed->str);
}

static MdHandler
handler_for (const MdRoute *route, guint8 method)
{
  switch (method)
    {
      case MD_COAP_GET:
        return route->get;
      case MD_COAP_POST:
        return route->post;
      case MD_COAP_PUT:
        return route->put;
      default:
        return NULL;
    }
}

static MdHandled
route_request (MdExchange *ex, const char *path)
{
  const char *segment;
  const MdRoute *route = find_route (path, &segment);
  MdHandler handler;

  if (route == NULL)
    return respond_no_resource (ex, path);
  handler = handler_for (route, ex->request->code);
  if (handler == NULL)
    return respond_route_methods (ex, route);
  return handler (ex, segment);
}

MdHandled
md_resources_handle (MdResources *self, const MdCoapMessage *request, const MdPeer *peer,
                     const char *identity, gint64 now_us, MdCoapMessage *response,
                     MdStoredNote *stored)
{
  MdStoredNote unused;
  MdExchange ex
      = { self, request, peer, identity, now_us, response, stored != NULL ? stored : &unused, 0 };
  g_autofree gchar *path = NULL;

  g_return_val_if_fail (self != NULL, MD_HANDLED_READ);
  g_return_val_if_fail (request != NULL, MD_HANDLED_READ);
  g_return_val_if_fail (peer != NULL, MD_HANDLED_READ);
  g_return_val_if_fail (response != NULL, MD_HANDLED_READ);

  memset (ex.stored, 0, sizeof *ex.stored);
  path = md_coap_message_get_path (request);
  if (path == NULL)
    return respond_error (&ex, MD_COAP_BAD_REQUEST, "bad Uri-Path: a segment holds '/' or NUL");
  return route_request (&ex, path) | ex.flags;
}

void
md_resources_set_rate_limit (MdResources *self, MdRateLimit *rate_limit)
{
  g_return_if_fail (self != NULL);
  self->rate_limit = rate_limit;
}

void
md_resources_set_plain_filter (MdResources *self, const MdPlainFilter *filter)
{
  g_return_if_fail (self != NULL);
  self->plain_filter = filter;
}
