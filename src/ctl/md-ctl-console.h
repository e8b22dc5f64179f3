/* mydailyctl's messages on stderr, coloured only on a terminal and never
 * with NO_COLOR (fwupd's fu-console). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when @fd is a terminal, NO_COLOR is unset (or empty) and TERM is not
 * "dumb". */
gboolean md_ctl_use_color (int fd);

/* Prints "mydailyctl: MESSAGE" on stderr, after flushing stdout. */
void md_ctl_print_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
void md_ctl_print_error_valist (const char *format, va_list args) G_GNUC_PRINTF (1, 0);

G_END_DECLS
