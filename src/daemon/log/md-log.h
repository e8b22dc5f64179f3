/* Structured logging: g_log_structured with MESSAGE_IDs an operator can
 * filter on (journalctl MESSAGE_ID=...).  The writer goes to the journal when
 * stderr is connected to it and to stderr (coloured on a TTY, never with
 * NO_COLOR) otherwise. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Generated once with `systemd-id128 new`; never change them. */
#define MD_MESSAGE_ID_STARTED "4f1c2e8b9d7a4c61a0b3e5f7d2c4a6e8"
#define MD_MESSAGE_ID_STOPPED "7a2d4f6b8c0e4a1d9b3f5e7c1a2b4d6f"
#define MD_MESSAGE_ID_NOTE_STORED "c3e5a7b9d1f34e6a8b0c2d4e6f8a0b2c"
#define MD_MESSAGE_ID_REQUEST_REJECTED "e1b3d5f7a9c24b6d8e0f1a3c5e7b9d2f"
#define MD_MESSAGE_ID_STORAGE_ERROR "9d8c7b6a5f4e4d3c8b2a1f0e9d8c7b6a"
#define MD_MESSAGE_ID_RECOVERED "2b4d6f8a0c1e4f3a9b5d7c1e3f5a7b9d"

/* Installs the writer; call first thing in main(). */
void md_log_init (gboolean verbose);

G_END_DECLS
