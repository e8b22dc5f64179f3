/* /reliability/full-disk: the state directory on a small tmpfs.
 *
 * First a filler file takes every free block, so that a new record fits only
 * in part into the notes file's last block: the daemon must refuse the note
 * with 5.03 "storage full" and leave no partial record; once the filler is
 * gone, the same daemon stores again.  Then notes alone fill the tmpfs: the
 * note that does not fit is refused, every earlier note stays intact, the
 * file holds only whole records; after the tmpfs grows (remount) the same
 * daemon stores again.
 *
 * Needs root for mount(2).  The test program moves into a mount namespace of
 * its own first, so a crash cannot leave the tmpfs mounted on the host. */
#include "config.h"

/* unshare() and CLONE_NEWNS */
#define _GNU_SOURCE

#include "md-reliability.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define TMPFS_SIZE "size=64k"
#define TMPFS_GROWN_SIZE "size=256k"
#define NOTE_LEN 1000 /* the longest note there is */
/* A record is "ID\tTIME\tKEY\tAUTHOR\tTEXT\n": 20-byte time, 36-byte key,
 * and the author of a plain add from loopback. */
#define AUTHOR "@127.0.0.1"
#define RECORD_OVERHEAD (1 + 20 + 1 + 36 + 1 + (sizeof AUTHOR - 1) + 1 + 1)
#define MAX_NOTES 200
#define MAX_FILLER_BLOCKS 1024
#define CLIENT_TIMEOUT_MS 60000

static gboolean in_private_namespace;

typedef struct
{
  MdTestDaemon *daemon;
  const char *dir; /* the state directory, the tmpfs mount point */
  gboolean mounted;
  guint stored; /* notes the daemon acknowledged */
} FullDisk;

/* ---- mounting ---- */

/* Before any thread exists: unshare(CLONE_NEWNS) needs a single-threaded
 * caller.  Mounts made afterwards vanish with the process. */
static void
enter_mount_namespace (void)
{
  if (geteuid () != 0 || unshare (CLONE_NEWNS) != 0)
    return;
  /* Keep our mounts from propagating back to the host's namespace. */
  in_private_namespace = mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static gboolean
mount_tmpfs (FullDisk *fd)
{
  g_autofree char *reason = NULL;

  if (geteuid () != 0)
    {
      md_rel_skip ("mounting a tmpfs needs root");
      return FALSE;
    }
  if (mount ("tmpfs", fd->dir, "tmpfs", MS_NOSUID | MS_NODEV, TMPFS_SIZE ",mode=0700") != 0)
    {
      reason = g_strdup_printf ("cannot mount a tmpfs on %s: %s", fd->dir, g_strerror (errno));
      md_rel_skip (reason);
      return FALSE;
    }
  fd->mounted = TRUE;
  g_test_message ("tmpfs (%s) on %s%s", TMPFS_SIZE, fd->dir,
                  in_private_namespace ? " in a private mount namespace" : "");
  return TRUE;
}

static void
unmount_tmpfs (FullDisk *fd)
{
  if (fd->mounted && umount2 (fd->dir, MNT_DETACH) != 0)
    g_test_fail_printf ("cannot unmount %s: %s", fd->dir, g_strerror (errno));
  fd->mounted = FALSE;
}

static gsize
block_size (const char *dir)
{
  struct statvfs st;

  g_assert_cmpint (statvfs (dir, &st), ==, 0);
  return st.f_bsize;
}

/* ---- notes ---- */

static char *
note_text (guint n, gsize len)
{
  GString *text = g_string_new (NULL);

  g_string_printf (text, "fill %u ", n);
  while (text->len < len)
    g_string_append_c (text, (char)('a' + text->len % 26));
  g_string_truncate (text, len);
  return g_string_free (text, FALSE);
}

static gsize
record_len (guint id, gsize text_len)
{
  g_autofree char *digits = g_strdup_printf ("%u", id);

  return strlen (digits) + RECORD_OVERHEAD + text_len;
}

static MdTestCtlResult *
add_note (FullDisk *fd, const char *text)
{
  const char *const argv[] = { "--timeout=30", "add", text, NULL };

  return md_test_ctl_run (md_test_daemon_get_address (fd->daemon), NULL, argv, CLIENT_TIMEOUT_MS);
}

static void
add_note_ok (FullDisk *fd, gsize len)
{
  g_autofree char *text = note_text (fd->stored + 1, len);
  g_autofree char *expected = g_strdup_printf ("added note %u\n", fd->stored + 1);
  g_autoptr (MdTestCtlResult) result = add_note (fd, text);

  if (result->exit_status != 0 || !g_str_equal (result->out, expected))
    g_error ("note %u (%" G_GSIZE_FORMAT " bytes): exit %d, \"%s\"; stderr: %s", fd->stored + 1,
             len, result->exit_status, result->out, result->err);
  fd->stored++;
}

/* TRUE if stored, FALSE if refused because storage is full (anything else
 * fails the test). */
static gboolean
add_note_or_full (FullDisk *fd, gsize len)
{
  g_autofree char *text = note_text (fd->stored + 1, len);
  g_autoptr (MdTestCtlResult) result = add_note (fd, text);

  if (result->exit_status == 0)
    {
      fd->stored++;
      return TRUE;
    }
  if (result->exit_status != 1 || strstr (result->err, "note rejected") == NULL
      || strstr (result->err, "full") == NULL)
    g_error ("a note on a full disk should be refused (exit 1, \"note rejected: ... storage "
             "full ...\"); got exit %d, stderr: %s",
             result->exit_status, result->err);
  g_test_message ("refused: %s", result->err);
  return FALSE;
}

static char *
read_notes (FullDisk *fd, gsize *len)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (md_test_daemon_get_notes_path (fd->daemon), &contents, len, &error);
  g_assert_no_error (error);
  return contents;
}

