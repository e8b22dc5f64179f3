#include "config.h"

#include "md-settings.h"

#include "md-address-set.h"
#include "md-error.h"
#include "md-plain-filter.h"
#include "md-notes-link.h"
#include "md-protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum
{
  MD_SETTING_BOOLEAN,   /* gboolean: true/false, yes/no, 1/0 */
  MD_SETTING_SIZE,      /* guint64 bytes, with an optional K, M, G or T (powers of 1024) */
  MD_SETTING_UINT,      /* guint */
  MD_SETTING_RATE,      /* double >= 0 */
  MD_SETTING_ADDRESSES, /* char **: networks separated by spaces or commas */
  MD_SETTING_NAME,      /* char *: md_notes_link_name_is_valid(), or "" */
} MdSettingType;

typedef struct
{
  const char *name;
  MdSettingType type;
  gsize offset; /* of the field in MdSettings */
  const char *default_value;
  const char *doc;
} MdSetting;

static const MdSetting settings[] = {
  { "Verbose", MD_SETTING_BOOLEAN, G_STRUCT_OFFSET (MdSettings, verbose), "false",
    "Log every datagram received and sent (debug level), like --verbose." },
  { "MaxNotesFileSize", MD_SETTING_SIZE, G_STRUCT_OFFSET (MdSettings, max_notes_file_size), "1G",
    "The notes file grows to at most this many bytes (K, M, G: powers of 1024); past it,\n"
    "adds get 5.03 \"notebook full\" and everything else works." },
  { "RateLimitAdds", MD_SETTING_RATE, G_STRUCT_OFFSET (MdSettings, rate_limit_adds), "20",
    "Notes one source address may add per second, after its burst; past it, adds get\n"
    "5.03 with Max-Age, the seconds to wait.  0 turns the limit off." },
  { "RateLimitBurst", MD_SETTING_UINT, G_STRUCT_OFFSET (MdSettings, rate_limit_burst), "200",
    "Notes one source address may add at once before RateLimitAdds= applies." },
  { "RateLimitExempt", MD_SETTING_ADDRESSES, G_STRUCT_OFFSET (MdSettings, rate_limit_exempt),
    "127.0.0.0/8 ::1",
    "Source networks that the rate limit never applies to (ADDRESS[/LENGTH], separated by\n"
    "spaces); empty: none." },
  { "PlainFrom", MD_SETTING_ADDRESSES, G_STRUCT_OFFSET (MdSettings, plain_from),
    MD_PLAIN_FROM_DEFAULT,
    "Source networks served on the plain (unencrypted) port (ADDRESS[/LENGTH], separated\n"
    "by spaces); anything else there is dropped unanswered.  Whoever is in them reads and\n"
    "writes without a key, so widen it only for a LAN you trust; empty: DTLS only." },
  { "Discovery", MD_SETTING_BOOLEAN, G_STRUCT_OFFSET (MdSettings, discovery), "true",
    "Answer CoAP multicast discovery (GET /.well-known/core to 224.0.1.187 and ff02::fd)\n"
    "from anywhere on the LAN, whatever PlainFrom= says, with the notebook's link only:\n"
    "its name, identity and whether DTLS is offered, never a note." },
  { "Name", MD_SETTING_NAME, G_STRUCT_OFFSET (MdSettings, name), "",
    "The notebook's name, as clients list it (mydailyctl discover): up to 63 bytes of\n"
    "UTF-8, no control characters, no '\"' or '\\'.  Empty: the host name." },
};

/* What each type takes, for an error message. */
static const char *const type_hints[] = {
  [MD_SETTING_BOOLEAN] = "true or false",
  [MD_SETTING_SIZE] = "a size in bytes, optionally with K, M, G or T (powers of 1024)",
  [MD_SETTING_UINT] = "a whole number",
  [MD_SETTING_RATE] = "a number, 0 or more",
  [MD_SETTING_ADDRESSES] = "addresses or networks (ADDRESS[/LENGTH]) separated by spaces",
  [MD_SETTING_NAME] = "a name of up to 63 bytes, without control characters, '\"' or '\\'",
};

#define FIELD(self, setting, type) ((type *)((guint8 *)(self) + (setting)->offset))

