#include "config.h"

/* nftw(); config.h includes no system header, so this still comes first. */
#define _GNU_SOURCE

#include "md-error.h"
#include "md-note.h"
#include "md-outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOTEBOOK "0f8a3c1e-5b2d-4e6f-9a7b-1c2d3e4f5a6b"
#define OTHER_NOTEBOOK "7d6c5b4a-3928-4716-a5b4-c3d2e1f0a9b8"
#define SERVER "localhost:5683"
#define KEY1 "11111111-1111-4111-8111-111111111111"
#define KEY2 "22222222-2222-4222-8222-222222222222"
#define KEY3 "33333333-3333-4333-8333-333333333333"
/* 2026-11-24T19:42:57Z in microseconds */
#define T0 G_GINT64_CONSTANT (1795549377000000)

typedef struct
{
  char *top; /* the temporary directory */
  char *dir; /* TOP/mydaily/outbox */
  char *log; /* TOP/sent: the fake server's log, one key a line */
  MdOutbox *outbox;
} Fixture;

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->top = g_dir_make_tmp ("test-outbox-XXXXXX", NULL);
  g_assert_nonnull (f->top);
  f->dir = g_build_filename (f->top, "mydaily", "outbox", NULL);
  f->log = g_build_filename (f->top, "sent", NULL);
  f->outbox = md_outbox_open (f->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->outbox);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->outbox, md_outbox_free);
  g_assert_cmpint (nftw (f->top, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
  g_free (f->top);
  g_free (f->dir);
  g_free (f->log);
}

static char *
path_in (Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static mode_t
mode_of (const char *path)
{
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
add_ok (MdOutbox *outbox, const char *notebook, const char *key, const char *text, gint64 queued)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (
      md_outbox_add (outbox, notebook, SERVER, key, text, strlen (text), queued, &error));
  g_assert_no_error (error);
}

static GPtrArray *
list_ok (MdOutbox *outbox, const char *notebook)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *entries = md_outbox_list (outbox, notebook, &error);

  g_assert_no_error (error);
  g_assert_nonnull (entries);
  return entries;
}

static guint
count_files (Fixture *f, const char *suffix)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, suffix))
      n++;
  return n;
}

static void
test_open_modes (Fixture *f, gconstpointer data)
{
  g_autofree char *parent = g_build_filename (f->top, "mydaily", NULL);
  g_autoptr (MdOutbox) again = NULL;

  g_assert_cmpuint (mode_of (f->dir), ==, 0700);
  g_assert_cmpuint (mode_of (parent), ==, 0700);
  g_assert_cmpint (g_chmod (f->dir, 0777), ==, 0);
  again = md_outbox_open (f->dir, NULL);
  g_assert_nonnull (again);
  g_assert_cmpuint (mode_of (f->dir), ==, 0700);
}

static void
test_open_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->top, "elsewhere", NULL);
  g_autofree char *link = g_build_filename (f->top, "linked", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdOutbox) outbox = NULL;

  g_assert_cmpint (g_mkdir (target, 0700), ==, 0);
  g_assert_cmpint (symlink (target, link), ==, 0);
  outbox = md_outbox_open (link, &error);
  g_assert_null (outbox);
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "symbolic link"));
}

/* Entries come back in the order they were queued, with every field, from
 * a file in the documented format. */
static void
test_add_list (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *path = path_in (f, KEY2 ".note");
  g_autofree char *contents = NULL;
  const MdOutboxEntry *entry;

  add_ok (f->outbox, NOTEBOOK, KEY2, "second 第二", T0 + 2);
  add_ok (f->outbox, NOTEBOOK, KEY1, "first", T0 + 1);
  add_ok (f->outbox, NOTEBOOK, KEY3, "third", T0 + 3);
  add_ok (f->outbox, OTHER_NOTEBOOK, "44444444-4444-4444-8444-444444444444", "other", T0);
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 3);
  entry = entries->pdata[0];
  g_assert_cmpstr (entry->key, ==, KEY1);
  entry = entries->pdata[1];
  g_assert_cmpstr (entry->key, ==, KEY2);
  g_assert_cmpstr (entry->notebook, ==, NOTEBOOK);
  g_assert_cmpstr (entry->server, ==, SERVER);
  g_assert_cmpint (entry->queued, ==, T0 + 2);
  g_assert_cmpstr (entry->text, ==, "second 第二");
  g_assert_cmpuint (entry->text_len, ==, strlen ("second 第二"));
  g_assert_cmpstr (((MdOutboxEntry *)entries->pdata[2])->key, ==, KEY3);

  g_assert_cmpuint (mode_of (path), ==, 0600);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==,
                   "mydaily-outbox 1\nkey=" KEY2 "\nnotebook=" NOTEBOOK "\nserver=" SERVER
                   "\nqueued=1795549377000002\ntext=second 第二\n");
  /* No temporary file is left behind. */
  g_assert_cmpuint (count_files (f, ".tmp"), ==, 0);
}

