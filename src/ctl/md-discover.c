#include "config.h"

#include "md-discover.h"

#include "md-coap.h"
#include "md-dnssd.h"
#include "md-protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The request is padded to this many bytes: three times it holds the
 * longest link (a 63-byte name, coaps=) with its CoAP header. */
#define MD_DISCOVER_REQUEST_LEN 72
/* Answers read per wakeup at most, so a flood cannot hold the loop. */
#define MD_DISCOVER_READS_PER_WAKEUP 64

void
md_discovered_free (MdDiscovered *found)
{
  if (found == NULL)
    return;
  g_free (found->host);
  md_notes_link_clear (&found->link);
  g_free (found);
}

char *
md_discovered_server (const MdDiscovered *found)
{
  const char *scheme = "";
  guint port;

  g_return_val_if_fail (found != NULL, NULL);

  /* Only DNS-SD announced it, and only over DTLS. */
  port = found->port;
  if (port == 0)
    {
      scheme = "coaps://";
      port = found->link.coaps_port;
    }
  if (strchr (found->host, ':') != NULL)
    return g_strdup_printf ("%s[%s]:%u", scheme, found->host, port);
  return g_strdup_printf ("%s%s:%u", scheme, found->host, port);
}

/* ---- the list ---- */

/* 0 IPv4, 1 global IPv6, 2 link-local IPv6: the order to try them in. */
static int
host_rank (const char *host)
{
  if (strchr (host, ':') == NULL)
    return 0;
  return g_ascii_strncasecmp (host, "fe80:", 5) == 0 ? 2 : 1;
}

static int
compare_found (gconstpointer a, gconstpointer b)
{
  const MdDiscovered *x = *(const MdDiscovered *const *)a;
  const MdDiscovered *y = *(const MdDiscovered *const *)b;
  int order = g_utf8_collate (x->link.name, y->link.name);

  if (order == 0)
    order = strcmp (x->link.notebook, y->link.notebook);
  if (order == 0)
    order = host_rank (x->host) - host_rank (y->host);
  if (order == 0)
    order = strcmp (x->host, y->host);
  return order;
}

static gboolean
has_identity (const MdDiscovered *found)
{
  return found->link.notebook[0] != '\0';
}

/* What @extra adds to @known, the same host: a DNS-SD announcement has no
 * identity, a CoAP answer no DNS-SD name. */
static void
merge (MdDiscovered *known, MdDiscovered *extra)
{
  if (!has_identity (known) && has_identity (extra))
    {
      MdNotesLink link = known->link;

      known->link = extra->link;
      extra->link = link;
    }
  known->via |= extra->via;
  if (known->link.coaps_port == 0)
    known->link.coaps_port = extra->link.coaps_port;
  if (known->port == 0)
    known->port = extra->port;
  md_discovered_free (extra);
}

static gboolean
is_same (const MdDiscovered *a, const MdDiscovered *b)
{
  if (g_ascii_strcasecmp (a->host, b->host) != 0)
    return FALSE;
  return !has_identity (a) || !has_identity (b) || strcmp (a->link.notebook, b->link.notebook) == 0;
}

void
md_discovered_add (GPtrArray *list, MdDiscovered *found)
{
  g_return_if_fail (list != NULL && found != NULL);

  for (guint i = 0; i < list->len; i++)
    if (is_same (g_ptr_array_index (list, i), found))
      {
        merge (g_ptr_array_index (list, i), found);
        g_ptr_array_sort (list, compare_found);
        return;
      }
  if (list->len >= MD_DISCOVER_MAX_FOUND)
    {
      md_discovered_free (found);
      return;
    }
  g_ptr_array_add (list, found);
  g_ptr_array_sort (list, compare_found);
}

/* ---- the request ---- */

GBytes *
md_discover_build_request (const guint8 token[8], gsize min_len)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  guint8 out[MD_COAP_MAX_DATAGRAM];
  guint8 padding[MD_DISCOVER_REQUEST_LEN] = { 0 };
  gssize len;

  md_coap_message_init (msg, MD_COAP_TYPE_NON, MD_COAP_GET, (guint16)g_random_int ());
  md_coap_message_set_token (msg, token, 8);
  if (!md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH, MD_PROTOCOL_PATH_CORE)
      || !md_coap_message_add_string_option (msg, MD_COAP_OPTION_URI_QUERY,
                                             MD_PROTOCOL_QUERY_RT "=" MD_PROTOCOL_RT_NOTES))
    return NULL;
  len = md_coap_encode (msg, out, sizeof out, NULL);
  /* The padding option's header is 3 bytes (its number needs the two-byte
   * extended delta), 4 from a 13-byte value on. */
  if (len >= 0 && (gsize)len < min_len)
    {
      gsize need = min_len - (gsize)len;
      gsize pad = need > 3 ? need - 3 : 0;

      if (pad >= 13)
        pad = MAX (need - 4, 13);
      if (!md_coap_message_add_option (msg, MD_PROTOCOL_OPTION_PADDING, padding,
                                       MIN (pad, sizeof padding)))
        return NULL;
      len = md_coap_encode (msg, out, sizeof out, NULL);
    }
  return len < 0 ? NULL : g_bytes_new (out, (gsize)len);
}

