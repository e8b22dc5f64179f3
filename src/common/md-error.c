#include "config.h"

#include "md-error.h"

#include <errno.h>

GQuark
md_error_quark (void)
{
  return g_quark_from_static_string ("md-error-quark");
}

void
md_error_set_errno (GError **error, int errno_value, const char *prefix)
{
  MdError code = MD_ERROR_IO;

  if (errno_value == ENOSPC || errno_value == EDQUOT)
    code = MD_ERROR_NO_SPACE;
  g_set_error (error, MD_ERROR, code, "%s: %s", prefix, g_strerror (errno_value));
}
