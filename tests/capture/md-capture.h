/* What the capture tests share: tshark capturing on lo, proof that it
 * captures and that everything sent so far is in the file, reading the file
 * back as fields, and the expert check.
 *
 * Readiness without sleeps: tshark's own "Capturing on" line on stderr, then
 * CoAP pings (an empty CON) to a daemon's plain port until the daemon's RST
 * is in the file.  tshark writes in order, so then all before it is there
 * too; at the start the RST proves the capture filter is in place.
 *
 * Known gap of the dissector: Wireshark up to at least 4.0 (Debian 12) has
 * no entry for the Echo option (252, RFC 9175), so it shows it with the
 * expert item "Invalid Option Number 252" in its Malformed group, although
 * the option is well-formed and the rest of the packet decodes.  That one
 * item is tolerated and counted; any other warning or malformed item fails
 * the test. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MD_CAPTURE_TSHARK "tshark"
/* What Wireshark 4.0 says of the Echo option it does not know. */
#define MD_CAPTURE_ECHO_UNKNOWN "Invalid Option Number 252"

typedef struct _MdCapture MdCapture;

/* FALSE, with the reason to print before exiting 77, without tshark or
 * root. */
gboolean md_capture_available (char **reason);

/* A capture into @dir/capture.pcapng; pings go to 127.0.0.1:@ping_port, a
 * mydailyd's plain port. */
MdCapture *md_capture_new (const char *dir, guint16 ping_port);
/* The same on @iface of network namespace @netns (ip netns's name), pings
 * going from there to @ping_address:@ping_port. */
MdCapture *md_capture_new_in_netns (const char *dir, const char *netns, const char *iface,
                                    const char *ping_address, guint16 ping_port);
void md_capture_free (MdCapture *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdCapture, md_capture_free)

/* The capture filter for the traffic of the daemon socket at
 * 127.0.0.1:@port, in both directions, and nothing else.  Not "udp port
 * N": that also matches any other socket with port N on another loopback
 * address, such as one of the ephemeral ports a flood test running beside
 * this one binds on 127.1.x.y, whose DTLS records then fail to decode as
 * CoAP.  127.0.0.1:N itself is the daemon's while it runs. */
char *md_capture_filter_for (guint16 port);

/* Starts tshark -i lo (or the interface given) -f @filter and waits until it captures.  FALSE (and
 * *@reason) when this machine denies capturing (a restricted container):
 * skip.  Any other failure to capture is the test's and fails it. */
gboolean md_capture_start (MdCapture *self, const char *filter, char **reason);
/* Returns once everything sent before is in the file. */
void md_capture_sync (MdCapture *self);
/* Syncs, then stops tshark (SIGINT) and waits for it. */
void md_capture_stop (MdCapture *self);
const char *md_capture_get_path (MdCapture *self);
/* The local port the pings come from: frames from or to it are the
 * harness's, not the session's. */
guint16 md_capture_get_ping_port (MdCapture *self);

/* tshark -r FILE @args... -T fields with @fields: one GStrv per frame
 * (fields in the order given, repeated values joined with ';'). */
GPtrArray *md_capture_read (MdCapture *self, const char *const *args, const char *const *fields);

/* Fails the test for any expert item of the frame (three ';'-joined
 * fields) that says malformed or warns, except MD_CAPTURE_ECHO_UNKNOWN;
 * returns how many of those it saw. */
guint md_capture_check_experts (const char *frame, const char *messages, const char *groups,
                                const char *severities);

/* The same, tolerating @tolerated (NULL: nothing more) as well. */
guint md_capture_check_experts_but (const char *frame, const char *messages, const char *groups,
                                    const char *severities, const char *tolerated);

G_END_DECLS
