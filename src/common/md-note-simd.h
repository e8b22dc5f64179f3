/* The note text rule (valid UTF-8 without C0, DEL or C1 controls) checked
 * 16 bytes at a time with SSSE3, where the CPU has it.
 *
 * md-note.c's DFA is the reference: both accept exactly the same texts (a
 * unit test compares them), and this one is only the fast path of start-up,
 * which checks every note of the file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether md_note_simd_is_printable_utf8 can run on this CPU. */
gboolean md_note_simd_available (void);

/* TRUE if @text[0, @len) is valid UTF-8 with no control characters.  Call
 * only where md_note_simd_available is TRUE. */
gboolean md_note_simd_is_printable_utf8 (const char *text, gsize len);

/* The same check through md-note.c's DFA, the path without SSSE3; exported
 * so tests can hold both paths to the same reference on any CPU. */
gboolean md_note_dfa_is_printable_utf8 (const char *text, gsize len);

G_END_DECLS
