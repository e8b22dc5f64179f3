#include "config.h"

#include "md-dnssd.h"

#include "md-protocol.h"

#include <net/if.h>
#include <string.h>

#define AVAHI_NAME "org.freedesktop.Avahi"
#define AVAHI_SERVER "org.freedesktop.Avahi.Server"
#define AVAHI_BROWSER "org.freedesktop.Avahi.ServiceBrowser"
/* AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC */
#define AVAHI_ANY (-1)
/* Services resolved at most: a LAN full of announcements stays bounded. */
#define MD_DNSSD_MAX MD_DISCOVER_MAX_FOUND

typedef struct _MdDnssd MdDnssdRef;

struct _MdDnssd
{
  GCancellable *cancellable; /* ours, cancelled by the caller's too */
  gulong caller_cancel_id;
  GCancellable *caller;
  GDBusConnection *bus;
  guint item_new_id;
  GPtrArray *browsers; /* object paths of our browsers */
  GPtrArray *found;    /* of MdDiscovered */
  guint resolving;
};

static void dnssd_clear (MdDnssd *self);

/* Every pending call and the subscription hold a reference, so a late
 * callback never finds the object freed. */
static MdDnssd *
dnssd_ref (MdDnssd *self)
{
  return g_rc_box_acquire (self);
}

static void
dnssd_unref (gpointer self)
{
  g_rc_box_release_full (self, (GDestroyNotify)dnssd_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdDnssdRef, dnssd_unref)

static void
on_resolved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MdDnssdRef) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *name, *type, *address;
  char ifname[IF_NAMESIZE];
  MdDiscovered *found;
  gint32 iface;
  guint16 port;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      self->resolving--;
      return;
    }
  self->resolving--;
  g_variant_get (reply, "(ii&s&s&s&si&sqaayu)", &iface, NULL, &name, &type, NULL, NULL, NULL,
                 &address, &port, NULL, NULL);
  if (self->found->len >= MD_DNSSD_MAX || !md_notes_link_name_is_valid (name))
    return;
  found = g_new0 (MdDiscovered, 1);
  found->via = MD_DISCOVERED_DNS_SD;
  /* A link-local address needs its interface, as in a CoAP answer. */
  if (g_ascii_strncasecmp (address, "fe80:", 5) == 0 && iface > 0
      && if_indextoname ((unsigned)iface, ifname) != NULL)
    found->host = g_strdup_printf ("%s%%%s", address, ifname);
  else
    found->host = g_strdup (address);
  found->link.name = g_strdup (name);
  if (strcmp (type, MD_PROTOCOL_DNSSD_COAPS) == 0)
    found->link.coaps_port = port;
  else
    found->port = port;
  g_ptr_array_add (self->found, found);
}

/* ItemNew(interface, protocol, name, type, domain, flags) of any browser:
 * subscribed before the browsers exist, so none is missed. */
static void
on_item_new (GDBusConnection *bus, const char *sender, const char *path, const char *interface,
             const char *signal, GVariant *parameters, gpointer user_data)
{
  MdDnssd *self = user_data;
  gint32 iface, protocol;
  const char *name, *type, *domain;

  if (g_cancellable_is_cancelled (self->cancellable)
      || !g_ptr_array_find_with_equal_func (self->browsers, path, g_str_equal, NULL)
      || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(iisssu)"))
      || self->resolving + self->found->len >= MD_DNSSD_MAX)
    return;
  g_variant_get (parameters, "(ii&s&s&su)", &iface, &protocol, &name, &type, &domain, NULL);
  self->resolving++;
  g_dbus_connection_call (
      bus, AVAHI_NAME, "/", AVAHI_SERVER, "ResolveService",
      g_variant_new ("(iisssiu)", iface, protocol, name, type, domain, AVAHI_ANY, 0),
      G_VARIANT_TYPE ("(iissssisqaayu)"), G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
      on_resolved, dnssd_ref (self));
}

static void
on_browser (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MdDnssdRef) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  const char *path;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      g_debug ("Avahi: %s", error->message);
      return;
    }
  g_variant_get (reply, "(&o)", &path);
  g_ptr_array_add (self->browsers, g_strdup (path));
}

static void
browse (MdDnssd *self, const char *type)
{
  g_dbus_connection_call (self->bus, AVAHI_NAME, "/", AVAHI_SERVER, "ServiceBrowserNew",
                          g_variant_new ("(iissu)", AVAHI_ANY, AVAHI_ANY, type, "", 0),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          self->cancellable, on_browser, dnssd_ref (self));
}

static void
on_bus (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MdDnssdRef) self = user_data;
  g_autoptr (GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);

  if (bus == NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      g_debug ("no system bus for DNS-SD: %s", error != NULL ? error->message : "cancelled");
      g_clear_object (&bus);
      return;
    }
  self->bus = bus;
  self->item_new_id = g_dbus_connection_signal_subscribe (
      bus, AVAHI_NAME, AVAHI_BROWSER, "ItemNew", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_item_new,
      dnssd_ref (self), dnssd_unref);
  browse (self, MD_PROTOCOL_DNSSD_COAPS);
  browse (self, MD_PROTOCOL_DNSSD_COAP);
}

static void
on_caller_cancelled (GCancellable *caller, gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

MdDnssd *
md_dnssd_new (GCancellable *cancellable)
{
  MdDnssd *self = g_rc_box_new0 (MdDnssd);

  self->cancellable = g_cancellable_new ();
  self->browsers = g_ptr_array_new_with_free_func (g_free);
  self->found = g_ptr_array_new_with_free_func ((GDestroyNotify)md_discovered_free);
  if (cancellable != NULL)
    {
      self->caller = g_object_ref (cancellable);
      self->caller_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                      self->cancellable, NULL);
    }
  /* No avahi-daemon is the common case on a small LAN host: not an error. */
  if (g_getenv ("DBUS_SYSTEM_BUS_ADDRESS") != NULL
      || g_file_test ("/run/dbus/system_bus_socket", G_FILE_TEST_EXISTS))
    g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, on_bus, dnssd_ref (self));
  return self;
}

static void
free_browser (gpointer path, gpointer bus)
{
  g_dbus_connection_call (bus, AVAHI_NAME, path, AVAHI_BROWSER, "Free", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

void
md_dnssd_finish (MdDnssd *self, GPtrArray *list)
{
  g_return_if_fail (self != NULL && list != NULL);

  g_cancellable_cancel (self->cancellable);
  while (self->found->len > 0)
    md_discovered_add (list, g_ptr_array_steal_index (self->found, self->found->len - 1));
}

static void
dnssd_clear (MdDnssd *self)
{
  g_clear_object (&self->bus);
  g_ptr_array_unref (self->browsers);
  g_ptr_array_unref (self->found);
  g_object_unref (self->cancellable);
}

void
md_dnssd_free (MdDnssd *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  if (self->caller_cancel_id != 0)
    g_cancellable_disconnect (self->caller, self->caller_cancel_id);
  g_clear_object (&self->caller);
  if (self->bus != NULL)
    {
      g_ptr_array_foreach (self->browsers, free_browser, self->bus);
      g_dbus_connection_signal_unsubscribe (self->bus, self->item_new_id);
    }
  dnssd_unref (self);
}
