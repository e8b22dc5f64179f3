/* The project's GError domain. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MD_ERROR (md_error_quark ())

typedef enum
{
  MD_ERROR_FAILED,          /* anything else */
  MD_ERROR_INVALID_NOTE,    /* a note breaks the note rules (see md-note.h) */
  MD_ERROR_MALFORMED,       /* a datagram or record that does not parse */
  MD_ERROR_CORRUPT_STORE,   /* the notes file is damaged before its tail */
  MD_ERROR_NO_SPACE,        /* storage full or quota reached */
  MD_ERROR_IO,              /* other storage or socket failure */
  MD_ERROR_TIMEOUT,         /* the server never answered */
  MD_ERROR_REJECTED,        /* the server answered with an error code */
  MD_ERROR_NOTEBOOK_FULL,   /* the notes file reached its size cap */
  MD_ERROR_UNAUTHENTICATED, /* the server refused our key (DTLS handshake) */
} MdError;

GQuark md_error_quark (void);

/* Sets @error from @errno_value (ENOSPC and EDQUOT become MD_ERROR_NO_SPACE,
 * everything else MD_ERROR_IO) with a message "@prefix: strerror". */
void md_error_set_errno (GError **error, int errno_value, const char *prefix);

G_END_DECLS
