/* md-probe: sends one CoAP request to a multicast group and prints every
 * answer that comes within a window, one line each:
 *
 *   from=10.231.1.10:5683 request=40 answer=112 type=NON code=2.05 payload=</notes>;...
 *
 * For the discovery tests: it sends what a test asks (CON or NON, a query,
 * padding), so they can check what the daemon must not answer as well as
 * what it must.
 *
 *   md-probe [--con] [--query=Q] [--pad=N] [--path=P] [--window-ms=N] GROUP IFNAME */
#include "config.h"

#include "md-coap.h"
#include "md-protocol.h"
#include "md-terminal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static gboolean opt_con;
static char *opt_query;
static char *opt_path;
static int opt_pad;
static int opt_window_ms = 1500;

static gssize
build_request (guint8 *out, gsize size)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  guint8 token[4];
  guint8 padding[256] = { 0 };

  g_random_set_seed (g_random_int () ^ (guint32)getpid ());
  for (gsize i = 0; i < sizeof token; i++)
    token[i] = (guint8)g_random_int ();
  md_coap_message_init (msg, opt_con ? MD_COAP_TYPE_CON : MD_COAP_TYPE_NON, MD_COAP_GET,
                        (guint16)g_random_int ());
  md_coap_message_set_token (msg, token, sizeof token);
  if (!md_coap_message_add_path (msg, MD_COAP_OPTION_URI_PATH,
                                 opt_path != NULL ? opt_path : MD_PROTOCOL_PATH_CORE)
      || (opt_query != NULL
          && !md_coap_message_add_string_option (msg, MD_COAP_OPTION_URI_QUERY, opt_query))
      || (opt_pad > 0
          && !md_coap_message_add_option (msg, MD_PROTOCOL_OPTION_PADDING, padding,
                                          (gsize)MIN (opt_pad, 256))))
    return -1;
  return md_coap_encode (msg, out, size, NULL);
}

/* A socket that sends to @group out of @ifname. */
static int
open_socket (const char *group, const char *ifname, struct sockaddr_storage *to, socklen_t *to_len)
{
  unsigned index = if_nametoindex (ifname);
  struct sockaddr_in *v4 = (struct sockaddr_in *)to;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)to;
  int fd;

  memset (to, 0, sizeof *to);
  if (inet_pton (AF_INET, group, &v4->sin_addr) == 1)
    {
      struct ip_mreqn req = { .imr_ifindex = (int)index };

      v4->sin_family = AF_INET;
      v4->sin_port = htons (MD_PROTOCOL_PORT);
      *to_len = sizeof *v4;
      fd = socket (AF_INET, SOCK_DGRAM, 0);
      if (fd >= 0)
        setsockopt (fd, IPPROTO_IP, IP_MULTICAST_IF, &req, sizeof req);
      return fd;
    }
  if (inet_pton (AF_INET6, group, &v6->sin6_addr) != 1)
    return -1;
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons (MD_PROTOCOL_PORT);
  v6->sin6_scope_id = index;
  *to_len = sizeof *v6;
  fd = socket (AF_INET6, SOCK_DGRAM, 0);
  if (fd >= 0)
    setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
  return fd;
}

static void
print_answer (const struct sockaddr_storage *from, const guint8 *data, gssize len,
              gssize request_len)
{
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GString) line = g_string_new (NULL);
  char host[INET6_ADDRSTRLEN] = "?";
  char code[5] = "?";
  guint port;

  if (from->ss_family == AF_INET)
    {
      const struct sockaddr_in *v4 = (const struct sockaddr_in *)from;

      inet_ntop (AF_INET, &v4->sin_addr, host, sizeof host);
      port = ntohs (v4->sin_port);
    }
  else
    {
      const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)from;

      inet_ntop (AF_INET6, &v6->sin6_addr, host, sizeof host);
      port = ntohs (v6->sin6_port);
    }
  g_string_append_printf (line, "from=%s:%u request=%" G_GSSIZE_FORMAT " answer=%" G_GSSIZE_FORMAT,
                          host, port, request_len, len);
  if (md_coap_parse (data, (gsize)len, msg, NULL))
    {
      md_coap_code_format (msg->code, code);
      g_string_append_printf (line, " type=%s code=%s payload=", md_coap_type_to_string (msg->type),
                              code);
      md_terminal_append_safe (line, (const char *)msg->payload, msg->payload_len,
                               MD_TERMINAL_NONE);
    }
  else
    g_string_append (line, " unparsable");
  g_print ("%s\n", line->str);
}

static int
probe (const char *group, const char *ifname)
{
  struct sockaddr_storage to;
  socklen_t to_len = 0;
  guint8 request[MD_COAP_MAX_DATAGRAM];
  gssize request_len = build_request (request, sizeof request);
  int fd = open_socket (group, ifname, &to, &to_len);
  gint64 deadline = g_get_monotonic_time () + (gint64)opt_window_ms * 1000;

  if (fd < 0 || request_len < 0)
    {
      g_printerr ("md-probe: cannot send to %s on %s\n", group, ifname);
      return 2;
    }
  if (sendto (fd, request, (gsize)request_len, 0, (struct sockaddr *)&to, to_len) < 0)
    {
      g_printerr ("md-probe: sendto: %s\n", g_strerror (errno));
      return 2;
    }
  for (gint64 now = g_get_monotonic_time (); now < deadline; now = g_get_monotonic_time ())
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      guint8 answer[MD_COAP_MAX_DATAGRAM];
      gssize len;

      if (poll (&pfd, 1, (int)((deadline - now) / 1000) + 1) <= 0)
        continue;
      len = recvfrom (fd, answer, sizeof answer, 0, (struct sockaddr *)&from, &from_len);
      if (len >= 0)
        print_answer (&from, answer, len, request_len);
    }
  close (fd);
  return 0;
}

int
main (int argc, char **argv)
{
  const GOptionEntry entries[] = {
    { "con", 0, 0, G_OPTION_ARG_NONE, &opt_con, "Send a CON (default NON)", NULL },
    { "query", 0, 0, G_OPTION_ARG_STRING, &opt_query, "One Uri-Query", "Q" },
    { "path", 0, 0, G_OPTION_ARG_STRING, &opt_path, "Uri-Path (default .well-known/core)", "P" },
    { "pad", 0, 0, G_OPTION_ARG_INT, &opt_pad, "Bytes of padding option", "N" },
    { "window-ms", 0, 0, G_OPTION_ARG_INT, &opt_window_ms, "How long to collect", "MS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("GROUP IFNAME");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 3)
    {
      g_printerr ("md-probe: %s\n", error != NULL ? error->message : "GROUP IFNAME expected");
      return 2;
    }
  return probe (argv[1], argv[2]);
}
