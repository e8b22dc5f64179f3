#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets: corpus/<target>/<name>.

Run from anywhere: python3 tests/fuzz/gen-corpus.py.  The files are committed;
this script documents what each one is and makes them again after a format
change.  Seeds are meaningful inputs (valid requests of every kind, the
malformed datagrams RFC 7252 names, note texts at the limits, notes files with
torn tails) from which libFuzzer mutates.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT = 1, 2, 3
URI_HOST, ETAG, IF_NONE_MATCH, OBSERVE, URI_PORT = 3, 4, 5, 6, 7
URI_PATH, CONTENT_FORMAT, URI_QUERY, ACCEPT = 11, 12, 15, 17
BLOCK2, BLOCK1, SIZE2, PROXY_URI, SIZE1, ECHO = 23, 27, 28, 35, 60, 252
KEY = b"3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def ext(value):
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes([value - 13])
    return 14, struct.pack(">H", value - 269)


def uint(value):
    out = value.to_bytes(4, "big").lstrip(b"\0")
    return out


def coap(mtype, code, mid, token=b"", options=(), payload=b""):
    out = bytes([0x40 | (mtype << 4) | len(token), code]) + struct.pack(">H", mid) + token
    prev = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        dn, dext = ext(number - prev)
        ln, lext = ext(len(value))
        out += bytes([(dn << 4) | ln]) + dext + lext + value
        prev = number
    if payload:
        out += b"\xff" + payload
    return out


def path(p):
    return [(URI_PATH, seg.encode()) for seg in p.split("/") if seg]


def block(num, more, szx):
    return uint((num << 4) | (8 if more else 0) | szx)


TOK = b"\xa1\xb2\xc3\xd4"

COAP = {
    "ping": b"\x40\x00\x12\x34",
    "get-notes": coap(CON, GET, 1, TOK, path("notes")),
    "get-notes-after": coap(CON, GET, 2, TOK, path("notes") + [(URI_QUERY, b"after=1")]),
    "get-notes-after-junk": coap(CON, GET, 3, TOK, path("notes") + [(URI_QUERY, b"after=x1")]),
    "get-notes-block2": coap(CON, GET, 4, TOK, path("notes") + [(BLOCK2, block(1, False, 6))]),
    "get-notes-block2-small": coap(CON, GET, 5, TOK, path("notes") + [(BLOCK2, block(0, False, 0))]),
    "get-notes-block2-huge-num": coap(CON, GET, 6, TOK, path("notes") + [(BLOCK2, block(0xFFFFF, False, 6))]),
    "get-notes-block2-szx7": coap(CON, GET, 7, TOK, path("notes") + [(BLOCK2, b"\x07")]),
    "get-note-id": coap(CON, GET, 8, TOK, path("notes/1")),
    "get-note-key": coap(CON, GET, 9, TOK, path("notes/" + KEY.decode())),
    "observe-latest": coap(CON, GET, 10, TOK, [(OBSERVE, b"")] + path("latest")),
    "observe-latest-cancel": coap(CON, GET, 11, TOK, [(OBSERVE, b"\x01")] + path("latest")),
    "get-status-non": coap(NON, GET, 12, TOK, path("status")),
    "get-well-known-core": coap(CON, GET, 13, TOK, path(".well-known/core")),
    "post-note": coap(CON, POST, 14, TOK, path("notes") + [(CONTENT_FORMAT, b"")], b"hello from the fuzzer"),
    "post-note-utf8": coap(CON, POST, 15, TOK, path("notes"), "caf\u00e9 \u4f60\u597d".encode()),
    "post-note-invalid-utf8": coap(CON, POST, 16, TOK, path("notes"), b"bad \xc3\x28 utf8"),
    "post-note-control": coap(CON, POST, 17, TOK, path("notes"), b"tab\there"),
    "post-note-1001": coap(CON, POST, 18, TOK, path("notes"), b"x" * 1001),
    "post-note-1000": coap(CON, POST, 19, TOK, path("notes"), b"y" * 1000),
    "post-empty": coap(CON, POST, 20, TOK, path("notes")),
    "post-block1-more": coap(CON, POST, 21, TOK, path("notes") + [(BLOCK1, block(0, True, 2))], b"z" * 64),
    "put-key": coap(CON, PUT, 22, TOK, [(IF_NONE_MATCH, b"")] + path("notes/" + KEY.decode()), b"note by key"),
    "put-bad-key": coap(CON, PUT, 23, TOK, [(IF_NONE_MATCH, b"")] + path("notes/not-a-uuid"), b"note"),
    "uri-host-port": coap(CON, GET, 24, TOK, [(URI_HOST, b"localhost"), (URI_PORT, uint(5683))] + path("status")),
    "unknown-critical-9": coap(CON, GET, 25, TOK, [(9, b"x")] + path("status")),
    "unknown-critical-2049": coap(CON, GET, 26, TOK, path("status") + [(2049, b"x")]),
    "unknown-elective-2048": coap(CON, GET, 27, TOK, path("status") + [(2048, b"x")]),
    "proxy-uri": coap(CON, GET, 28, TOK, [(PROXY_URI, b"coap://example/")]),
    "echo-bogus": coap(CON, GET, 29, TOK, path("notes") + [(ECHO, b"\x01" * 12)]),
    "delete": coap(CON, 4, 30, TOK, path("notes/1")),
    "response-in-con": coap(CON, 0x45, 31, TOK, [], b"x"),
    "not-found": coap(CON, GET, 32, TOK, path("nothing/here")),
    "path-with-nul": coap(CON, GET, 33, TOK, [(URI_PATH, b"no\0tes")]),
    "ack-junk": coap(ACK, GET, 34, TOK, path("notes")),
    "rst-empty": b"\x70\x00\x00\x23",
    "non-empty": b"\x50\x00\x00\x24",
    "tkl-9": b"\x49\x01\x00\x25" + b"\0" * 9,
    "tkl-truncated": b"\x44\x01\x00\x26\xaa",
    "nibble-15-delta": b"\x40\x01\x00\x27\xf1x",
    "nibble-15-length": b"\x40\x01\x00\x28\x1fx",
    "option-past-end": b"\x40\x01\x00\x29\xb5not",
    "marker-no-payload": b"\x40\x01\x00\x2a\xff",
    "empty-with-token": b"\x41\x00\x00\x2b\x01",
    "version-2": b"\x80\x01\x00\x2c",
    "short": b"\x40\x01",
    "empty": b"",
    "ext16-option": coap(CON, GET, 45, TOK, [(1000, b"e" * 300)] + path("status")),
}

