/* Shared by the libFuzzer targets and by the standalone driver that runs the
 * committed corpus and regressions through them in every build. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The entry point every target defines (libFuzzer's name and signature). */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Drops debug to message logs (set MD_FUZZ_VERBOSE=1 to see them) and aborts
 * on warnings and criticals: a g_return_if_fail or a "cannot happen" warning
 * reached from input is a bug the fuzzer must report.  Idempotent. */
void md_fuzz_init_logging (void);

/* A private directory for state files, removed again (with the files named
 * in @files) at exit.  Under /dev/shm when it is writable, so the store's
 * fdatasync costs nothing; $MD_FUZZ_TMPDIR overrides. */
const char *md_fuzz_make_state_dir (const char *const *files);

G_END_DECLS