static gboolean
parse_size (const char *text, guint64 *value)
{
  static const char units[] = "KMGT";
  char *end = NULL;
  guint64 number;
  const char *unit;

  if (!g_ascii_isdigit (text[0]))
    return FALSE;
  errno = 0;
  number = g_ascii_strtoull (text, &end, 10);
  /* Saturated to G_MAXUINT64 it would silently mean "no cap". */
  if (errno == ERANGE)
    return FALSE;
  if (*end == '\0')
    {
      *value = number;
      return TRUE;
    }
  unit = strchr (units, g_ascii_toupper (*end));
  if (unit == NULL || end[1] != '\0')
    return FALSE;
  for (const char *u = units; u <= unit; u++)
    {
      if (number > G_MAXUINT64 / 1024)
        return FALSE;
      number *= 1024;
    }
  *value = number;
  return TRUE;
}

static gboolean
parse_uint (const char *text, guint *value)
{
  char *end = NULL;
  guint64 number;

  if (!g_ascii_isdigit (text[0]))
    return FALSE;
  number = g_ascii_strtoull (text, &end, 10);
  if (*end != '\0' || number > G_MAXUINT)
    return FALSE;
  *value = (guint)number;
  return TRUE;
}

static gboolean
parse_rate (const char *text, double *value)
{
  char *end = NULL;
  double number;

  if (!g_ascii_isdigit (text[0]))
    return FALSE;
  number = g_ascii_strtod (text, &end);
  if (*end != '\0' || !(number >= 0 && number <= 1e9))
    return FALSE;
  *value = number;
  return TRUE;
}

/* @detail (may be NULL) names the item that is no network. */
static gboolean
parse_addresses (const char *text, char ***value, GError **detail)
{
  g_auto (GStrv) items = g_strsplit_set (text, " \t,", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  g_autoptr (MdAddressSet) set = NULL;

  for (gsize i = 0; items[i] != NULL; i++)
    if (items[i][0] != '\0')
      g_ptr_array_add (kept, g_strdup (items[i]));
  g_ptr_array_add (kept, NULL);
  set = md_address_set_new ((const char *const *)kept->pdata, detail);
  if (set == NULL)
    {
      g_strfreev ((char **)g_ptr_array_free (g_steal_pointer (&kept), FALSE));
      return FALSE;
    }
  g_strfreev (*value);
  *value = (char **)g_ptr_array_free (g_steal_pointer (&kept), FALSE);
  return TRUE;
}

static gboolean
parse_name (const char *text, char **value)
{
  if (text[0] != '\0' && !md_notes_link_name_is_valid (text))
    return FALSE;
  g_free (*value);
  *value = g_strdup (text);
  return TRUE;
}

/* Parses @text into @self's field for @setting; FALSE leaves it as it was,
 * with @detail (may be NULL) set when the type says more than its hint. */
static gboolean
parse_value (MdSettings *self, const MdSetting *setting, const char *text, GError **detail)
{
  switch (setting->type)
    {
      case MD_SETTING_BOOLEAN:
        {
          static const char *const yes[] = { "true", "yes", "on", "1", NULL };
          static const char *const no[] = { "false", "no", "off", "0", NULL };

          if (!g_strv_contains (yes, text) && !g_strv_contains (no, text))
            return FALSE;
          *FIELD (self, setting, gboolean) = g_strv_contains (yes, text);
          return TRUE;
        }
      case MD_SETTING_SIZE:
        return parse_size (text, FIELD (self, setting, guint64));
      case MD_SETTING_UINT:
        return parse_uint (text, FIELD (self, setting, guint));
      case MD_SETTING_RATE:
        return parse_rate (text, FIELD (self, setting, double));
      case MD_SETTING_ADDRESSES:
        return parse_addresses (text, FIELD (self, setting, char **), detail);
      case MD_SETTING_NAME:
        return parse_name (text, FIELD (self, setting, char *));
      default:
        g_assert_not_reached ();
    }
}

void
md_settings_init (MdSettings *self)
{
  g_return_if_fail (self != NULL);

  memset (self, 0, sizeof *self);
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (!parse_value (self, &settings[i], settings[i].default_value, NULL))
      g_error ("the default of %s= does not parse", settings[i].name);
}

void
md_settings_clear (MdSettings *self)
{
  g_return_if_fail (self != NULL);

  g_clear_pointer (&self->rate_limit_exempt, g_strfreev);
  g_clear_pointer (&self->plain_from, g_strfreev);
  g_clear_pointer (&self->name, g_free);
}

/* The hostname is no valid name when it is longer than names may be: then
 * the notebook has none. */
const char *
md_settings_get_name (const MdSettings *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->name != NULL && self->name[0] != '\0')
    return self->name;
  return md_notes_link_name_is_valid (g_get_host_name ()) ? g_get_host_name () : NULL;
}

