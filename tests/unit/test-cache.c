#include "config.h"

/* nftw(); config.h includes no system header, so this still comes first. */
#define _GNU_SOURCE

#include "md-cache-search.h"
#include "md-cache.h"
#include "md-error.h"
#include "md-note.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* 2026-11-24T19:42:57Z */
#define T0 G_GINT64_CONSTANT (1795549377)
/* The author of the served lines of these tests. */
#define AUTHOR "bob"
#define NOTEBOOK "0f8a3c1e-5b2d-4e6f-9a7b-1c2d3e4f5a6b"
#define OTHER_NOTEBOOK "7d6c5b4a-3928-4716-a5b4-c3d2e1f0a9b8"

/* ---- fault injection: the test defines write(), so the cache (linked
 * statically) calls it; it passes through unless a test arms a fault. */
static int write_errno;

ssize_t
write (int fd, const void *buf, size_t n)
{
  if (write_errno != 0)
    {
      errno = write_errno;
      write_errno = 0;
      return -1;
    }
  return syscall (SYS_write, fd, buf, n);
}

typedef struct
{
  char *dir;   /* the cache base directory */
  char *notes; /* DIR/NOTEBOOK/notes */
  char *notebook_dir;
} Fixture;

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("test-cache-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->notebook_dir = g_build_filename (f->dir, NOTEBOOK, NULL);
  f->notes = g_build_filename (f->notebook_dir, "notes", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (nftw (f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
  g_free (f->dir);
  g_free (f->notes);
  g_free (f->notebook_dir);
}

/* Served lines for notes @first to @last, note i with text "note i" and a
 * time that goes up every other note (equal times are allowed). */
static GString *
served (guint64 first, guint64 last)
{
  GString *out = g_string_new (NULL);

  for (guint64 id = first; id <= last; id++)
    {
      g_autofree char *text = g_strdup_printf ("note %" G_GUINT64_FORMAT, id);

      md_note_append_wire_line (out, id, T0 + (gint64)(id / 2) * 60, AUTHOR, text, strlen (text));
    }
  return out;
}

static MdCache *
open_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  MdCache *cache = md_cache_open (f->dir, NOTEBOOK, &error);

  g_assert_no_error (error);
  g_assert_nonnull (cache);
  return cache;
}

static void
append_ok (MdCache *cache, guint64 first, guint64 last)
{
  g_autoptr (GString) lines = served (first, last);
  g_autoptr (GError) error = NULL;

  g_assert_true (md_cache_append (cache, lines->str, lines->len, &error));
  g_assert_no_error (error);
}

static char *
read_notes (Fixture *f)
{
  char *contents = NULL;

  g_assert_true (g_file_get_contents (f->notes, &contents, NULL, NULL));
  return contents;
}

static void
write_notes (Fixture *f, const char *data, gssize len)
{
  g_assert_cmpint (g_mkdir_with_parents (f->notebook_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (f->notes, data, len, NULL));
  g_assert_cmpint (g_chmod (f->notes, 0600), ==, 0);
}

static mode_t
mode_of (const char *path)
{
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
test_open_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);

  g_assert_cmpuint (md_cache_get_count (cache), ==, 0);
  g_assert_null (md_cache_get_repair (cache));
  g_assert_cmpint (md_cache_get_fetched (cache), ==, 0);
  g_assert_null (md_cache_get_server (cache));
  g_assert_cmpstr (md_cache_get_notebook (cache), ==, NOTEBOOK);
  g_assert_cmpuint (mode_of (f->dir), ==, 0700);
  g_assert_cmpuint (mode_of (f->notebook_dir), ==, 0700);
  g_assert_cmpuint (mode_of (f->notes), ==, 0600);
}

/* Upper-case identities name the same cache. */
static void
test_open_upper_case (Fixture *f, gconstpointer data)
{
  g_autofree char *upper = g_ascii_strup (NOTEBOOK, -1);
  g_autoptr (MdCache) cache = md_cache_open (f->dir, upper, NULL);

  g_assert_nonnull (cache);
  g_assert_cmpstr (md_cache_get_notebook (cache), ==, NOTEBOOK);
  g_assert_true (g_file_test (f->notes, G_FILE_TEST_IS_REGULAR));
}

static void
test_open_bad_identity (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "", "..", "../../etc", "not-a-uuid", NOTEBOOK "/..", "0f8a3c1e-5b2d-4e6f-9a7b-1c2d3e4f5a6"
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MdCache) cache = md_cache_open (f->dir, bad[i], &error);

      g_assert_null (cache);
      g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
    }
  /* Nothing was made. */
  g_assert_false (g_file_test (f->notebook_dir, G_FILE_TEST_EXISTS));
}

