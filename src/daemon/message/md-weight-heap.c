#include "config.h"

#include "md-weight-heap.h"

#define NODE(heap, i) ((MdWeightHeapNode *)g_ptr_array_index ((heap)->nodes, (i)))

void
md_weight_heap_init (MdWeightHeap *heap)
{
  heap->nodes = g_ptr_array_new ();
}

void
md_weight_heap_clear (MdWeightHeap *heap)
{
  g_clear_pointer (&heap->nodes, g_ptr_array_unref);
}

static void
place (MdWeightHeap *heap, guint i, MdWeightHeapNode *node)
{
  heap->nodes->pdata[i] = node;
  node->index = i;
}

static void
sift_up (MdWeightHeap *heap, MdWeightHeapNode *node)
{
  guint i = node->index;

  while (i > 0 && NODE (heap, (i - 1) / 2)->weight < node->weight)
    {
      place (heap, i, NODE (heap, (i - 1) / 2));
      i = (i - 1) / 2;
    }
  place (heap, i, node);
}

static void
sift_down (MdWeightHeap *heap, MdWeightHeapNode *node)
{
  guint n = heap->nodes->len;
  guint i = node->index;

  for (;;)
    {
      guint child = 2 * i + 1;

      if (child >= n)
        break;
      if (child + 1 < n && NODE (heap, child + 1)->weight > NODE (heap, child)->weight)
        child++;
      if (NODE (heap, child)->weight <= node->weight)
        break;
      place (heap, i, NODE (heap, child));
      i = child;
    }
  place (heap, i, node);
}

void
md_weight_heap_insert (MdWeightHeap *heap, MdWeightHeapNode *node)
{
  g_return_if_fail (heap != NULL && node != NULL);

  node->index = heap->nodes->len;
  g_ptr_array_add (heap->nodes, node);
  sift_up (heap, node);
}

void
md_weight_heap_update (MdWeightHeap *heap, MdWeightHeapNode *node)
{
  g_return_if_fail (heap != NULL && node != NULL);
  g_return_if_fail (node->index < heap->nodes->len && NODE (heap, node->index) == node);

  sift_up (heap, node);
  sift_down (heap, node);
}

void
md_weight_heap_remove (MdWeightHeap *heap, MdWeightHeapNode *node)
{
  MdWeightHeapNode *last;

  g_return_if_fail (heap != NULL && node != NULL);
  g_return_if_fail (node->index < heap->nodes->len && NODE (heap, node->index) == node);

  last = g_ptr_array_steal_index (heap->nodes, heap->nodes->len - 1);
  if (last == node)
    return;
  place (heap, node->index, last);
  md_weight_heap_update (heap, last);
}

MdWeightHeapNode *
md_weight_heap_top (MdWeightHeap *heap)
{
  g_return_val_if_fail (heap != NULL, NULL);

  return heap->nodes->len > 0 ? NODE (heap, 0) : NULL;
}
