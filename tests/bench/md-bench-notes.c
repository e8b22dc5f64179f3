/* A realistic notes file: what a LAN notebook holds after years of use. */
#include "config.h"

#include "md-bench.h"

#include "md-error.h"
#include "md-note.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define NOTE_MIN_BYTES 20
#define NOTE_MAX_BYTES 200
/* The generator writes the file in slices this large. */
#define WRITE_SLICE (1024 * 1024)
/* 2026-01-01T00:00:00Z; notes are 20 s apart. */
#define FIRST_NOTE_TIME G_GINT64_CONSTANT (1767225600)
#define NOTE_INTERVAL 20

static const char *const ascii_words[] = {
  "backup", "disk",   "swapped", "printer", "toner", "cupboard", "router", "firmware",
  "update", "Friday", "coffee",  "machine", "fixed", "meeting",  "moved",  "to",
  "room",   "3",      "the",     "a",       "is",    "next",     "week",   "VPN",
  "down",   "again",  "call",    "Alice",   "Bob",   "UDP",      "CoAP",   "server",
  "rack",   "fan",    "noisy",   "ticket",  "#4211", "done",     "ok",     "WiFi",
};

static const char *const chinese_words[] = {
  "今天", "学习了", "打印机", "没有", "墨粉", "备份", "硬盘", "已经", "更换",
  "下周", "开会",   "路由器", "升级", "固件", "咖啡", "机器", "修好", "了",
  "网络", "断了",   "服务器", "机房", "风扇", "很吵", "记得", "周五", "检查",
};

static const char *
pick_word (GRand *rand)
{
  /* About a third of the words are Chinese (three bytes a character). */
  if (g_rand_int_range (rand, 0, 3) == 0)
    return chinese_words[g_rand_int_range (rand, 0, G_N_ELEMENTS (chinese_words))];
  return ascii_words[g_rand_int_range (rand, 0, G_N_ELEMENTS (ascii_words))];
}

void
md_bench_note_text (GRand *rand, GString *out)
{
  gsize start = out->len;
  gsize target = (gsize)g_rand_int_range (rand, NOTE_MIN_BYTES, NOTE_MAX_BYTES + 1);

  /* Bounded: every word adds at least two bytes. */
  for (guint i = 0; i < NOTE_MAX_BYTES; i++)
    {
      const char *word = pick_word (rand);
      gsize word_len = strlen (word) + (out->len > start ? 1 : 0);

      if (out->len - start + word_len > target)
        break;
      if (out->len > start)
        g_string_append_c (out, ' ');
      g_string_append (out, word);
    }
  /* Pad with ASCII so the length spreads evenly over 20..200 bytes. */
  while (out->len - start < target)
    g_string_append_c (out, (char)('a' + (out->len % 26)));
}

/* A version-4 UUID from @rand: deterministic, so runs are comparable. */
static void
append_key (GRand *rand, GString *out)
{
  guint32 w[4];

  for (guint i = 0; i < 4; i++)
    w[i] = g_rand_int (rand);
  g_string_append_printf (out, "%08x-%04x-4%03x-%04x-%04x%08x", w[0], w[1] >> 16, w[1] & 0xfff,
                          0x8000 | (w[2] >> 18), w[2] & 0xffff, w[3]);
}

/* Authors as a classroom's notebook has them: a few key names, the rest
 * plain CoAP from the LAN. */
static void
append_author (GRand *rand, GString *out)
{
  static const char *const names[] = { "alice", "bob", "teacher", "li.wei" };

  if (g_rand_boolean (rand))
    g_string_append (out, names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))]);
  else
    g_string_append_printf (out, "@192.168.1.%d", g_rand_int_range (rand, 2, 255));
}

static void
append_record (GRand *rand, guint64 id, GString *out)
{
  g_string_append_printf (out, "%" G_GUINT64_FORMAT "\t", id);
  md_note_append_time (out, FIRST_NOTE_TIME + (gint64)id * NOTE_INTERVAL);
  g_string_append_c (out, '\t');
  if (g_rand_boolean (rand))
    append_key (rand, out);
  else
    g_string_append_c (out, '-');
  g_string_append_c (out, '\t');
  append_author (rand, out);
  g_string_append_c (out, '\t');
  md_bench_note_text (rand, out);
  g_string_append_c (out, '\n');
}

static gboolean
write_all (int fd, const char *data, gsize len, GError **error)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          md_error_set_errno (error, errno, "cannot write the notes file");
          return FALSE;
        }
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

static gboolean
write_records (int fd, guint64 n_notes, GRand *rand, guint64 *file_size, GError **error)
{
  g_autoptr (GString) slice = g_string_sized_new (WRITE_SLICE + 2048);

  *file_size = 0;
  for (guint64 id = 1; id <= n_notes; id++)
    {
      append_record (rand, id, slice);
      if (slice->len >= WRITE_SLICE || id == n_notes)
        {
          if (!write_all (fd, slice->str, slice->len, error))
            return FALSE;
          *file_size += slice->len;
          g_string_truncate (slice, 0);
        }
    }
  return TRUE;
}

gboolean
md_bench_write_notes (const char *directory, guint64 n_notes, GRand *rand, guint64 *file_size,
                      GError **error)
{
  g_autofree char *path = g_build_filename (directory, "notes", NULL);
  int fd;
  gboolean ok;

  g_return_val_if_fail (directory != NULL, FALSE);

  if (g_mkdir_with_parents (directory, 0700) < 0)
    {
      md_error_set_errno (error, errno, "cannot make the bench directory");
      return FALSE;
    }
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      md_error_set_errno (error, errno, "cannot create the notes file");
      return FALSE;
    }
  ok = write_records (fd, n_notes, rand, file_size, error);
  if (ok && fsync (fd) < 0)
    {
      md_error_set_errno (error, errno, "cannot sync the notes file");
      ok = FALSE;
    }
  close (fd);
  return ok;
}

/* Whatever the daemon put beside the notes goes too; a directory holds no
 * subdirectories here, so one level is enough. */
void
md_bench_remove_notes_dir (const char *directory)
{
  g_autoptr (GDir) dir = g_dir_open (directory, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (directory, name, NULL);

      if (g_unlink (path) < 0)
        g_printerr ("md-bench: cannot remove %s: %s\n", path, g_strerror (errno));
    }
  if (g_rmdir (directory) < 0 && errno != ENOENT)
    g_printerr ("md-bench: cannot remove %s: %s\n", directory, g_strerror (errno));
}