/* Upper-case keys and notebooks are the same as lower-case ones. */
static void
test_add_upper_case (Fixture *f, gconstpointer data)
{
  g_autofree char *key = g_ascii_strup (KEY1, -1);
  g_autofree char *notebook = g_ascii_strup (NOTEBOOK, -1);
  g_autoptr (GPtrArray) entries = NULL;

  add_ok (f->outbox, notebook, key, "one", T0);
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (((MdOutboxEntry *)entries->pdata[0])->key, ==, KEY1);
  g_assert_true (md_outbox_remove (f->outbox, key, NULL));
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 0);
}

static void
test_add_same_key (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;

  add_ok (f->outbox, NOTEBOOK, KEY1, "one", T0);
  add_ok (f->outbox, NOTEBOOK, KEY1, "one", T0 + 5);
  g_assert_false (md_outbox_add (f->outbox, NOTEBOOK, SERVER, KEY1, "two", 3, T0, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_FAILED);
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (((MdOutboxEntry *)entries->pdata[0])->text, ==, "one");
  g_assert_cmpint (((MdOutboxEntry *)entries->pdata[0])->queued, ==, T0);
}

typedef struct
{
  const char *notebook, *server, *key, *text;
  gint64 queued;
} MdBadAdd;

static void
test_add_bad (Fixture *f, gconstpointer data)
{
  g_autofree char *long_text = g_strnfill (MD_NOTE_MAX_BYTES + 1, 'a');
  const MdBadAdd bad[] = {
    { NOTEBOOK, SERVER, "not-a-key", "text", T0 },
    { NOTEBOOK, SERVER, "../../../etc/passwd", "text", T0 },
    { NOTEBOOK, SERVER, NULL, "text", T0 },
    { "../x", SERVER, KEY1, "text", T0 },
    { NOTEBOOK, "", KEY1, "text", T0 },
    { NOTEBOOK, "a\nb", KEY1, "text", T0 },
    { NOTEBOOK, NULL, KEY1, "text", T0 },
    { NOTEBOOK, SERVER, KEY1, "", T0 },
    { NOTEBOOK, SERVER, KEY1, "two\nlines", T0 },
    { NOTEBOOK, SERVER, KEY1, "bell\a", T0 },
    { NOTEBOOK, SERVER, KEY1, "\xff\xfe", T0 },
    { NOTEBOOK, SERVER, KEY1, long_text, T0 },
    { NOTEBOOK, SERVER, KEY1, "text", -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("bad add %zu", i);
      g_assert_false (md_outbox_add (f->outbox, bad[i].notebook, bad[i].server, bad[i].key,
                                     bad[i].text, strlen (bad[i].text), bad[i].queued, &error));
      g_assert_nonnull (error);
    }
  g_assert_cmpuint (count_files (f, ""), ==, 0);
}

/* The outbox has a cap; only entry names count towards it. */
static void
test_add_full (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < MD_OUTBOX_MAX_ENTRIES; i++)
    {
      g_autofree char *name = g_strdup_printf ("%08x-0000-4000-8000-000000000000.note", i);
      g_autofree char *path = path_in (f, name);
      int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);

      g_assert_cmpint (fd, >=, 0);
      close (fd);
    }
  g_assert_false (md_outbox_add (f->outbox, NOTEBOOK, SERVER, KEY1, "one", 3, T0, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_NO_SPACE);
}

static void
test_remove (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  add_ok (f->outbox, NOTEBOOK, KEY1, "one", T0);
  add_ok (f->outbox, NOTEBOOK, KEY2, "two", T0);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 2);
  g_assert_true (md_outbox_remove (f->outbox, KEY1, &error));
  g_assert_true (md_outbox_remove (f->outbox, KEY1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 1);
  g_assert_false (md_outbox_remove (f->outbox, "../" KEY2, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 1);
}

static void
test_reject (Fixture *f, gconstpointer data)
{
  g_autofree char *rejected = path_in (f, KEY1 ".note.rejected");

  add_ok (f->outbox, NOTEBOOK, KEY1, "one", T0);
  g_assert_true (md_outbox_reject (f->outbox, KEY1, NULL));
  g_assert_true (g_file_test (rejected, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 0);
}

static void
test_count (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  add_ok (f->outbox, NOTEBOOK, KEY1, "bound", T0);
  add_ok (f->outbox, NULL, KEY2, "unbound here", T0);
  add_ok (f->outbox, OTHER_NOTEBOOK, KEY3, "other notebook", T0);
  g_assert_true (md_outbox_add (f->outbox, NULL, "elsewhere:5683",
                                "44444444-4444-4444-8444-444444444444", "unbound there", 13, T0,
                                &error));
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, SERVER), ==, 2);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 1);
  g_assert_cmpuint (md_outbox_count (f->outbox, NULL, SERVER), ==, 1);
  g_assert_cmpuint (md_outbox_count (f->outbox, OTHER_NOTEBOOK, "elsewhere:5683"), ==, 2);
  g_assert_cmpuint (md_outbox_count (f->outbox, NULL, NULL), ==, 0);
}

