/* Start-up: reading the notes file once, indexing every record into the
 * store's offset index and key table, and recovering from a crash that tore
 * the last ones.  Knows the file and the index, not the store. */
#pragma once

#include "md-key-table.h"
#include "md-offset-index.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 kept_records;  /* complete records kept */
  guint64 dropped_bytes; /* torn tail truncated away, 0 if none */
} MdStoreRecovery;

/* Indexes the notes file @fd (named @path in messages) into the empty
 * @index and @keys: truncates a torn tail (and logs it), refuses damage
 * before it (MD_ERROR_CORRUPT_STORE naming the line), and syncs the file so
 * that everything indexed is durable.  Fills @recovery. */
gboolean md_store_scan (int fd, const char *path, MdOffsetIndex *index, MdKeyTable *keys,
                        MdStoreRecovery *recovery, GError **error);

G_END_DECLS
