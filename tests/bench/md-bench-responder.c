/* md-bench-responder: the machine's limit for a CoAP server on loopback.
 *
 * It answers every confirmable request with an empty ACK 2.01 (and a CoAP
 * ping with RST), reading and writing in batches with recvmmsg/sendmmsg, and
 * stores nothing.  What it reaches under the ingest load is what the load
 * generator, the kernel's UDP path and this machine allow together: the
 * ceiling the daemon's figures are divided by.
 *
 *   md-bench-responder PORT [MAX_SECONDS]
 *
 * Binds 127.0.0.1:PORT and serves until SIGTERM, or until MAX_SECONDS
 * (default 3600) have passed, so a forgotten one does not run for ever. */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define MAX_DATAGRAM 1500
#define HEADER_SIZE 4
#define MAX_TOKEN 8
#define TYPE_CON 0
#define TYPE_ACK 2
#define TYPE_RST 3
#define CODE_EMPTY 0x00
#define CODE_CREATED 0x41 /* 2.01 */

typedef struct
{
  struct mmsghdr in[BATCH], out[BATCH];
  struct iovec in_iov[BATCH], out_iov[BATCH];
  struct sockaddr_in from[BATCH];
  unsigned char in_buf[BATCH][MAX_DATAGRAM];
  unsigned char out_buf[BATCH][HEADER_SIZE + MAX_TOKEN];
} Batch;

/* Writes the answer to one datagram into @out; 0 if it gets none (not a
 * well-formed CON request or ping). */
static size_t
answer (const unsigned char *in, size_t len, unsigned char *out)
{
  unsigned version, type, token_len, code;

  if (len < HEADER_SIZE)
    return 0;
  version = in[0] >> 6;
  type = (in[0] >> 4) & 3;
  token_len = in[0] & 0xf;
  code = in[1];
  if (version != 1 || type != TYPE_CON || token_len > MAX_TOKEN || len < HEADER_SIZE + token_len)
    return 0;
  if (code == CODE_EMPTY)
    {
      out[0] = (unsigned char)(0x40 | TYPE_RST << 4);
      out[1] = CODE_EMPTY;
      memcpy (out + 2, in + 2, 2);
      return HEADER_SIZE;
    }
  if ((code >> 5) != 0) /* a response, not a request */
    return 0;
  out[0] = (unsigned char)(0x40 | TYPE_ACK << 4 | token_len);
  out[1] = CODE_CREATED;
  memcpy (out + 2, in + 2, 2 + token_len);
  return HEADER_SIZE + token_len;
}

static void
batch_init (Batch *b)
{
  memset (b, 0, sizeof *b);
  for (int i = 0; i < BATCH; i++)
    {
      b->in_iov[i] = (struct iovec){ b->in_buf[i], MAX_DATAGRAM };
      b->in[i].msg_hdr.msg_iov = &b->in_iov[i];
      b->in[i].msg_hdr.msg_iovlen = 1;
      b->in[i].msg_hdr.msg_name = &b->from[i];
      b->out[i].msg_hdr.msg_iov = &b->out_iov[i];
      b->out[i].msg_hdr.msg_iovlen = 1;
    }
}

/* One recvmmsg, one sendmmsg; -1 on a socket error. */
static int
serve_batch (int fd, Batch *b)
{
  int n, m = 0;

  for (int i = 0; i < BATCH; i++)
    b->in[i].msg_hdr.msg_namelen = sizeof b->from[i];
  n = recvmmsg (fd, b->in, BATCH, MSG_WAITFORONE, NULL);
  if (n < 0)
    return errno == EINTR ? 0 : -1;
  for (int i = 0; i < n; i++)
    {
      size_t len = answer (b->in_buf[i], b->in[i].msg_len, b->out_buf[m]);

      if (len == 0)
        continue;
      b->out_iov[m] = (struct iovec){ b->out_buf[m], len };
      b->out[m].msg_hdr.msg_name = &b->from[i];
      b->out[m].msg_hdr.msg_namelen = b->in[i].msg_hdr.msg_namelen;
      m++;
    }
  /* A full socket buffer drops replies, as it would for any server: the
   * load generator resends. */
  if (m > 0 && sendmmsg (fd, b->out, (unsigned)m, 0) < 0 && errno != EAGAIN && errno != EINTR)
    return -1;
  return 0;
}

static int
bind_loopback (unsigned port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || bind (fd, (struct sockaddr *)&sin, sizeof sin) < 0)
    {
      perror ("md-bench-responder: bind");
      exit (1);
    }
  return fd;
}

int
main (int argc, char **argv)
{
  static Batch batch;
  unsigned long port = argc > 1 ? strtoul (argv[1], NULL, 10) : 0;
  unsigned long max_seconds = argc > 2 ? strtoul (argv[2], NULL, 10) : 3600;
  int fd;

  if (argc < 2 || argc > 3 || port == 0 || port > 65535 || max_seconds == 0)
    {
      fprintf (stderr, "usage: md-bench-responder PORT [MAX_SECONDS]\n");
      return 64;
    }
  fd = bind_loopback ((unsigned)port);
  batch_init (&batch);
  /* The default SIGALRM action ends the process: the bound on its life. */
  alarm ((unsigned)max_seconds);
  for (;;)
    if (serve_batch (fd, &batch) < 0)
      {
        perror ("md-bench-responder");
        return 1;
      }
}