/* Whole records only, ids 1..stored, each text the one we sent. */
static void
check_notes (FullDisk *fd)
{
  g_autoptr (GPtrArray) records
      = md_test_read_complete_notes (md_test_daemon_get_notes_path (fd->daemon));

  g_assert_cmpuint (records->len, ==, fd->stored);
  for (guint i = 0; i < records->len; i++)
    {
      MdTestRecord *record = records->pdata[i];
      g_autofree char *prefix = g_strdup_printf ("fill %u ", i + 1);

      g_assert_cmpuint (record->id, ==, i + 1);
      g_assert_true (g_str_has_prefix (record->text, prefix));
    }
}

/* ---- the filler ---- */

static char *
filler_path (FullDisk *fd)
{
  return g_build_filename (fd->dir, "filler", NULL);
}

/* Writes until the tmpfs has no block left. */
static void
fill_up (FullDisk *fd)
{
  g_autofree char *path = filler_path (fd);
  gsize bs = block_size (fd->dir);
  g_autofree char *block = g_malloc0 (bs);
  int out = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  guint i;

  g_assert_cmpint (out, >=, 0);
  for (i = 0; i < MAX_FILLER_BLOCKS && write (out, block, bs) > 0; i++)
    ;
  g_assert_cmpint (errno, ==, ENOSPC);
  g_assert_cmpint (close (out), ==, 0);
  g_test_message ("filler: %u blocks of %" G_GSIZE_FORMAT " bytes", i, bs);
}

/* Room left in the notes file's last block, which needs no new block. */
static gsize
slack (FullDisk *fd)
{
  gsize bs = block_size (fd->dir);
  gsize len = 0;

  g_free (read_notes (fd, &len));
  return (bs - len % bs) % bs;
}

/* Adds notes into the slack until what is left is about half a note: the
 * next full-length note then fits in part, never in whole. */
static void
leave_partial_room (FullDisk *fd)
{
  for (guint i = 0; i < MAX_NOTES; i++)
    {
      gsize room = slack (fd);
      gsize overhead = record_len (fd->stored + 1, 0);

      if (room < record_len (fd->stored + 1, NOTE_LEN))
        break;
      add_note_ok (fd, MIN (room - NOTE_LEN / 2 - overhead, NOTE_LEN));
    }
  g_assert_cmpuint (slack (fd), >, 0);
  g_assert_cmpuint (slack (fd), <, record_len (fd->stored + 1, NOTE_LEN));
}

static void
check_filler_phase (FullDisk *fd)
{
  g_autofree char *path = filler_path (fd);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len = 0, after_len = 0;

  /* Three notes first, then a file size that is not a block multiple. */
  for (guint i = 0; i < 3; i++)
    add_note_ok (fd, NOTE_LEN);
  if (slack (fd) == 0)
    add_note_ok (fd, 10);
  fill_up (fd);
  leave_partial_room (fd);
  g_test_message ("%" G_GSIZE_FORMAT " bytes of room for a %" G_GSIZE_FORMAT "-byte record",
                  slack (fd), record_len (fd->stored + 1, NOTE_LEN));

  before = read_notes (fd, &before_len);
  g_assert_false (add_note_or_full (fd, NOTE_LEN));
  after = read_notes (fd, &after_len);
  g_assert_cmpuint (after_len, ==, before_len);
  g_assert_true (memcmp (after, before, before_len) == 0);
  check_notes (fd);

  g_assert_cmpint (g_unlink (path), ==, 0);
  add_note_ok (fd, NOTE_LEN);
  check_notes (fd);
}

static void
check_notes_fill_phase (FullDisk *fd)
{
  guint i;
  gsize len = 0;
  g_autofree char *contents = NULL;

  for (i = 0; i < MAX_NOTES && add_note_or_full (fd, NOTE_LEN); i++)
    ;
  g_assert_cmpuint (i, <, MAX_NOTES);
  g_test_message ("%u notes stored when the tmpfs was full", fd->stored);
  contents = read_notes (fd, &len);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpint (contents[len - 1], ==, '\n');
  check_notes (fd);

  g_assert_cmpint (mount (NULL, fd->dir, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, TMPFS_GROWN_SIZE),
                   ==, 0);
  add_note_ok (fd, NOTE_LEN);
  check_notes (fd);
}

static void
test_full_disk (void)
{
  g_autoptr (MdTestDaemon) daemon = md_test_daemon_new (MD_TEST_DAEMON_LISTEN);
  g_autoptr (GError) error = NULL;
  FullDisk fd = { daemon, md_test_daemon_get_state_dir (daemon) };

  if (!mount_tmpfs (&fd))
    return;
  if (md_test_daemon_start (daemon, &error))
    {
      check_filler_phase (&fd);
      check_notes_fill_phase (&fd);
      md_test_daemon_stop (daemon, &error);
    }
  unmount_tmpfs (&fd);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  enter_mount_namespace ();
  g_test_init (&argc, &argv, NULL);
  md_rel_add ("/reliability/full-disk", test_full_disk);
  return md_rel_run ();
}