/* Lines go in byte for byte and come back after a reopen. */
static void
test_append_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) lines = served (1, 3);
  g_autofree char *contents = NULL;
  const char *line;
  gsize len = 0;
  MdNoteLine note;

  {
    g_autoptr (MdCache) cache = open_ok (f);

    append_ok (cache, 1, 3);
    g_assert_cmpuint (md_cache_get_count (cache), ==, 3);
  }
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, lines->str);
  {
    g_autoptr (MdCache) cache = open_ok (f);

    g_assert_cmpuint (md_cache_get_count (cache), ==, 3);
    line = md_cache_get_line (cache, 2, &len);
    g_assert_cmpmem (line, len, "2\t2026-11-24T19:43:57Z\tbob\tnote 2\n", 34);
    g_assert_true (md_cache_get_note (cache, 3, &note));
    g_assert_cmpuint (note.id, ==, 3);
    g_assert_cmpmem (note.text, note.text_len, "note 3", 6);
    g_assert_true (md_cache_matches (cache, 2, line, len - 1));
    g_assert_true (md_cache_matches (cache, 2, line, len));
    g_assert_false (md_cache_matches (cache, 3, line, len));
    g_assert_false (md_cache_matches (cache, 4, line, len));
    g_assert_false (md_cache_matches (cache, 0, line, len));
  }
}

/* A fetch that overlaps the cache adds only the notes after it: the second
 * read asks ?after=count, and even a repeated answer is harmless. */
static void
test_append_overlap (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) all = served (1, 5);
  g_autofree char *contents = NULL;

  append_ok (cache, 1, 3);
  append_ok (cache, 2, 5);
  append_ok (cache, 1, 5);
  append_ok (cache, 5, 5);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 5);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, all->str);
}

/* A served note that differs from the cached one: not the same notebook. */
static void
test_append_mismatch (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) lines = g_string_new (NULL);
  g_autoptr (GString) before = served (1, 3);
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;

  append_ok (cache, 1, 3);
  md_note_append_wire_line (lines, 3, T0 + 60, AUTHOR, "not note 3", 10);
  md_note_append_wire_line (lines, 4, T0 + 60, AUTHOR, "note 4", 6);
  g_assert_false (md_cache_append (cache, lines->str, lines->len, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_CORRUPT_STORE);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 3);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, before->str);
}

typedef struct
{
  const char *name;
  const char *lines; /* appended to a cache holding notes 1 and 2 */
} MdBadChunk;

static const MdBadChunk bad_chunks[] = {
  { "gap", "4\t2026-11-24T19:45:00Z\tbob\tfour\n" },
  { "repeat-new", "3\t2026-11-24T19:45:00Z\tbob\tthree\n3\t2026-11-24T19:45:00Z\tbob\tthree\n" },
  { "backwards", "3\t2026-11-24T19:00:00Z\tbob\tthree\n" },
  { "no-newline", "3\t2026-11-24T19:45:00Z\tbob\tthree" },
  { "half-second-line", "3\t2026-11-24T19:45:00Z\tbob\tthree\n4\t2026" },
  { "control", "3\t2026-11-24T19:45:00Z\tbob\tth\x1b[2Jree\n" },
  { "c1-control", "3\t2026-11-24T19:45:00Z\tbob\tth\xc2\x9bree\n" },
  { "not-utf8", "3\t2026-11-24T19:45:00Z\tbob\tth\xff\xferee\n" },
  { "empty-text", "3\t2026-11-24T19:45:00Z\tbob\t\n" },
  { "bad-time", "3\t2026-11-24 19:45:00\tthree\n" },
  { "bad-id", "03\t2026-11-24T19:45:00Z\tbob\tthree\n" },
  { "empty-line", "\n" },
  { "crlf", "3\t2026-11-24T19:45:00Z\tbob\tthree\r\n" },
  { "good-then-bad", "3\t2026-11-24T19:45:00Z\tbob\tthree\n4\t2026-11-24T19:45:00Z\tbob\t\x01\n" },
};

