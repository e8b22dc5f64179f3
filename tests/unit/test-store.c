#include "config.h"

#include "md-error.h"
#include "md-log.h"
#include "md-note.h"
#include "md-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 2026-11-24T19:42:57Z */
#define T0 G_GINT64_CONSTANT (1795549377)
/* Who the notes of these tests are by. */
#define AUTHOR "alice"

/* ---- fault injection --------------------------------------------------------
 * The test program defines write(), fdatasync() and ftruncate(), so the store
 * (linked statically into it) calls these instead of libc's.  They pass
 * through to the kernel unless a test arms a fault, which lets the tests drive
 * the store's real error paths (a full disk, a failed sync) without a hook in
 * the store. */

static struct
{
  int write_errno;      /* next write fails with this errno */
  gsize write_partial;  /* ... after one write of this many bytes */
  gboolean write_short; /* next write writes only half, then succeeds */
  int fdatasync_errno;  /* next fdatasync fails with this errno */
  int ftruncate_errno;  /* every ftruncate fails with this errno */
  guint ftruncate_calls;
} faults;

ssize_t
write (int fd, const void *buf, size_t n)
{
  if (faults.write_short && n > 1)
    {
      faults.write_short = FALSE;
      return syscall (SYS_write, fd, buf, n / 2);
    }
  if (faults.write_errno != 0)
    {
      gsize partial = faults.write_partial;

      /* The partial write succeeds; the store's retry for the rest fails. */
      faults.write_partial = 0;
      if (partial > 0)
        return syscall (SYS_write, fd, buf, MIN (n, partial));
      errno = faults.write_errno;
      faults.write_errno = 0;
      return -1;
    }
  return syscall (SYS_write, fd, buf, n);
}

int
fdatasync (int fd)
{
  if (faults.fdatasync_errno != 0)
    {
      errno = faults.fdatasync_errno;
      faults.fdatasync_errno = 0;
      return -1;
    }
  return (int)syscall (SYS_fdatasync, fd);
}

int
ftruncate (int fd, off_t length)
{
  faults.ftruncate_calls++;
  if (faults.ftruncate_errno != 0)
    {
      errno = faults.ftruncate_errno;
      return -1;
    }
  return (int)syscall (SYS_ftruncate, fd, length);
}

/* ---- captured log ------------------------------------------------------- */

static struct
{
  guint recovered;
  guint storage_errors;
  char *dropped_bytes;
  char *kept_records;
} logged;

static const char *
field_value (const GLogField *fields, gsize n_fields, const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, key) == 0)
      return fields[i].length < 0 ? fields[i].value : NULL;
  return NULL;
}

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const char *id = field_value (fields, n_fields, "MESSAGE_ID");

  if (g_strcmp0 (id, MD_PROTOCOL_MESSAGE_ID_RECOVERED) == 0)
    {
      logged.recovered++;
      g_free (logged.dropped_bytes);
      g_free (logged.kept_records);
      logged.dropped_bytes = g_strdup (field_value (fields, n_fields, "DROPPED_BYTES"));
      logged.kept_records = g_strdup (field_value (fields, n_fields, "KEPT_RECORDS"));
      return G_LOG_WRITER_HANDLED;
    }
  if (g_strcmp0 (id, MD_PROTOCOL_MESSAGE_ID_STORAGE_ERROR) == 0)
    {
      logged.storage_errors++;
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

/* ---- fixture ------------------------------------------------------------ */

typedef struct
{
  char *tmp;
  char *dir;     /* the state directory, created by the store */
  char *path;    /* dir/notes */
  char *id_path; /* dir/notebook-id */
  MdStore *store;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  memset (&faults, 0, sizeof faults);
  logged.recovered = logged.storage_errors = 0;
  f->tmp = g_dir_make_tmp ("md-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir = g_build_filename (f->tmp, "state", NULL);
  f->path = g_build_filename (f->dir, "notes", NULL);
  f->id_path = g_build_filename (f->dir, "notebook-id", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  memset (&faults, 0, sizeof faults);
  g_clear_pointer (&f->store, md_store_free);
  g_unlink (f->path);
  g_unlink (f->id_path);
  g_rmdir (f->dir);
  g_assert_cmpint (g_rmdir (f->tmp), ==, 0);
  g_free (f->path);
  g_free (f->id_path);
  g_free (f->dir);
  g_free (f->tmp);
}

static void
reopen (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&f->store, md_store_free);
  f->store = md_store_open (f->dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static guint64
append (Fixture *f, const char *key, const char *text)
{
  g_autoptr (GError) error = NULL;
  guint64 id = 0;

  g_assert_true (
      md_store_append (f->store, key, AUTHOR, text, strlen (text), T0 + 60, &id, &error));
  g_assert_no_error (error);
  return id;
}

static void
commit (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (md_store_commit (f->store, &error));
  g_assert_no_error (error);
}

static char *
file_contents (Fixture *f, gsize *len)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_assert_true (g_file_get_contents (f->path, &data, len, &error));
  g_assert_no_error (error);
  return data;
}

static void
set_file_contents (Fixture *f, const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (f->path, data, (gssize)len, &error));
  g_assert_no_error (error);
}

static guint64
file_size (Fixture *f)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  return (guint64)st.st_size;
}

static char *
wire_line (Fixture *f, guint64 id)
{
  g_autoptr (GError) error = NULL;
  GString *out = g_string_new (NULL);

  g_assert_true (md_store_append_wire_line (f->store, id, out, &error));
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

static char *
read_whole_body (Fixture *f, guint64 after)
{
  g_autoptr (GError) error = NULL;
  guint64 size = md_store_get_body_size (f->store, after);
  char *buf = g_malloc0 (size + 1);

  g_assert_cmpint (md_store_read_body (f->store, after, 0, (guint8 *)buf, size, &error), ==, size);
  g_assert_no_error (error);
  return buf;
}

/* ---- opening ------------------------------------------------------------ */

static void
test_open_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MdStoreRecovery recovery = { 99, 99 };
  guint8 buf[8];
  GStatBuf st;

  f->store = md_store_open (f->dir, &recovery, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (md_store_get_path (f->store), ==, f->path);
  g_assert_cmpuint (recovery.kept_records, ==, 0);
  g_assert_cmpuint (recovery.dropped_bytes, ==, 0);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 0);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 0);
  g_assert_false (md_store_has_pending (f->store));
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==, 0);
  g_assert_cmpint (md_store_read_body (f->store, 0, 0, buf, sizeof buf, &error), ==, 0);
  g_assert_true (md_store_commit (f->store, &error));

  g_assert_cmpint (g_stat (f->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_cmpint (st.st_size, ==, 0);
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 0);
}

