/* The ingest load: N clients, each its own UDP socket (its own endpoint, as
 * N hosts would be), each keeping exactly one confirmable request
 * outstanding and sending the next as soon as its ACK arrives.  One thread
 * serves every socket through epoll, so the generator costs one recv and one
 * send per request; the bare responder's figure shows its ceiling.
 *
 * A request unanswered for RESEND_NS is sent again with the same Message ID
 * (a server's dedup answers it), and after MAX_RESENDS it is counted as lost
 * and the client moves on: a lost datagram never stalls a run. */
#include "config.h"

#include "md-bench.h"

#include "md-coap.h"
#include "md-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_SIZE 4
#define RESEND_NS (1000ull * 1000 * 1000)
#define MAX_RESENDS 3
/* Replies still on their way when the window ends are waited for this long,
 * so no traffic of one run spills into the next. */
#define DRAIN_NS (2000ull * 1000 * 1000)
#define TIMEOUT_SCAN_NS (10ull * 1000 * 1000)
#define EPOLL_BATCH 64
#define EPOLL_WAIT_MS 10
#define REPLY_SIZE 1500
#define REQUEST_SIZE 256

typedef struct
{
  int fd;
  guint index;
  guint32 seq;        /* requests this client started */
  guint16 mid;        /* of the request outstanding */
  gboolean waiting;   /* a request is outstanding */
  guint resends;      /* of the request outstanding */
  guint64 first_sent; /* when the outstanding request was first sent, ns */
  guint64 last_sent;
  gsize request_len;
  gsize seq_offset; /* of the note's number in the request */
  guint8 request[REQUEST_SIZE];
} Client;

typedef struct
{
  const MdBenchLoadSpec *spec;
  Client *clients;
  int epoll_fd;
  struct sockaddr_in server;
  guint64 window_start, window_end; /* ns, monotonic */
  MdBenchLatency *latency;
  MdBenchLoadResult *result;
} Load;

static guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64)ts.tv_sec * 1000000000ull + (guint64)ts.tv_nsec;
}

/* ---- requests ---------------------------------------------------------------- */

/* A short note: NOTE_PREFIX, the request's number in hex, " from client N";
 * different for every request, the same size for every server. */
#define NOTE_PREFIX "ingest note "
#define NOTE_SEQ_DIGITS 8

/* Encodes @c's request once; start_request() then patches only its Message
 * ID, token and number, so the generator spends its time on the network. */
static gboolean
build_request (Load *load, Client *c, GError **error)
{
  MdCoapMessage msg;
  guint8 token[TOKEN_SIZE] = { 0 };
  g_autofree char *text
      = g_strdup_printf (NOTE_PREFIX "%0*u from client %03u", NOTE_SEQ_DIGITS, 0, c->index);
  gssize len;

  md_coap_message_init (&msg, MD_COAP_TYPE_CON, load->spec->method, 0);
  md_coap_message_set_token (&msg, token, sizeof token);
  if (!md_coap_message_add_path (&msg, MD_COAP_OPTION_URI_PATH, load->spec->path)
      || !md_coap_message_set_payload (&msg, text, strlen (text)))
    {
      g_set_error_literal (error, MD_ERROR, MD_ERROR_FAILED, "request does not fit");
      return FALSE;
    }
  len = md_coap_encode (&msg, c->request, sizeof c->request, error);
  if (len <= 0)
    return FALSE;
  c->request_len = (gsize)len;
  c->seq_offset = (gsize)len - strlen (text) + strlen (NOTE_PREFIX);
  return TRUE;
}

static void
patch_request (Client *c)
{
  static const char hex[] = "0123456789abcdef";
  guint8 *p = c->request;

  p[2] = c->mid >> 8;
  p[3] = c->mid & 0xff;
  p[4] = c->index >> 8;
  p[5] = c->index & 0xff;
  p[6] = (c->seq >> 8) & 0xff;
  p[7] = c->seq & 0xff;
  for (guint i = 0; i < NOTE_SEQ_DIGITS; i++)
    p[c->seq_offset + i] = hex[(c->seq >> (4 * (NOTE_SEQ_DIGITS - 1 - i))) & 0xf];
}

static void
transmit (Client *c)
{
  c->last_sent = now_ns ();
  /* A failed send is a lost datagram: the resend timer covers it. */
  send (c->fd, c->request, c->request_len, 0);
}

static void
start_request (Client *c)
{
  c->seq++;
  c->mid++;
  c->resends = 0;
  patch_request (c);
  c->waiting = TRUE;
  transmit (c);
  c->first_sent = c->last_sent;
}

/* ---- replies ----------------------------------------------------------------- */

/* TRUE for the ACK to @c's outstanding request (same Message ID and token);
 * anything else (a late answer to a resent request) is ignored. */
static gboolean
is_answer (const Client *c, const guint8 *reply, gssize len, guint8 *code)
{
  MdCoapType type;
  guint16 mid;

  return c->waiting && len >= 4 + TOKEN_SIZE
         && md_coap_peek_header (reply, (gsize)len, &type, code, &mid) && type == MD_COAP_TYPE_ACK
         && mid == c->mid && (reply[0] & 0x0f) == TOKEN_SIZE
         && memcmp (reply + 4, c->request + 4, TOKEN_SIZE) == 0;
}

static void
record_answer (Load *load, Client *c, guint8 code, guint64 now)
{
  MdBenchLoadResult *r = load->result;

  r->answered++;
  if (MD_COAP_CODE_CLASS (code) != 2)
    {
      r->failed++;
      r->failed_code = code;
    }
  else if (now >= load->window_start && now < load->window_end)
    {
      r->completed++;
      md_bench_latency_add (load->latency, now - c->first_sent);
    }
}