NOTE = {
    "plain": b"buy milk",
    "max-1000": b"a" * 1000,
    "over-1001": b"a" * 1001,
    "utf8": "\u00e9t\u00e9 \U0001f600 \u4f60\u597d".encode(),
    "invalid-utf8": b"\xff\xfe",
    "overlong": b"\xc0\xaf",
    "surrogate": b"\xed\xa0\x80",
    "c1-control": b"a\xc2\x85b",
    "del": b"a\x7fb",
    "nul": b"a\0b",
    "truncated-utf8": b"abc\xe4\xbd",
    "wire-line": b"1\t2026-11-24T19:42:57Z\talice\thello\n",
    "wire-line-no-newline": b"42\t2026-11-24T19:42:57Z\t@192.0.2.1\thello",
    "wire-leap-day": b"7\t2024-02-29T23:59:59Z\talice\tleap\n",
    "wire-bad-leap": b"7\t2023-02-29T00:00:00Z\talice\tnot leap\n",
    "wire-leading-zero": b"01\t2026-11-24T19:42:57Z\talice\tx\n",
    "wire-id-overflow": b"18446744073709551616\t2026-11-24T19:42:57Z\talice\tx\n",
    "wire-id-max": b"18446744073709551615\t9999-12-31T23:59:59Z\talice\tx\n",
    "wire-year-0": b"1\t0000-01-01T00:00:00Z\talice\tx\n",
    "wire-empty-text": b"1\t2026-11-24T19:42:57Z\talice\t\n",
    "wire-author-unknown": b"3\t2026-11-24T19:42:57Z\t-\tan old note\n",
    "wire-author-ipv6": b"4\t2026-11-24T19:42:57Z\t@2001:db8::1\tv6\n",
    "wire-author-longest": b"5\t2026-11-24T19:42:57Z\t" + b"n" * 64 + b"\tx\n",
    "wire-author-too-long": b"5\t2026-11-24T19:42:57Z\t" + b"n" * 65 + b"\tx\n",
    "wire-author-escape": b"6\t2026-11-24T19:42:57Z\t\x1b]0;pwned\x07\tx\n",
    "wire-previous-version": b"1\t2026-11-24T19:42:57Z\thello\n",
    "author": b"alice",
    "author-address": b"@127.0.0.1",
    "time-only": b"2026-11-24T19:42:57Z",
    "key": KEY,
    "key-upper": KEY.upper(),
}

