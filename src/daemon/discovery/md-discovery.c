#include "config.h"

#include "md-discovery.h"

#include "md-protocol.h"

#include <string.h>

/* One answer waiting for its delay. */
typedef struct
{
  MdDiscovery *owner;
  MdPeer peer;
  guint16 request_mid;
  GBytes *answer;
  guint source_id;
} MdPendingAnswer;

struct _MdDiscovery
{
  MdResources *resources; /* not owned */
  gboolean enabled;
  GPtrArray *pending; /* of MdPendingAnswer, at most MD_DISCOVERY_PENDING_MAX */
};

static void
pending_free (MdPendingAnswer *pending)
{
  g_clear_handle_id (&pending->source_id, g_source_remove);
  g_bytes_unref (pending->answer);
  g_free (pending);
}

MdDiscovery *
md_discovery_new (MdResources *resources)
{
  MdDiscovery *self;

  g_return_val_if_fail (resources != NULL, NULL);

  self = g_new0 (MdDiscovery, 1);
  self->resources = resources;
  self->enabled = TRUE;
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify)pending_free);
  return self;
}

void
md_discovery_free (MdDiscovery *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->pending);
  g_free (self);
}

void
md_discovery_set_enabled (MdDiscovery *self, gboolean enabled)
{
  g_return_if_fail (self != NULL);
  self->enabled = enabled;
}

guint
md_discovery_get_pending (MdDiscovery *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->pending->len;
}

/* ---- which requests are answered ---- */

/* RFC 6690 §4.1, as the unicast /.well-known/core filters: a value ending
 * in '*' is a prefix. */
static gboolean
rt_filter_matches (const char *filter)
{
  gsize len = strlen (filter);

  if (len > 0 && filter[len - 1] == '*')
    return strncmp (MD_PROTOCOL_RT_NOTES, filter, len - 1) == 0;
  return strcmp (MD_PROTOCOL_RT_NOTES, filter) == 0;
}

/* No query, or one "rt=" that our link matches: any other filter is one we
 * cannot apply, and a multicast request that we would answer with an error
 * gets no answer at all (RFC 7252 §8.1). */
static gboolean
query_matches (const MdCoapMessage *request)
{
  g_autofree gchar *filter = NULL;
  guint queries = 0;

  for (guint i = 0; i < request->n_options; i++)
    queries += request->options[i].number == MD_COAP_OPTION_URI_QUERY;
  if (queries == 0)
    return TRUE;
  filter = md_coap_message_get_query (request, MD_PROTOCOL_QUERY_RT);
  return queries == 1 && filter != NULL && rt_filter_matches (filter);
}

static gboolean
accepts_link_format (const MdCoapMessage *request)
{
  guint32 accept;

  if (!md_coap_message_has_option (request, MD_COAP_OPTION_ACCEPT))
    return TRUE;
  return md_coap_message_get_uint_option (request, MD_COAP_OPTION_ACCEPT, &accept)
         && accept == MD_PROTOCOL_FORMAT_LINK_FORMAT;
}

static gboolean
is_discovery_request (const MdCoapMessage *request)
{
  static const guint16 known[] = { MD_COAP_OPTION_URI_HOST, MD_COAP_OPTION_URI_PORT,
                                   MD_COAP_OPTION_URI_PATH, MD_COAP_OPTION_URI_QUERY, 0 };
  g_autofree gchar *path = NULL;

  if (request->type != MD_COAP_TYPE_NON && request->type != MD_COAP_TYPE_CON)
    return FALSE;
  if (request->code != MD_COAP_GET)
    return FALSE;
  if (md_coap_message_find_unknown_critical (request, known) != 0)
    return FALSE;
  path = md_coap_message_get_path (request);
  return path != NULL && strcmp (path, MD_PROTOCOL_PATH_CORE) == 0 && query_matches (request)
         && accepts_link_format (request);
}