/* Unbound entries of the address take the notebook found there; others
 * stay as they are, and a bound entry is never bound again. */
static void
test_bind (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  guint n = 99;

  add_ok (f->outbox, NULL, KEY1, "unbound", T0 + 1);
  add_ok (f->outbox, OTHER_NOTEBOOK, KEY2, "bound elsewhere", T0 + 2);
  add_ok (f->outbox, NOTEBOOK, KEY3, "bound here", T0 + 3);
  g_assert_true (md_outbox_add (f->outbox, NULL, "elsewhere:5683",
                                "44444444-4444-4444-8444-444444444444", "other server", 12, T0,
                                &error));
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 1);
  g_clear_pointer (&entries, g_ptr_array_unref);

  g_assert_true (md_outbox_bind (f->outbox, SERVER, NOTEBOOK, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 2);
  g_assert_cmpstr (((MdOutboxEntry *)entries->pdata[0])->key, ==, KEY1);
  g_assert_cmpint (((MdOutboxEntry *)entries->pdata[0])->queued, ==, T0 + 1);
  g_assert_cmpstr (((MdOutboxEntry *)entries->pdata[1])->key, ==, KEY3);
  g_clear_pointer (&entries, g_ptr_array_unref);

  /* The address now serves another notebook: nothing moves. */
  g_assert_true (md_outbox_bind (f->outbox, SERVER, OTHER_NOTEBOOK, &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 2);
  g_assert_cmpuint (md_outbox_count (f->outbox, OTHER_NOTEBOOK, NULL), ==, 1);
  g_assert_cmpuint (md_outbox_count (f->outbox, NULL, "elsewhere:5683"), ==, 1);
}

/* Two runs binding at once, each having found another notebook at the
 * address: every entry ends up bound to one of them, all to the same one,
 * because the first binder takes them all. */
static void
test_bind_concurrent (Fixture *f, gconstpointer data)
{
  const char *notebooks[] = { NOTEBOOK, OTHER_NOTEBOOK };
  pid_t children[2];
  guint bound_here, bound_other;

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *key = g_strdup_printf ("%08x-1111-4111-8111-111111111111", i);

      add_ok (f->outbox, NULL, key, "unbound", T0 + i);
    }
  for (guint c = 0; c < 2; c++)
    {
      children[c] = fork ();
      g_assert_cmpint (children[c], >=, 0);
      if (children[c] == 0)
        {
          MdOutbox *outbox = md_outbox_open (f->dir, NULL);
          gboolean ok = outbox != NULL && md_outbox_bind (outbox, SERVER, notebooks[c], NULL, NULL);

          md_outbox_free (outbox);
          _exit (ok ? 0 : 1);
        }
    }
  for (guint c = 0; c < 2; c++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (children[c], &status, 0), ==, children[c]);
      g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  bound_here = md_outbox_count (f->outbox, NOTEBOOK, NULL);
  bound_other = md_outbox_count (f->outbox, OTHER_NOTEBOOK, NULL);
  g_assert_cmpuint (bound_here + bound_other, ==, 50);
  g_assert_true (bound_here == 0 || bound_other == 0);
}