/* ---- one run ---- */

typedef struct
{
  int fd4; /* -1 when the family is unavailable */
  int fd6;
  GSource *source4;
  GSource *source6;
  GSource *timeout;
  GCancellable *cancellable;
  gulong cancel_id;
  guint8 token[8];
  GPtrArray *found; /* of MdDiscovered */
  MdDnssd *dnssd;
} MdDiscoverRun;

static void
run_free (MdDiscoverRun *run)
{
  GSource **sources[] = { &run->source4, &run->source6, &run->timeout };

  for (gsize i = 0; i < G_N_ELEMENTS (sources); i++)
    if (*sources[i] != NULL)
      {
        g_source_destroy (*sources[i]);
        g_clear_pointer (sources[i], g_source_unref);
      }
  if (run->cancel_id != 0)
    g_cancellable_disconnect (run->cancellable, run->cancel_id);
  g_clear_object (&run->cancellable);
  if (run->fd4 >= 0)
    close (run->fd4);
  if (run->fd6 >= 0)
    close (run->fd6);
  g_clear_pointer (&run->found, g_ptr_array_unref);
  g_clear_pointer (&run->dnssd, md_dnssd_free);
  g_free (run);
}

static int
open_socket (int family)
{
  int fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;

  if (fd >= 0 && family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  return fd;
}

/* The interfaces to ask on: up, multicast, not loopback (a daemon on this
 * host hears the request looped back from them). */
static GArray *
list_interfaces (void)
{
  GArray *indices = g_array_new (FALSE, FALSE, sizeof (unsigned));
  struct ifaddrs *addrs = NULL;

  if (getifaddrs (&addrs) < 0)
    return indices;
  for (struct ifaddrs *a = addrs; a != NULL; a = a->ifa_next)
    {
      unsigned index = if_nametoindex (a->ifa_name);
      gboolean known = FALSE;

      if (index == 0 || !(a->ifa_flags & IFF_UP) || !(a->ifa_flags & IFF_MULTICAST)
          || (a->ifa_flags & IFF_LOOPBACK))
        continue;
      for (guint i = 0; i < indices->len; i++)
        known = known || g_array_index (indices, unsigned, i) == index;
      if (!known)
        g_array_append_val (indices, index);
    }
  freeifaddrs (addrs);
  return indices;
}

static void
send_v4 (int fd, GBytes *request, unsigned index)
{
  struct ip_mreqn via = { .imr_ifindex = (int)index };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (MD_PROTOCOL_PORT) };
  gsize len;
  const guint8 *data = g_bytes_get_data (request, &len);

  inet_pton (AF_INET, MD_PROTOCOL_GROUP_V4, &to.sin_addr);
  if (setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof via) < 0
      || sendto (fd, data, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
    g_debug ("discovery over IPv4 on interface %u: %s", index, g_strerror (errno));
}

static void
send_v6 (int fd, GBytes *request, unsigned index)
{
  struct sockaddr_in6 to = {
    .sin6_family = AF_INET6,
    .sin6_port = htons (MD_PROTOCOL_PORT),
    .sin6_scope_id = index,
  };
  gsize len;
  const guint8 *data = g_bytes_get_data (request, &len);

  inet_pton (AF_INET6, MD_PROTOCOL_GROUP_V6, &to.sin6_addr);
  if (setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0
      || sendto (fd, data, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
    g_debug ("discovery over IPv6 on interface %u: %s", index, g_strerror (errno));
}

static void
send_requests (MdDiscoverRun *run)
{
  g_autoptr (GBytes) request = md_discover_build_request (run->token, MD_DISCOVER_REQUEST_LEN);
  g_autoptr (GArray) indices = list_interfaces ();

  /* No interface found: the route for the group decides (index 0). */
  if (indices->len == 0)
    g_array_append_val (indices, (unsigned){ 0 });
  for (guint i = 0; i < indices->len; i++)
    {
      unsigned index = g_array_index (indices, unsigned, i);

      if (run->fd4 >= 0)
        send_v4 (run->fd4, request, index);
      if (run->fd6 >= 0)
        send_v6 (run->fd6, request, index);
    }
}

/* ---- answers ---- */

static char *
host_of (const struct sockaddr_storage *from, guint16 *port)
{
  char text[INET6_ADDRSTRLEN] = "";
  char ifname[IF_NAMESIZE] = "";

  if (from->ss_family == AF_INET)
    {
      const struct sockaddr_in *v4 = (const struct sockaddr_in *)from;

      *port = ntohs (v4->sin_port);
      inet_ntop (AF_INET, &v4->sin_addr, text, sizeof text);
      return g_strdup (text);
    }
  {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)from;

    *port = ntohs (v6->sin6_port);
    inet_ntop (AF_INET6, &v6->sin6_addr, text, sizeof text);
    if (IN6_IS_ADDR_LINKLOCAL (&v6->sin6_addr) && if_indextoname (v6->sin6_scope_id, ifname))
      return g_strdup_printf ("%s%%%s", text, ifname);
    return g_strdup (text);
  }
}

/* Our token, a 2.05 in link-format (or without a Content-Format). */
static gboolean
is_our_answer (MdDiscoverRun *run, const MdCoapMessage *msg)
{
  guint32 format = MD_PROTOCOL_FORMAT_LINK_FORMAT;

  if (msg->code != MD_COAP_CONTENT || msg->token_len != sizeof run->token
      || memcmp (msg->token, run->token, sizeof run->token) != 0)
    return FALSE;
  if (md_coap_message_has_option (msg, MD_COAP_OPTION_CONTENT_FORMAT)
      && !md_coap_message_get_uint_option (msg, MD_COAP_OPTION_CONTENT_FORMAT, &format))
    return FALSE;
  return format == MD_PROTOCOL_FORMAT_LINK_FORMAT;
}

static void
take_answer (MdDiscoverRun *run, const guint8 *data, gsize len, const struct sockaddr_storage *from)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GError) error = NULL;
  MdDiscovered *found;

  if (!md_coap_parse (data, len, msg, NULL) || !is_our_answer (run, msg))
    return;
  found = g_new0 (MdDiscovered, 1);
  found->via = MD_DISCOVERED_COAP;
  if (!md_notes_link_parse ((const char *)msg->payload, msg->payload_len, &found->link, &error))
    {
      g_debug ("a discovery answer that does not parse: %s", error->message);
      md_discovered_free (found);
      return;
    }
  found->host = host_of (from, &found->port);
  md_discovered_add (run->found, found);
}

