/* md-lossy-relay: a UDP relay for tests that makes the network as bad as UDP
 * allows.  It sits between clients and the daemon and, in both directions,
 * drops, duplicates, delays and reorders datagrams with probabilities set by
 * flags, and can add a fixed latency to every datagram (--latency-ms, for
 * benchmarks that need a LAN-like round trip).  Every random decision comes from one GRand seeded
 * by --seed, so a failing run can be repeated (up to the timing of the datagrams themselves).
 *
 * Each client address gets its own upstream socket, so the daemon sees one
 * peer per client and replies find their way back.  READY=1 goes to
 * $NOTIFY_SOCKET once the relay listens, and "listening on ADDR:PORT" to
 * stdout, so a test never has to guess when it is up. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define RELAY_MAX_DATAGRAM 65536
#define RELAY_MAX_CLIENTS 1024

typedef struct
{
  double drop;
  double duplicate;
  double reorder;
  guint delay_ms;
  guint latency_ms; /* added to every datagram, in order */
} Impairment;

typedef struct
{
  Impairment impairment;
  GRand *rand;
  int listen_fd;
  struct sockaddr_in upstream;
  GHashTable *clients; /* "addr:port" -> Client */
  GQueue in_transit;   /* Pending, oldest first, under --latency-ms */
  GSource *latency_source;
  guint64 forwarded, dropped, duplicated, delayed;
} Relay;

typedef struct
{
  Relay *relay;
  struct sockaddr_in addr; /* the client's address */
  int upstream_fd;         /* our socket towards the daemon for this client */
  guint source_id;
} Client;

typedef struct
{
  int fd;
  struct sockaddr_in to;
  GBytes *data;
  gint64 due; /* --latency-ms only */
} Pending;

static void
relay_send_now (int fd, const struct sockaddr_in *to, GBytes *data)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (sendto (fd, bytes, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof *to) < 0)
    g_debug ("sendto: %s", g_strerror (errno));
}

static gboolean
pending_fire (gpointer user_data)
{
  Pending *pending = user_data;

  relay_send_now (pending->fd, &pending->to, pending->data);
  g_bytes_unref (pending->data);
  g_free (pending);
  return G_SOURCE_REMOVE;
}

static void
relay_send_later (int fd, const struct sockaddr_in *to, GBytes *data, guint delay_ms)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->fd = fd;
  pending->to = *to;
  pending->data = g_bytes_ref (data);
  g_timeout_add (delay_ms, pending_fire, pending);
}

/* One latency for all: the queue is in due order, and one source with a
 * microsecond ready time sends what is due. */
static gboolean
latency_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  return callback (data);
}

static GSourceFuncs latency_funcs = { .dispatch = latency_dispatch };

static gboolean
latency_fire (gpointer user_data)
{
  Relay *self = user_data;
  gint64 now = g_get_monotonic_time ();
  Pending *pending;

  while ((pending = g_queue_peek_head (&self->in_transit)) != NULL && pending->due <= now)
    {
      g_queue_pop_head (&self->in_transit);
      relay_send_now (pending->fd, &pending->to, pending->data);
      g_bytes_unref (pending->data);
      g_free (pending);
    }
  g_source_set_ready_time (self->latency_source, pending != NULL ? pending->due : -1);
  return G_SOURCE_CONTINUE;
}

static void
relay_send_after_latency (Relay *self, int fd, const struct sockaddr_in *to, GBytes *data)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->fd = fd;
  pending->to = *to;
  pending->data = g_bytes_ref (data);
  pending->due = g_get_monotonic_time () + self->impairment.latency_ms * G_TIME_SPAN_MILLISECOND;
  if (self->latency_source == NULL)
    {
      self->latency_source = g_source_new (&latency_funcs, sizeof (GSource));
      g_source_set_callback (self->latency_source, latency_fire, self, NULL);
      g_source_attach (self->latency_source, NULL);
    }
  if (g_queue_is_empty (&self->in_transit))
    g_source_set_ready_time (self->latency_source, pending->due);
  g_queue_push_tail (&self->in_transit, pending);
}

/* One copy of a datagram: delayed (and so possibly overtaken) with the
 * reorder probability, sent at once otherwise. */
static void
relay_emit (Relay *self, int fd, const struct sockaddr_in *to, GBytes *data)
{
  if (self->impairment.delay_ms > 0 && g_rand_double (self->rand) < self->impairment.reorder)
    {
      self->delayed++;
      relay_send_later (fd, to, data,
                        g_rand_int_range (self->rand, 1, (gint32)self->impairment.delay_ms + 1));
      return;
    }
  if (self->impairment.latency_ms > 0)
    relay_send_after_latency (self, fd, to, data);
  else
    relay_send_now (fd, to, data);
}

static void
relay_forward (Relay *self, int fd, const struct sockaddr_in *to, GBytes *data)
{
  if (g_rand_double (self->rand) < self->impairment.drop)
    {
      self->dropped++;
      return;
    }
  self->forwarded++;
  relay_emit (self, fd, to, data);
  if (g_rand_double (self->rand) < self->impairment.duplicate)
    {
      self->duplicated++;
      relay_emit (self, fd, to, data);
    }
}

static GBytes *
receive_datagram (int fd, struct sockaddr_in *from)
{
  static guint8 buffer[RELAY_MAX_DATAGRAM];
  socklen_t from_len = sizeof *from;
  ssize_t n
      = recvfrom (fd, buffer, sizeof buffer, MSG_DONTWAIT, (struct sockaddr *)from, &from_len);

  if (n < 0)
    return NULL;
  return g_bytes_new (buffer, (gsize)n);
}

