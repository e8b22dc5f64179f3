#include "config.h"

#include "md-notes-link.h"

#include "md-error.h"
#include "md-protocol.h"

#include <string.h>

/* A body longer than this is no discovery answer of ours. */
#define MD_NOTES_LINK_BODY_MAX 4096
/* Longest attribute value kept while parsing. */
#define MD_NOTES_LINK_VALUE_MAX 256

void
md_notes_link_clear (MdNotesLink *link)
{
  g_return_if_fail (link != NULL);

  g_clear_pointer (&link->name, g_free);
  memset (link, 0, sizeof *link);
}

static gboolean
is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

gboolean
md_notes_link_name_is_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len == 0 || len > MD_PROTOCOL_NAME_MAX || !g_utf8_validate (name, (gssize)len, NULL))
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_control (c) || c == '"' || c == '\\')
        return FALSE;
    }
  return TRUE;
}

gboolean
md_notes_link_uuid_is_valid (const char *text, gsize len)
{
  if (text == NULL || len != MD_NOTES_LINK_UUID_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;

      if (dash ? text[i] != '-'
               : !(g_ascii_isdigit (text[i]) || (text[i] >= 'a' && text[i] <= 'f')))
        return FALSE;
    }
  return TRUE;
}

/* ---- writing ---------------------------------------------------------- */

typedef enum
{
  MD_NOTES_LINK_ALL,
  MD_NOTES_LINK_NO_TITLE,
  MD_NOTES_LINK_ESSENTIAL, /* rt=, notebook=, coaps= */
  MD_NOTES_LINK_MINIMAL,   /* rt=, ct=: "a notebook lives here, ask it" */
} MdNotesLinkShape;

static gchar *
format_shape (const MdNotesLink *link, MdNotesLinkShape shape)
{
  GString *out = g_string_new ("</" MD_PROTOCOL_PATH_NOTES ">");

  g_string_append (out, ";" MD_PROTOCOL_LINK_RT "=\"" MD_PROTOCOL_RT_NOTES "\"");
  if (shape != MD_NOTES_LINK_ESSENTIAL)
    g_string_append_printf (out, ";" MD_PROTOCOL_LINK_CT "=%d", MD_PROTOCOL_FORMAT_TEXT_PLAIN);
  if (shape == MD_NOTES_LINK_MINIMAL)
    return g_string_free (out, FALSE);
  g_string_append_printf (out, ";" MD_PROTOCOL_LINK_NOTEBOOK "=\"%s\"", link->notebook);
  if (shape == MD_NOTES_LINK_ALL && link->name != NULL && link->name[0] != '\0')
    g_string_append_printf (out, ";" MD_PROTOCOL_LINK_TITLE "=\"%s\"", link->name);
  if (link->coaps_port != 0)
    g_string_append_printf (out, ";" MD_PROTOCOL_LINK_COAPS "=\"%u\"", link->coaps_port);
  return g_string_free (out, FALSE);
}