static gboolean
on_readable (int fd, GIOCondition condition, gpointer user_data)
{
  GTask *task = user_data;
  MdDiscoverRun *run = g_task_get_task_data (task);

  /* The window ended: the task only waits to be freed. */
  if (run->found == NULL)
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < MD_DISCOVER_READS_PER_WAKEUP; i++)
    {
      guint8 data[MD_COAP_MAX_DATAGRAM];
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t len = recvfrom (fd, data, sizeof data, 0, (struct sockaddr *)&from, &from_len);

      if (len < 0)
        break;
      take_answer (run, data, (gsize)len, &from);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_window_end (gpointer user_data)
{
  GTask *task = user_data;
  MdDiscoverRun *run = g_task_get_task_data (task);

  g_clear_pointer (&run->timeout, g_source_unref);
  md_dnssd_finish (run->dnssd, run->found);
  g_task_return_pointer (task, g_steal_pointer (&run->found), (GDestroyNotify)g_ptr_array_unref);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static GSource *
watch (int fd, GTask *task)
{
  GSource *source;

  if (fd < 0)
    return NULL;
  source = g_unix_fd_source_new (fd, G_IO_IN);
  g_source_set_callback (source, G_SOURCE_FUNC (on_readable), task, NULL);
  g_source_attach (source, g_task_get_context (task));
  return source;
}

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  MdDiscoverRun *run = g_task_get_task_data (task);

  /* The timeout still ends the run, at once, with the cancellation. */
  if (run->timeout != NULL)
    g_source_set_ready_time (run->timeout, 0);
}

void
md_discover_async (guint window_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                   gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  MdDiscoverRun *run = g_new0 (MdDiscoverRun, 1);

  g_task_set_source_tag (task, md_discover_async);
  g_task_set_check_cancellable (task, TRUE);
  g_task_set_task_data (task, run, (GDestroyNotify)run_free);
  run->found = g_ptr_array_new_with_free_func ((GDestroyNotify)md_discovered_free);
  for (gsize i = 0; i < sizeof run->token; i++)
    run->token[i] = (guint8)g_random_int ();
  run->fd4 = open_socket (AF_INET);
  run->fd6 = open_socket (AF_INET6);
  run->dnssd = md_dnssd_new (cancellable);
  send_requests (run);
  run->source4 = watch (run->fd4, task);
  run->source6 = watch (run->fd6, task);
  run->timeout = g_timeout_source_new (MIN (window_ms, MD_DISCOVER_MAX_WINDOW_MS));
  g_source_set_callback (run->timeout, on_window_end, task, NULL);
  g_source_attach (run->timeout, g_task_get_context (task));
  if (cancellable != NULL)
    {
      run->cancellable = g_object_ref (cancellable);
      run->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), task, NULL);
    }
}

GPtrArray *
md_discover_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
