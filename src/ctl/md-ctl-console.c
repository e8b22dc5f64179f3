#include "config.h"

#include "md-ctl-console.h"

#include <stdio.h>
#include <unistd.h>

#include "md-terminal.h"

/* https://no-color.org: set and not empty.  A dumb terminal (TERM=dumb,
 * Emacs's shell) shows escape sequences as text, so it gets none either. */
static gboolean
color_refused (void)
{
  const char *no_color = g_getenv ("NO_COLOR");

  return (no_color != NULL && *no_color != '\0') || g_strcmp0 (g_getenv ("TERM"), "dumb") == 0;
}

gboolean
md_ctl_use_color (int fd)
{
  return isatty (fd) && !color_refused ();
}

void
md_ctl_print_error_valist (const char *format, va_list args)
{
  g_autofree char *raw = g_strdup_vprintf (format, args);
  /* Messages carry server diagnostics, addresses and file names. */
  g_autofree char *message = md_terminal_dup_safe (raw, -1, MD_TERMINAL_NONE);
  gboolean color = md_ctl_use_color (STDERR_FILENO);

  fflush (stdout);
  fprintf (stderr, "%smydailyctl:%s %s\n", color ? "\033[1;31m" : "", color ? "\033[0m" : "",
           message);
}

void
md_ctl_print_error (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  md_ctl_print_error_valist (format, args);
  va_end (args);
}