typedef struct
{
  const char *name;
  const char *contents;
  gsize len; /* 0: strlen */
} MdBadEntry;

#define GOOD_FIELDS "key=" KEY1 "\nnotebook=" NOTEBOOK "\nserver=" SERVER "\nqueued=1\n"

static const MdBadEntry bad_entries[] = {
  { "garbage", "garbage\n" },
  { "empty", "" },
  { "wrong-header", "mydaily-outbox 2\n" GOOD_FIELDS "text=x\n" },
  { "missing-text", "mydaily-outbox 1\n" GOOD_FIELDS },
  { "extra-line", "mydaily-outbox 1\n" GOOD_FIELDS "text=x\nmore=y\n" },
  { "no-final-newline", "mydaily-outbox 1\n" GOOD_FIELDS "text=x" },
  { "control-in-text", "mydaily-outbox 1\n" GOOD_FIELDS "text=\x1b[2J\n" },
  { "empty-text", "mydaily-outbox 1\n" GOOD_FIELDS "text=\n" },
  { "not-utf8", "mydaily-outbox 1\n" GOOD_FIELDS "text=\xc3\x28\n" },
  { "nul", "mydaily-outbox 1\n" GOOD_FIELDS "text=a\0b\n", 0 },
  { "key-not-the-name", "mydaily-outbox 1\nkey=" KEY2 "\nnotebook=" NOTEBOOK "\nserver=" SERVER
                        "\nqueued=1\ntext=x\n" },
  { "bad-notebook",
    "mydaily-outbox 1\nkey=" KEY1 "\nnotebook=../x\nserver=" SERVER "\nqueued=1\ntext=x\n" },
  { "negative-time", "mydaily-outbox 1\nkey=" KEY1 "\nnotebook=" NOTEBOOK "\nserver=" SERVER
                     "\nqueued=-1\ntext=x\n" },
  { "fields-swapped", "mydaily-outbox 1\nnotebook=" NOTEBOOK "\nkey=" KEY1 "\nserver=" SERVER
                      "\nqueued=1\ntext=x\n" },
  { "crlf", "mydaily-outbox 1\r\n" GOOD_FIELDS "text=x\r\n" },
};

static void
check_damaged (Fixture *f, const char *contents, gsize len)
{
  g_autofree char *path = path_in (f, KEY1 ".note");
  g_autofree char *aside = path_in (f, KEY1 ".note.damaged");
  g_autofree char *kept = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  gsize kept_len = 0;
  guint warnings = md_outbox_get_warnings (f->outbox)->len;

  g_assert_true (g_file_set_contents (path, contents, (gssize)len, NULL));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (aside, &kept, &kept_len, NULL));
  g_assert_cmpmem (kept, kept_len, contents, len);
  g_assert_cmpuint (md_outbox_get_warnings (f->outbox)->len, ==, warnings + 1);
  g_assert_cmpuint (g_unlink (aside), ==, 0);
}

static void
test_damaged (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) huge = g_string_new ("mydaily-outbox 1\n" GOOD_FIELDS "text=");

  for (gsize i = 0; i < G_N_ELEMENTS (bad_entries); i++)
    {
      const char *contents = bad_entries[i].contents;
      gsize len = strcmp (bad_entries[i].name, "nul") == 0
                      ? sizeof ("mydaily-outbox 1\n" GOOD_FIELDS "text=a\0b\n") - 1
                      : strlen (contents);

      g_test_message ("damaged entry: %s", bad_entries[i].name);
      check_damaged (f, contents, len);
    }
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (huge, 'a');
  g_string_append_c (huge, '\n');
  check_damaged (f, huge->str, huge->len);
  /* A good entry beside them is still listed. */
  add_ok (f->outbox, NOTEBOOK, KEY2, "good", T0);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 1);
}

/* A symbolic link, a directory or a FIFO in an entry's place is set aside
 * without being followed or opened for long. */