/* ---- the answer ---- */

/* The NON 2.05 with the link, within three times @request_len; NULL when
 * not even the essential attributes fit. */
static GBytes *
make_answer (MdDiscovery *self, const MdCoapMessage *request, gsize request_len)
{
  g_autofree MdCoapMessage *answer = g_new0 (MdCoapMessage, 1);
  g_autofree gchar *link = NULL;
  guint8 out[MD_COAP_MAX_DATAGRAM];
  gsize budget = MIN (3 * request_len, sizeof out);
  gssize head;
  gssize len;

  md_coap_message_init (answer, MD_COAP_TYPE_NON, MD_COAP_CONTENT, (guint16)g_random_int ());
  md_coap_message_set_token (answer, request->token, request->token_len);
  if (!md_coap_message_add_uint_option (answer, MD_COAP_OPTION_CONTENT_FORMAT,
                                        MD_PROTOCOL_FORMAT_LINK_FORMAT))
    return NULL;
  head = md_coap_encode (answer, out, sizeof out, NULL);
  /* The payload marker takes one more byte. */
  if (head < 0 || (gsize)head + 1 >= budget)
    return NULL;
  link = md_resources_format_notes_link (self->resources, budget - (gsize)head - 1);
  if (link == NULL || !md_coap_message_set_payload (answer, link, strlen (link)))
    return NULL;
  len = md_coap_encode (answer, out, sizeof out, NULL);
  if (len < 0 || (gsize)len > budget)
    return NULL;
  return g_bytes_new (out, (gsize)len);
}

static gboolean
send_pending (gpointer user_data)
{
  MdPendingAnswer *pending = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (pending->answer, &len);

  pending->source_id = 0;
  md_peer_send (&pending->peer, data, len);
  g_ptr_array_remove_fast (pending->owner->pending, pending);
  return G_SOURCE_REMOVE;
}

/* A retransmission of a request that waits for its answer already. */
static gboolean
is_pending (MdDiscovery *self, const MdPeer *peer, guint16 mid)
{
  for (guint i = 0; i < self->pending->len; i++)
    {
      MdPendingAnswer *pending = g_ptr_array_index (self->pending, i);

      if (pending->request_mid == mid && md_peer_equal (&pending->peer, peer))
        return TRUE;
    }
  return FALSE;
}

static void
queue_answer (MdDiscovery *self, const MdPeer *peer, guint16 mid, GBytes *answer)
{
  MdPendingAnswer *pending = g_new0 (MdPendingAnswer, 1);
  guint delay_ms = (guint)g_random_int_range (0, MD_DISCOVERY_LEISURE_MS + 1);
  char address[64];

  pending->owner = self;
  pending->peer = *peer;
  pending->request_mid = mid;
  pending->answer = answer;
  pending->source_id = g_timeout_add (delay_ms, send_pending, pending);
  g_ptr_array_add (self->pending, pending);
  g_debug ("discovery request from %s: answering in %u ms", md_peer_to_string (peer, address),
           delay_ms);
}

void
md_discovery_handle (MdDiscovery *self, const MdDatagram *datagram)
{
  g_autofree MdCoapMessage *request = NULL;
  GBytes *answer;

  g_return_if_fail (self != NULL && datagram != NULL);

  if (!self->enabled || datagram->truncated || self->pending->len >= MD_DISCOVERY_PENDING_MAX)
    return;
  request = g_new0 (MdCoapMessage, 1);
  if (!md_coap_parse (datagram->data, datagram->len, request, NULL)
      || !is_discovery_request (request) || is_pending (self, &datagram->peer, request->mid))
    return;
  answer = make_answer (self, request, datagram->len);
  if (answer == NULL)
    {
      g_debug ("a discovery request of %" G_GSIZE_FORMAT " bytes is too small for the link",
               datagram->len);
      return;
    }
  queue_answer (self, &datagram->peer, request->mid, answer);
}
