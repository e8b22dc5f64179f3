#include "config.h"

#include "md-listen.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* How long a subprocess test may take. */
#define SUBPROCESS_TIMEOUT_US (10 * G_USEC_PER_SEC)

/* ---- md_listen_split ---------------------------------------------------- */

typedef struct
{
  const char *spec;
  const char *host;
  const char *port;
} SplitCase;

static void
test_split_good (void)
{
  const SplitCase cases[] = {
    { "127.0.0.1:0", "127.0.0.1", "0" },
    { "127.0.0.1", "127.0.0.1", MD_LISTEN_DEFAULT_PORT },
    { "[::1]:5683", "::1", "5683" },
    { "[::1]", "::1", MD_LISTEN_DEFAULT_PORT },
    { "[fe80::1%lo]:7", "fe80::1%lo", "7" },
    { "localhost:65535", "localhost", "65535" },
    { "localhost", "localhost", MD_LISTEN_DEFAULT_PORT },
    { ":5683", "", "5683" },
    { "[]:5683", "", "5683" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *host = NULL;
      g_autofree char *port = NULL;

      g_test_message ("%s", cases[i].spec);
      g_assert_true (md_listen_split (cases[i].spec, &host, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, cases[i].host);
      g_assert_cmpstr (port, ==, cases[i].port);
    }
}

typedef struct
{
  const char *spec;
  const char *hint; /* a part of the message */
} BadCase;

static void
test_split_bad (void)
{
  const BadCase cases[] = {
    { "::1:5683", "in brackets" },
    { "::", "in brackets" },
    { "[::1", "expected ADDR:PORT" },
    { "[::1]5683", "expected ADDR:PORT" },
    { "[::1]:", "expected ADDR:PORT" },
    { "127.0.0.1:", "expected ADDR:PORT" },
    { "127.0.0.1:65536", "expected ADDR:PORT" },
    { "127.0.0.1:-1", "expected ADDR:PORT" },
    { "127.0.0.1:0x10", "expected ADDR:PORT" },
    { "localhost:coap", "expected ADDR:PORT" },
    { "", "expected ADDR:PORT" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("bad --listen=%s: ", cases[i].spec);
      char *host = NULL;
      char *port = NULL;

      g_test_message ("%s", cases[i].spec);
      g_assert_false (md_listen_split (cases[i].spec, &host, &port, &error));
      g_assert_nonnull (error);
      g_assert_true (g_str_has_prefix (error->message, expected));
      g_assert_nonnull (strstr (error->message, cases[i].hint));
      g_assert_null (host);
      g_assert_null (port);
    }
}

/* ---- md_listen_bind ----------------------------------------------------- */

static void
close_all (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, 0);
}

static int
get_int_option (int fd, int level, int name)
{
  int value = -1;
  socklen_t len = sizeof value;

  g_assert_cmpint (getsockopt (fd, level, name, &value, &len), ==, 0);
  return value;
}

/* A bound datagram socket of @family that no child process inherits and
 * that never blocks the main loop. */
static void
assert_listening (int fd, int family)
{
  g_assert_cmpint (get_int_option (fd, SOL_SOCKET, SO_TYPE), ==, SOCK_DGRAM);
  g_assert_cmpint (get_int_option (fd, SOL_SOCKET, SO_DOMAIN), ==, family);
  g_assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  g_assert_true (fcntl (fd, F_GETFL) & O_NONBLOCK);
}

static void
test_bind_ipv4 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  char address[64];

  g_assert_true (md_listen_bind ("127.0.0.1:0", fds, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fds->len, ==, 1);
  assert_listening (g_array_index (fds, int, 0), AF_INET);
  md_listen_describe (g_array_index (fds, int, 0), address);
  g_assert_true (g_str_has_prefix (address, "127.0.0.1:"));
  g_assert_cmpstr (address, !=, "127.0.0.1:0");
  close_all (fds);
}

static gboolean
have_ipv6_loopback (void)
{
  struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  int fd = socket (AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  gboolean ok = fd >= 0 && bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0;

  if (fd >= 0)
    close (fd);
  return ok;
}

/* One socket per address: an IPv6 one must leave IPv4 to its own socket. */
static void
test_bind_ipv6 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  char address[64];
  int fd;

  if (!have_ipv6_loopback ())
    {
      g_test_skip ("IPv6 is not available on this host");
      return;
    }
  g_assert_true (md_listen_bind ("[::1]:0", fds, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fds->len, ==, 1);
  fd = g_array_index (fds, int, 0);
  assert_listening (fd, AF_INET6);
  g_assert_cmpint (get_int_option (fd, IPPROTO_IPV6, IPV6_V6ONLY), ==, 1);
  g_assert_true (g_str_has_prefix (md_listen_describe (fd, address), "[::1]:"));
  close_all (fds);
}

static void
test_bind_in_use (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *expected = NULL;
  char address[64];

  g_assert_true (md_listen_bind ("127.0.0.1:0", fds, &error));
  md_listen_describe (g_array_index (fds, int, 0), address);
  g_assert_false (md_listen_bind (address, fds, &error));
  g_assert_nonnull (error);
  expected = g_strdup_printf ("cannot listen on %s: ", address);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_cmpuint (fds->len, ==, 1);
  close_all (fds);
}

/* ---- md_listen_open ----------------------------------------------------- */

static void
test_open_none (void)
{
  const char *const none[] = { NULL };
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));

  g_unsetenv ("LISTEN_FDS");
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (md_listen_open (i == 0 ? NULL : none, fds, &error));
      g_assert_cmpstr (error->message, ==,
                       "no socket: pass --listen=ADDR:PORT or start via mydaily.socket");
      g_assert_cmpuint (fds->len, ==, 0);
    }
}