static gboolean
client_on_reply (gint fd, GIOCondition condition, gpointer user_data)
{
  Client *client = user_data;
  struct sockaddr_in from;
  g_autoptr (GBytes) data = NULL;

  while ((data = receive_datagram (fd, &from)) != NULL)
    {
      relay_forward (client->relay, client->relay->listen_fd, &client->addr, data);
      g_clear_pointer (&data, g_bytes_unref);
    }
  return G_SOURCE_CONTINUE;
}

static void
client_free (gpointer data)
{
  Client *client = data;

  g_source_remove (client->source_id);
  close (client->upstream_fd);
  g_free (client);
}

static Client *
relay_lookup_client (Relay *self, const struct sockaddr_in *from)
{
  char key[64];
  Client *client;

  g_snprintf (key, sizeof key, "%08x:%u", from->sin_addr.s_addr, from->sin_port);
  client = g_hash_table_lookup (self->clients, key);
  if (client != NULL || g_hash_table_size (self->clients) >= RELAY_MAX_CLIENTS)
    return client;

  client = g_new0 (Client, 1);
  client->relay = self;
  client->addr = *from;
  client->upstream_fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (client->upstream_fd < 0)
    g_error ("socket: %s", g_strerror (errno));
  client->source_id = g_unix_fd_add (client->upstream_fd, G_IO_IN, client_on_reply, client);
  g_hash_table_insert (self->clients, g_strdup (key), client);
  return client;
}

static gboolean
relay_on_request (gint fd, GIOCondition condition, gpointer user_data)
{
  Relay *self = user_data;
  struct sockaddr_in from;
  g_autoptr (GBytes) data = NULL;

  while ((data = receive_datagram (fd, &from)) != NULL)
    {
      Client *client = relay_lookup_client (self, &from);

      if (client != NULL)
        relay_forward (self, client->upstream_fd, &self->upstream, data);
      g_clear_pointer (&data, g_bytes_unref);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_ipv4 (const char *text, struct sockaddr_in *addr)
{
  g_autofree char *host = NULL;
  const char *colon = strrchr (text, ':');
  guint64 port;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    return FALSE;
  host = g_strndup (text, (gsize)(colon - text));
  memset (addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons ((guint16)port);
  return inet_pton (AF_INET, host, &addr->sin_addr) == 1;
}

static int
relay_bind (const struct sockaddr_in *addr)
{
  struct sockaddr_in bound;
  socklen_t len = sizeof bound;
  char text[INET_ADDRSTRLEN];
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  if (fd < 0 || bind (fd, (const struct sockaddr *)addr, sizeof *addr) < 0)
    {
      g_printerr ("md-lossy-relay: cannot listen: %s\n", g_strerror (errno));
      exit (1);
    }
  getsockname (fd, (struct sockaddr *)&bound, &len);
  inet_ntop (AF_INET, &bound.sin_addr, text, sizeof text);
  g_print ("listening on %s:%u\n", text, ntohs (bound.sin_port));
  fflush (stdout);
  return fd;
}

static gboolean
on_terminate (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen = NULL, *upstream = NULL;
  gint64 seed = 1;
  int delay_ms = 0;
  int latency_ms = 0;
  Relay self = { 0 };
  struct sockaddr_in listen_addr;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GOptionContext) context = g_option_context_new ("- lossy UDP relay for tests");
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address clients send to", "IPV4:PORT" },
    { "upstream", 0, 0, G_OPTION_ARG_STRING, &upstream, "The daemon's address", "IPV4:PORT" },
    { "drop", 0, 0, G_OPTION_ARG_DOUBLE, &self.impairment.drop, "Drop probability", "P" },
    { "duplicate", 0, 0, G_OPTION_ARG_DOUBLE, &self.impairment.duplicate, "Duplication probability",
      "P" },
    { "reorder", 0, 0, G_OPTION_ARG_DOUBLE, &self.impairment.reorder,
      "Probability that a datagram is held back (and so overtaken)", "P" },
    { "delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms, "Longest hold-back", "MS" },
    { "latency-ms", 0, 0, G_OPTION_ARG_INT, &latency_ms, "Fixed delay of every datagram", "MS" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of every random decision", "N" },
    { NULL },
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || listen == NULL || upstream == NULL
      || !parse_ipv4 (listen, &listen_addr) || !parse_ipv4 (upstream, &self.upstream)
      || delay_ms < 0 || latency_ms < 0)
    {
      g_printerr ("md-lossy-relay: %s\n",
                  error ? error->message : "need --listen=IPV4:PORT --upstream=IPV4:PORT");
      return 64;
    }
  self.impairment.delay_ms = (guint)delay_ms;
  self.impairment.latency_ms = (guint)latency_ms;
  self.rand = g_rand_new_with_seed ((guint32)seed);
  self.clients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, client_free);
  self.listen_fd = relay_bind (&listen_addr);
  g_unix_fd_add (self.listen_fd, G_IO_IN, relay_on_request, &self);
  g_unix_signal_add (SIGTERM, on_terminate, loop);
  g_unix_signal_add (SIGINT, on_terminate, loop);
  sd_notify (0, "READY=1");
  g_main_loop_run (loop);

  g_printerr ("md-lossy-relay: forwarded %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
              ", duplicated %" G_GUINT64_FORMAT ", held back %" G_GUINT64_FORMAT "\n",
              self.forwarded, self.dropped, self.duplicated, self.delayed);
  g_hash_table_unref (self.clients);
  g_rand_free (self.rand);
  close (self.listen_fd);
  return 0;
}