static void
test_append_bad (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) before = served (1, 2);

  append_ok (cache, 1, 2);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_chunks); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *contents = NULL;
      const char *lines = bad_chunks[i].lines;

      g_test_message ("bad chunk: %s", bad_chunks[i].name);
      g_assert_false (md_cache_append (cache, lines, strlen (lines), &error));
      g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
      g_assert_cmpuint (md_cache_get_count (cache), ==, 2);
      contents = read_notes (f);
      g_assert_cmpstr (contents, ==, before->str);
    }
}

/* A line longer than any note: refused, not searched to its end. */
static void
test_append_huge_line (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) lines = g_string_new ("1\t2026-11-24T19:45:00Z\tbob\t");
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 4 * 1024 * 1024; i++)
    g_string_append_c (lines, 'a');
  g_string_append_c (lines, '\n');
  g_assert_false (md_cache_append (cache, lines->str, lines->len, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_MALFORMED);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 0);
}

/* A failed write leaves the file as it was, and the next append works. */
static void
test_append_write_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) lines = served (3, 4);
  g_autoptr (GString) all = served (1, 4);
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;

  append_ok (cache, 1, 2);
  write_errno = ENOSPC;
  g_assert_false (md_cache_append (cache, lines->str, lines->len, &error));
  g_assert_error (error, MD_ERROR, MD_ERROR_NO_SPACE);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 2);
  append_ok (cache, 3, 4);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, all->str);
}

typedef struct
{
  const char *name;
  const char *data;
  gsize len; /* 0: strlen */
} MdBadFile;

static const MdBadFile bad_files[] = {
  { "control-bytes",
    "1\t2026-11-24T19:45:00Z\tbob\tone\n2\t2026-11-24T19:45:00Z\tbob\t\x1b]0;pwned\x07\n" },
  { "not-utf8", "1\t2026-11-24T19:45:00Z\tbob\t\xc3\x28\n" },
  { "overlong-utf8", "1\t2026-11-24T19:45:00Z\tbob\t\xc0\xaf\n" },
  { "ids-out-of-order", "2\t2026-11-24T19:45:00Z\tbob\ttwo\n1\t2026-11-24T19:45:00Z\tbob\tone\n" },
  { "ids-not-from-1", "5\t2026-11-24T19:45:00Z\tbob\tfive\n" },
  { "id-gap", "1\t2026-11-24T19:45:00Z\tbob\tone\n3\t2026-11-24T19:45:00Z\tbob\tthree\n" },
  { "id-repeated", "1\t2026-11-24T19:45:00Z\tbob\tone\n1\t2026-11-24T19:45:00Z\tbob\tone\n" },
  { "time-backwards", "1\t2026-11-24T19:45:00Z\tbob\tone\n2\t2026-11-24T19:44:59Z\tbob\ttwo\n" },
  { "nul-byte", "1\t2026-11-24T19:45:00Z\tbob\to\0ne\n", 32 },
  { "binary",
    "\x7f"
    "ELF\x02\x01\x01\0\0\0\0\n",
    12 },
  { "crlf", "1\t2026-11-24T19:45:00Z\tbob\tone\r\n" },
  { "notes-file-format", "1\t2026-11-24T19:45:00Z\t-\tbob\tone\n" },
  /* Only a file of the previous version's lines is stale rather than
   * damaged: one such line after lines of this version is damage. */
  { "previous-version-after-good",
    "1\t2026-11-24T19:45:00Z\tbob\tone\n2\t2026-11-24T19:45:00Z\ttwo\n" },
  { "empty-line", "1\t2026-11-24T19:45:00Z\tbob\tone\n\n" },
  { "text-too-long", NULL },
};

/* The text-too-long case: a 1001-byte text. */
static GString *
long_text_file (void)
{
  GString *out = g_string_new ("1\t2026-11-24T19:45:00Z\tbob\t");

  for (guint i = 0; i <= MD_NOTE_MAX_BYTES; i++)
    g_string_append_c (out, 'a');
  g_string_append_c (out, '\n');
  return out;
}