static void
test_open_each (void)
{
  const char *const specs[] = { "127.0.0.1:0", "127.0.0.1:0", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));

  g_unsetenv ("LISTEN_FDS");
  g_assert_true (md_listen_open (specs, fds, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fds->len, ==, 2);
  close_all (fds);
}

/* In a subprocess: a socket of @type at the first fd systemd passes, and the
 * environment that says so (sd_listen_fds(3)). */
static void
pass_socket (int type)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, type | SOCK_CLOEXEC, 0);
  g_autofree char *pid = g_strdup_printf ("%d", (int)getpid ());

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
  if (fd != SD_LISTEN_FDS_START)
    {
      g_assert_cmpint (dup2 (fd, SD_LISTEN_FDS_START), ==, SD_LISTEN_FDS_START);
      close (fd);
    }
  g_setenv ("LISTEN_PID", pid, TRUE);
  g_setenv ("LISTEN_FDS", "1", TRUE);
}

/* Runs the calling test again in a subprocess, since passing a socket as
 * systemd does changes this process's fds and environment.  TRUE in the
 * parent, once the child passed; FALSE in the child, which goes on. */
static gboolean
ran_in_subprocess (void)
{
  if (g_test_subprocess ())
    return FALSE;
  g_test_trap_subprocess (NULL, SUBPROCESS_TIMEOUT_US, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  return TRUE;
}

/* Sockets from systemd win over --listen, and the environment that passed
 * them is gone, so no child would take them for its own. */
static void
test_open_prefers_systemd (void)
{
  const char *const specs[] = { "127.0.0.1:0", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = NULL;

  if (ran_in_subprocess ())
    return;
  pass_socket (SOCK_DGRAM);
  fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_assert_true (md_listen_open (specs, fds, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fds->len, ==, 1);
  g_assert_cmpint (g_array_index (fds, int, 0), ==, SD_LISTEN_FDS_START);
  g_assert_null (g_getenv ("LISTEN_FDS"));
}

static void
test_adopt_rejects_stream (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) fds = NULL;

  if (ran_in_subprocess ())
    return;
  pass_socket (SOCK_STREAM);
  fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_assert_false (md_listen_open (NULL, fds, &error));
  g_assert_cmpstr (error->message, ==,
                   "file descriptor 3 from systemd is not an IPv4 or IPv6 UDP socket");
  g_assert_cmpuint (fds->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/listen/split/good", test_split_good);
  g_test_add_func ("/listen/split/bad", test_split_bad);
  g_test_add_func ("/listen/bind/ipv4", test_bind_ipv4);
  g_test_add_func ("/listen/bind/ipv6-only", test_bind_ipv6);
  g_test_add_func ("/listen/bind/in-use", test_bind_in_use);
  g_test_add_func ("/listen/open/none", test_open_none);
  g_test_add_func ("/listen/open/each", test_open_each);
  g_test_add_func ("/listen/open/prefers-systemd", test_open_prefers_systemd);
  g_test_add_func ("/listen/adopt/rejects-stream", test_adopt_rejects_stream);
  return g_test_run ();
}