/* Missing parents are created too. */
static void
test_open_nested (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = g_build_filename (f->tmp, "a", NULL);
  g_autofree char *b = g_build_filename (a, "b", NULL);
  g_autofree char *dir = g_build_filename (b, "state", NULL);
  g_autofree char *path = g_build_filename (dir, "notes", NULL);
  g_autofree char *id_path = g_build_filename (dir, "notebook-id", NULL);
  MdStore *store = md_store_open (dir, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  md_store_free (store);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_unlink (id_path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_assert_cmpint (g_rmdir (b), ==, 0);
  g_assert_cmpint (g_rmdir (a), ==, 0);
}

static void
test_open_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdStore) second = NULL;

  reopen (f);
  second = md_store_open (f->dir, NULL, &error);
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_null (second);
}

/* ---- appending ---------------------------------------------------------- */

static void
test_append_commit_reopen (Fixture *f, gconstpointer data)
{
  g_autofree char *contents = NULL;
  g_autofree char *line = NULL;
  g_autofree char *body = NULL;
  gsize len;

  reopen (f);
  g_assert_cmpuint (append (f, NULL, "first note"), ==, 1);
  g_assert_cmpuint (append (f, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "with a key"), ==, 2);
  /* Written at once, durable only after the commit. */
  g_assert_cmpuint (md_store_get_count (f->store), ==, 0);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 2);
  g_assert_true (md_store_has_pending (f->store));
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==, 0);
  commit (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
  g_assert_false (md_store_has_pending (f->store));

  contents = file_contents (f, &len);
  g_assert_cmpstr (
      contents, ==,
      "1\t2026-11-24T19:43:57Z\t-\talice\tfirst note\n"
      "2\t2026-11-24T19:43:57Z\t0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\talice\twith a key\n");
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 2);
  line = wire_line (f, 2);
  g_assert_cmpstr (line, ==, "2\t2026-11-24T19:43:57Z\talice\twith a key\n");
  body = read_whole_body (f, 0);
  g_assert_cmpstr (body, ==,
                   "1\t2026-11-24T19:43:57Z\talice\tfirst note\n"
                   "2\t2026-11-24T19:43:57Z\talice\twith a key\n");
}

static void
test_append_ids_dense (Fixture *f, gconstpointer data)
{
  reopen (f);
  for (guint64 i = 1; i <= 300; i++)
    {
      g_autofree char *text = g_strdup_printf ("note %" G_GUINT64_FORMAT, i);

      g_assert_cmpuint (append (f, NULL, text), ==, i);
      if (i % 7 == 0)
        commit (f);
      if (i % 50 == 0)
        {
          commit (f);
          reopen (f);
          g_assert_cmpuint (md_store_get_count (f->store), ==, i);
        }
    }
  g_assert_cmpuint (append (f, NULL, "next"), ==, 301);
}

static void
test_append_chinese (Fixture *f, gconstpointer data)
{
  const char *text
      = "今天和小明在咖啡馆讨论了项目，记得周五前提交报告 🙂";
  g_autofree char *expected = NULL;
  g_autofree char *line = NULL;
  g_autofree char *body = NULL;

  reopen (f);
  append (f, NULL, "早上好");
  append (f, "123e4567-e89b-12d3-a456-426614174000", text);
  commit (f);
  reopen (f);
  expected = g_strdup_printf ("2\t2026-11-24T19:43:57Z\talice\t%s\n", text);
  line = wire_line (f, 2);
  g_assert_cmpstr (line, ==, expected);
  body = read_whole_body (f, 1);
  g_assert_cmpstr (body, ==, expected);
}

static void
test_append_rejects_bad_text (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *bad = "two\nlines";

  reopen (f);
  g_assert_false (md_store_append (f->store, NULL, AUTHOR, bad, strlen (bad), T0, NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_INVALID_NOTE);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 0);
  g_assert_cmpuint (file_size (f), ==, 0);
}

/* A clock with no four-digit year is an error the caller can report, not a
 * record that would not parse. */