static void
check_set_aside (Fixture *f, const char *data, gsize len)
{
  g_autoptr (MdCache) cache = NULL;
  g_autofree char *damaged_path = g_build_filename (f->notebook_dir, "notes.damaged", NULL);
  g_autofree char *damaged = NULL;
  g_autofree char *contents = NULL;
  gsize damaged_len = 0;

  write_notes (f, data, (gssize)len);
  cache = open_ok (f);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 0);
  g_assert_nonnull (md_cache_get_repair (cache));
  g_assert_nonnull (strstr (md_cache_get_repair (cache), "notes.damaged"));
  g_test_message ("%s", md_cache_get_repair (cache));
  g_assert_true (g_file_get_contents (damaged_path, &damaged, &damaged_len, NULL));
  g_assert_cmpmem (damaged, damaged_len, data, len);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, "");
  /* The rebuilt cache works. */
  append_ok (cache, 1, 2);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 2);
}

static void
test_open_damaged (Fixture *f, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autoptr (GString) long_text = long_text_file ();
      const char *bytes = bad_files[i].data != NULL ? bad_files[i].data : long_text->str;
      gsize len = bad_files[i].data == NULL ? long_text->len
                  : bad_files[i].len != 0   ? bad_files[i].len
                                            : strlen (bytes);

      g_test_message ("damaged cache: %s", bad_files[i].name);
      check_set_aside (f, bytes, len);
    }
}

/* A cache the previous version wrote, before notes had authors: stale, not
 * damaged.  It is set aside as notes.replaced without a repair message, the
 * meta file goes (so the next fetch starts from note 1), and the cache
 * fills again with this version's lines. */
static void
test_open_previous_version (Fixture *f, gconstpointer data)
{
  static const char old[] = "1\t2026-11-24T19:45:00Z\tone\n2\t2026-11-24T19:46:00Z\ttwo\n";
  g_autofree char *replaced_path = g_build_filename (f->notebook_dir, "notes.replaced", NULL);
  g_autofree char *replaced = NULL;
  g_autoptr (MdCache) cache = NULL;
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (MdCache) before = open_ok (f);

    g_assert_true (md_cache_set_fetched (before, "host:5683", 1000, &error));
    g_assert_no_error (error);
  }
  write_notes (f, old, -1);
  cache = open_ok (f);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 0);
  g_assert_null (md_cache_get_repair (cache));
  g_assert_cmpint (md_cache_get_fetched (cache), ==, 0);
  g_assert_true (g_file_get_contents (replaced_path, &replaced, NULL, NULL));
  g_assert_cmpstr (replaced, ==, old);
  append_ok (cache, 1, 2);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 2);
}

/* A huge file of one line without a newline is damage, found without
 * reading all of it as one line. */
static void
test_open_huge_line (Fixture *f, gconstpointer data)
{
  gsize len = 8 * 1024 * 1024;
  g_autofree char *junk = g_malloc (len);

  memset (junk, 'a', len);
  check_set_aside (f, junk, len);
}

/* Good notes followed by damage: the whole file is set aside, not the part
 * after the damage kept. */
static void
test_open_damaged_after_good (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) lines = served (1, 100);

  g_string_append (lines, "101\t2026-11-24T23:00:00Z\tbob\tbad \x1b text\n");
  check_set_aside (f, lines->str, lines->len);
}

/* A crash during an append leaves a line without its newline: it is cut off
 * and the notes before it are kept. */
static void
test_open_torn_tail (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) lines = served (1, 3);
  g_autoptr (GString) expected = served (1, 4);
  g_autoptr (MdCache) cache = NULL;
  g_autofree char *contents = NULL;

  g_string_append (lines, "4\t2026-11-24T19:4");
  write_notes (f, lines->str, (gssize)lines->len);
  cache = open_ok (f);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 3);
  g_assert_null (md_cache_get_repair (cache));
  append_ok (cache, 4, 4);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, expected->str);
}

