#include "config.h"

#include "md-note.h"
#include "md-time-range.h"

#include <string.h>

/* "Now" in every test: 2026-11-24T19:42:57Z, which is already 03:42:57 on
 * the 25th at +08:00, so "today" there is not the UTC day. */
#define NOW G_GINT64_CONSTANT (1795549377)

static gint64
utc (const char *rfc3339)
{
  gint64 t = 0;

  g_assert_true (md_note_parse_time (rfc3339, strlen (rfc3339), &t));
  return t;
}

static gint64
parse_ok (const char *text, const char *zone)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (zone);
  g_autoptr (GError) error = NULL;
  gint64 t = 0;

  g_assert_nonnull (tz);
  g_assert_true (md_time_range_parse_time (text, NOW, tz, &t, &error));
  g_assert_no_error (error);
  return t;
}

static void
test_date (void)
{
  g_assert_cmpint (parse_ok ("2026-11-24", "+08:00"), ==, utc ("2026-11-23T16:00:00Z"));
  g_assert_cmpint (parse_ok ("2026-11-24", "UTC"), ==, utc ("2026-11-24T00:00:00Z"));
  g_assert_cmpint (parse_ok ("  2026-11-24 ", "UTC"), ==, utc ("2026-11-24T00:00:00Z"));
  g_assert_cmpint (parse_ok ("2024-02-29", "UTC"), ==, utc ("2024-02-29T00:00:00Z"));
}

static void
test_date_time (void)
{
  g_assert_cmpint (parse_ok ("2026-11-24 18:00", "+08:00"), ==, utc ("2026-11-24T10:00:00Z"));
  g_assert_cmpint (parse_ok ("2026-11-24 18:00:05", "+08:00"), ==, utc ("2026-11-24T10:00:05Z"));
  g_assert_cmpint (parse_ok ("2026-11-24T18:00", "-05:00"), ==, utc ("2026-11-24T23:00:00Z"));
}

static void
test_zone (void)
{
  g_assert_cmpint (parse_ok ("2026-11-24T18:00:00Z", "+08:00"), ==, utc ("2026-11-24T18:00:00Z"));
  g_assert_cmpint (parse_ok ("2026-11-24 18:00Z", "+08:00"), ==, utc ("2026-11-24T18:00:00Z"));
  g_assert_cmpint (parse_ok ("2026-11-24T18:00:00+05:30", "UTC"), ==, utc ("2026-11-24T12:30:00Z"));
  g_assert_cmpint (parse_ok ("2026-11-24T18:00:00-01:00", "UTC"), ==, utc ("2026-11-24T19:00:00Z"));
}

static void
test_words (void)
{
  g_assert_cmpint (parse_ok ("now", "+08:00"), ==, NOW);
  g_assert_cmpint (parse_ok ("today", "+08:00"), ==, utc ("2026-11-24T16:00:00Z"));
  g_assert_cmpint (parse_ok ("today", "UTC"), ==, utc ("2026-11-24T00:00:00Z"));
  g_assert_cmpint (parse_ok ("Today", "UTC"), ==, utc ("2026-11-24T00:00:00Z"));
  g_assert_cmpint (parse_ok ("tomorrow", "UTC"), ==, utc ("2026-11-25T00:00:00Z"));
}

static void
test_yesterday (void)
{
  g_assert_cmpint (parse_ok ("yesterday", "+08:00"), ==, utc ("2026-11-23T16:00:00Z"));
  g_assert_cmpint (parse_ok ("yesterday", "UTC"), ==, utc ("2026-11-23T00:00:00Z"));
  g_assert_cmpint (parse_ok ("yesterday", "-10:00"), ==, utc ("2026-11-23T10:00:00Z"));
}

static void
test_relative (void)
{
  g_assert_cmpint (parse_ok ("-2h", "+08:00"), ==, NOW - 2 * 3600);
  g_assert_cmpint (parse_ok ("-30m", "+08:00"), ==, NOW - 30 * 60);
  g_assert_cmpint (parse_ok ("-45s", "+08:00"), ==, NOW - 45);
  g_assert_cmpint (parse_ok ("-3d", "+08:00"), ==, NOW - 3 * 86400);
  g_assert_cmpint (parse_ok ("-1w", "+08:00"), ==, NOW - 7 * 86400);
  g_assert_cmpint (parse_ok ("-0h", "+08:00"), ==, NOW);
}

/* Midnights around the start of summer time in Berlin (2026-03-29, 02:00
 * becomes 03:00): "yesterday" and "today" are 23 hours apart that day. */