static void
test_damaged_not_files (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->top, "secret", NULL);
  g_autofree char *link = path_in (f, KEY1 ".note");
  g_autofree char *subdir = path_in (f, KEY2 ".note");
  g_autofree char *fifo = path_in (f, KEY3 ".note");
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *secret = NULL;

  g_assert_true (
      g_file_set_contents (target, "mydaily-outbox 1\n" GOOD_FIELDS "text=x\n", -1, NULL));
  g_assert_cmpint (symlink (target, link), ==, 0);
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 0);
  g_assert_cmpuint (count_files (f, ".damaged"), ==, 3);
  g_assert_true (g_file_get_contents (target, &secret, NULL, NULL));
  g_assert_true (g_str_has_suffix (secret, "text=x\n"));
}

/* Names that are not entries are left alone. */
static void
test_other_names (Fixture *f, gconstpointer data)
{
  static const char *const names[] = { "README", KEY1, KEY1 ".note.rejected",
                                       "11111111-1111-4111-8111-11111111111A.note", ".x.tmp" };
  g_autoptr (GPtrArray) entries = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = path_in (f, names[i]);

      g_assert_true (g_file_set_contents (path, "junk", -1, NULL));
    }
  entries = list_ok (f->outbox, NOTEBOOK);
  g_assert_cmpuint (entries->len, ==, 0);
  g_assert_cmpuint (md_outbox_get_warnings (f->outbox)->len, ==, 0);
  g_assert_cmpuint (count_files (f, ".damaged"), ==, 0);
}

static void
test_lock_busy (Fixture *f, gconstpointer data)
{
  g_autoptr (MdOutbox) second = md_outbox_open (f->dir, NULL);
  g_autoptr (MdOutboxLock) lock = NULL;
  g_autoptr (MdOutboxLock) other = NULL;
  g_autoptr (MdOutboxLock) busy = NULL;
  g_autoptr (GError) error = NULL;

  lock = md_outbox_try_lock (f->outbox, NOTEBOOK, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lock);
  busy = md_outbox_try_lock (second, NOTEBOOK, &error);
  g_assert_null (busy);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  other = md_outbox_try_lock (second, OTHER_NOTEBOOK, &error);
  g_assert_no_error (error);
  g_assert_nonnull (other);
  g_clear_pointer (&lock, md_outbox_unlock);
  busy = md_outbox_try_lock (second, NOTEBOOK, &error);
  g_assert_no_error (error);
  g_assert_nonnull (busy);
}

/* ---- flushing against a fake server -----------------------------------
 * The fake server logs every key it is sent, one a line; like the real one
 * it stores a key once, so "stored" is the set of logged keys. */

#define N_QUEUED 40

static void
send_to_log (const char *log, const MdOutboxEntry *entry)
{
  g_autofree char *line = g_strconcat (entry->key, "\n", NULL);
  int fd = open (log, O_WRONLY | O_APPEND | O_CREAT, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, line, strlen (line)), ==, (gssize)strlen (line));
  close (fd);
}

/* One flush as the client does it; @die_after > 0 kills the process after
 * sending that many, before removing the last one sent. */
static gboolean
flush (MdOutbox *outbox, const char *log, guint die_after)
{
  g_autoptr (MdOutboxLock) lock = md_outbox_try_lock (outbox, NOTEBOOK, NULL);
  g_autoptr (GPtrArray) entries = NULL;

  if (lock == NULL)
    return FALSE;
  entries = md_outbox_list (outbox, NOTEBOOK, NULL);
  for (guint i = 0; i < entries->len; i++)
    {
      const MdOutboxEntry *entry = entries->pdata[i];

      send_to_log (log, entry);
      if (die_after > 0 && i + 1 == die_after)
        raise (SIGKILL);
      g_assert_true (md_outbox_remove (outbox, entry->key, NULL));
    }
  return TRUE;
}

static void
queue_many (Fixture *f)
{
  for (guint i = 0; i < N_QUEUED; i++)
    {
      g_autofree char *key = g_strdup_printf ("%08x-2222-4222-8222-222222222222", i);
      g_autofree char *text = g_strdup_printf ("queued note %u", i);

      add_ok (f->outbox, NOTEBOOK, key, text, T0 + i);
    }
}

/* How often each queued key was sent, in the order first sent. */
static GHashTable *
read_log (Fixture *f, GPtrArray *order)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GHashTable *sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_true (g_file_get_contents (f->log, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (sent, lines[i]));

      if (n == 0)
        g_ptr_array_add (order, g_strdup (lines[i]));
      g_hash_table_insert (sent, g_strdup (lines[i]), GUINT_TO_POINTER (n + 1));
    }
  return sent;
}