static void
test_open_symlink_file (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->dir, "elsewhere", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCache) cache = NULL;

  g_assert_true (g_file_set_contents (target, "precious\n", -1, NULL));
  g_assert_cmpint (g_mkdir_with_parents (f->notebook_dir, 0700), ==, 0);
  g_assert_cmpint (symlink (target, f->notes), ==, 0);
  cache = md_cache_open (f->dir, NOTEBOOK, &error);
  g_assert_null (cache);
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "symbolic link"));
  g_assert_true (g_file_get_contents (target, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious\n");
}

static void
test_open_symlink_dir (Fixture *f, gconstpointer data)
{
  g_autofree char *target = g_build_filename (f->dir, "elsewhere", NULL);
  g_autofree char *planted = g_build_filename (target, "notes", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCache) cache = NULL;
  g_autoptr (MdCache) other = NULL;

  g_assert_cmpint (g_mkdir (target, 0700), ==, 0);
  g_assert_true (
      g_file_set_contents (planted, "1\t2026-11-24T19:45:00Z\tbob\tplanted\n", -1, NULL));
  g_assert_cmpint (symlink (target, f->notebook_dir), ==, 0);
  cache = md_cache_open (f->dir, NOTEBOOK, &error);
  g_assert_null (cache);
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "symbolic link"));
  /* Other notebooks are not affected. */
  other = md_cache_open (f->dir, OTHER_NOTEBOOK, NULL);
  g_assert_nonnull (other);
}

/* A FIFO in place of the notes file is refused without hanging the open. */
static void
test_open_fifo (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCache) cache = NULL;

  g_assert_cmpint (g_mkdir_with_parents (f->notebook_dir, 0700), ==, 0);
  g_assert_cmpint (mkfifo (f->notes, 0600), ==, 0);
  cache = md_cache_open (f->dir, NOTEBOOK, &error);
  g_assert_null (cache);
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
}

/* Permissions for others are taken away; the notes are kept. */
static void
test_open_modes (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) lines = served (1, 2);
  g_autoptr (MdCache) cache = NULL;

  write_notes (f, lines->str, (gssize)lines->len);
  g_assert_cmpint (g_chmod (f->notebook_dir, 0777), ==, 0);
  g_assert_cmpint (g_chmod (f->notes, 0666), ==, 0);
  cache = open_ok (f);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 2);
  g_assert_cmpuint (mode_of (f->notebook_dir), ==, 0700);
  g_assert_cmpuint (mode_of (f->notes), ==, 0600);
}

/* A cache someone else owns could put words in the notebook's mouth: it is
 * refused, and left as it is.  Needs root to make such a file. */
static void
test_open_other_owner (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) lines = served (1, 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (MdCache) cache = NULL;
  g_autofree char *contents = NULL;

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to give a file to another user");
      return;
    }
  write_notes (f, lines->str, (gssize)lines->len);
  g_assert_cmpint (chown (f->notes, 65534, 65534), ==, 0);
  cache = md_cache_open (f->dir, NOTEBOOK, &error);
  g_assert_null (cache);
  g_assert_error (error, MD_ERROR, MD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "another user"));
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, lines->str);
}

static void
test_reset (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) old = served (1, 3);
  g_autofree char *replaced_path = g_build_filename (f->notebook_dir, "notes.replaced", NULL);
  g_autofree char *replaced = NULL;
  g_autoptr (GError) error = NULL;

  append_ok (cache, 1, 3);
  g_assert_true (md_cache_set_fetched (cache, "localhost:5683", T0, NULL));
  g_assert_true (md_cache_reset (cache, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 0);
  g_assert_cmpint (md_cache_get_fetched (cache), ==, 0);
  g_assert_true (g_file_get_contents (replaced_path, &replaced, NULL, NULL));
  g_assert_cmpstr (replaced, ==, old->str);
  append_ok (cache, 1, 1);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 1);
}

static void
test_meta (Fixture *f, gconstpointer data)
{
  g_autofree char *meta = g_build_filename (f->notebook_dir, "meta", NULL);

  {
    g_autoptr (MdCache) cache = open_ok (f);

    g_assert_true (md_cache_set_fetched (cache, "[::1]:5683", T0, NULL));
    g_assert_cmpint (md_cache_get_fetched (cache), ==, T0);
    g_assert_false (md_cache_set_fetched (cache, "bad\nserver", T0, NULL));
    g_assert_cmpstr (md_cache_get_server (cache), ==, "[::1]:5683");
  }
  g_assert_cmpuint (mode_of (meta), ==, 0600);
  {
    g_autoptr (MdCache) cache = open_ok (f);

    g_assert_cmpint (md_cache_get_fetched (cache), ==, T0);
    g_assert_cmpstr (md_cache_get_server (cache), ==, "[::1]:5683");
  }
  /* A damaged meta file costs the age, nothing else. */
  g_assert_true (g_file_set_contents (meta, "server=x\nfetched=-5\n", -1, NULL));
  {
    g_autoptr (MdCache) cache = open_ok (f);

    g_assert_cmpint (md_cache_get_fetched (cache), ==, 0);
    g_assert_null (md_cache_get_server (cache));
  }
  g_assert_true (g_file_set_contents (meta, "server=\x1b[31m\nfetched=5\n", -1, NULL));
  {
    g_autoptr (MdCache) cache = open_ok (f);

    g_assert_null (md_cache_get_server (cache));
  }
}

