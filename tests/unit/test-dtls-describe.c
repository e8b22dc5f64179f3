/* The DTLS record-layer lines of mydailyctl --debug: each field of the
 * header, handshake names in the clear, and records that run short. */
#include "config.h"

#include "md-dtls-describe.h"

#include <string.h>

/* A ClientHello record header (epoch 0, seq 0, 6 bytes) and its start. */
static const guint8 client_hello[]
    = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 1, 0, 0, 2, 0, 0 };
/* An application record: epoch 1, sequence 0x010203040506, 3 bytes. */
static const guint8 application[]
    = { 23, 0xfe, 0xfd, 0, 1, 1, 2, 3, 4, 5, 6, 0, 3, 0xaa, 0xbb, 0xcc };

static char *
describe (const guint8 *data, gsize len)
{
  MdDtlsRecord record;

  g_assert_true (md_dtls_record_parse (data, len, &record));
  return md_dtls_record_describe (&record);
}

static void
test_handshake (void)
{
  g_autofree char *text = describe (client_hello, sizeof client_hello);

  g_assert_cmpstr (text, ==, "DTLS handshake(client_hello) epoch=0 seq=0 len=6");
}

static void
test_application (void)
{
  g_autofree char *text = describe (application, sizeof application);
  MdDtlsRecord record;

  g_assert_cmpstr (text, ==, "DTLS application_data epoch=1 seq=1108152157446 len=3");
  g_assert_true (md_dtls_record_parse (application, sizeof application, &record));
  g_assert_cmpuint (record.content_type, ==, MD_DTLS_CONTENT_APPLICATION_DATA);
  g_assert_cmpuint (record.length + MD_DTLS_RECORD_HEADER, ==, sizeof application);
}

/* An encrypted handshake record (epoch 1) has no name to show; an unknown
 * type and an older version are shown as numbers. */
static void
test_other_fields (void)
{
  guint8 finished[sizeof client_hello];
  guint8 odd[sizeof application];
  g_autofree char *finished_text = NULL, *odd_text = NULL;

  memcpy (finished, client_hello, sizeof finished);
  finished[4] = 1;
  finished_text = describe (finished, sizeof finished);
  g_assert_cmpstr (finished_text, ==, "DTLS handshake epoch=1 seq=0 len=6");
  memcpy (odd, application, sizeof odd);
  odd[0] = 99;
  odd[2] = 0xff;
  odd_text = describe (odd, sizeof odd);
  g_assert_cmpstr (odd_text, ==, "DTLS type99 epoch=1 seq=1108152157446 len=3 version=0xfeff");
}

static void
test_short (void)
{
  MdDtlsRecord record;

  g_assert_false (md_dtls_record_parse (NULL, 0, &record));
  g_assert_false (md_dtls_record_parse (application, MD_DTLS_RECORD_HEADER - 1, &record));
  /* The header says 3 bytes; only 2 are there. */
  g_assert_false (md_dtls_record_parse (application, sizeof application - 1, &record));
  g_assert_true (md_dtls_record_parse (application, MD_DTLS_RECORD_HEADER + 3, &record));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dtls/describe/handshake", test_handshake);
  g_test_add_func ("/dtls/describe/application", test_application);
  g_test_add_func ("/dtls/describe/other-fields", test_other_fields);
  g_test_add_func ("/dtls/describe/short", test_short);
  return g_test_run ();
}
