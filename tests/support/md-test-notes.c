#include "config.h"

#include "md-test-daemon.h"

#include <string.h>

/* "ID TIME KEY AUTHOR TEXT"; records from before authors have no AUTHOR. */
#define RECORD_FIELDS 5
#define OLD_RECORD_FIELDS 4

static void
record_free (MdTestRecord *record)
{
  g_free (record->time);
  g_free (record->key);
  g_free (record->author);
  g_free (record->text);
  g_free (record);
}

static MdTestRecord *
parse_record (const char *line, guint line_number, GError **error)
{
  g_auto (GStrv) fields = g_strsplit (line, "\t", -1);
  guint n_fields = g_strv_length (fields);
  gboolean old = n_fields == OLD_RECORD_FIELDS;
  MdTestRecord *record;
  guint64 id = 0;

  if ((n_fields != RECORD_FIELDS && !old)
      || !g_ascii_string_to_unsigned (fields[0], 10, 1, G_MAXUINT64, &id, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "notes line %u is not \"ID\\tTIME\\tKEY\\tAUTHOR\\tTEXT\": \"%s\"", line_number,
                   line);
      return NULL;
    }
  record = g_new0 (MdTestRecord, 1);
  record->id = id;
  record->time = g_strdup (fields[1]);
  record->key = g_strdup (fields[2]);
  record->author = g_strdup (old ? "-" : fields[3]);
  record->text = g_strdup (fields[old ? 3 : 4]);
  return record;
}

GPtrArray *
md_test_read_notes (const char *path, gboolean *torn_tail, GError **error)
{
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify)record_free);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) local_error = NULL;
  guint n;

  g_return_val_if_fail (path != NULL, NULL);
  if (torn_tail != NULL)
    *torn_tail = FALSE;
  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&records);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  lines = g_strsplit (contents, "\n", -1);
  n = g_strv_length (lines);
  /* The piece after the last '\n' is empty unless the tail is torn. */
  if (torn_tail != NULL)
    *torn_tail = n > 0 && *lines[n - 1] != '\0';
  for (guint i = 0; i + 1 < n; i++)
    {
      MdTestRecord *record = parse_record (lines[i], i + 1, error);

      if (record == NULL)
        return NULL;
      g_ptr_array_add (records, record);
    }
  return g_steal_pointer (&records);
}

char *
md_test_records_to_wire (GPtrArray *records)
{
  GString *wire = g_string_new (NULL);

  g_return_val_if_fail (records != NULL, NULL);
  for (guint i = 0; i < records->len; i++)
    {
      MdTestRecord *record = records->pdata[i];

      g_string_append_printf (wire, "%" G_GUINT64_FORMAT "\t%s\t%s\t%s\n", record->id, record->time,
                              record->author, record->text);
    }
  return g_string_free (wire, FALSE);
}

GPtrArray *
md_test_read_complete_notes (const char *path)
{
  g_autoptr (GError) error = NULL;
  gboolean torn = TRUE;
  GPtrArray *records = md_test_read_notes (path, &torn, &error);

  g_assert_no_error (error);
  g_assert_false (torn);
  return records;
}
