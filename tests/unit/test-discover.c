/* The client's side of discovery that needs no LAN (md-discover.h): the
 * request's size, and the list of what answered. */
#include "config.h"

#include "md-coap.h"
#include "md-discover.h"
#include "md-protocol.h"

#include <string.h>

#define UUID_A "0b2c6a4e-1f3d-4c5b-9a8e-7d6f5e4c3b2a"
#define UUID_B "1b2c6a4e-1f3d-4c5b-9a8e-7d6f5e4c3b2a"

/* Three times the request holds the longest link the daemon writes. */
static void
test_request_size (void)
{
  static const guint8 token[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  g_autofree gchar *name = g_strnfill (MD_PROTOCOL_NAME_MAX, 'n');
  MdNotesLink link = { .name = name, .coaps_port = 65535 };
  g_autofree gchar *text = NULL;
  g_autofree MdCoapMessage *msg = g_new0 (MdCoapMessage, 1);
  g_autoptr (GBytes) request = NULL;
  g_autofree gchar *query = NULL;
  gsize len;
  const guint8 *data;
  /* Header, token, Content-Format 40, payload marker. */
  gsize answer_overhead = 4 + 8 + 2 + 1;

  memset (link.notebook, 'a', MD_NOTES_LINK_UUID_LEN);
  text = md_notes_link_format (&link, G_MAXSIZE);
  for (gsize min_len = 0; min_len <= 80; min_len++)
    {
      g_clear_pointer (&request, g_bytes_unref);
      request = md_discover_build_request (token, min_len);
      g_assert_nonnull (request);
      g_assert_cmpuint (g_bytes_get_size (request), >=, min_len);
      g_assert_cmpuint (g_bytes_get_size (request), <=, MAX (min_len + 1, 50));
    }
  g_clear_pointer (&request, g_bytes_unref);
  request = md_discover_build_request (token, 72);
  data = g_bytes_get_data (request, &len);
  g_assert_cmpuint (3 * len, >=, strlen (text) + answer_overhead);
  g_assert_true (md_coap_parse (data, len, msg, NULL));
  g_assert_cmpint (msg->type, ==, MD_COAP_TYPE_NON);
  query = md_coap_message_get_query (msg, "rt");
  g_assert_cmpstr (query, ==, "mydaily.notes");
}

static MdDiscovered *
found (const char *notebook, const char *name, const char *host, MdDiscoveredVia via)
{
  MdDiscovered *f = g_new0 (MdDiscovered, 1);

  g_strlcpy (f->link.notebook, notebook, sizeof f->link.notebook);
  f->link.name = g_strdup (name);
  f->host = g_strdup (host);
  f->port = MD_PROTOCOL_PORT;
  f->via = via;
  return f;
}

static void
test_list (void)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify)md_discovered_free);
  g_autofree char *server = NULL;

  md_discovered_add (list, found (UUID_B, "beta", "fe80::1%eth0", MD_DISCOVERED_COAP));
  md_discovered_add (list, found (UUID_B, "beta", "10.0.0.2", MD_DISCOVERED_COAP));
  md_discovered_add (list, found (UUID_A, "alpha", "10.0.0.1", MD_DISCOVERED_COAP));
  md_discovered_add (list, found (UUID_A, "alpha", "10.0.0.1", MD_DISCOVERED_DNS_SD));
  md_discovered_add (list, found (UUID_B, "beta", "2001:db8::2", MD_DISCOVERED_COAP));
  g_assert_cmpuint (list->len, ==, 4);
  g_assert_cmpstr (((MdDiscovered *)list->pdata[0])->host, ==, "10.0.0.1");
  g_assert_cmpuint (((MdDiscovered *)list->pdata[0])->via, ==,
                    MD_DISCOVERED_COAP | MD_DISCOVERED_DNS_SD);
  g_assert_cmpstr (((MdDiscovered *)list->pdata[1])->host, ==, "10.0.0.2");
  g_assert_cmpstr (((MdDiscovered *)list->pdata[2])->host, ==, "2001:db8::2");
  g_assert_cmpstr (((MdDiscovered *)list->pdata[3])->host, ==, "fe80::1%eth0");
  server = md_discovered_server (list->pdata[3]);
  g_assert_cmpstr (server, ==, "[fe80::1%eth0]:5683");
  for (guint i = 0; i < 2 * MD_DISCOVER_MAX_FOUND; i++)
    {
      g_autofree char *host = g_strdup_printf ("10.1.%u.%u", i / 200, i % 200);

      md_discovered_add (list, found (UUID_A, "alpha", host, MD_DISCOVERED_COAP));
    }
  g_assert_cmpuint (list->len, ==, MD_DISCOVER_MAX_FOUND);
}

/* A DNS-SD announcement has no identity: it merges with the CoAP answer of
 * its host, whichever comes first, and stays alone otherwise. */
static void
test_dnssd_merge (void)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify)md_discovered_free);
  MdDiscovered *announced = found ("", "mydaily on a", "10.0.0.1", MD_DISCOVERED_DNS_SD);
  MdDiscovered *alone = found ("", "mydaily on c", "10.0.0.3", MD_DISCOVERED_DNS_SD);
  g_autofree char *server = NULL;
  MdDiscovered *f;

  announced->port = 0;
  announced->link.coaps_port = 5684;
  alone->port = 0;
  alone->link.coaps_port = 5684;
  md_discovered_add (list, announced);
  md_discovered_add (list, alone);
  md_discovered_add (list, found (UUID_A, "alpha", "10.0.0.1", MD_DISCOVERED_COAP));
  g_assert_cmpuint (list->len, ==, 2);
  f = list->pdata[0];
  g_assert_cmpstr (f->link.notebook, ==, UUID_A);
  g_assert_cmpstr (f->link.name, ==, "alpha");
  g_assert_cmpuint (f->link.coaps_port, ==, 5684);
  g_assert_cmpuint (f->port, ==, MD_PROTOCOL_PORT);
  g_assert_cmpuint (f->via, ==, MD_DISCOVERED_COAP | MD_DISCOVERED_DNS_SD);
  f = list->pdata[1];
  g_assert_cmpstr (f->link.notebook, ==, "");
  server = md_discovered_server (f);
  g_assert_cmpstr (server, ==, "coaps://10.0.0.3:5684");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/discover/request-size", test_request_size);
  g_test_add_func ("/discover/list", test_list);
  g_test_add_func ("/discover/dnssd-merge", test_dnssd_merge);
  return g_test_run ();
}
