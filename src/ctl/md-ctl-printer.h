/* Turns the wire lines of a notes body into output: short (local time and
 * text), tsv (the wire lines unchanged) or json (one object per line).
 *
 * The printer remembers the newest id it printed and prints nothing at or
 * below it, so that overlapping fetches of a follower never repeat a note. */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef enum
{
  MD_CTL_FORMAT_SHORT,
  MD_CTL_FORMAT_TSV,
  MD_CTL_FORMAT_JSON,
} MdCtlFormat;

typedef struct _MdCtlPrinter MdCtlPrinter;

/* Called before the first note of a batch and when the batch ends. */
typedef void (*MdCtlPrinterHook) (gpointer user_data);

gboolean md_ctl_format_from_string (const char *name, MdCtlFormat *format);

MdCtlPrinter *md_ctl_printer_new (FILE *out, MdCtlFormat format, gboolean color);
void md_ctl_printer_free (MdCtlPrinter *printer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCtlPrinter, md_ctl_printer_free)

/* Output goes through $PAGER (else "less -FRSX"), started at the first note. */
void md_ctl_printer_use_pager (MdCtlPrinter *printer);
void md_ctl_printer_set_hooks (MdCtlPrinter *printer, MdCtlPrinterHook begin, MdCtlPrinterHook end,
                               gpointer user_data);

guint64 md_ctl_printer_get_last_id (MdCtlPrinter *printer);
/* Notes up to @id count as printed. */
void md_ctl_printer_set_last_id (MdCtlPrinter *printer, guint64 id);
/* A note this client stored itself: it is never printed. */
void md_ctl_printer_skip_id (MdCtlPrinter *printer, guint64 id);

/* Feeds a piece of a body; complete lines are printed.  Fails with
 * G_IO_ERROR_BROKEN_PIPE when the output went away. */
gboolean md_ctl_printer_feed (const guint8 *data, gsize len, gpointer printer, GError **error);
/* Prints what is left of the body, ends the batch and flushes. */
gboolean md_ctl_printer_flush (MdCtlPrinter *printer, GError **error);
/* Prints "mydailyctl: @message" on stderr between the begin and end hooks,
 * ending any batch a failed fetch left open and dropping its half line. */
void md_ctl_printer_print_error (MdCtlPrinter *printer, const char *message);
/* Ends any batch a failed fetch left open and drops its half line, like
 * md_ctl_printer_print_error() without a message. */
void md_ctl_printer_discard (MdCtlPrinter *printer);
/* Waits for the pager, if one runs. */
void md_ctl_printer_close (MdCtlPrinter *printer);

G_END_DECLS
