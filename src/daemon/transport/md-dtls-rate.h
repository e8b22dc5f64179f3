/* Token buckets for coaps: how often a source host may start a handshake,
 * and how often a failed one is logged.
 *
 * The per-host buckets are a fixed array indexed by a hash of the host, so
 * they cost no memory per client (a flood of sources changes nothing but
 * the buckets' contents) and need no expiry; two hosts that share a bucket
 * share its rate, which only makes the limit stricter. */
#pragma once

#include "md-peer.h"

G_BEGIN_DECLS

typedef struct
{
  double tokens;
  gint64 updated_us; /* 0: never used, full */
} MdDtlsBucket;

/* Takes one token from @bucket, which refills at @per_s up to @burst;
 * FALSE when it is empty. */
gboolean md_dtls_bucket_take (MdDtlsBucket *bucket, double per_s, double burst, gint64 now_us);

#define MD_DTLS_HOST_BUCKETS 256

typedef struct
{
  MdDtlsBucket buckets[MD_DTLS_HOST_BUCKETS];
  double per_s;
  double burst;
} MdDtlsHostRate;

void md_dtls_host_rate_init (MdDtlsHostRate *self, double per_s, double burst);
/* A token from the bucket of @peer's host (its address without port). */
gboolean md_dtls_host_rate_take (MdDtlsHostRate *self, const MdPeer *peer, gint64 now_us);

/* The host of @peer: its address without port, an IPv4-mapped IPv6 address
 * as IPv4; returns the length (4 or 16, 0 for another family). */
gsize md_dtls_peer_host (const MdPeer *peer, guint8 out[16]);
gboolean md_dtls_peer_same_host (const MdPeer *a, const MdPeer *b);

G_END_DECLS