static const MdSetting *
find_setting (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    if (strcmp (settings[i].name, name) == 0)
      return &settings[i];
  return NULL;
}

static gboolean
load_key (MdSettings *self, GKeyFile *keyfile, const char *name, GError **error)
{
  const MdSetting *setting = find_setting (name);
  g_autofree char *raw = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) detail = NULL;

  if (setting == NULL)
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "[%s] has no setting %s=", MD_SETTINGS_GROUP,
                   name);
      return FALSE;
    }
  raw = g_key_file_get_value (keyfile, MD_SETTINGS_GROUP, name, error);
  if (raw == NULL)
    return FALSE;
  text = g_strstrip (g_strdup (raw));
  if (!parse_value (self, setting, text, &detail))
    {
      g_set_error (error, MD_ERROR, MD_ERROR_FAILED, "%s=%s is not valid: %s%sexpected %s", name,
                   text, detail != NULL ? detail->message : "", detail != NULL ? "; " : "",
                   type_hints[setting->type]);
      return FALSE;
    }
  return TRUE;
}

gboolean
md_settings_load (MdSettings *self, GKeyFile *keyfile, GError **error)
{
  g_auto (GStrv) keys = NULL;

  g_return_val_if_fail (self != NULL && keyfile != NULL, FALSE);

  if (!g_key_file_has_group (keyfile, MD_SETTINGS_GROUP))
    return TRUE;
  keys = g_key_file_get_keys (keyfile, MD_SETTINGS_GROUP, NULL, error);
  if (keys == NULL)
    return FALSE;
  for (gsize i = 0; keys[i] != NULL; i++)
    if (!load_key (self, keyfile, keys[i], error))
      return FALSE;
  return TRUE;
}

static void
append_value (GString *out, const MdSettings *self, const MdSetting *setting)
{
  switch (setting->type)
    {
      case MD_SETTING_BOOLEAN:
        g_string_append (out, *FIELD (self, setting, gboolean) ? "true" : "false");
        break;
      case MD_SETTING_SIZE:
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, *FIELD (self, setting, guint64));
        break;
      case MD_SETTING_UINT:
        g_string_append_printf (out, "%u", *FIELD (self, setting, guint));
        break;
      case MD_SETTING_RATE:
        {
          char number[G_ASCII_DTOSTR_BUF_SIZE];

          g_string_append (out,
                           g_ascii_dtostr (number, sizeof number, *FIELD (self, setting, double)));
          break;
        }
      case MD_SETTING_ADDRESSES:
        {
          g_autofree char *joined = g_strjoinv (" ", *FIELD (self, setting, char **));

          g_string_append (out, joined);
          break;
        }
      case MD_SETTING_NAME:
        g_string_append (out, *FIELD (self, setting, char *));
        break;
      default:
        g_assert_not_reached ();
    }
}

char *
md_settings_to_data (const MdSettings *self)
{
  GString *out = g_string_new ("[" MD_SETTINGS_GROUP "]\n");

  g_return_val_if_fail (self != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (settings); i++)
    {
      g_auto (GStrv) lines = g_strsplit (settings[i].doc, "\n", -1);

      for (gsize l = 0; lines[l] != NULL; l++)
        g_string_append_printf (out, "# %s\n", lines[l]);
      g_string_append_printf (out, "# (default: %s)\n%s=",
                              settings[i].default_value[0] != '\0' ? settings[i].default_value
                                                                   : "empty",
                              settings[i].name);
      append_value (out, self, &settings[i]);
      g_string_append (out, "\n\n");
    }
  return g_string_free (out, FALSE);
}
