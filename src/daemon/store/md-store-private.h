/* What md-store.c and md-store-read.c share of the store: one object, in
 * two files by what they do with it. */
#pragma once

#include "md-key-table.h"
#include "md-offset-index.h"
#include "md-store.h"

G_BEGIN_DECLS

/* Body reads fetch at most this much of the file per pread. */
#define MD_STORE_READ_CHUNK (64 * 1024)

struct _MdStore
{
  char *path;
  char *notebook_id; /* md-notebook-id.h */
  int fd;
  MdOffsetIndex index;   /* every note, durable or pending */
  MdKeyTable keys;       /* every keyed note, durable or pending */
  GArray *pending_keys;  /* MdKey of keyed appends since the last commit */
  guint64 durable_count; /* the index's offsets at this entry are the file and
                          * body sizes at the last commit */
  GString *record;       /* reused for formatting appends */
  guint8 *read_buf;      /* MD_STORE_READ_CHUNK + MD_RECORD_MAX_LEN */
  char *broken;          /* why appends are refused, after a failed undo */
  guint64 max_size;      /* appends keep the file at most this long */
};

G_END_DECLS