/* Two caches of one notebook in one process stand for two mydailyctl runs:
 * each takes in what the other appended before adding its own. */
static void
test_two_writers (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) a = open_ok (f);
  g_autoptr (MdCache) b = open_ok (f);
  g_autoptr (GString) all = served (1, 6);
  g_autofree char *contents = NULL;

  append_ok (a, 1, 3);
  append_ok (b, 1, 5);
  g_assert_cmpuint (md_cache_get_count (b), ==, 5);
  append_ok (a, 6, 6);
  g_assert_cmpuint (md_cache_get_count (a), ==, 6);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, all->str);
}

/* A reset by one run: the other notices the new file at its next change. */
static void
test_two_writers_reset (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) a = open_ok (f);
  g_autoptr (MdCache) b = open_ok (f);
  g_autoptr (GString) expected = served (1, 2);
  g_autofree char *contents = NULL;

  append_ok (a, 1, 3);
  append_ok (b, 1, 3);
  g_assert_true (md_cache_reset (a, NULL));
  append_ok (b, 1, 2);
  g_assert_cmpuint (md_cache_get_count (b), ==, 2);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, expected->str);
}

/* Processes that append overlapping fetches at once store each note once. */
static void
test_concurrent_processes (Fixture *f, gconstpointer data)
{
  enum
  {
    N_CHILDREN = 4,
    N_NOTES = 200
  };
  g_autoptr (GString) all = served (1, N_NOTES);
  g_autofree char *contents = NULL;
  pid_t children[N_CHILDREN];

  for (guint c = 0; c < N_CHILDREN; c++)
    {
      children[c] = fork ();
      g_assert_cmpint (children[c], >=, 0);
      if (children[c] == 0)
        {
          MdCache *cache = md_cache_open (f->dir, NOTEBOOK, NULL);
          gboolean ok = cache != NULL;

          /* Each child fetches in its own chunk size, overlapping the rest. */
          for (guint64 first = 1; ok && first <= N_NOTES; first += 3 + c)
            {
              g_autoptr (GString) lines = served (first, MIN (N_NOTES, first + 5 + c));

              ok = md_cache_append (cache, lines->str, lines->len, NULL);
            }
          md_cache_free (cache);
          _exit (ok ? 0 : 1);
        }
    }
  for (guint c = 0; c < N_CHILDREN; c++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (children[c], &status, 0), ==, children[c]);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, all->str);
}

static void
test_redact (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GString) lines = g_string_new (NULL);
  g_autoptr (GString) expected = g_string_new (NULL);
  g_autofree char *contents = NULL;
  const guint64 ids[] = { 2, 0, 99 };
  const char *password = "password: hunter2 密码";
  MdNoteLine note;

  md_note_append_wire_line (lines, 1, T0, AUTHOR, "one", 3);
  md_note_append_wire_line (lines, 2, T0, AUTHOR, password, strlen (password));
  md_note_append_wire_line (lines, 3, T0, AUTHOR, "three", 5);
  g_assert_true (md_cache_append (cache, lines->str, lines->len, NULL));
  g_assert_true (md_cache_redact (cache, ids, G_N_ELEMENTS (ids), NULL));

  md_note_append_wire_line (expected, 1, T0, AUTHOR, "one", 3);
  g_string_append (expected, "2\t2026-11-24T19:42:57Z\tbob\t");
  for (gsize i = 0; i < strlen (password); i++)
    g_string_append_c (expected, MD_CACHE_REDACTION_FILLER);
  g_string_append_c (expected, '\n');
  md_note_append_wire_line (expected, 3, T0, AUTHOR, "three", 5);
  contents = read_notes (f);
  g_assert_cmpstr (contents, ==, expected->str);
  /* The open cache sees it too, and a reopen finds a valid file. */
  g_assert_true (md_cache_get_note (cache, 2, &note));
  g_assert_cmpuint (note.text_len, ==, strlen (password));
  g_assert_cmpint (note.text[0], ==, MD_CACHE_REDACTION_FILLER);
  g_clear_pointer (&cache, md_cache_free);
  cache = open_ok (f);
  g_assert_cmpuint (md_cache_get_count (cache), ==, 3);
  g_assert_null (md_cache_get_repair (cache));
}

