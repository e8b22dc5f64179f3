#include "config.h"

#include "md-ctl-choice.h"

#include "md-notes-link.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define MD_CTL_CHOICE_GROUP "Notebook"
/* A file larger than this is not ours. */
#define MD_CTL_CHOICE_MAX 4096

void
md_ctl_choice_clear (MdCtlChoice *choice)
{
  g_return_if_fail (choice != NULL);

  g_clear_pointer (&choice->identity, g_free);
  g_clear_pointer (&choice->name, g_free);
  g_clear_pointer (&choice->server, g_free);
}

char *
md_ctl_choice_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "mydaily", "notebook", NULL);
}

static gboolean
is_valid (const MdCtlChoice *choice)
{
  return choice->identity != NULL
         && md_notes_link_uuid_is_valid (choice->identity, strlen (choice->identity))
         && choice->name != NULL
         && (choice->name[0] == '\0' || md_notes_link_name_is_valid (choice->name))
         && choice->server != NULL && choice->server[0] != '\0'
         && g_utf8_validate (choice->server, -1, NULL);
}

gboolean
md_ctl_choice_load (MdCtlChoice *choice)
{
  g_autofree char *path = md_ctl_choice_path ();
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (choice != NULL, FALSE);

  memset (choice, 0, sizeof *choice);
  if (!g_file_get_contents (path, &data, &len, NULL) || len > MD_CTL_CHOICE_MAX
      || !g_key_file_load_from_data (keyfile, data, len, G_KEY_FILE_NONE, NULL))
    return FALSE;
  choice->identity = g_key_file_get_string (keyfile, MD_CTL_CHOICE_GROUP, "Identity", NULL);
  choice->name = g_key_file_get_string (keyfile, MD_CTL_CHOICE_GROUP, "Name", NULL);
  choice->server = g_key_file_get_string (keyfile, MD_CTL_CHOICE_GROUP, "Server", NULL);
  if (is_valid (choice))
    return TRUE;
  g_debug ("%s does not check: ignored", path);
  md_ctl_choice_clear (choice);
  return FALSE;
}

gboolean
md_ctl_choice_save (const MdCtlChoice *choice, GError **error)
{
  g_autofree char *path = md_ctl_choice_path ();
  g_autofree char *directory = g_path_get_dirname (path);
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (choice != NULL && is_valid (choice), FALSE);

  if (g_mkdir_with_parents (directory, 0700) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s", directory,
                   g_strerror (saved_errno));
      return FALSE;
    }
  g_key_file_set_string (keyfile, MD_CTL_CHOICE_GROUP, "Identity", choice->identity);
  g_key_file_set_string (keyfile, MD_CTL_CHOICE_GROUP, "Name", choice->name);
  g_key_file_set_string (keyfile, MD_CTL_CHOICE_GROUP, "Server", choice->server);
  data = g_key_file_to_data (keyfile, &len, NULL);
  return g_file_set_contents_full (path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                   error);
}
