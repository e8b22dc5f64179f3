#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "md-client-add.h"
#include "md-error.h"
#include "md-note.h"
#include "md-outbox.h"
#include <string.h>
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
  g_autoptr (GAsyncResult) result = NULL;

  md_client_add_note_async (client, key, text, len, NULL, md_ctl_keep_result, &result);
  return md_client_add_note_finish (client, md_ctl_wait (&result), id, error);
}

void
md_ctl_adder_free (MdCtlAdder *adder)
{
  if (adder == NULL)
    return;
  g_clear_pointer (&adder->client, md_client_unref);
  g_clear_pointer (&adder->outbox, md_outbox_free);
  g_free (adder->server);
  g_free (adder);
}

/* Queued notes go first, so the server stores notes in the order they were
 * written.  An empty outbox costs no request; a server that does not answer
 * here is not asked again for each note: they are queued at once. */
static void
flush_first (MdCtlAdder *adder)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *notebook = NULL;

  if (adder->outbox == NULL || md_outbox_is_empty (adder->outbox))
    return;
  if (md_ctl_learn_notebook (adder->client, &notebook, NULL, &error)
      && md_ctl_flush_outbox (adder->client, adder->outbox, adder->server, notebook, NULL, &error))
    return;
  if (md_ctl_is_no_answer (error))
    adder->unreachable = TRUE;
  else
    md_ctl_print_error ("%s", error->message);
}

MdCtlAdder *
md_ctl_adder_new (MdCtlOptions *options, GError **error)
{
  g_autoptr (MdCtlAdder) adder = g_new0 (MdCtlAdder, 1);

  adder->client = md_ctl_connect (options, error);
  if (adder->client == NULL)
    return NULL;
  adder->server = md_ctl_server_name (options->server);
  adder->outbox = md_ctl_open_outbox ();
  adder->queue = !options->no_queue && adder->outbox != NULL;
  flush_first (adder);
  return g_steal_pointer (&adder);
}

static int
queue_note (MdCtlAdder *adder, const char *key, const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;

  adder->unreachable = TRUE;
  if (!md_ctl_queue_note (adder->outbox, adder->server, key, text, len, &error))
    {
      md_ctl_print_error ("%s", error->message);
      return MD_CTL_EXIT_NO_ANSWER;
    }
  return MD_CTL_EXIT_QUEUED;
}

int
md_ctl_adder_add (MdCtlAdder *adder, const char *key, const char *text, gsize len, guint64 *id)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *random_key = key == NULL ? g_uuid_string_random () : NULL;

  if (key == NULL)
    key = random_key;
  if (adder->unreachable && adder->queue && md_note_validate (text, len, NULL))
    return queue_note (adder, key, text, len);
  if (add_note (adder->client, key, text, len, id, &error))
    {
      adder->unreachable = FALSE;
      return MD_CTL_EXIT_OK;
    }
  if (md_ctl_is_no_answer (error) && adder->queue)
    return queue_note (adder, key, text, len);
  return md_ctl_fail (error);
}

static int
add_text (MdCtlOptions *options, const char *key, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCtlAdder) adder = md_ctl_adder_new (options, &error);
  guint64 id = 0;
  int status;

  if (adder == NULL)
    return md_ctl_fail (error);
  status = md_ctl_adder_add (adder, key, text, strlen (text), &id);
  if (status == MD_CTL_EXIT_OK)
    print_added (id);
  return status;
}

static void
strip_line_end (char *line, gsize *len)
{
  if (*len > 0 && line[*len - 1] == '\n')
    line[--*len] = '\0';
  if (*len > 0 && line[*len - 1] == '\r')
    line[--*len] = '\0';
}

/* The exit status of a run of lines: a refusal (1) outweighs queueing (75),
 * which outweighs success. */
static int
worse_status (int status, int line_status)
{
  if (status == MD_CTL_EXIT_OK || line_status == MD_CTL_EXIT_REJECTED)
    return line_status;
  return status;
}

/* One note per line, in order, each stored before the next is sent.  A
 * rejected line does not stop the rest; once the server stops answering,
 * the rest are queued (or, with --no-queue, the run stops). */
int
md_ctl_add_lines (MdCtlOptions *options, FILE *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCtlAdder) adder = md_ctl_adder_new (options, &error);
  g_autofree char *line = NULL;
  size_t size = 0;
  ssize_t read;
  int status = MD_CTL_EXIT_OK;

  if (adder == NULL)
    return md_ctl_fail (error);
  while ((read = getline (&line, &size, input)) >= 0)
    {
      gsize len = (gsize)read;
      guint64 id = 0;
      int line_status;

      strip_line_end (line, &len);
      if (len == 0)
        continue;
      line_status = md_ctl_adder_add (adder, NULL, line, len, &id);
      if (line_status == MD_CTL_EXIT_OK)
        print_added (id);
      status = worse_status (status, line_status);
      if (line_status != MD_CTL_EXIT_OK && line_status != MD_CTL_EXIT_REJECTED
          && line_status != MD_CTL_EXIT_QUEUED)
        return line_status;
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
    { "no-queue", 0, 0, G_OPTION_ARG_NONE, &options->no_queue,
      /* TRANSLATORS: help of "mydailyctl add --no-queue" */
      N_ ("Do not queue the note when the server does not answer: fail with status 2"), NULL },
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
