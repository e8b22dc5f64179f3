/* A 2.05 body cut into smaller Block2 blocks (RFC 7959) after the resources
 * made it: for a request that asked for a block of a body the resources
 * serve whole, and for an unverified source whose budget (md-budget.h) a
 * full block would exceed. */
#pragma once

#include "md-coap.h"

G_BEGIN_DECLS

/* A 2.05 without Block2 to a request with a Block2 option becomes the block
 * the request asked for, or 4.02 when it lies beyond the end. */
void md_block_slice_answer (const MdCoapMessage *request, MdCoapMessage *response);

/* Cuts the 2.05 @response to the first block of size @szx of its payload
 * (the same offset, RFC 7959 §2.4), with a Size2 on block 0 only if
 * @with_size2 (it is optional, and the bytes may be needed).  FALSE, with
 * @response unchanged, when that block would be no smaller than what it
 * carries, or its number would pass the 20 bits of a Block2 option. */
gboolean md_block_slice_shrink (MdCoapMessage *response, guint szx, gboolean with_size2);

/* Copies @src into @dst so that @dst points into its own storage. */
void md_block_slice_copy (MdCoapMessage *dst, const MdCoapMessage *src);

G_END_DECLS