static void
test_dst (void)
{
  g_autoptr (GTimeZone) berlin = g_time_zone_new_identifier ("Europe/Berlin");
  gint64 now = utc ("2026-03-30T10:00:00Z"), yesterday = 0, today = 0, gap = 0;

  if (berlin == NULL)
    {
      g_test_skip ("no tzdata for Europe/Berlin");
      return;
    }
  g_assert_true (md_time_range_parse_time ("yesterday", now, berlin, &yesterday, NULL));
  g_assert_true (md_time_range_parse_time ("today", now, berlin, &today, NULL));
  g_assert_cmpint (yesterday, ==, utc ("2026-03-28T23:00:00Z"));
  g_assert_cmpint (today, ==, utc ("2026-03-29T22:00:00Z"));
  /* 02:30 does not exist that night; it moves forward, never fails. */
  g_assert_true (md_time_range_parse_time ("2026-03-29 02:30", now, berlin, &gap, NULL));
  g_assert_cmpint (gap, >=, utc ("2026-03-29T01:00:00Z"));
  g_assert_cmpint (gap, <=, utc ("2026-03-29T01:30:00Z"));
}

static const char *const bad_times[] = {
  "",
  "   ",
  "2026-13-01",
  "2026-00-10",
  "2026-02-30",
  "2025-02-29",
  "2026-11-00",
  "2026-11-24 24:00",
  "2026-11-24 18:60",
  "2026-11-24 18:00:60",
  "2026-11-24 18",
  "2026-11-24 18:0",
  "2026-11-24 18:00:",
  "2026-1-24",
  "20261124",
  "2026/11/24",
  "10000-01-01",
  "0000-01-01",
  "2026-11-24T18:00:00+25:00",
  "2026-11-24T18:00:00+0530",
  "2026-11-24T18:00:00Zjunk",
  "2026-11-24T18:00:00 Z",
  "2026-11-24\t18:00",
  "2026-11-24  18:00",
  "-2",
  "-h",
  "-2x",
  "-2hh",
  "--2h",
  "+2h",
  "2h",
  "-1234567890h",
  "-999999999w",
  "yesterdayx",
  "last week",
  "\xff\xfe",
  "2026-11-24\xc2\x85",
};

static void
test_bad (void)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_utc ();

  for (gsize i = 0; i < G_N_ELEMENTS (bad_times); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 t = 42;

      g_test_message ("bad time %zu", i);
      g_assert_false (md_time_range_parse_time (bad_times[i], NOW, tz, &t, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_cmpint (t, ==, 42);
      g_assert_nonnull (strstr (error->message, "“"));
    }
}

static void
test_range (void)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_utc ();
  g_autoptr (GError) error = NULL;
  MdTimeRange range;

  g_assert_true (md_time_range_parse (&range, NULL, NULL, NOW, tz, &error));
  g_assert_cmpint (range.since, ==, MD_TIME_RANGE_MIN);
  g_assert_cmpint (range.until, ==, MD_TIME_RANGE_MAX);
  g_assert_true (md_time_range_contains (&range, 0));

  g_assert_true (md_time_range_parse (&range, "yesterday", "today", NOW, tz, &error));
  g_assert_cmpint (range.since, ==, utc ("2026-11-23T00:00:00Z"));
  g_assert_cmpint (range.until, ==, utc ("2026-11-24T00:00:00Z"));
  g_assert_true (md_time_range_contains (&range, range.since));
  g_assert_true (md_time_range_contains (&range, range.until));
  g_assert_false (md_time_range_contains (&range, range.since - 1));
  g_assert_false (md_time_range_contains (&range, range.until + 1));

  g_assert_true (md_time_range_parse (&range, "-2h", NULL, NOW, tz, &error));
  g_assert_cmpint (range.since, ==, NOW - 7200);
  g_assert_cmpint (range.until, ==, MD_TIME_RANGE_MAX);
}

/* A bad value or a backwards range fails and leaves the range as it was. */
static void
test_range_bad (void)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_utc ();
  g_autoptr (GError) error = NULL;
  MdTimeRange range = { 1, 2 };

  g_assert_false (md_time_range_parse (&range, "today", "yesterday", NOW, tz, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "later than"));
  g_clear_error (&error);
  g_assert_false (md_time_range_parse (&range, "today", "soon", NOW, tz, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "soon"));
  g_assert_cmpint (range.since, ==, 1);
  g_assert_cmpint (range.until, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/time-range/parse/date", test_date);
  g_test_add_func ("/time-range/parse/date-time", test_date_time);
  g_test_add_func ("/time-range/parse/zone", test_zone);
  g_test_add_func ("/time-range/parse/words", test_words);
  g_test_add_func ("/time-range/parse/yesterday", test_yesterday);
  g_test_add_func ("/time-range/parse/relative", test_relative);
  g_test_add_func ("/time-range/parse/dst", test_dst);
  g_test_add_func ("/time-range/parse/bad", test_bad);
  g_test_add_func ("/time-range/range/both", test_range);
  g_test_add_func ("/time-range/range/bad", test_range_bad);
  return g_test_run ();
}
