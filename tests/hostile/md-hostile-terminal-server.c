/* md-hostile-terminal-server: a CoAP server that answers mydailyctl with
 * terminal escape sequences, for test-terminal-pty.py (Guarantees 6: no byte
 * from a server reaches a terminal as a control sequence).
 *
 * It binds 127.0.0.1 on a free port, prints the port and a newline on
 * stdout, and serves until its stdin ends (the test is over) or
 * MAX_LIFETIME_S pass.  Every answer carries hostile text:
 *   - GET /status: ESC ] 0 (window title), ESC [ 2J (clear), OSC 52
 *     (clipboard), C1 CSI as U+009B and as a raw 0x9b byte, DEL, U+202E;
 *   - GET /notes: notes the client must reject (C0, C1, DEL, bytes that are
 *     not UTF-8, in the text and in the author) and notes it accepts (bidi
 *     controls, Chinese text);
 *   - GET /latest with Observe: the newest accepted note, then notifications
 *     (a rejected one, one rejected for its author alone, an accepted one,
 *     and one past a gap, which makes the client fetch /notes?after=);
 *   - PUT /notes/KEY: chosen by the note's text, a 4.00 with a hostile UTF-8
 *     diagnostic ("diag"), with one that is not UTF-8 ("raw"), a 2.01 whose
 *     stored line is hostile ("stored"), or a 4.12 with another note
 *     ("clash");
 *   - anything else: 4.04 or 4.00 with the hostile diagnostic. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "md-coap.h"
#include "md-note.h"

#define MAX_LIFETIME_S 300
#define NOTE_TIME G_GINT64_CONSTANT (1795000000) /* 2026-11-18T11:06:40Z */
/* The id /latest names when an observer registers. */
#define LATEST_ID 9

#define TITLE "\033]0;pwned-title\007"
#define CLEAR "\033[2J\033[H"
#define CLIPBOARD "\033]52;c;cm0gLXJmIH4K\007"
#define C1_CSI "\302\233"
#define RAW_CSI "\233"
#define RLO "\342\200\256" /* U+202E */

static const char *const notes[] = {
  /* 1-6: rejected by the client's wire line parser. */
  TITLE "title",
  CLEAR "cleared",
  CLIPBOARD "clipboard",
  C1_CSI "2J c1",
  RAW_CSI "2J raw byte",
  "del \177 here",
  /* 7-9: accepted; bidi controls and Chinese text. */
  "printer toner 今天学习了 UDP 和 CoAP",
  RLO "evil reversed\342\200\254 text",
  "\342\201\246isolate\342\201\251 \342\200\252embed\342\200\254 \342\200\255override\342\200\254",
  /* 10-12: notified to observers. */
  RLO "notified\342\200\254 你好",
  TITLE "notified title",
  "\342\201\250gap\342\201\251 follow-end",
};

/* The authors of notes[]: hostile ones where the note is rejected anyway,
 * valid ones where it is accepted (a valid author has no character a
 * terminal acts on; the client escapes it all the same). */
static const char *const authors[] = {
  TITLE "a",    CLEAR "b", "c" CLIPBOARD, C1_CSI "d", RAW_CSI "e", "f\177",
  "@127.0.0.1", "mallory", "@::1",        "eve",      RLO "eve",   "@192.0.2.7",
};

static const char status_body[]
    = "version: 1" TITLE "\n"
      "notes: 12" CLEAR "\n"
      "last-id: 12\n"
      "observers: 0" CLIPBOARD "\n"
      "uptime: " C1_CSI "31m c1 " RAW_CSI "2J raw \177 del " RLO " rlo\n"
      "motd: 今天学习了 UDP 和 CoAP\n";

static const char diagnostic[] = "diag" TITLE CLEAR CLIPBOARD C1_CSI "31m \177 " RLO "evil 坏";

typedef struct
{
  int fd;
  guint16 next_mid;
} Server;

/* A wire line as md_note_append_wire_line() makes it, without its checks:
 * the author may be hostile too. */
