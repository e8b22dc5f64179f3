#include "config.h"

#include "md-error.h"
#include "md-listen-named.h"

#include <unistd.h>

static void
test_dtls_spec (void)
{
  const char *cases[][2] = {
    { "127.0.0.1", "127.0.0.1:5684" },
    { "127.0.0.1:7", "127.0.0.1:7" },
    { "[::1]", "[::1]:5684" },
    { "[::1]:5684", "[::1]:5684" },
    { "localhost", "localhost:5684" },
    { ":5685", ":5685" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *spec = md_listen_dtls_spec (cases[i][0]);

      g_assert_cmpstr (spec, ==, cases[i][1]);
    }
}

static void
test_bound_apart (void)
{
  const char *plain[] = { "127.0.0.1:0", NULL };
  const char *dtls[] = { "127.0.0.1:0", "127.0.0.1:0", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) plain_fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) dtls_fds = g_array_new (FALSE, FALSE, sizeof (int));

  g_unsetenv ("LISTEN_FDS");
  g_assert_true (md_listen_open_named (plain, dtls, plain_fds, dtls_fds, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plain_fds->len, ==, 1);
  g_assert_cmpuint (dtls_fds->len, ==, 2);
  for (guint i = 0; i < plain_fds->len; i++)
    close (g_array_index (plain_fds, int, i));
  for (guint i = 0; i < dtls_fds->len; i++)
    close (g_array_index (dtls_fds, int, i));
}

static void
test_none (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) plain_fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) dtls_fds = g_array_new (FALSE, FALSE, sizeof (int));

  g_unsetenv ("LISTEN_FDS");
  g_assert_false (md_listen_open_named (NULL, NULL, plain_fds, dtls_fds, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/listen-named/dtls-spec", test_dtls_spec);
  g_test_add_func ("/listen-named/bound-apart", test_bound_apart);
  g_test_add_func ("/listen-named/none", test_none);
  return g_test_run ();
}