static void
assert_all_stored_in_order (Fixture *f, GHashTable *sent, GPtrArray *order)
{
  g_assert_cmpuint (g_hash_table_size (sent), ==, N_QUEUED);
  g_assert_cmpuint (order->len, ==, N_QUEUED);
  for (guint i = 0; i < N_QUEUED; i++)
    {
      g_autofree char *key = g_strdup_printf ("%08x-2222-4222-8222-222222222222", i);

      g_assert_cmpstr (order->pdata[i], ==, key);
    }
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, 0);
}

/* Four runs flush the same outbox at once: every note is sent once, in
 * the order queued, and the outbox ends empty. */
static void
test_flush_concurrent (Fixture *f, gconstpointer data)
{
  enum
  {
    N_CHILDREN = 4
  };
  pid_t children[N_CHILDREN];
  g_autoptr (GHashTable) sent = NULL;
  g_autoptr (GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer count;

  queue_many (f);
  for (guint c = 0; c < N_CHILDREN; c++)
    {
      children[c] = fork ();
      g_assert_cmpint (children[c], >=, 0);
      if (children[c] == 0)
        {
          MdOutbox *outbox = md_outbox_open (f->dir, NULL);

          /* A run that finds the outbox busy tries a bounded number of
           * times, then leaves it to the run that holds it. */
          for (guint attempt = 0; attempt < 1000 && !flush (outbox, f->log, 0); attempt++)
            ;
          md_outbox_free (outbox);
          _exit (0);
        }
    }
  for (guint c = 0; c < N_CHILDREN; c++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (children[c], &status, 0), ==, children[c]);
      g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }
  sent = read_log (f, order);
  assert_all_stored_in_order (f, sent, order);
  g_hash_table_iter_init (&iter, sent);
  while (g_hash_table_iter_next (&iter, NULL, &count))
    g_assert_cmpuint (GPOINTER_TO_UINT (count), ==, 1);
}

/* A run killed mid-flush, after sending a note and before removing it:
 * the kill releases the lock, the next run sends that note again (the
 * server answers 4.12) and the rest once, so each is stored once. */
static void
test_flush_killed (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) sent = NULL;
  g_autoptr (GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *in_flight = g_strdup_printf ("%08x-2222-4222-8222-222222222222", 6);
  pid_t child;
  int status = 0;

  queue_many (f);
  child = fork ();
  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      MdOutbox *outbox = md_outbox_open (f->dir, NULL);

      flush (outbox, f->log, 7);
      _exit (1); /* not reached */
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  g_assert_cmpuint (md_outbox_count (f->outbox, NOTEBOOK, NULL), ==, N_QUEUED - 6);

  g_assert_true (flush (f->outbox, f->log, 0));
  sent = read_log (f, order);
  assert_all_stored_in_order (f, sent, order);
  for (guint i = 0; i < N_QUEUED; i++)
    {
      g_autofree char *key = g_strdup_printf ("%08x-2222-4222-8222-222222222222", i);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (sent, key));

      g_assert_cmpuint (n, ==, strcmp (key, in_flight) == 0 ? 2 : 1);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/outbox/open/modes", test_open_modes);
  ADD ("/outbox/open/symlink", test_open_symlink);
  ADD ("/outbox/add/list", test_add_list);
  ADD ("/outbox/add/upper-case", test_add_upper_case);
  ADD ("/outbox/add/same-key", test_add_same_key);
  ADD ("/outbox/add/bad", test_add_bad);
  ADD ("/outbox/add/full", test_add_full);
  ADD ("/outbox/remove", test_remove);
  ADD ("/outbox/reject", test_reject);
  ADD ("/outbox/count", test_count);
  ADD ("/outbox/bind/unknown-notebook", test_bind);
  ADD ("/outbox/bind/concurrent", test_bind_concurrent);
  ADD ("/outbox/damaged/contents", test_damaged);
  ADD ("/outbox/damaged/not-files", test_damaged_not_files);
  ADD ("/outbox/damaged/other-names", test_other_names);
  ADD ("/outbox/lock/busy", test_lock_busy);
  ADD ("/outbox/flush/concurrent", test_flush_concurrent);
  ADD ("/outbox/flush/killed", test_flush_killed);
#undef ADD
  return g_test_run ();
}
