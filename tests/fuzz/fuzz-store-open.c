/* fuzz-store-open: arbitrary bytes as STATE/notes, then md_store_open.
 *
 * Opening must never crash.  When it opens, the file left on disk is a prefix
 * of what was there (only a torn tail may go), the whole /notes body reads
 * back as valid wire lines, one per record, and a note appended now is read
 * back by the next open. */
#include "config.h"

#include "fuzz-common.h"
#include "md-error.h"
#include "md-note.h"
#include "md-store.h"

#include <string.h>

/* Reads of the body in odd-sized pieces cross record boundaries. */
#define READ_PIECE 777
/* The author of the note appended after the open. */
#define AUTHOR "@127.0.0.1"

static const char *
state_dir (void)
{
  static const char *dir;
  static const char *const files[] = { "notes", "notebook-id", NULL };

  if (dir == NULL)
    dir = md_fuzz_make_state_dir (files);
  return dir;
}

static GByteArray *
read_body (MdStore *store, guint64 after)
{
  guint64 size = md_store_get_body_size (store, after);
  GByteArray *body = g_byte_array_sized_new ((guint)size);
  guint8 piece[READ_PIECE];

  /* Bounded by the size the store announced. */
  while (body->len < size)
    {
      g_autoptr (GError) error = NULL;
      gssize n = md_store_read_body (store, after, body->len, piece, sizeof piece, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      g_byte_array_append (body, piece, (guint)n);
    }
  g_assert_cmpuint (body->len, ==, size);
  return body;
}

/* The body is exactly the wire lines of notes 1..count, in order. */
static void
check_body (MdStore *store)
{
  g_autoptr (GByteArray) body = read_body (store, 0);
  guint64 count = md_store_get_count (store);
  gsize pos = 0;

  for (guint64 id = 1; id <= count; id++)
    {
      g_autoptr (GString) line = g_string_new (NULL);
      g_autoptr (GError) error = NULL;
      MdNoteLine note;

      g_assert_true (md_store_append_wire_line (store, id, line, &error));
      g_assert_no_error (error);
      g_assert_true (md_note_parse_wire_line (line->str, line->len, &note, NULL));
      g_assert_cmpuint (note.id, ==, id);
      g_assert_cmpuint (pos + line->len, <=, body->len);
      g_assert_cmpmem (body->data + pos, line->len, line->str, line->len);
      pos += line->len;
      /* ?after=N starts right after note N. */
      if (id == count / 2)
        {
          g_autoptr (GByteArray) tail = read_body (store, id);

          g_assert_cmpmem (tail->data, tail->len, body->data + pos, body->len - pos);
        }
    }
  g_assert_cmpuint (pos, ==, body->len);
}

static void
check_file_is_prefix (const char *path, const uint8_t *data, size_t size)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, <=, size);
  g_assert_cmpmem (contents, len, data, len);
  g_assert_true (len == 0 || contents[len - 1] == '\n');
}

static void
append_and_reopen (MdStore *store, const char *dir)
{
  static const char text[] = "fuzz appended note";
  g_autoptr (MdStore) again = NULL;
  g_autoptr (GError) error = NULL;
  guint64 count = md_store_get_count (store);
  guint64 id = 0;

  g_assert_true (
      md_store_append (store, NULL, AUTHOR, text, strlen (text), 1764013377, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (id, ==, count + 1);
  g_assert_true (md_store_commit (store, &error));
  md_store_free (store);
  again = md_store_open (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (md_store_get_count (again), ==, count + 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *dir = state_dir ();
  g_autofree char *path = g_build_filename (dir, "notes", NULL);
  g_autoptr (GError) error = NULL;
  MdStoreRecovery recovery = { 0, 0 };
  MdStore *store;

  md_fuzz_init_logging ();
  g_assert_true (g_file_set_contents (path, (const char *)data, (gssize)size, NULL));
  store = md_store_open (dir, &recovery, &error);
  if (store == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (recovery.kept_records, ==, md_store_get_count (store));
  g_assert_cmpuint (md_store_get_last_id (store), ==, md_store_get_count (store));
  check_file_is_prefix (path, data, size);
  check_body (store);
  append_and_reopen (store, dir);
  return 0;
}
