/* Terminal safety: text from a server or a file, made fit to show.
 *
 * No byte that came from the network or a file may reach a terminal as a
 * control sequence (ARCHITECTURE.md, Guarantees 6): a hostile server could
 * otherwise set the window title (OSC 0), clear the screen (CSI 2J), write
 * the clipboard (OSC 52) or make a note read backwards.  Every such text that
 * mydailyctl prints goes through md_terminal_append_safe() first.
 *
 * Escaped, so that they show up instead of acting:
 *   - C0 (U+0000-U+001F) and DEL (U+007F): ESC starts every escape
 *     sequence; BEL, BS, CR and friends move the cursor or overwrite a line.
 *     LF and TAB pass only where the caller asks for them.
 *   - C1 (U+0080-U+009F): U+009B is CSI and U+009D OSC on terminals that
 *     take 8-bit controls.
 *   - every byte that is not part of valid UTF-8 (also overlong forms and
 *     surrogates): a stray 0x9b byte is CSI to a terminal in a legacy mode.
 *   - the bidi embeddings, overrides and isolates (U+202A-U+202E,
 *     U+2066-U+2069): they reorder the rest of the line, so that a note shows
 *     other text than it holds ("Trojan Source", CVE-2021-42574).
 *   - LINE and PARAGRAPH SEPARATOR (U+2028, U+2029): a one-line text must
 *     not look like two.
 *
 * Passed unchanged: every other valid UTF-8 character, so Chinese text or
 * emoji print as they are.  That includes the bidi marks LRM, RLM and ALM
 * (U+200E, U+200F, U+061C): they act as an invisible letter, with no scope,
 * so they can shift a neighbouring digit or punctuation mark but never
 * reorder a run of text, and Hebrew and Arabic writing needs them.  The zero-width joiners and
 * spaces (U+200B-U+200D, U+2060, U+FEFF) pass too: scripts and emoji sequences need them, and no
 * terminal acts on them.
 *
 * Escapes: a code point as "\uXXXX" (four lower-case hex digits, as in JSON,
 * so a JSON text stays valid JSON with the same meaning), a byte that is not
 * valid UTF-8 as "\xNN".  A backslash itself is not escaped, so ordinary text
 * prints unchanged: the result is for showing, not for parsing back, and
 * applying the function again changes nothing. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MD_TERMINAL_NONE = 0,
  /* LF passes: for multi-line bodies such as /status. */
  MD_TERMINAL_KEEP_NEWLINE = 1 << 0,
  /* TAB passes: for the field separators of tsv lines. */
  MD_TERMINAL_KEEP_TAB = 1 << 1,
} MdTerminalFlags;

/* Appends @len bytes of @bytes (any bytes, NULs too) to @out, escaped as the
 * header says. */
void md_terminal_append_safe (GString *out, const char *bytes, gsize len, MdTerminalFlags flags);

/* The same as a new string; @len -1 means @bytes is NUL-terminated. */
char *md_terminal_dup_safe (const char *bytes, gssize len, MdTerminalFlags flags);

G_END_DECLS
