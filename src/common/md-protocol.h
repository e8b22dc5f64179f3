/* The names of mydaily's CoAP profile, in one place: the daemon and the
 * client both use these, so no path, query, status key or journal field is
 * spelled twice.  ARCHITECTURE.md ("Wire protocol") is the prose version. */
#pragma once

#include "md-coap.h"

#include <glib.h>

G_BEGIN_DECLS

/* Ports (IANA "coap" and "coaps"). */
#define MD_PROTOCOL_PORT 5683
#define MD_PROTOCOL_PORT_DTLS 5684
#define MD_PROTOCOL_PORT_STRING "5683"
#define MD_PROTOCOL_PORT_DTLS_STRING "5684"

/* Resource paths, as Uri-Path segments joined by '/' (no leading '/'). */
#define MD_PROTOCOL_PATH_NOTES "notes"
/* "notes/ID" or "notes/KEY": one note. */
#define MD_PROTOCOL_PATH_NOTES_PREFIX "notes/"
#define MD_PROTOCOL_PATH_LATEST "latest"
#define MD_PROTOCOL_PATH_STATUS "status"
#define MD_PROTOCOL_PATH_CORE ".well-known/core"

/* Uri-Query names. */
#define MD_PROTOCOL_QUERY_AFTER "after" /* GET /notes?after=N: notes with id > N */
#define MD_PROTOCOL_QUERY_RT "rt"       /* GET /.well-known/core?rt=TYPE */

/* Resource types (rt=) in /.well-known/core. */
#define MD_PROTOCOL_RT_NOTES "mydaily.notes"
#define MD_PROTOCOL_RT_NOTE "mydaily.note"
#define MD_PROTOCOL_RT_STATUS "mydaily.status"

/* Content formats (RFC 7252 §12.3): numbers of CoAP's registry, so the codec
 * (md-coap.h) spells them; these are the profile's names for them. */
#define MD_PROTOCOL_FORMAT_TEXT_PLAIN MD_COAP_FORMAT_TEXT_PLAIN
#define MD_PROTOCOL_FORMAT_LINK_FORMAT MD_COAP_FORMAT_LINK_FORMAT
#define MD_PROTOCOL_FORMAT_JSON MD_COAP_FORMAT_JSON

/* Keys of the "key: value" lines of GET /status. */
#define MD_PROTOCOL_STATUS_VERSION "version"
#define MD_PROTOCOL_STATUS_NOTES "notes"
#define MD_PROTOCOL_STATUS_LAST_ID "last-id"
#define MD_PROTOCOL_STATUS_UPTIME "uptime"
#define MD_PROTOCOL_STATUS_OBSERVERS "observers"
#define MD_PROTOCOL_STATUS_STATE_FILE "state-file"
/* The notebook's identity: a random UUID made with the notes file. */
#define MD_PROTOCOL_STATUS_NOTEBOOK "notebook"
/* Bytes of the notes file, and its cap (MaxNotesFileSize=). */
#define MD_PROTOCOL_STATUS_NOTES_FILE_SIZE "notes-file-size"
#define MD_PROTOCOL_STATUS_NOTES_FILE_MAX "notes-file-max"
/* Datagrams on the plain port dropped unanswered since start: their source
 * is outside PlainFrom=. */
#define MD_PROTOCOL_STATUS_PLAIN_REFUSED "plain-refused"

/* Link attribute of </notes> in /.well-known/core carrying that identity,
 * so one GET tells a client (or a discovery answer) which notebook it is. */
#define MD_PROTOCOL_LINK_NOTEBOOK "notebook"
/* The other attributes of that link (ARCHITECTURE.md, "Discovery"):
 *   </notes>;rt="mydaily.notes";ct=0;notebook="UUID";title="NAME";coaps="5684"
 * title is the notebook's name (Name= in mydaily.conf), coaps the DTLS port,
 * present only when DTLS is offered. */
#define MD_PROTOCOL_LINK_RT "rt"
#define MD_PROTOCOL_LINK_CT "ct"
#define MD_PROTOCOL_LINK_TITLE "title"
#define MD_PROTOCOL_LINK_COAPS "coaps"