static void
append_line (GString *body, guint64 id, const char *author, const char *text)
{
  g_string_append_printf (body, "%" G_GUINT64_FORMAT "\t", id);
  md_note_append_time (body, NOTE_TIME);
  g_string_append_printf (body, "\t%s\t%s\n", author, text);
}

static void
append_note (GString *body, guint64 id, const char *text)
{
  append_line (body, id, authors[(id - 1) % G_N_ELEMENTS (authors)], text);
}

static void
send_message (Server *server, const MdCoapMessage *msg, const struct sockaddr_in *peer)
{
  guint8 out[MD_COAP_MAX_DATAGRAM];
  gssize len = md_coap_encode (msg, out, sizeof out, NULL);

  g_assert (len > 0);
  if (sendto (server->fd, out, (gsize)len, 0, (const struct sockaddr *)peer, sizeof *peer) < 0)
    g_printerr ("sendto: %s\n", g_strerror (errno));
}

static void
set_text_payload (MdCoapMessage *msg, const char *text, gsize len)
{
  g_assert_true (md_coap_message_add_uint_option (msg, MD_COAP_OPTION_CONTENT_FORMAT,
                                                  MD_COAP_FORMAT_TEXT_PLAIN));
  g_assert (md_coap_message_set_payload (msg, text, len));
}

static void
answer_notes (MdCoapMessage *response, const MdCoapMessage *request)
{
  g_autofree char *after_text = md_coap_message_get_query (request, "after");
  guint64 after = after_text != NULL ? g_ascii_strtoull (after_text, NULL, 10) : 0;
  g_autoptr (GString) body = g_string_new (NULL);

  for (guint64 id = after + 1; id <= G_N_ELEMENTS (notes); id++)
    append_note (body, id, notes[id - 1]);
  set_text_payload (response, body->str, body->len);
}

static void
answer_put (MdCoapMessage *response, const MdCoapMessage *request)
{
  g_autoptr (GString) line = g_string_new (NULL);
  g_autofree char *text = g_strndup ((const char *)request->payload, request->payload_len);

  if (g_str_equal (text, "raw"))
    {
      md_coap_message_reset (response, MD_COAP_BAD_REQUEST);
      set_text_payload (response, "raw " RAW_CSI "2J " TITLE, strlen ("raw " RAW_CSI "2J " TITLE));
      return;
    }
  if (g_str_equal (text, "stored"))
    {
      md_coap_message_reset (response, MD_COAP_CREATED);
      append_note (line, 13, TITLE "stored");
    }
  else if (g_str_equal (text, "clash"))
    {
      md_coap_message_reset (response, MD_COAP_PRECONDITION_FAILED);
      append_note (line, 8, notes[7]);
    }
  else
    {
      md_coap_message_reset (response, MD_COAP_BAD_REQUEST);
      g_string_append (line, diagnostic);
    }
  set_text_payload (response, line->str, line->len);
}

/* The newest accepted note, then what an observer would be told later. */
static void
answer_observe (Server *server, MdCoapMessage *response, const MdCoapMessage *request,
                const struct sockaddr_in *peer)
{
  const struct
  {
    guint64 id;
    const char *author;
    const char *text;
  } notifications[] = {
    { 10, "eve", TITLE "rejected notification" },
    { 10, CLEAR "eve" TITLE, "a benign note by a hostile author" },
    { 10, authors[9], notes[9] },
    { 12, authors[11], notes[11] }, /* past a gap: the client fetches /notes?after=10 */
  };
  g_autoptr (GString) line = g_string_new (NULL);

  append_note (line, LATEST_ID, notes[LATEST_ID - 1]);
  g_assert_true (md_coap_message_add_uint_option (response, MD_COAP_OPTION_OBSERVE, 1));
  set_text_payload (response, line->str, line->len);
  send_message (server, response, peer);
  for (guint i = 0; i < G_N_ELEMENTS (notifications); i++)
    {
      MdCoapMessage notification;

      md_coap_message_init (&notification, MD_COAP_TYPE_NON, MD_COAP_CONTENT, server->next_mid++);
      md_coap_message_set_token (&notification, request->token, request->token_len);
      g_assert_true (
          md_coap_message_add_uint_option (&notification, MD_COAP_OPTION_OBSERVE, 2 + i));
      g_string_truncate (line, 0);
      append_line (line, notifications[i].id, notifications[i].author, notifications[i].text);
      set_text_payload (&notification, line->str, line->len);
      send_message (server, &notification, peer);
    }
}

