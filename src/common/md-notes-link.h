/* The </notes> link of /.well-known/core, which is also the discovery
 * answer (RFC 7252 §8, RFC 6690):
 *
 *   </notes>;rt="mydaily.notes";ct=0;notebook="UUID";title="NAME";coaps="5684"
 *
 * The daemon writes it (md_notes_link_format), the client reads it from
 * any host that answers a multicast request, so reading is strict: hostile
 * input (md_notes_link_parse). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A notebook's UUID: 36 characters, lower-case hex and dashes. */
#define MD_NOTES_LINK_UUID_LEN 36

typedef struct
{
  char notebook[MD_NOTES_LINK_UUID_LEN + 1];
  char *name;         /* md_notes_link_name_is_valid(); "" when the link has none */
  guint16 coaps_port; /* 0: no DTLS offered */
} MdNotesLink;

void md_notes_link_clear (MdNotesLink *link);

/* A notebook's name (Name=): 1 to MD_PROTOCOL_NAME_MAX bytes of UTF-8 with
 * no control character (C0, DEL, C1), no '"' and no '\\', so it goes into a
 * quoted-string as it is and never needs escaping. */
gboolean md_notes_link_name_is_valid (const char *name);
/* A lower-case RFC 4122 text UUID. */
gboolean md_notes_link_uuid_is_valid (const char *text, gsize len);

/* The link with every attribute when it is at most @max bytes long;
 * otherwise without title=, then without ct= too, then with rt= and ct= alone
 * (which still tells a client with a small request that a notebook lives
 * there, to ask by unicast); NULL when even that is longer than @max.
 * @link's name must be valid (or empty: no title=). */
gchar *md_notes_link_format (const MdNotesLink *link, gsize max);

/* Finds the link with rt "mydaily.notes" in a link-format body (RFC 6690
 * §2: links separated by ',', each "<URI>" then ";name[=value]"
 * parameters).  FALSE with MD_ERROR_MALFORMED for anything that does not
 * parse, a notebook= that is no UUID, a title= that is no valid name, a
 * coaps= that is no port, or no such link.  @link is filled on success. */
gboolean md_notes_link_parse (const char *body, gsize len, MdNotesLink *link, GError **error);

G_END_DECLS
