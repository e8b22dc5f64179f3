#include "config.h"

#include "md-block-slice.h"

#include "md-diagnostic.h"

#include <string.h>

/* A Block2 option carries 20 bits of block number (RFC 7959 §2.2). */
#define MD_BLOCK_NUM_END (G_GUINT64_CONSTANT (1) << 20)

/* Where a response's payload lies in the whole body. */
typedef struct
{
  guint64 offset;
  guint szx;     /* of its block; MD_COAP_MAX_BLOCK_SZX + 1 for a whole body */
  gboolean more; /* the body goes on after the payload */
  gboolean has_total;
  guint32 total;
} MdBodyView;

static const guint8 *
rebase (const guint8 *pointer, const MdCoapMessage *from, MdCoapMessage *to)
{
  if (pointer >= from->storage && pointer < from->storage + sizeof from->storage)
    return to->storage + (pointer - from->storage);
  return pointer;
}

void
md_block_slice_copy (MdCoapMessage *dst, const MdCoapMessage *src)
{
  g_return_if_fail (dst != NULL && src != NULL);

  memcpy (dst, src, sizeof *dst);
  for (guint i = 0; i < dst->n_options; i++)
    dst->options[i].value = rebase (src->options[i].value, src, dst);
  if (src->payload != NULL)
    dst->payload = rebase (src->payload, src, dst);
}

static void
view_of (const MdCoapMessage *response, MdBodyView *view)
{
  MdCoapBlock block;

  memset (view, 0, sizeof *view);
  view->szx = MD_COAP_MAX_BLOCK_SZX + 1;
  if (md_coap_message_get_block (response, MD_COAP_OPTION_BLOCK2, &block))
    {
      view->offset = (guint64)block.num * md_coap_block_size (block.szx);
      view->szx = block.szx;
      view->more = block.more;
    }
  view->has_total = md_coap_message_get_uint_option (response, MD_COAP_OPTION_SIZE2, &view->total);
  if (!view->has_total && !view->more)
    {
      view->has_total = TRUE;
      view->total = (guint32)MIN (view->offset + response->payload_len, G_MAXUINT32);
    }
}

/* Every option but the block ones, the new Block2 (Size2 on block 0), and
 * the slice of @from's payload from @skip. */
static gboolean
rebuild (MdCoapMessage *response, const MdCoapMessage *from, const MdBodyView *view,
         const MdCoapBlock *block, gsize skip, gsize len, gboolean with_size2)
{
  gboolean ok = TRUE;

  md_coap_message_reset (response, from->code);
  for (guint i = 0; i < from->n_options; i++)
    if (from->options[i].number != MD_COAP_OPTION_BLOCK2
        && from->options[i].number != MD_COAP_OPTION_SIZE2)
      ok = ok
           && md_coap_message_add_option (response, from->options[i].number, from->options[i].value,
                                          from->options[i].length);
  ok = ok && md_coap_message_add_block (response, MD_COAP_OPTION_BLOCK2, block);
  if (block->num == 0 && view->has_total && with_size2)
    ok = ok && md_coap_message_add_uint_option (response, MD_COAP_OPTION_SIZE2, view->total);
  return ok && md_coap_message_set_payload (response, from->payload + skip, len);
}

/* @response as block @num of size @szx, which must start within its
 * payload (or at its start); FALSE and unchanged otherwise. */
static gboolean
cut (MdCoapMessage *response, guint32 num, guint szx, gboolean with_size2)
{
  g_autofree MdCoapMessage *from = g_new (MdCoapMessage, 1);
  guint64 start = (guint64)num * md_coap_block_size (szx);
  MdCoapBlock block = { num, FALSE, szx };
  MdBodyView view;
  gsize skip, len;

  md_block_slice_copy (from, response);
  view_of (from, &view);
  if (start < view.offset || start - view.offset > from->payload_len
      || (num > 0 && start - view.offset == from->payload_len))
    return FALSE;
  skip = (gsize)(start - view.offset);
  len = MIN (md_coap_block_size (szx), from->payload_len - skip);
  block.more = skip + len < from->payload_len || view.more;
  if (rebuild (response, from, &view, &block, skip, len, with_size2))
    return TRUE;
  md_block_slice_copy (response, from);
  return FALSE;
}

void
md_block_slice_answer (const MdCoapMessage *request, MdCoapMessage *response)
{
  MdCoapBlock wanted;

  g_return_if_fail (request != NULL && response != NULL);

  if (response->code != MD_COAP_CONTENT
      || md_coap_message_has_option (response, MD_COAP_OPTION_BLOCK2)
      || !md_coap_message_get_block (request, MD_COAP_OPTION_BLOCK2, &wanted))
    return;
  /* A server may answer with a smaller block than asked for (RFC 7959 §2.4). */
  if (!cut (response, wanted.num, MIN (wanted.szx, MD_COAP_MAX_BLOCK_SZX), TRUE))
    md_diagnostic_set (response, MD_COAP_BAD_OPTION, "block beyond end");
}

gboolean
md_block_slice_shrink (MdCoapMessage *response, guint szx, gboolean with_size2)
{
  MdBodyView view;
  guint64 num;

  g_return_val_if_fail (response != NULL, FALSE);
  g_return_val_if_fail (szx <= MD_COAP_MAX_BLOCK_SZX, FALSE);

  view_of (response, &view);
  /* A block's offset is a multiple of any smaller block size. */
  num = view.offset / md_coap_block_size (szx);
  if (response->code != MD_COAP_CONTENT || szx >= view.szx
      || md_coap_block_size (szx) >= response->payload_len || num >= MD_BLOCK_NUM_END)
    return FALSE;
  return cut (response, (guint32)num, szx, with_size2);
}
