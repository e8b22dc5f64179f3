/* What md-store.c, md-store-commit.c and md-store-read.c share of the
 * store: one object, in three files by what they do with it. */
#pragma once

#include "md-key-table.h"
#include "md-notes-sync.h"
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
  GArray *pending_keys;  /* MdKeyEntry of keyed appends not yet durable, by id */
  guint64 durable_count; /* the index's offsets at this entry are the file and
                          * body sizes at the last commit */
  GString *record;       /* reused for formatting appends */
  guint8 *read_buf;      /* MD_STORE_READ_CHUNK + MD_RECORD_MAX_LEN */
  char *broken;          /* why appends are refused, after a failed undo */
  guint64 max_size;      /* appends keep the file at most this long */
  MdNotesSync *sync;     /* the pipelined commit's worker */
  guint64 syncing_count; /* the notes the running sync makes durable */
  gint64 last_time;      /* TIME of the newest note appended, 0 if none; a
                          * rollback keeps it, which only errs later */
};

/* Cuts the notes file back to @size, or breaks the store if it cannot. */
void md_store_truncate_to (MdStore *self, guint64 size);

G_END_DECLS