GOOD = (b"1\t2026-11-24T19:42:57Z\t-\t@127.0.0.1\tfirst note\n"
        b"2\t2026-11-24T19:43:00Z\t" + KEY + b"\talice\tsecond, by key\n"
        b"3\t2026-11-24T19:44:10Z\t-\t@::1\tcaf\xc3\xa9\n")
# A file from before authors, four fields a record, then new records.
OLD = (b"1\t2026-11-24T19:42:57Z\t-\tfirst note\n"
       b"2\t2026-11-24T19:43:00Z\t" + KEY + b"\tsecond, by key\n")

STORE = {
    "empty": b"",
    "three-records": GOOD,
    "torn-no-newline": GOOD + b"4\t2026-11-24T19:45:00Z\t-\tunfini",
    "torn-id-only": GOOD + b"4",
    "torn-bad-last-line": GOOD + b"4\tgarbage\n",
    "damaged-middle": GOOD.replace(b"2\t2026", b"2\t20x6") + b"4\t2026-11-24T19:45:00Z\t-\tx\n",
    "id-gap": GOOD + b"5\t2026-11-24T19:45:00Z\t-\tgap\n",
    "duplicate-key": GOOD + b"4\t2026-11-24T19:45:00Z\t" + KEY + b"\tdup key\n",
    "bad-key": b"1\t2026-11-24T19:42:57Z\tnot-a-key\tx\n",
    "crlf": b"1\t2026-11-24T19:42:57Z\t-\tx\r\n",
    "lone-newline": b"\n",
    "nul-bytes": b"\0" * 64,
    "long-text": b"1\t2026-11-24T19:42:57Z\t-\t" + b"l" * 1001 + b"\n",
    "max-text": b"1\t2026-11-24T19:42:57Z\t-\t" + b"m" * 1000 + b"\n",
    "three-fields": b"1\t2026-11-24T19:42:57Z\tx\n",
    "old-records": OLD,
    "old-then-new": OLD + b"3\t2026-11-24T19:44:10Z\t-\tbob\tnew\n",
    "old-then-torn-new": OLD + b"3\t2026-11-24T19:44:10Z\t-\tbo",
    "bad-author": b"1\t2026-11-24T19:42:57Z\t-\tal ice\tx\n",
    "six-fields": b"1\t2026-11-24T19:42:57Z\t-\talice\tx\ty\n",
    "max-record": b"1\t2026-11-24T19:42:57Z\t" + KEY + b"\t" + b"n" * 64 + b"\t" + b"m" * 1000 + b"\n",
}

# md_terminal_append_safe: the first byte is the flags (1 keeps LF, 2 TAB).
TERMINAL = {
    "plain": b"\0printer toner is in the cupboard",
    "chinese": b"\0" + "\u4eca\u5929\u5b66\u4e60\u4e86 UDP \u548c CoAP".encode(),
    "osc-title": b"\0\x1b]0;pwned\x07",
    "csi-clear": b"\0\x1b[2J\x1b[H",
    "osc52": b"\0\x1b]52;c;cm0gLXJmIH4K\x07",
    "c1-csi": b"\0\xc2\x9b" b"31m",
    "raw-csi": b"\0\x9b" b"2J",
    "del": b"\0a\x7fb",
    "nul": b"\0a\0b",
    "bidi": b"\0" + "\u202eevil\u202c \u2066iso\u2069 \u200f\u061c".encode(),
    "separators": b"\0" + "one\u2028two\u2029".encode(),
    "status-lines": b"\1version: 1\nlast-id: 12\r\n",
    "tsv-line": b"\2" b"7\t2026-11-24T19:42:57Z\talice\thello\n",
    "both-kept": b"\3a\tb\nc",
    "invalid-utf8": b"\0\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe4\xbd",
    "escaped-already": b"\0\\u001b]0; \\x9b",
    "empty": b"",
}


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


write("coap", COAP)
write("server", COAP)
write("note", NOTE)
write("store-open", STORE)
write("terminal", TERMINAL)