static void
test_find_notebook (Fixture *f, gconstpointer data)
{
  g_autofree char *found = NULL;
  g_autofree char *junk = g_build_filename (f->dir, "not-a-notebook", NULL);

  g_assert_null (md_cache_find_notebook (f->dir, "localhost:5683"));
  {
    g_autoptr (MdCache) a = open_ok (f);
    g_autoptr (MdCache) b = md_cache_open (f->dir, OTHER_NOTEBOOK, NULL);

    g_assert_true (md_cache_set_fetched (a, "localhost:5683", T0, NULL));
    g_assert_true (md_cache_set_fetched (b, "localhost:5683", T0 + 10, NULL));
  }
  g_assert_cmpint (g_mkdir (junk, 0700), ==, 0);
  found = md_cache_find_notebook (f->dir, "localhost:5683");
  g_assert_cmpstr (found, ==, OTHER_NOTEBOOK);
  g_assert_null (md_cache_find_notebook (f->dir, "elsewhere:5683"));
}

/* ---- search ---------------------------------------------------------- */

static GArray *
run_query (MdCache *cache, const MdCacheQuery *query)
{
  return md_cache_query_run (cache, query);
}

static void
assert_ids (GArray *ids, const guint64 *expected, gsize n)
{
  g_assert_cmpuint (ids->len, ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (ids, guint64, i), ==, expected[i]);
  g_array_unref (ids);
}

