#include "config.h"

#include "md-psk.h"

#include "md-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/random.h>

static gboolean
is_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '_' || c == '-';
}

gboolean
md_psk_check_name (const char *name, GError **error)
{
  gsize len;

  g_return_val_if_fail (name != NULL, FALSE);

  len = strlen (name);
  if (len == 0 || len > MD_PSK_NAME_MAX)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, _ ("a name has 1 to %d characters"),
                   MD_PSK_NAME_MAX);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if (!is_name_char (name[i]))
      {
        g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                             _ ("a name has only letters, digits, “.”, “_” and “-”"));
        return FALSE;
      }
  if (name[0] == '.' || name[0] == '-')
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                           _ ("a name does not start with “.” or “-”"));
      return FALSE;
    }
  return TRUE;
}

gboolean
md_psk_name_is_valid (const char *name)
{
  return name != NULL && md_psk_check_name (name, NULL);
}

static gboolean
check_secret (const char *secret, GError **error)
{
  gsize len = strlen (secret);

  for (gsize i = 0; i < len; i++)
    if (secret[i] < 0x21 || secret[i] > 0x7e)
      {
        g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED,
                             _ ("a key has only printable ASCII characters"));
        return FALSE;
      }
  if (len < MD_PSK_SECRET_MIN || len > MD_PSK_SECRET_MAX)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED,
                   _ ("a key has %d to %d characters, this one %u"), MD_PSK_SECRET_MIN,
                   MD_PSK_SECRET_MAX, (unsigned)len);
      return FALSE;
    }
  return TRUE;
}

gboolean
md_psk_secret_is_valid (const char *secret)
{
  return secret != NULL && check_secret (secret, NULL);
}

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* The next run of non-blanks from *@p, moving *@p past it and the blanks
 * after; NULL at the end of the line. */
static char *
next_field (const char **p)
{
  const char *start = *p;
  const char *end = start;

  while (*end != '\0' && !is_blank (*end))
    end++;
  for (*p = end; is_blank (**p);)
    (*p)++;
  return end > start ? g_strndup (start, end - start) : NULL;
}

gboolean
md_psk_parse_line (const char *line, char **name, char **secret, GError **error)
{
  g_autofree char *first = NULL;
  g_autoptr (MdPskSecret) second = NULL;
  const char *p = line;

  g_return_val_if_fail (line != NULL && name != NULL && secret != NULL, FALSE);

  *name = *secret = NULL;
  while (is_blank (*p))
    p++;
  if (*p == '\0' || *p == '#')
    return TRUE;
  first = next_field (&p);
  second = next_field (&p);
  if (second == NULL || *p != '\0')
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, _ ("expected “NAME KEY”"));
      return FALSE;
    }
  if (!md_psk_check_name (first, error) || !check_secret (second, error))
    return FALSE;
  *name = g_steal_pointer (&first);
  *secret = g_steal_pointer (&second);
  return TRUE;
}

char *
md_psk_generate_secret (GError **error)
{
  guint8 random[MD_PSK_SECRET_RANDOM_BYTES];
  gsize got = 0;
  char *text;

  while (got < sizeof random)
    {
      /* Blocks only until the kernel's pool is first seeded, at boot. */
      ssize_t n = getrandom (random + got, sizeof random - got, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          md_error_set_errno (error, errno, "getrandom");
          return NULL;
        }
      got += (gsize)n;
    }
  text = g_base64_encode (random, sizeof random);
  explicit_bzero (random, sizeof random);
  /* base64url (RFC 4648 §5) without padding: no '/' or '+' to quote. */
  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  *strchr (text, '=') = '\0';
  return text;
}

void
md_psk_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

void
md_psk_secret_strv_free (char **strv)
{
  if (strv == NULL)
    return;
  for (char **s = strv; *s != NULL; s++)
    md_psk_secret_free (*s);
  g_free (strv);
}