/* Reads what waits on @c's socket; starts the next request while the window
 * is open. */
static void
on_readable (Load *load, Client *c)
{
  guint8 reply[REPLY_SIZE];
  guint8 code;

  for (guint i = 0; i < 4; i++)
    {
      gssize n = recv (c->fd, reply, sizeof reply, MSG_DONTWAIT);
      guint64 now = now_ns ();

      if (n < 0)
        return; /* EAGAIN, or an ICMP error the resend covers */
      if (!is_answer (c, reply, n, &code))
        continue;
      c->waiting = FALSE;
      record_answer (load, c, code, now);
      if (now < load->window_end)
        start_request (c);
    }
}

static void
check_timeouts (Load *load, guint64 now)
{
  for (guint i = 0; i < load->spec->n_clients; i++)
    {
      Client *c = &load->clients[i];

      if (!c->waiting || now - c->last_sent < RESEND_NS)
        continue;
      if (c->resends < MAX_RESENDS)
        {
          c->resends++;
          load->result->resent++;
          transmit (c);
          continue;
        }
      c->waiting = FALSE;
      load->result->lost++;
      if (now < load->window_end)
        start_request (c);
    }
}

/* ---- the run ----------------------------------------------------------------- */

static gboolean
open_clients (Load *load, GError **error)
{
  load->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (load->epoll_fd < 0)
    {
      md_error_set_errno (error, errno, "epoll_create1");
      return FALSE;
    }
  for (guint i = 0; i < load->spec->n_clients; i++)
    {
      Client *c = &load->clients[i];
      struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

      c->index = i;
      c->mid = (guint16)g_random_int ();
      if (!build_request (load, c, error))
        return FALSE;
      c->fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      /* Connected: no route lookup per send, and only the server's
       * datagrams arrive. */
      if (c->fd < 0 || connect (c->fd, (struct sockaddr *)&load->server, sizeof load->server) < 0
          || epoll_ctl (load->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        {
          md_error_set_errno (error, errno, "client socket");
          return FALSE;
        }
    }
  return TRUE;
}

static void
close_clients (Load *load)
{
  for (guint i = 0; i < load->spec->n_clients; i++)
    if (load->clients[i].fd >= 0)
      close (load->clients[i].fd);
  if (load->epoll_fd >= 0)
    close (load->epoll_fd);
}

static gboolean
any_waiting (const Load *load)
{
  for (guint i = 0; i < load->spec->n_clients; i++)
    if (load->clients[i].waiting)
      return TRUE;
  return FALSE;
}

/* Until the window closes, then until every answer is in or DRAIN_NS. */
static void
event_loop (Load *load)
{
  guint64 give_up = load->window_end + DRAIN_NS, next_scan = 0, now;
  struct epoll_event events[EPOLL_BATCH];

  /* The bound in count: far more wake-ups than any window can take. */
  for (guint64 turn = 0; turn < G_MAXUINT32; turn++)
    {
      int n = epoll_wait (load->epoll_fd, events, EPOLL_BATCH, EPOLL_WAIT_MS);

      for (int i = 0; i < n; i++)
        on_readable (load, &load->clients[events[i].data.u32]);
      now = now_ns ();
      if (now >= give_up || (now >= load->window_end && !any_waiting (load)))
        return;
      if (now >= next_scan)
        {
          check_timeouts (load, now);
          next_scan = now + TIMEOUT_SCAN_NS;
        }
    }
}

static double
thread_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
run (Load *load)
{
  guint64 start = now_ns ();
  double cpu_start = thread_cpu_seconds ();

  load->window_start = start + (guint64)(load->spec->warmup_seconds * 1e9);
  load->window_end = load->window_start + (guint64)(load->spec->seconds * 1e9);
  for (guint i = 0; i < load->spec->n_clients; i++)
    start_request (&load->clients[i]);
  event_loop (load);
  for (guint i = 0; i < load->spec->n_clients; i++)
    load->result->unanswered += load->clients[i].waiting;
  load->result->wall_seconds = (double)(now_ns () - start) / 1e9;
  load->result->cpu_seconds = thread_cpu_seconds () - cpu_start;
}

static void
summarize (Load *load)
{
  MdBenchLoadResult *r = load->result;

  r->rate = (double)r->completed / load->spec->seconds;
  r->p50_us = md_bench_latency_percentile (load->latency, 0.50);
  r->p99_us = md_bench_latency_percentile (load->latency, 0.99);
}

gboolean
md_bench_load_run (const MdBenchLoadSpec *spec, MdBenchLoadResult *result, GError **error)
{
  Load load = { spec, NULL, -1, { .sin_family = AF_INET }, 0, 0, NULL, result };
  gboolean ok;

  g_return_val_if_fail (spec != NULL && spec->n_clients > 0 && spec->seconds > 0, FALSE);

  memset (result, 0, sizeof *result);
  load.server.sin_port = htons (spec->port);
  load.server.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  load.clients = g_new0 (Client, spec->n_clients);
  for (guint i = 0; i < spec->n_clients; i++)
    load.clients[i].fd = -1;
  load.latency = md_bench_latency_new ();
  ok = open_clients (&load, error);
  if (ok)
    {
      run (&load);
      summarize (&load);
    }
  close_clients (&load);
  md_bench_latency_free (load.latency);
  g_free (load.clients);
  return ok;
}
