#include "config.h"

#include "md-offset-index.h"

/* Three notes: records of 30, 70 and 25 bytes, wire lines of 28, 31 and 23. */
static void
add_three (MdOffsetIndex *index)
{
  md_offset_index_add (index, 30, 28);
  md_offset_index_add (index, 70, 31);
  md_offset_index_add (index, 25, 23);
}

static void
test_add (void)
{
  MdOffsetIndex index;

  md_offset_index_init (&index);
  g_assert_cmpuint (md_offset_index_get_count (&index), ==, 0);
  add_three (&index);
  g_assert_cmpuint (md_offset_index_get_count (&index), ==, 3);
  g_assert_cmpuint (md_offset_index_get_file_size (&index), ==, 125);
  g_assert_cmpuint (md_offset_index_record_start (&index, 3), ==, 125);
  g_assert_cmpuint (md_offset_index_wire_start (&index, 3), ==, 82);
  g_assert_cmpuint (md_offset_index_record_start (&index, 1), ==, 30);
  g_assert_cmpuint (md_offset_index_record_end (&index, 1), ==, 100);
  g_assert_cmpuint (md_offset_index_record_end (&index, 2), ==, 125);
  g_assert_cmpuint (md_offset_index_wire_start (&index, 2), ==, 59);
  g_assert_cmpuint (md_offset_index_wire_end (&index, 0), ==, 28);
  g_assert_cmpuint (md_offset_index_wire_end (&index, 2), ==, 82);
  md_offset_index_clear (&index);
}

/* Every position finds the entry it falls in, within the first @count. */
static void
test_find (void)
{
  MdOffsetIndex index;

  md_offset_index_init (&index);
  add_three (&index);
  for (guint64 pos = 0; pos < 140; pos++)
    {
      guint64 record = pos < 30 ? 0 : pos < 100 ? 1 : 2;
      guint64 wire = pos < 28 ? 0 : pos < 59 ? 1 : 2;

      g_assert_cmpuint (md_offset_index_find_record (&index, 3, pos), ==, record);
      g_assert_cmpuint (md_offset_index_find_wire (&index, 3, pos), ==, wire);
      g_assert_cmpuint (md_offset_index_find_record (&index, 2, pos), ==, MIN (record, 1));
      g_assert_cmpuint (md_offset_index_find_wire (&index, 1, pos), ==, 0);
    }
  md_offset_index_clear (&index);
}

/* Truncating forgets the last notes; the next one goes where they were. */
static void
test_truncate (void)
{
  MdOffsetIndex index;

  md_offset_index_init (&index);
  add_three (&index);
  md_offset_index_truncate (&index, 1);
  g_assert_cmpuint (md_offset_index_get_file_size (&index), ==, 30);
  g_assert_cmpuint (md_offset_index_wire_start (&index, 1), ==, 28);
  g_assert_cmpuint (md_offset_index_get_count (&index), ==, 1);
  g_assert_cmpuint (md_offset_index_record_end (&index, 0), ==, 30);
  md_offset_index_add (&index, 40, 38);
  g_assert_cmpuint (md_offset_index_record_start (&index, 1), ==, 30);
  g_assert_cmpuint (md_offset_index_wire_end (&index, 1), ==, 66);
  md_offset_index_truncate (&index, 0);
  g_assert_cmpuint (md_offset_index_get_file_size (&index), ==, 0);
  g_assert_cmpuint (md_offset_index_wire_start (&index, 0), ==, 0);
  g_assert_cmpuint (md_offset_index_get_count (&index), ==, 0);
  md_offset_index_clear (&index);
}

/* Across many blocks, and past 4 GiB: every start, end and search agrees
 * with offsets summed one by one. */
static void
test_many_blocks (void)
{
  const guint n = 5 * MD_OFFSET_INDEX_BLOCK + 7;
  const guint64 big = G_GUINT64_CONSTANT (5) << 30;
  g_autofree guint64 *file = g_new0 (guint64, n + 1);
  g_autofree guint64 *wire = g_new0 (guint64, n + 1);
  MdOffsetIndex index;

  md_offset_index_init (&index);
  for (guint i = 0; i < n; i++)
    {
      /* The first length near the 16-bit limit. */
      guint64 rec = i == 0 ? 60000 : 1 + (i * 37) % 1000, w = rec / 2 + 1;

      md_offset_index_add (&index, rec, w);
      file[i + 1] = file[i] + rec;
      wire[i + 1] = wire[i] + w;
    }
  for (guint i = 0; i <= n; i++)
    {
      g_assert_cmpuint (md_offset_index_record_start (&index, i), ==, file[i]);
      g_assert_cmpuint (md_offset_index_wire_start (&index, i), ==, wire[i]);
      if (i < n)
        {
          g_assert_cmpuint (md_offset_index_record_end (&index, i), ==, file[i + 1]);
          g_assert_cmpuint (md_offset_index_wire_end (&index, i), ==, wire[i + 1]);
          g_assert_cmpuint (md_offset_index_find_record (&index, n, file[i]), ==, i);
          g_assert_cmpuint (md_offset_index_find_record (&index, n, file[i + 1] - 1), ==, i);
          g_assert_cmpuint (md_offset_index_find_wire (&index, n, wire[i]), ==, i);
          g_assert_cmpuint (md_offset_index_find_record (&index, i + 1, file[n]), ==, i);
        }
    }
  md_offset_index_truncate (&index, MD_OFFSET_INDEX_BLOCK + 1);
  g_assert_cmpuint (md_offset_index_get_file_size (&index), ==, file[MD_OFFSET_INDEX_BLOCK + 1]);
  md_offset_index_add (&index, 10, 5);
  g_assert_cmpuint (md_offset_index_record_end (&index, MD_OFFSET_INDEX_BLOCK + 1), ==,
                    file[MD_OFFSET_INDEX_BLOCK + 1] + 10);
  md_offset_index_clear (&index);

  /* Offsets beyond 4 GiB: blocks keep 64 bits. */
  md_offset_index_init (&index);
  for (guint64 i = 0; i * 60000 < big; i++)
    md_offset_index_add (&index, 60000, 30000);
  g_assert_cmpuint (md_offset_index_get_file_size (&index), >, G_MAXUINT32);
  {
    guint64 count = md_offset_index_get_count (&index);
    guint64 last = count - 1;

    g_assert_cmpuint (md_offset_index_record_start (&index, last), ==, last * 60000);
    g_assert_cmpuint (md_offset_index_find_record (&index, count, last * 60000 + 1), ==, last);
    g_assert_cmpuint (md_offset_index_find_wire (&index, count, last * 30000 - 1), ==, last - 1);
  }
  md_offset_index_clear (&index);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/offset-index/add", test_add);
  g_test_add_func ("/offset-index/find", test_find);
  g_test_add_func ("/offset-index/truncate", test_truncate);
  g_test_add_func ("/offset-index/many-blocks", test_many_blocks);
  return g_test_run ();
}