static void
test_append_rejects_bad_time (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint64 size;
  guint64 id = 0;

  reopen (f);
  append (f, NULL, "durable");
  commit (f);
  size = file_size (f);
  g_assert_false (md_store_append (f->store, "cccccccc-cccc-4ccc-8ccc-cccccccccccc", AUTHOR, "late",
                                   4, G_GINT64_CONSTANT (-100000000000), &id, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "the clock is out of range"));
  g_assert_cmpuint (id, ==, 0);
  g_assert_cmpuint (file_size (f), ==, size);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 1);
  g_assert_false (md_store_has_pending (f->store));
  g_assert_false (md_store_lookup_key (f->store, "cccccccc-cccc-4ccc-8ccc-cccccccccccc", NULL));
  g_clear_error (&error);
  g_assert_false (md_store_append (f->store, NULL, AUTHOR, "far", 3,
                                   G_GINT64_CONSTANT (253402300800), NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  g_assert_cmpuint (file_size (f), ==, size);
  g_assert_cmpuint (append (f, NULL, "after"), ==, 2);
}

static void
test_append_write_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  guint64 size;
  gsize len;

  reopen (f);
  append (f, NULL, "durable");
  commit (f);
  append (f, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "pending");
  size = file_size (f);

  /* Half a record reaches the disk, then the disk is full. */
  faults.write_errno = ENOSPC;
  faults.write_partial = 5;
  g_assert_false (md_store_append (f->store, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", AUTHOR, "lost",
                                   4, T0, NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_NO_SPACE);
  g_clear_error (&error);
  g_assert_cmpuint (file_size (f), ==, size);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 2);
  g_assert_false (md_store_lookup_key (f->store, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", NULL));

  faults.write_errno = EIO;
  g_assert_false (md_store_append (f->store, NULL, AUTHOR, "lost", 4, T0, NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_cmpuint (file_size (f), ==, size);

  /* A short write is not a failure: the rest follows. */
  faults.write_short = TRUE;
  g_assert_cmpuint (append (f, NULL, "after a short write"), ==, 3);
  g_assert_false (faults.write_short);
  commit (f);
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 3);
  contents = file_contents (f, &len);
  g_assert_null (strstr (contents, "lost"));
}

static void
test_append_undo_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  reopen (f);
  append (f, NULL, "durable");
  commit (f);
  /* If the torn bytes cannot be cut away, a later record would follow them:
   * the store must refuse further appends instead. */
  faults.write_errno = ENOSPC;
  faults.write_partial = 3;
  faults.ftruncate_errno = EIO;
  g_assert_false (md_store_append (f->store, NULL, AUTHOR, "torn", 4, T0, NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_NO_SPACE);
  g_clear_error (&error);
  g_assert_cmpuint (logged.storage_errors, ==, 1);
  faults.ftruncate_errno = 0;
  g_assert_false (md_store_append (f->store, NULL, AUTHOR, "refused", 7, T0, NULL, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);

  /* A restart recovers: the torn bytes are the tail. */
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
  g_assert_cmpuint (logged.recovered, ==, 1);
  g_assert_cmpuint (append (f, NULL, "again"), ==, 2);
}

/* ---- committing --------------------------------------------------------- */

static void
test_commit_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len, after_len;
  guint64 id;

  reopen (f);
  append (f, "11111111-1111-4111-8111-111111111111", "durable");
  commit (f);
  before = file_contents (f, &before_len);
  append (f, "22222222-2222-4222-8222-222222222222", "pending one");
  append (f, NULL, "pending two");

  faults.fdatasync_errno = EIO;
  g_assert_false (md_store_commit (f->store, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_clear_error (&error);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 1);
  g_assert_false (md_store_has_pending (f->store));
  g_assert_false (md_store_lookup_key (f->store, "22222222-2222-4222-8222-222222222222", NULL));
  g_assert_true (md_store_lookup_key (f->store, "11111111-1111-4111-8111-111111111111", &id));
  g_assert_cmpuint (id, ==, 1);
  after = file_contents (f, &after_len);
  g_assert_cmpmem (after, after_len, before, before_len);

  /* The same key can be stored again, under the next free id. */
  g_assert_cmpuint (append (f, "22222222-2222-4222-8222-222222222222", "retried"), ==, 2);
  faults.fdatasync_errno = ENOSPC;
  g_assert_false (md_store_commit (f->store, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_NO_SPACE);
  g_assert_cmpuint (append (f, "22222222-2222-4222-8222-222222222222", "retried"), ==, 2);
  commit (f);
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
  g_assert_true (md_store_lookup_key (f->store, "22222222-2222-4222-8222-222222222222", &id));
  g_assert_cmpuint (id, ==, 2);
}

/* A pipelined commit covers the notes appended before it started; those
 * appended while it ran stay pending, invisible to reads, until the next. */
static void
test_commit_pipelined (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint64 id;

  reopen (f);
  append (f, "11111111-1111-4111-8111-111111111111", "first batch");
  g_assert_true (md_store_commit_start (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (md_store_commit_is_running (f->store));
  g_assert_cmpint (md_store_commit_get_fd (f->store), >=, 0);
  append (f, "22222222-2222-4222-8222-222222222222", "second batch");
  g_assert_cmpuint (md_store_get_count (f->store), ==, 0);

  g_assert_true (md_store_commit_finish (f->store, &error));
  g_assert_no_error (error);
  g_assert_false (md_store_commit_is_running (f->store));
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 2);
  g_assert_true (md_store_has_pending (f->store));
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==,
                    strlen ("1\t2026-11-24T19:43:57Z\talice\tfirst batch\n"));
  g_assert_true (md_store_lookup_key (f->store, "22222222-2222-4222-8222-222222222222", &id));
  g_assert_cmpuint (id, ==, 2);

  g_assert_true (md_store_commit_start (f->store, &error));
  g_assert_true (md_store_commit_finish (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
  g_assert_false (md_store_has_pending (f->store));
  /* Nothing pending: nothing to start. */
  g_assert_true (md_store_commit_start (f->store, &error));
  g_assert_false (md_store_commit_is_running (f->store));
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
}

/* A failed pipelined commit undoes its notes and those appended while it
 * ran: the file is cut back to its last durable size. */
static void
test_commit_pipelined_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len, after_len;

  reopen (f);
  append (f, NULL, "durable");
  commit (f);
  before = file_contents (f, &before_len);
  append (f, "11111111-1111-4111-8111-111111111111", "syncing");
  faults.fdatasync_errno = EIO;
  g_assert_true (md_store_commit_start (f->store, &error));
  append (f, "22222222-2222-4222-8222-222222222222", "appended meanwhile");
  g_assert_false (md_store_commit_finish (f->store, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
  g_assert_cmpuint (md_store_get_last_id (f->store), ==, 1);
  g_assert_false (md_store_has_pending (f->store));
  g_assert_false (md_store_lookup_key (f->store, "11111111-1111-4111-8111-111111111111", NULL));
  g_assert_false (md_store_lookup_key (f->store, "22222222-2222-4222-8222-222222222222", NULL));
  after = file_contents (f, &after_len);
  g_assert_cmpmem (after, after_len, before, before_len);
  g_assert_cmpuint (append (f, NULL, "next"), ==, 2);
  commit (f);
}

/* md_store_commit() first ends a pipelined commit that runs. */
static void
test_commit_after_pipelined (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  reopen (f);
  append (f, NULL, "one");
  g_assert_true (md_store_commit_start (f->store, &error));
  append (f, NULL, "two");
  commit (f);
  g_assert_false (md_store_commit_is_running (f->store));
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
  /* Freeing the store with a commit running waits for it. */
  append (f, NULL, "three");
  g_assert_true (md_store_commit_start (f->store, &error));
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 3);
}

/* ---- keys --------------------------------------------------------------- */

static char *
key_for (guint i)
{
  return g_strdup_printf ("%08x-%04x-4abc-8def-%012x", i * 2654435761u, i & 0xffff, i);
}

static void
test_key_lookup_reopen (Fixture *f, gconstpointer data)
{
  guint64 id = 0;

  reopen (f);
  append (f, "ABCDEF01-2345-4678-89AB-CDEF01234567", "upper-case key");
  append (f, NULL, "no key");
  append (f, "00000000-0000-4000-8000-000000000001", "lower-case key");
  /* Pending keys are found too: a retransmission must not add twice. */
  g_assert_true (md_store_lookup_key (f->store, "abcdef01-2345-4678-89ab-cdef01234567", &id));
  g_assert_cmpuint (id, ==, 1);
  commit (f);
  reopen (f);
  g_assert_true (md_store_lookup_key (f->store, "abcdef01-2345-4678-89ab-cdef01234567", &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_true (md_store_lookup_key (f->store, "ABCDEF01-2345-4678-89AB-CDEF01234567", &id));
  g_assert_cmpuint (id, ==, 1);
  g_assert_true (md_store_lookup_key (f->store, "00000000-0000-4000-8000-000000000001", &id));
  g_assert_cmpuint (id, ==, 3);
  g_assert_false (md_store_lookup_key (f->store, "00000000-0000-4000-8000-000000000002", NULL));
  g_assert_false (md_store_lookup_key (f->store, "-", NULL));
  g_assert_false (md_store_lookup_key (f->store, "abcdef01-2345-4678-89ab-cdef0123456", NULL));
  g_assert_false (md_store_lookup_key (f->store, "abcdef01x2345-4678-89ab-cdef01234567", NULL));
}

/* Many keys make the table grow; a rollback of many pending keys exercises
 * deletion from the middle of probe chains. */
static void
test_key_many (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const guint durable = 3000, pending = 2000;

  reopen (f);
  for (guint i = 1; i <= durable + pending; i++)
    {
      g_autofree char *key = key_for (i);

      append (f, key, "keyed");
      if (i == durable)
        commit (f);
    }
  faults.fdatasync_errno = EIO;
  g_assert_false (md_store_commit (f->store, &error));
  for (guint pass = 0; pass < 2; pass++)
    {
      for (guint i = 1; i <= durable + pending; i++)
        {
          g_autofree char *key = key_for (i);
          guint64 id = 0;

          g_assert_cmpint (md_store_lookup_key (f->store, key, &id), ==, i <= durable);
          if (i <= durable)
            g_assert_cmpuint (id, ==, i);
        }
      reopen (f);
    }
}

/* Record @id of a file written directly, with a key if @keyed: in upper case
 * for every other id.  Every third record is one from before authors. */
static void
append_big_record (GString *out, guint id, gboolean keyed)
{
  g_string_append_printf (out, "%u\t2026-11-24T19:43:57Z\t", id);
  if (keyed)
    {
      g_autofree char *key = key_for (id);

      if (id % 2 == 0)
        for (char *c = key; *c != '\0'; c++)
          *c = g_ascii_toupper (*c);
      g_string_append (out, key);
    }
  else
    g_string_append_c (out, '-');
  if (id % 3 != 0)
    g_string_append_printf (out, "\t@192.0.2.%u", id % 256);
  g_string_append_printf (out, "\tnote %u 中文 text that makes the file span several read slices\n",
                          id);
}

static void
assert_big_keys (Fixture *f, guint n, gboolean (*keyed) (guint id))
{
  for (guint id = 1; id <= n; id++)
    {
      g_autofree char *key = key_for (id);
      guint64 found = 0;

      g_assert_cmpint (md_store_lookup_key (f->store, key, &found), ==, keyed (id));
      if (keyed (id))
        g_assert_cmpuint (found, ==, id);
    }
}

/* About 10 MB: several of the store's read slices, and a key table big
 * enough for its own mapping. */
#define BIG_NOTES 80000

static gboolean
most (guint id)
{
  return id % 5 != 0;
}

static gboolean
first_tenth (guint id)
{
  return id <= BIG_NOTES / 10;
}

/* A file of several read slices: start-up sizes the key table from the
 * first slices and inserts a slice's keys at once. */
static void
test_key_big_file (Fixture *f, gconstpointer data)
{
  gboolean (*layouts[]) (guint) = { most, first_tenth };

  for (guint l = 0; l < G_N_ELEMENTS (layouts); l++)
    {
      g_autoptr (GString) contents = g_string_new (NULL);

      for (guint id = 1; id <= BIG_NOTES; id++)
        append_big_record (contents, id, layouts[l](id));
      g_mkdir (f->dir, 0750);
      set_file_contents (f, contents->str, contents->len);
      reopen (f);
      g_assert_cmpuint (md_store_get_count (f->store), ==, BIG_NOTES);
      assert_big_keys (f, BIG_NOTES, layouts[l]);
      /* The table still grows and finds keys after start-up. */
      append (f, "ffffffff-ffff-4fff-8fff-ffffffffffff", "after");
      commit (f);
      g_assert_true (md_store_lookup_key (f->store, "ffffffff-ffff-4fff-8fff-ffffffffffff", NULL));
      g_clear_pointer (&f->store, md_store_free);
    }
}

/* Damage deep in a big file, past the first read slice, is still refused. */
static void
test_recovery_damaged_late (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) contents = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdStore) store = NULL;
  char *text;

  for (guint id = 1; id <= BIG_NOTES; id++)
    append_big_record (contents, id, most (id));
  /* A C1 control (U+0085) in note 30000's text, in place of "中". */
  text = strstr (strstr (contents->str, "\n30000\t"), "中");
  memcpy (text, "\xc2\x85\x20", 3);
  g_mkdir (f->dir, 0750);
  set_file_contents (f, contents->str, contents->len);
  store = md_store_open (f->dir, NULL, &error);
  g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
  g_assert_nonnull (strstr (error->message, "at line 30000: "));
  g_assert_nonnull (strstr (error->message, "control character"));
}

/* ---- recovery ----------------------------------------------------------- */

/* Writes three notes and returns the file, with the offsets where the last
 * record and its text start. */
static char *
make_three_notes (Fixture *f, gsize *len, gsize *last_start, gsize *text_start)
{
  char *contents;
  const char *last_text = "最后一条 note";

  reopen (f);
  append (f, NULL, "one");
  append (f, "123e4567-e89b-12d3-a456-426614174000", "two");
  append (f, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", last_text);
  commit (f);
  g_clear_pointer (&f->store, md_store_free);
  contents = file_contents (f, len);
  *last_start = (gsize)(strstr (contents, "\n3\t") + 1 - contents);
  *text_start = (gsize)(strstr (contents, last_text) - contents);
  return contents;
}

static void
assert_recovered (Fixture *f, guint64 kept, guint64 dropped, const char *why)
{
  g_autoptr (GError) error = NULL;
  MdStoreRecovery recovery = { 0, 0 };
  guint before = logged.recovered;

  g_test_message ("%s", why);
  f->store = md_store_open (f->dir, &recovery, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recovery.kept_records, ==, kept);
  g_assert_cmpuint (recovery.dropped_bytes, ==, dropped);
  g_assert_cmpuint (md_store_get_count (f->store), ==, kept);
  g_assert_cmpuint (logged.recovered, ==, before + (dropped > 0));
  if (dropped > 0)
    {
      g_autofree char *d = g_strdup_printf ("%" G_GUINT64_FORMAT, dropped);
      g_autofree char *k = g_strdup_printf ("%" G_GUINT64_FORMAT, kept);

      g_assert_cmpstr (logged.dropped_bytes, ==, d);
      g_assert_cmpstr (logged.kept_records, ==, k);
    }
  g_assert_cmpuint (append (f, NULL, "next"), ==, kept + 1);
  commit (f);
  g_clear_pointer (&f->store, md_store_free);
}

/* The store refuses to open, naming the line, and leaves the file as it is. */
static void
assert_refused (Fixture *f, const char *contents, gsize len, const char *where, const char *why)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdStore) store = NULL;
  g_autofree char *after = NULL;
  gsize after_len;

  g_test_message ("%s", why);
  store = md_store_open (f->dir, NULL, &error);
  g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
  g_assert_null (store);
  g_assert_nonnull (strstr (error->message, where));
  after = file_contents (f, &after_len);
  g_assert_cmpmem (after, after_len, contents, len);
}

static void
test_recovery_torn_tail (Fixture *f, gconstpointer data)
{
  gsize len, last_start, text_start;
  g_autofree char *full = make_three_notes (f, &len, &last_start, &text_start);

  /* A crash can stop the last write after any of its bytes. */
  for (gsize cut = last_start; cut < len; cut++)
    {
      g_autofree char *why = g_strdup_printf ("cut at %" G_GSIZE_FORMAT, cut);

      set_file_contents (f, full, cut);
      assert_recovered (f, 2, cut - last_start, why);
      g_assert_cmpuint (file_size (f), ==,
                        last_start + strlen ("3\t2026-11-24T19:43:57Z\t-\talice\tnext\n"));
    }
}

/* A torn record followed by a newline is a complete line that does not
 * parse (unless the cut happens to leave a shorter valid note, or cuts the
 * author short, which leaves an old four-field record with a part of the
 * author as its text): damage, which stops the store and leaves the file as
 * it was.  Only a line without its newline is a torn tail (issue 9). */
static void
test_recovery_invalid_last_line (Fixture *f, gconstpointer data)
{
  gsize len, last_start, text_start;
  g_autofree char *full = make_three_notes (f, &len, &last_start, &text_start);
  gsize author_start = text_start - strlen (AUTHOR) - 1;

  for (gsize cut = last_start; cut < len - 1; cut++)
    {
      g_autofree char *why = g_strdup_printf ("cut at %" G_GSIZE_FORMAT " plus newline", cut);
      g_autofree char *torn = g_strdup_printf ("%.*s\n", (int)cut, full);
      gboolean still_valid
          = (cut > text_start && md_note_validate (full + text_start, cut - text_start, NULL))
            || (cut > author_start && cut < text_start);

      set_file_contents (f, torn, cut + 1);
      if (still_valid)
        assert_recovered (f, 3, 0, why);
      else
        assert_refused (f, torn, cut + 1, "at line 3: ", why);
    }
}

static const struct
{
  const char *line;
  const char *reason;
} damaged_lines[] = {
  { "2\t2026-11-24T19:43:57Z\t-\n", "fields" },
  { "3\t2026-11-24T19:43:57Z\t-\tskips an id\n", "id 3 where 2" },
  { "02\t2026-11-24T19:43:57Z\t-\tleading zero\n", "id 02" },
  { "2\t2026-11-24 19:43:57Z\t-\tbad time\n", "time" },
  { "2\t2026-02-30T19:43:57Z\t-\tno such day\n", "time" },
  { "2\t2026-11-24T19:43:57Z\tnot-a-key\tbad key\n", "key" },
  { "2\t2026-11-24T19:43:57Z\t-\t\n", "empty" },
  { "2\t2026-11-24T19:43:57Z\t-\tcontrol\x01char\n", "control" },
  { "2\t2026-11-24T19:43:57Z\t-\tbad \xff utf-8\n", "UTF-8" },
  { "\n", "fields" },
  { "2\t2026-11-24T19:43:57Z\t-no tab before the text\n", "fields" },
  { "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-426614174000text\n", "fields" },
  { "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-42661417400\ttext\n", "key" },
  { "2\t2026-11-24T19:43:57Z \t-\ttime too long\n", "time" },
  { "2\t2026-11-24T19:43:57Zx-\ttime runs into the key\n", "fields" },
  { "2x2026-11-24T19:43:57Z\t-\tid runs into the time\n", "fields" },
  { "2\t\t-\tno time\n", "time" },
  { "12345678901234567890123\t2026-11-24T19:43:57Z\t-\tid too long\n", "where 2" },
  /* Records with an author. */
  { "2\t2026-11-24T19:43:57Z\t-\talice\t\n", "empty" },
  { "2\t2026-11-24T19:43:57Z\t-\t\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\tal ice\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t.alice\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t-\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t@\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t@10.0.0.1:99x\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t-\t\x1b[2Jclear\ttext\n", "author" },
  { "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-426614174000\t"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ttext\n",
    "author" },
  { "2\t2026-11-24T19:43:57Z\t-\talice\tsix\tfields\n", "more than 5 fields" },
  { "2\t2026-11-24T19:43:57Z\t-\talice\tcontrol\x01char\n", "control" },
};

static void
test_recovery_damaged_middle (Fixture *f, gconstpointer data)
{
  const char *first = "1\t2026-11-24T19:43:57Z\t-\tone\n";
  const char *last = "3\t2026-11-24T19:43:57Z\t-\talice\tthree\n";

  for (gsize i = 0; i < G_N_ELEMENTS (damaged_lines); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *contents = g_strconcat (first, damaged_lines[i].line, last, NULL);
      g_autofree char *after = NULL;
      g_autofree char *prefix = g_strdup_printf ("notes file %s is damaged at line 2: ", f->path);
      g_autoptr (MdStore) store = NULL;
      gsize after_len;

      g_test_message ("damaged line %" G_GSIZE_FORMAT, i);
      g_mkdir (f->dir, 0750);
      set_file_contents (f, contents, strlen (contents));
      store = md_store_open (f->dir, NULL, &error);
      g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
      g_assert_null (store);
      g_assert_true (g_str_has_prefix (error->message, prefix));
      g_assert_nonnull (strstr (error->message, damaged_lines[i].reason));
      /* Refusing must not touch the file. */
      after = file_contents (f, &after_len);
      g_assert_cmpmem (after, after_len, contents, strlen (contents));
    }
}

static void
test_recovery_overlong_line (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) contents = g_string_new ("1\t2026-11-24T19:43:57Z\t-\t");
  g_autoptr (MdStore) store = NULL;

  /* 5000 bytes without a newline, then a good-looking record. */
  for (int i = 0; i < 5000; i++)
    g_string_append_c (contents, 'x');
  g_string_append (contents, "\n1\t2026-11-24T19:43:57Z\t-\tone\n");
  g_mkdir (f->dir, 0750);
  set_file_contents (f, contents->str, contents->len);
  store = md_store_open (f->dir, NULL, &error);
  g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
  g_assert_nonnull (strstr (error->message, "at line 1:"));

  /* The same without the record after it is still a complete line: damage. */
  g_string_truncate (contents, contents->len - strlen ("1\t2026-11-24T19:43:57Z\t-\tone\n"));
  set_file_contents (f, contents->str, contents->len);
  assert_refused (f, contents->str, contents->len, "at line 1:", "overlong last line");
  /* Without its newline it is a torn tail. */
  set_file_contents (f, contents->str, contents->len - 1);
  assert_recovered (f, 0, contents->len - 1, "overlong unfinished last line");
}

/* ---- body reads --------------------------------------------------------- */

static const char *const body_notes[] = {
  "a", "bc", "一", "hello, world", "二三四", "x y z", "🙂", "last but one", "z",
};

static GString *
reference_body (guint64 after, guint64 count)
{
  GString *ref = g_string_new (NULL);

  for (guint64 id = after + 1; id <= count; id++)
    md_note_append_wire_line (ref, id, T0 + 60, AUTHOR, body_notes[id - 1],
                              strlen (body_notes[id - 1]));
  return ref;
}

static void
assert_body_range (Fixture *f, guint64 after, const GString *ref, gsize offset, gsize len)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[512];
  gsize expected = offset >= ref->len ? 0 : MIN (len, ref->len - offset);
  gssize n;

  memset (buf, '#', sizeof buf);
  n = md_store_read_body (f->store, after, offset, buf, len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, (gssize)expected);
  g_assert_cmpmem (buf, expected, ref->str + MIN (offset, ref->len), expected);
  /* Nothing past the returned length is touched. */
  g_assert_cmpint (buf[expected], ==, '#');
}

/* ---- records from before authors ------------------------------------ */

/* A notes file from before authors: four fields a record. */
static const char old_records[] = "1\t2026-11-24T19:43:57Z\t-\told one\n"
                                  "2\t2026-11-24T19:43:57Z\t123e4567-e89b-12d3-a456-426614174000\t"
                                  "old two\n";

/* Old records open as they are and are served with the author "-"; new
 * notes follow them with an author, and the old bytes are never rewritten.
 * Body reads across the boundary, in every range, match the wire lines. */
static void
test_old_records_mixed (Fixture *f, gconstpointer data)
{
  static const char expected_body[] = "1\t2026-11-24T19:43:57Z\t-\told one\n"
                                      "2\t2026-11-24T19:43:57Z\t-\told two\n"
                                      "3\t2026-11-24T19:43:57Z\talice\tnew three\n";
  g_autoptr (GString) ref = g_string_new (expected_body);
  g_autofree char *contents = NULL;
  g_autofree char *line = NULL;
  g_autofree char *body = NULL;
  guint64 id = 0;
  gsize len;

  g_mkdir (f->dir, 0750);
  set_file_contents (f, old_records, strlen (old_records));
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 2);
  g_assert_true (md_store_lookup_key (f->store, "123e4567-e89b-12d3-a456-426614174000", &id));
  g_assert_cmpuint (id, ==, 2);
  line = wire_line (f, 2);
  g_assert_cmpstr (line, ==, "2\t2026-11-24T19:43:57Z\t-\told two\n");
  g_assert_cmpuint (append (f, NULL, "new three"), ==, 3);
  commit (f);
  contents = file_contents (f, &len);
  g_assert_true (g_str_has_prefix (contents, old_records));
  g_assert_cmpstr (contents + strlen (old_records), ==,
                   "3\t2026-11-24T19:43:57Z\t-\talice\tnew three\n");
  reopen (f);
  body = read_whole_body (f, 0);
  g_assert_cmpstr (body, ==, expected_body);
  for (gsize offset = 0; offset <= ref->len; offset++)
    for (gsize n = 0; n <= ref->len - offset + 1; n++)
      assert_body_range (f, 0, ref, offset, n);
  g_assert_cmpuint (md_store_get_body_size (f->store, 2), ==,
                    strlen ("3\t2026-11-24T19:43:57Z\talice\tnew three\n"));
}

/* A torn new record after old ones is cut off like any other. */
static void
test_old_records_torn_tail (Fixture *f, gconstpointer data)
{
  g_autofree char *contents = g_strconcat (old_records, "3\t2026-11-24T19:43:57Z\t-\tali", NULL);

  g_mkdir (f->dir, 0750);
  set_file_contents (f, contents, strlen (contents));
  assert_recovered (f, 2, strlen (contents) - strlen (old_records), "torn after old records");
}

static void
test_body_every_range (Fixture *f, gconstpointer data)
{
  const guint64 count = G_N_ELEMENTS (body_notes);

  reopen (f);
  for (guint64 i = 0; i < count; i++)
    {
      g_autofree char *key = key_for ((guint)i);

      append (f, i % 2 ? key : NULL, body_notes[i]);
    }
  commit (f);
  append (f, NULL, "pending: not in the body");
  for (guint64 after = 0; after <= count + 1; after++)
    {
      g_autoptr (GString) ref = reference_body (after, count);

      g_assert_cmpuint (md_store_get_body_size (f->store, after), ==, ref->len);
      for (gsize offset = 0; offset <= ref->len + 1; offset++)
        for (gsize len = 0; len <= ref->len - MIN (offset, ref->len) + 1; len++)
          assert_body_range (f, after, ref, offset, len);
    }
}

/* Bodies larger than the store's read chunk, read in CoAP-sized blocks. */
static void
test_body_large (Fixture *f, gconstpointer data)
{
  const guint64 count = 300;
  g_autoptr (GString) ref = g_string_new (NULL);
  g_autofree char *text = g_malloc (MD_NOTE_MAX_BYTES + 1);
  g_autofree guint8 *buf = NULL;
  g_autoptr (GError) error = NULL;

  /* Build the store and the reference side by side. */
  reopen (f);
  for (guint64 id = 1; id <= count; id++)
    {
      gsize len = id % 3 == 0 ? MD_NOTE_MAX_BYTES : 1 + id % 97;
      g_autofree char *key = key_for ((guint)id);
      guint64 got;

      memset (text, 'a' + (char)(id % 26), len);
      g_assert_true (
          md_store_append (f->store, id % 5 ? key : NULL, AUTHOR, text, len, T0, &got, &error));
      g_assert_cmpuint (got, ==, id);
      md_note_append_wire_line (ref, id, T0, AUTHOR, text, len);
    }
  commit (f);
  reopen (f);
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==, ref->len);
  buf = g_malloc (ref->len);
  /* The whole body in one call crosses many chunks. */
  g_assert_cmpint (md_store_read_body (f->store, 0, 0, buf, ref->len, &error), ==, ref->len);
  g_assert_cmpmem (buf, ref->len, ref->str, ref->len);
  for (guint szx = 0; szx <= 6; szx++)
    {
      gsize block = (gsize)16 << szx;

      for (gsize off = 0; off < ref->len; off += block)
        {
          gssize n = md_store_read_body (f->store, 0, off, buf, block, &error);

          g_assert_cmpint (n, ==, MIN (block, ref->len - off));
          g_assert_cmpmem (buf, n, ref->str + off, n);
        }
    }
  /* ?after=N starts exactly at note N+1. */
  for (guint64 after = 0; after < count; after += 37)
    {
      g_autofree char *line = wire_line (f, after + 1);
      gssize n = md_store_read_body (f->store, after, 0, buf, strlen (line), &error);

      g_assert_cmpmem (buf, n, line, strlen (line));
    }
}

static void
test_body_pending_wire_line (Fixture *f, gconstpointer data)
{
  g_autofree char *line = NULL;

  reopen (f);
  append (f, NULL, "durable");
  commit (f);
  append (f, "33333333-3333-4333-8333-333333333333", "pending");
  line = wire_line (f, 2);
  g_assert_cmpstr (line, ==, "2\t2026-11-24T19:43:57Z\talice\tpending\n");
  g_assert_cmpuint (md_store_get_body_size (f->store, 0), ==,
                    strlen ("1\t2026-11-24T19:43:57Z\talice\tdurable\n"));
  g_assert_cmpuint (md_store_get_body_size (f->store, 1), ==, 0);
}

/* ---- notebook identity -------------------------------------------------- */

static char *
read_id_file (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_assert_true (g_file_get_contents (f->id_path, &data, NULL, &error));
  g_assert_no_error (error);
  return data;
}

/* Made with the notes file, a UUID line, and the same at every open. */
static void
test_notebook_id_created (Fixture *f, gconstpointer data)
{
  g_autofree char *id = NULL;
  g_autofree char *line = NULL;
  g_autofree char *again = NULL;

  reopen (f);
  id = g_strdup (md_store_get_notebook_id (f->store));
  g_assert_true (g_uuid_string_is_valid (id));
  g_assert_cmpuint (strlen (id), ==, 36);
  line = g_strconcat (id, "\n", NULL);
  again = read_id_file (f);
  g_assert_cmpstr (again, ==, line);
  append (f, NULL, "kept");
  commit (f);
  reopen (f);
  g_assert_cmpstr (md_store_get_notebook_id (f->store), ==, id);
  g_assert_false (g_file_test (f->id_path, G_FILE_TEST_IS_SYMLINK));
}

/* A notes file from before identities gets one at its first open, and keeps
 * it from then on. */
static void
test_notebook_id_existing_notes (Fixture *f, gconstpointer data)
{
  g_autofree char *id = NULL;

  reopen (f);
  append (f, NULL, "older than identities");
  commit (f);
  g_clear_pointer (&f->store, md_store_free);
  g_assert_cmpint (g_unlink (f->id_path), ==, 0);
  reopen (f);
  g_assert_cmpuint (md_store_get_count (f->store), ==, 1);
  id = g_strdup (md_store_get_notebook_id (f->store));
  g_assert_true (g_uuid_string_is_valid (id));
  reopen (f);
  g_assert_cmpstr (md_store_get_notebook_id (f->store), ==, id);
}

/* Two notebooks never share an identity. */
static void
test_notebook_id_random (Fixture *f, gconstpointer data)
{
  g_autofree char *first = NULL;

  reopen (f);
  first = g_strdup (md_store_get_notebook_id (f->store));
  g_clear_pointer (&f->store, md_store_free);
  g_assert_cmpint (g_unlink (f->id_path), ==, 0);
  g_assert_cmpint (g_unlink (f->path), ==, 0);
  reopen (f);
  g_assert_cmpstr (md_store_get_notebook_id (f->store), !=, first);
}

/* A damaged identity is an error naming the file, and the file is left as
 * it was: a silent new identity would make every client drop its cache. */
static void
test_notebook_id_damaged (Fixture *f, gconstpointer data)
{
  const char *damaged[] = {
    "",
    "not a uuid\n",
    "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
    "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n\n",
    "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5bX\n",
  };

  reopen (f);
  g_clear_pointer (&f->store, md_store_free);
  for (guint i = 0; i < G_N_ELEMENTS (damaged); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *after = NULL;
      MdStore *store;

      g_assert_true (g_file_set_contents (f->id_path, damaged[i], -1, NULL));
      store = md_store_open (f->dir, NULL, &error);
      g_assert_null (store);
      g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
      g_assert_nonnull (strstr (error->message, f->id_path));
      after = read_id_file (f);
      g_assert_cmpstr (after, ==, damaged[i]);
    }
}

/* Upper-case hex (a hand-restored backup) is the same identity. */
static void
test_notebook_id_upper_case (Fixture *f, gconstpointer data)
{
  reopen (f);
  g_clear_pointer (&f->store, md_store_free);
  g_assert_true (
      g_file_set_contents (f->id_path, "0B3C6F0E-1C2D-4E5F-8A9B-0C1D2E3F4A5B\n", -1, NULL));
  reopen (f);
  g_assert_cmpstr (md_store_get_notebook_id (f->store), ==, "0b3c6f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
}

/* A clock stepped back: the note gets the time of the note before it, also
 * when that note came from the file at start. */
static void
test_append_time_never_backwards (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *second = NULL;
  g_autofree char *third = NULL;
  MdNoteLine note;

  reopen (f);
  append (f, NULL, "first");
  g_assert_true (md_store_append (f->store, NULL, AUTHOR, "second", 6, T0, NULL, &error));
  commit (f);
  second = wire_line (f, 2);
  g_assert_true (md_note_parse_wire_line (second, strlen (second), &note, &error));
  g_assert_cmpint (note.time, ==, T0 + 60);
  reopen (f);
  g_assert_true (md_store_append (f->store, NULL, AUTHOR, "third", 5, T0 - 3600, NULL, &error));
  commit (f);
  third = wire_line (f, 3);
  g_assert_true (md_note_parse_wire_line (third, strlen (third), &note, &error));
  g_assert_no_error (error);
  g_assert_cmpint (note.time, ==, T0 + 60);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/store/open/empty", test_open_empty);
  ADD ("/store/open/nested", test_open_nested);
  ADD ("/store/open/locked", test_open_locked);
  ADD ("/store/append/commit-reopen", test_append_commit_reopen);
  ADD ("/store/append/ids-dense", test_append_ids_dense);
  ADD ("/store/append/chinese", test_append_chinese);
  ADD ("/store/append/rejects-bad-text", test_append_rejects_bad_text);
  ADD ("/store/append/rejects-bad-time", test_append_rejects_bad_time);
  ADD ("/store/append/write-failure", test_append_write_failure);
  ADD ("/store/append/undo-fails", test_append_undo_fails);
  ADD ("/store/commit/rollback", test_commit_rollback);
  ADD ("/store/commit/pipelined", test_commit_pipelined);
  ADD ("/store/commit/pipelined-failure", test_commit_pipelined_failure);
  ADD ("/store/commit/after-pipelined", test_commit_after_pipelined);
  ADD ("/store/key/lookup-reopen", test_key_lookup_reopen);
  ADD ("/store/key/many", test_key_many);
  ADD ("/store/key/big-file", test_key_big_file);
  ADD ("/store/recovery/torn-tail", test_recovery_torn_tail);
  ADD ("/store/recovery/invalid-last-line", test_recovery_invalid_last_line);
  ADD ("/store/recovery/damaged-middle", test_recovery_damaged_middle);
  ADD ("/store/recovery/damaged-late", test_recovery_damaged_late);
  ADD ("/store/recovery/overlong-line", test_recovery_overlong_line);
  ADD ("/store/old-records/mixed", test_old_records_mixed);
  ADD ("/store/old-records/torn-tail", test_old_records_torn_tail);
  ADD ("/store/body/every-range", test_body_every_range);
  ADD ("/store/body/large", test_body_large);
  ADD ("/store/body/pending-wire-line", test_body_pending_wire_line);
  ADD ("/store/notebook-id/created", test_notebook_id_created);
  ADD ("/store/notebook-id/existing-notes", test_notebook_id_existing_notes);
  ADD ("/store/notebook-id/random", test_notebook_id_random);
  ADD ("/store/notebook-id/damaged", test_notebook_id_damaged);
  ADD ("/store/notebook-id/upper-case", test_notebook_id_upper_case);
  ADD ("/store/append/time-never-backwards", test_append_time_never_backwards);
#undef ADD
  return g_test_run ();
}
