/* Diagnostic payloads (RFC 7252 §5.5.2): the short reason an error response
 * carries, for a person reading a log. */
#pragma once

#include "md-coap.h"

G_BEGIN_DECLS

/* Diagnostics stay short: they go to peers that may not be verified yet. */
#define MD_DIAGNOSTIC_MAX 120

/* Makes @response the error @code with the diagnostic @text: options and
 * payload dropped, printable ASCII only (so any log or terminal shows it as
 * it is), at most MD_DIAGNOSTIC_MAX bytes. */
void md_diagnostic_set (MdCoapMessage *response, guint8 code, const char *text);

/* Whether the payload of @response is a diagnostic, which may be cut or
 * logged as a reason.  4.12 is not one: it answers the retry of a note that
 * is already stored, a success for the client, and carries the stored note
 * line, which must reach the client whole. */
gboolean md_diagnostic_is_carried (const MdCoapMessage *response);

/* Cuts the diagnostic of @response by @excess bytes, at a UTF-8 character
 * boundary. */
void md_diagnostic_shorten (MdCoapMessage *response, gsize excess);

G_END_DECLS
