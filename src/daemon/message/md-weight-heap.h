/* A max-heap of nodes by weight, with each node's position kept in the node,
 * so a weight that changes moves in O(log n) and the heaviest is found in
 * O(1).  The tables use it to evict from the host holding most. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Embedded in the caller's struct; the heap holds pointers to it. */
typedef struct
{
  guint64 weight;
  guint index; /* position in the heap, private */
} MdWeightHeapNode;

typedef struct
{
  GPtrArray *nodes;
} MdWeightHeap;

void md_weight_heap_init (MdWeightHeap *heap);
void md_weight_heap_clear (MdWeightHeap *heap);
void md_weight_heap_insert (MdWeightHeap *heap, MdWeightHeapNode *node);
void md_weight_heap_remove (MdWeightHeap *heap, MdWeightHeapNode *node);
/* After node->weight changed. */
void md_weight_heap_update (MdWeightHeap *heap, MdWeightHeapNode *node);
/* The heaviest node, NULL when empty. */
MdWeightHeapNode *md_weight_heap_top (MdWeightHeap *heap);

G_END_DECLS