/* CoAP multicast discovery (RFC 7252 §8, §12.8): "All CoAP Nodes". */
#define MD_PROTOCOL_GROUP_V4 "224.0.1.187"
#define MD_PROTOCOL_GROUP_V6 "ff02::fd"
/* An elective option (the experimental range of RFC 7252 §12.2) whose value
 * means nothing: a discovery request carries it to be large enough that the
 * link fits three times its size (chrony pads its requests alike). */
#define MD_PROTOCOL_OPTION_PADDING 65000
/* The longest Name=, in bytes, so the link always fits the padded request. */
#define MD_PROTOCOL_NAME_MAX 63

/* DNS-SD service types (RFC 7252 §12.8 registers both). */
#define MD_PROTOCOL_DNSSD_COAP "_coap._udp"
#define MD_PROTOCOL_DNSSD_COAPS "_coaps._udp"

/* Journal fields of the daemon's structured events (journalctl FIELD=). */
#define MD_PROTOCOL_FIELD_NOTE_ID "NOTE_ID"
#define MD_PROTOCOL_FIELD_NOTE_KEY "NOTE_KEY"
/* Who wrote it: the PSK name, or "@" and the address (md-note.h). */
#define MD_PROTOCOL_FIELD_NOTE_AUTHOR "NOTE_AUTHOR"
#define MD_PROTOCOL_FIELD_PEER "PEER"
#define MD_PROTOCOL_FIELD_REASON "REASON"
#define MD_PROTOCOL_FIELD_COAP_CODE "COAP_CODE"
#define MD_PROTOCOL_FIELD_DROPPED_BYTES "DROPPED_BYTES"
#define MD_PROTOCOL_FIELD_KEPT_RECORDS "KEPT_RECORDS"
/* Requests refused for the same limit since its previous message. */
#define MD_PROTOCOL_FIELD_REFUSED "REFUSED"
/* The PSK identity a DTLS client gave (escaped when it breaks md-psk.h's
 * name rules), and the keys file read. */
#define MD_PROTOCOL_FIELD_PSK_IDENTITY "PSK_IDENTITY"
#define MD_PROTOCOL_FIELD_KEYS_FILE "KEYS_FILE"

/* Journal MESSAGE_IDs: random 128-bit ids (python3 -c 'import uuid;
 * print(uuid.uuid4().hex)'), so they never collide with another program's. */
#define MD_PROTOCOL_MESSAGE_ID_STARTED "7bf2919b75494e6894d50ef676caecde"
#define MD_PROTOCOL_MESSAGE_ID_STOPPED "5797e110cace44dd839b185de4ffe6ce"
#define MD_PROTOCOL_MESSAGE_ID_NOTE_STORED "c745f005a0df4d04a1b936a6db406c9f"
#define MD_PROTOCOL_MESSAGE_ID_REQUEST_REJECTED "c52c37ad218f42a4b795a9a581932f53"
#define MD_PROTOCOL_MESSAGE_ID_STORAGE_ERROR "8c1f4179f04f4a2dbda5feef3eec02fe"
#define MD_PROTOCOL_MESSAGE_ID_RECOVERED "eccb9294e032472b8360c19194c34102"
/* At most once a minute each (md-log-limits.c). */
#define MD_PROTOCOL_MESSAGE_ID_NOTEBOOK_FULL "6f968b7ad2f247c18226f55da9c8f751"
#define MD_PROTOCOL_MESSAGE_ID_RATE_LIMITED "76f161b6953147209529493e9b8aa9b3"
/* Datagrams on the plain port from outside PlainFrom=, dropped. */
#define MD_PROTOCOL_MESSAGE_ID_PLAIN_REFUSED "bba9375311f54cee94187b9f2a6d97a1"
/* A DTLS handshake failed: unknown name, wrong key, no common suite. */
#define MD_PROTOCOL_MESSAGE_ID_DTLS_HANDSHAKE_FAILED "5d2c3ce7ea6a440295183631d060a0dd"
/* The keys file was read, or refused (then the keys in force stay). */
#define MD_PROTOCOL_MESSAGE_ID_KEYS_LOADED "1b4df3b8e7e44ea1a0edb85a380f9505"

G_END_DECLS
