#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "md-discover.h"
#include "md-terminal.h"
#include "mydailyctl.h"

/* The credentials `mydailyctl login` stored, read once; a file that is
 * refused (mode, a bad line) counts as none here, since discover uses no
 * key: commands that do use one say why. */
static MdCredentials *
stored_credentials (void)
{
  static MdCredentials *credentials;

  if (credentials == NULL)
    {
      g_autofree char *path = md_credentials_get_path ();
      g_autoptr (GError) error = NULL;

      credentials = md_credentials_load (path, &error);
      if (credentials == NULL)
        {
          g_debug ("credentials: %s", error->message);
          credentials = md_credentials_new ();
        }
    }
  return credentials;
}

/* Whether the user holds a key for @found's notebook: by its identity, so
 * a notebook that moved keeps its key, else by its DTLS address. */
static gboolean
holds_key (const MdDiscovered *found)
{
  return md_ctl_credential_for (stored_credentials (), found) != NULL;
}

static char *
describe_access (const MdDiscovered *found)
{
  if (found->link.coaps_port != 0)
    /* TRANSLATORS: the ACCESS column of "mydailyctl discover": DTLS on a port */
    return g_strdup_printf (_ ("dtls:%u"), found->link.coaps_port);
  /* TRANSLATORS: the ACCESS column of "mydailyctl discover": no DTLS */
  return g_strdup (_ ("plain"));
}

/* Pads @text (already safe) to @width characters. */
static void
append_cell (GString *line, const char *text, glong width)
{
  g_string_append (line, text);
  for (glong n = g_utf8_strlen (text, -1); n < width; n++)
    g_string_append_c (line, ' ');
  g_string_append (line, "  ");
}

static char *
safe_name (const MdDiscovered *found)
{
  return md_terminal_dup_safe (found->link.name[0] != '\0' ? found->link.name : "-", -1,
                               MD_TERMINAL_NONE);
}

/* Entries are sorted by identity, best address first (md-discover.h): a
 * notebook that answered on several addresses shows on one line, with the
 * address it would be used at. */
static gboolean
is_same_notebook (GPtrArray *found, guint i)
{
  const MdDiscovered *f = g_ptr_array_index (found, i);

  return i > 0 && f->link.notebook[0] != '\0'
         && strcmp (f->link.notebook,
                    ((const MdDiscovered *)g_ptr_array_index (found, i - 1))->link.notebook)
                == 0;
}

static void
print_table (GPtrArray *found)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) line = g_string_new (NULL);
  glong name_width = g_utf8_strlen (_ ("NAME"), -1);
  glong host_width = g_utf8_strlen (_ ("ADDRESS"), -1);

  for (guint i = 0; i < found->len; i++)
    {
      MdDiscovered *f = g_ptr_array_index (found, i);
      char *name = safe_name (f);

      g_ptr_array_add (names, name);
      name_width = MAX (name_width, g_utf8_strlen (name, -1));
      host_width = MAX (host_width, (glong)strlen (f->host));
    }
  /* TRANSLATORS: column headings of "mydailyctl discover" */
  append_cell (line, _ ("NAME"), name_width);
  append_cell (line, _ ("ADDRESS"), host_width);
  append_cell (line, _ ("NOTEBOOK"), MD_NOTES_LINK_UUID_LEN);
  append_cell (line, _ ("ACCESS"), 10);
  g_string_append (line, _ ("KEY"));
  printf ("%s\n", line->str);
  for (guint i = 0; i < found->len; i++)
    {
      MdDiscovered *f = g_ptr_array_index (found, i);
      g_autofree char *access = describe_access (f);

      if (is_same_notebook (found, i))
        continue;
      g_string_truncate (line, 0);
      append_cell (line, g_ptr_array_index (names, i), name_width);
      append_cell (line, f->host, host_width);
      append_cell (line, f->link.notebook[0] != '\0' ? f->link.notebook : "-",
                   MD_NOTES_LINK_UUID_LEN);
      append_cell (line, access, 10);
      g_string_append (line, holds_key (f) ? _ ("yes") : _ ("no"));
      printf ("%s\n", line->str);
    }
}

static void
add_member (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
print_json_line (const MdDiscovered *found)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *server = md_discovered_server (found);
  g_autofree char *json = NULL;
  g_autofree char *safe = NULL;

  json_builder_begin_object (builder);
  add_member (builder, "name", found->link.name);
  add_member (builder, "address", found->host);
  add_member (builder, "server", server);
  add_member (builder, "notebook", found->link.notebook);
  json_builder_set_member_name (builder, "coaps_port");
  json_builder_add_int_value (builder, found->link.coaps_port);
  json_builder_set_member_name (builder, "key");
  json_builder_add_boolean_value (builder, holds_key (found));
  json_builder_set_member_name (builder, "dns_sd");
  json_builder_add_boolean_value (builder, (found->via & MD_DISCOVERED_DNS_SD) != 0);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);
  /* As history -o json: C1 and bidi controls become \uXXXX, still JSON. */
  safe = md_terminal_dup_safe (json, -1, MD_TERMINAL_NONE);
  printf ("%s\n", safe);
}

static int
print_found (GPtrArray *found, gboolean json)
{
  if (found->len == 0)
    {
      md_ctl_print_error ("%s", _ ("no notebook answered on the LAN"));
      return MD_CTL_EXIT_NO_ANSWER;
    }
  if (json)
    for (guint i = 0; i < found->len; i++)
      print_json_line (g_ptr_array_index (found, i));
  else
    print_table (found);
  return fflush (stdout) == 0 ? MD_CTL_EXIT_OK : MD_CTL_EXIT_REJECTED;
}

int
md_ctl_discover (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *output = NULL;
  double wait_s = MD_DISCOVER_DEFAULT_WINDOW_MS / 1000.0;
  const GOptionEntry entries[] = {
    { "wait", 'w', 0, G_OPTION_ARG_DOUBLE, &wait_s,
      /* TRANSLATORS: help of "discover --wait" */
      N_ ("How long to collect answers, in seconds (default 1.5)"), N_ ("SECONDS") },
    { "output", 'o', 0, G_OPTION_ARG_STRING, &output,
      /* TRANSLATORS: help of "discover -o"; table and json are not translated */
      N_ ("Output format: table (default) or json"), N_ ("FORMAT") },
    { NULL },
  };

  context = md_ctl_option_context_new (
      "discover", NULL,
      _ ("List the notebooks on the LAN: each answers a CoAP multicast request "
         "(224.0.1.187, ff02::fd) with its name, address, identity and whether it offers DTLS."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!md_ctl_parse_options (context, "discover", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (argc > 1)
    return md_ctl_usage_error ("discover", _ ("unexpected argument “%s”"), argv[1]);
  if (!(wait_s > 0 && wait_s * 1000 <= MD_DISCOVER_MAX_WINDOW_MS))
    return md_ctl_usage_error ("discover", _ ("--wait needs a number of seconds between 0 and 60"));
  if (output != NULL && !g_str_equal (output, "table") && !g_str_equal (output, "json"))
    return md_ctl_usage_error ("discover", _ ("unknown output format “%s”; use table or json"),
                               output);
  md_discover_async ((guint)(wait_s * 1000), options->cancellable, md_ctl_keep_result, &result);
  found = md_discover_finish (md_ctl_wait (&result), &error);
  if (found == NULL)
    return md_ctl_fail (error);
  return print_found (found, output != NULL && g_str_equal (output, "json"));
}