/* Notes 1..10 at T0 + (id / 2) minutes: times come in equal pairs. */
static void
test_search_time (Fixture *f, gconstpointer data)
{
  g_autoptr (MdCache) cache = open_ok (f);
  MdCacheQuery query;

  g_assert_cmpuint (md_cache_find_time (cache, T0), ==, 1);
  append_ok (cache, 1, 10);
  g_assert_cmpuint (md_cache_find_time (cache, G_MININT64), ==, 1);
  g_assert_cmpuint (md_cache_find_time (cache, T0), ==, 1);
  g_assert_cmpuint (md_cache_find_time (cache, T0 + 1), ==, 2);
  g_assert_cmpuint (md_cache_find_time (cache, T0 + 60), ==, 2);
  g_assert_cmpuint (md_cache_find_time (cache, T0 + 61), ==, 4);
  g_assert_cmpuint (md_cache_find_time (cache, T0 + 300), ==, 10);
  g_assert_cmpuint (md_cache_find_time (cache, T0 + 301), ==, 11);
  g_assert_cmpuint (md_cache_find_time (cache, G_MAXINT64), ==, 11);

  md_cache_query_init (&query);
  assert_ids (run_query (cache, &query), (guint64[]){ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 10);
  /* Both ends are included. */
  query.range.since = T0 + 60;
  query.range.until = T0 + 120;
  assert_ids (run_query (cache, &query), (guint64[]){ 2, 3, 4, 5 }, 4);
  query.limit = 3;
  assert_ids (run_query (cache, &query), (guint64[]){ 3, 4, 5 }, 3);
  query.after = 4;
  assert_ids (run_query (cache, &query), (guint64[]){ 5 }, 1);
  query.after = G_MAXUINT64;
  assert_ids (run_query (cache, &query), NULL, 0);
  md_cache_query_init (&query);
  query.range.since = T0 + 1000;
  assert_ids (run_query (cache, &query), NULL, 0);
  query.range.since = MD_TIME_RANGE_MIN;
  query.range.until = T0 - 1;
  assert_ids (run_query (cache, &query), NULL, 0);
  query.range.until = T0;
  assert_ids (run_query (cache, &query), (guint64[]){ 1 }, 1);
  md_cache_query_clear (&query);
}

static void
append_texts (MdCache *cache, const char *const *texts)
{
  g_autoptr (GString) lines = g_string_new (NULL);

  for (guint i = 0; texts[i] != NULL; i++)
    md_note_append_wire_line (lines, i + 1, T0 + i, AUTHOR, texts[i], strlen (texts[i]));
  g_assert_true (md_cache_append (cache, lines->str, lines->len, NULL));
}

static void
test_search_grep (Fixture *f, gconstpointer data)
{
  static const char *const texts[] = { "Printer toner is in the cupboard",
                                       "backup disk swapped",
                                       "printer jammed again",
                                       "ÄPFEL kaufen",
                                       "äpfel gegessen",
                                       "今天学习了 UDP",
                                       "PRINTER fixed",
                                       NULL };
  g_autoptr (MdCache) cache = open_ok (f);
  g_autoptr (GError) error = NULL;
  MdCacheQuery query;

  append_texts (cache, texts);
  md_cache_query_init (&query);
  g_assert_true (md_cache_query_set_grep (&query, "printer", FALSE, &error));
  assert_ids (run_query (cache, &query), (guint64[]){ 3 }, 1);
  g_assert_true (md_cache_query_set_grep (&query, "printer", TRUE, &error));
  assert_ids (run_query (cache, &query), (guint64[]){ 1, 3, 7 }, 3);
  g_assert_true (md_cache_query_set_grep (&query, "äpfel", TRUE, &error));
  assert_ids (run_query (cache, &query), (guint64[]){ 4, 5 }, 2);
  g_assert_true (md_cache_query_set_grep (&query, "学习", FALSE, &error));
  assert_ids (run_query (cache, &query), (guint64[]){ 6 }, 1);
  g_assert_true (md_cache_query_set_grep (&query, "^p", TRUE, &error));
  assert_ids (run_query (cache, &query), (guint64[]){ 1, 3, 7 }, 3);
  /* With -n: the last matches, oldest first. */
  query.limit = 2;
  assert_ids (run_query (cache, &query), (guint64[]){ 3, 7 }, 2);
  /* With a time range: note i is at T0 + i - 1. */
  query.range.until = T0 + 5;
  assert_ids (run_query (cache, &query), (guint64[]){ 1, 3 }, 2);
  g_assert_no_error (error);

  g_assert_false (md_cache_query_set_grep (&query, "printer(", FALSE, &error));
  g_assert_error (error, G_REGEX_ERROR, G_REGEX_ERROR_UNMATCHED_PARENTHESIS);
  g_assert_nonnull (strstr (error->message, "--grep"));
  /* The old pattern stays. */
  assert_ids (run_query (cache, &query), (guint64[]){ 1, 3 }, 2);
  md_cache_query_clear (&query);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/cache/open/empty", test_open_empty);
  ADD ("/cache/open/upper-case", test_open_upper_case);
  ADD ("/cache/open/bad-identity", test_open_bad_identity);
  ADD ("/cache/open/damaged", test_open_damaged);
  ADD ("/cache/open/huge-line", test_open_huge_line);
  ADD ("/cache/open/previous-version", test_open_previous_version);
  ADD ("/cache/open/damaged-after-good", test_open_damaged_after_good);
  ADD ("/cache/open/torn-tail", test_open_torn_tail);
  ADD ("/cache/open/symlink-file", test_open_symlink_file);
  ADD ("/cache/open/symlink-dir", test_open_symlink_dir);
  ADD ("/cache/open/fifo", test_open_fifo);
  ADD ("/cache/open/modes", test_open_modes);
  ADD ("/cache/open/other-owner", test_open_other_owner);
  ADD ("/cache/append/reopen", test_append_reopen);
  ADD ("/cache/append/overlap", test_append_overlap);
  ADD ("/cache/append/mismatch", test_append_mismatch);
  ADD ("/cache/append/bad", test_append_bad);
  ADD ("/cache/append/huge-line", test_append_huge_line);
  ADD ("/cache/append/write-fails", test_append_write_fails);
  ADD ("/cache/reset", test_reset);
  ADD ("/cache/meta", test_meta);
  ADD ("/cache/concurrent/two-writers", test_two_writers);
  ADD ("/cache/concurrent/reset", test_two_writers_reset);
  ADD ("/cache/concurrent/processes", test_concurrent_processes);
  ADD ("/cache/redact", test_redact);
  ADD ("/cache/find-notebook", test_find_notebook);
  ADD ("/cache/search/time", test_search_time);
  ADD ("/cache/search/grep", test_search_grep);
#undef ADD
  return g_test_run ();
}