gchar *
md_notes_link_format (const MdNotesLink *link, gsize max)
{
  g_return_val_if_fail (link != NULL, NULL);
  g_return_val_if_fail (link->name == NULL || link->name[0] == '\0'
                            || md_notes_link_name_is_valid (link->name),
                        NULL);

  for (MdNotesLinkShape shape = MD_NOTES_LINK_ALL; shape <= MD_NOTES_LINK_MINIMAL; shape++)
    {
      g_autofree gchar *text = format_shape (link, shape);

      if (strlen (text) <= max)
        return g_steal_pointer (&text);
    }
  return NULL;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct
{
  const char *p;
  const char *end;
} MdCursor;

/* The attributes of one link this parser looks at. */
typedef struct
{
  gchar *rt;
  gchar *notebook;
  gchar *title;
  gchar *coaps;
} MdLinkAttributes;

static void
attributes_clear (MdLinkAttributes *a)
{
  g_free (a->rt);
  g_free (a->notebook);
  g_free (a->title);
  g_free (a->coaps);
  memset (a, 0, sizeof *a);
}

static gboolean
fail (GError **error, const char *reason)
{
  g_set_error (error, MD_ERROR, MD_ERROR_MALFORMED, "link-format: %s", reason);
  return FALSE;
}

static gboolean
at (const MdCursor *c, char ch)
{
  return c->p < c->end && *c->p == ch;
}

/* RFC 5988 parmname: attr-char of RFC 5987, minus '*' handling. */
static gboolean
is_parmname_char (char ch)
{
  return g_ascii_isalnum (ch) || strchr ("!#$&+-.^_`|~", ch) != NULL;
}

/* RFC 6690 ptokenchar. */
static gboolean
is_ptoken_char (char ch)
{
  return g_ascii_isalnum (ch)
         || (ch != '\0' && strchr ("!#$%&'()*+-./:<=>?@[]^_`{|}~", ch) != NULL);
}

static gboolean
read_target (MdCursor *c, GError **error)
{
  if (!at (c, '<'))
    return fail (error, "a link does not start with '<'");
  c->p++;
  while (c->p < c->end && *c->p != '>')
    {
      if ((guchar)*c->p <= ' ' || *c->p == 0x7f || *c->p == '<')
        return fail (error, "bad character in a link target");
      c->p++;
    }
  if (!at (c, '>'))
    return fail (error, "a link target has no '>'");
  c->p++;
  return TRUE;
}

static gboolean
read_quoted (MdCursor *c, GString *value, GError **error)
{
  c->p++; /* the opening quote */
  while (c->p < c->end && *c->p != '"')
    {
      if (*c->p == '\\')
        c->p++;
      if (c->p >= c->end || (guchar)*c->p < ' ' || *c->p == 0x7f)
        return fail (error, "bad character in a quoted value");
      if (value->len >= MD_NOTES_LINK_VALUE_MAX)
        return fail (error, "a value is too long");
      g_string_append_c (value, *c->p++);
    }
  if (!at (c, '"'))
    return fail (error, "a quoted value has no end");
  c->p++;
  return TRUE;
}

static gboolean
read_value (MdCursor *c, GString *value, GError **error)
{
  if (at (c, '"'))
    return read_quoted (c, value, error);
  while (c->p < c->end && is_ptoken_char (*c->p))
    {
      if (value->len >= MD_NOTES_LINK_VALUE_MAX)
        return fail (error, "a value is too long");
      g_string_append_c (value, *c->p++);
    }
  if (value->len == 0)
    return fail (error, "an empty value");
  return TRUE;
}

/* Keeps @value in the attribute slot named @name, if it is one we read;
 * a second one of them is ambiguous. */
static gboolean
keep_attribute (MdLinkAttributes *a, const char *name, GString *value, GError **error)
{
  gchar **slot = NULL;

  if (strcmp (name, MD_PROTOCOL_LINK_RT) == 0)
    slot = &a->rt;
  else if (strcmp (name, MD_PROTOCOL_LINK_NOTEBOOK) == 0)
    slot = &a->notebook;
  else if (strcmp (name, MD_PROTOCOL_LINK_TITLE) == 0)
    slot = &a->title;
  else if (strcmp (name, MD_PROTOCOL_LINK_COAPS) == 0)
    slot = &a->coaps;
  if (slot == NULL)
    return TRUE;
  if (*slot != NULL)
    return fail (error, "an attribute appears twice");
  /* A NUL from an escape would cut the value short unseen. */
  if (memchr (value->str, '\0', value->len) != NULL)
    return fail (error, "NUL in a value");
  *slot = g_strdup (value->str);
  return TRUE;
}

static gboolean
read_parameter (MdCursor *c, MdLinkAttributes *a, GError **error)
{
  g_autoptr (GString) name = g_string_new (NULL);
  g_autoptr (GString) value = g_string_new (NULL);

  while (c->p < c->end && is_parmname_char (*c->p) && name->len < MD_NOTES_LINK_VALUE_MAX)
    g_string_append_c (name, g_ascii_tolower (*c->p++));
  if (name->len == 0)
    return fail (error, "a parameter has no name");
  if (at (c, '='))
    {
      c->p++;
      if (!read_value (c, value, error))
        return FALSE;
    }
  return keep_attribute (a, name->str, value, error);
}

static gboolean
read_link (MdCursor *c, MdLinkAttributes *a, GError **error)
{
  if (!read_target (c, error))
    return FALSE;
  while (at (c, ';'))
    {
      c->p++;
      if (!read_parameter (c, a, error))
        return FALSE;
    }
  if (c->p < c->end && *c->p != ',')
    return fail (error, "junk after a link");
  return TRUE;
}

/* rt is a space-separated list of types (RFC 6690 §3.1). */
static gboolean
has_notes_type (const char *rt)
{
  g_auto (GStrv) types = NULL;

  if (rt == NULL)
    return FALSE;
  types = g_strsplit (rt, " ", -1);
  return g_strv_contains ((const char *const *)types, MD_PROTOCOL_RT_NOTES);
}

static gboolean
parse_port (const char *text, guint16 *port)
{
  guint64 value;

  if (text == NULL)
    {
      *port = 0;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &value, NULL))
    return FALSE;
  *port = (guint16)value;
  return TRUE;
}

static gboolean
fill_link (const MdLinkAttributes *a, MdNotesLink *link, GError **error)
{
  if (a->notebook == NULL || !md_notes_link_uuid_is_valid (a->notebook, strlen (a->notebook)))
    return fail (error, "the notes link has no valid notebook identity");
  if (a->title != NULL && !md_notes_link_name_is_valid (a->title))
    return fail (error, "the notes link has a title that is no valid name");
  if (!parse_port (a->coaps, &link->coaps_port))
    return fail (error, "the notes link has a coaps port that is no port");
  memcpy (link->notebook, a->notebook, sizeof link->notebook);
  link->name = g_strdup (a->title != NULL ? a->title : "");
  return TRUE;
}

gboolean
md_notes_link_parse (const char *body, gsize len, MdNotesLink *link, GError **error)
{
  MdCursor c = { body, body + len };

  g_return_val_if_fail (body != NULL || len == 0, FALSE);
  g_return_val_if_fail (link != NULL, FALSE);

  memset (link, 0, sizeof *link);
  if (len > MD_NOTES_LINK_BODY_MAX)
    return fail (error, "too long");
  while (c.p < c.end)
    {
      MdLinkAttributes a = { 0 };
      gboolean ok = read_link (&c, &a, error);

      if (ok && has_notes_type (a.rt))
        {
          ok = fill_link (&a, link, error);
          attributes_clear (&a);
          return ok;
        }
      attributes_clear (&a);
      if (!ok)
        return FALSE;
      if (at (&c, ','))
        c.p++;
    }
  return fail (error, "no " MD_PROTOCOL_RT_NOTES " link");
}
