#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "md-client-add.h"
#include "md-error.h"
#include "md-note.h"
#include "mydailyctl.h"

static void
print_added (guint64 id)
{
  g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);

  /* TRANSLATORS: %s is the number of the note */
  printf (_ ("added note %s\n"), id_text);
  fflush (stdout);
}

/* Stores one note, running the main loop until it is answered. */
static gboolean
add_note (MdClient *client, const char *key, const char *text, gsize len, guint64 *id,
          GError **error)
{
  g_autofree char *random_key = key == NULL ? g_uuid_string_random () : NULL;
  g_autoptr (GAsyncResult) result = NULL;

  md_client_add_note_async (client, key != NULL ? key : random_key, text, len, NULL,
                            md_ctl_keep_result, &result);
  return md_client_add_note_finish (client, md_ctl_wait (&result), id, error);
}

static int
add_text (MdCtlOptions *options, const char *key, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  guint64 id = 0;

  if (client == NULL || !add_note (client, key, text, strlen (text), &id, &error))
    return md_ctl_fail (error);
  print_added (id);
  return MD_CTL_EXIT_OK;
}

static void
strip_line_end (char *line, gsize *len)
{
  if (*len > 0 && line[*len - 1] == '\n')
    line[--*len] = '\0';
  if (*len > 0 && line[*len - 1] == '\r')
    line[--*len] = '\0';
}

/* One note per line, in order, each stored before the next is sent.  A
 * rejected line does not stop the rest; a server that does not answer does. */
int
md_ctl_add_lines (MdCtlOptions *options, FILE *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdClient) client = md_ctl_connect (options, &error);
  g_autofree char *line = NULL;
  size_t size = 0;
  ssize_t read;
  int status = MD_CTL_EXIT_OK;

  if (client == NULL)
    return md_ctl_fail (error);
  while ((read = getline (&line, &size, input)) >= 0)
    {
      gsize len = (gsize)read;
      guint64 id = 0;

      strip_line_end (line, &len);
      if (len == 0)
        continue;
      if (add_note (client, NULL, line, len, &id, &error))
        {
          print_added (id);
          continue;
        }
      status = md_ctl_fail (error);
      if (!g_error_matches (error, MD_ERROR, MD_ERROR_REJECTED)
          && !g_error_matches (error, MD_ERROR, MD_ERROR_INVALID_NOTE))
        return status;
      g_clear_error (&error);
    }
  return status;
}

int
md_ctl_add (MdCtlOptions *options, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  gboolean literal;
  const GOptionEntry entries[] = {
    { "key", 0, 0, G_OPTION_ARG_STRING, &key,
      /* TRANSLATORS: help of "mydailyctl add --key" */
      N_ ("Store the note under this UUID, so running the same command again never stores it "
          "twice"),
      "UUID" },
    { NULL },
  };

  context = md_ctl_option_context_new (
      "add",
      /* TRANSLATORS: the arguments of "mydailyctl add" */
      _ ("TEXT… | -"),
      _ ("Add a note: the words of TEXT joined with spaces, or with “-” one note "
         "per line of standard input."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!md_ctl_parse_options (context, "add", &argc, &argv))
    return MD_CTL_EXIT_USAGE;
  if (key != NULL && !md_note_key_is_valid (key, strlen (key)))
    return md_ctl_usage_error ("add", _ ("--key needs a UUID, as uuidgen prints"));
  /* GOption leaves the "--" that lets a note start with a dash. */
  literal = argc > 1 && g_str_equal (argv[1], "--");
  if (literal)
    {
      argv[1] = argv[0];
      argc--;
      argv++;
    }
  if (argc < 2)
    return md_ctl_usage_error ("add", _ ("no text given"));
  if (argc == 2 && !literal && g_str_equal (argv[1], "-"))
    {
      if (key != NULL)
        return md_ctl_usage_error ("add", _ ("--key names one note; it does not go with “-”"));
      return md_ctl_add_lines (options, stdin);
    }
  text = g_strjoinv (" ", argv + 1);
  return add_text (options, key, text);
}