static void
answer_request (Server *server, const MdCoapMessage *request, const struct sockaddr_in *peer)
{
  g_autofree char *path = md_coap_message_get_path (request);
  MdCoapMessage response;

  md_coap_message_init_response (&response, request, MD_COAP_CONTENT, server->next_mid++);
  if (request->code == MD_COAP_GET && g_strcmp0 (path, "status") == 0)
    set_text_payload (&response, status_body, strlen (status_body));
  else if (request->code == MD_COAP_GET && g_strcmp0 (path, "notes") == 0)
    answer_notes (&response, request);
  else if (request->code == MD_COAP_GET && g_strcmp0 (path, "latest") == 0
           && md_coap_message_has_option (request, MD_COAP_OPTION_OBSERVE))
    {
      answer_observe (server, &response, request, peer);
      return;
    }
  else if (request->code == MD_COAP_PUT && path != NULL && g_str_has_prefix (path, "notes/"))
    answer_put (&response, request);
  else
    {
      md_coap_message_reset (&response, request->code == MD_COAP_GET ? MD_COAP_NOT_FOUND
                                                                     : MD_COAP_BAD_REQUEST);
      set_text_payload (&response, diagnostic, strlen (diagnostic));
    }
  send_message (server, &response, peer);
}

static void
receive_one (Server *server)
{
  guint8 buffer[MD_COAP_MAX_DATAGRAM + 1];
  struct sockaddr_in peer;
  socklen_t peer_len = sizeof peer;
  gssize len = recvfrom (server->fd, buffer, sizeof buffer, 0, (struct sockaddr *)&peer, &peer_len);
  MdCoapMessage msg;

  if (len < 0 || !md_coap_parse (buffer, (gsize)len, &msg, NULL))
    return;
  if (msg.type == MD_COAP_TYPE_CON && msg.code == MD_COAP_EMPTY)
    {
      MdCoapMessage reset;

      md_coap_message_init (&reset, MD_COAP_TYPE_RST, MD_COAP_EMPTY, msg.mid);
      send_message (server, &reset, &peer);
    }
  else if ((msg.type == MD_COAP_TYPE_CON || msg.type == MD_COAP_TYPE_NON)
           && MD_COAP_CODE_CLASS (msg.code) == 0 && msg.code != MD_COAP_EMPTY)
    answer_request (server, &msg, &peer);
}

static int
bind_loopback (guint16 *port)
{
  struct sockaddr_in address
      = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof address;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0 || bind (fd, (struct sockaddr *)&address, sizeof address) < 0
      || getsockname (fd, (struct sockaddr *)&address, &len) < 0)
    {
      g_printerr ("cannot bind 127.0.0.1: %s\n", g_strerror (errno));
      return -1;
    }
  *port = ntohs (address.sin_port);
  return fd;
}

int
main (int argc, char **argv)
{
  Server server = { .next_mid = 0x4000 };
  gint64 deadline = g_get_monotonic_time () + MAX_LIFETIME_S * G_USEC_PER_SEC;
  guint16 port = 0;

  server.fd = bind_loopback (&port);
  if (server.fd < 0)
    return 1;
  printf ("%u\n", port);
  fflush (stdout);
  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd fds[]
          = { { .fd = server.fd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
      char byte;

      if (poll (fds, G_N_ELEMENTS (fds), 1000) < 0 && errno != EINTR)
        return 1;
      if (fds[1].revents != 0 && read (STDIN_FILENO, &byte, 1) <= 0)
        break;
      if (fds[0].revents & POLLIN)
        receive_one (&server);
    }
  close (server.fd);
  return 0;
}
