/* The rules of a person's pre-shared key, shared by the daemon (which reads
 * the keys file, md-keys.h) and mydailyctl keygen (which writes its lines).
 *
 * A keys file line is "NAME KEY": NAME is who the notes say wrote them, so
 * it is kept to characters that are safe in a log, a file and a terminal;
 * KEY is random text, and the PSK is exactly its bytes, so any client takes
 * it as it is (coap-client -u NAME -k KEY). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* NAME: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-' (so it is
 * never an option or a hidden file name). */
#define MD_PSK_NAME_MAX 64
/* KEY: 32 to 64 printable ASCII characters other than space.  At least 32
 * so that a generated key holds 192 bits or more; at most 64, the longest
 * PSK libcoap's clients accept. */
#define MD_PSK_SECRET_MIN 32
#define MD_PSK_SECRET_MAX 64
/* The bytes of randomness in a key md_psk_generate_secret() makes: 256
 * bits, 43 characters of base64url. */
#define MD_PSK_SECRET_RANDOM_BYTES 32

gboolean md_psk_name_is_valid (const char *name);
gboolean md_psk_secret_is_valid (const char *secret);
/* Checks @name against the rules, with an error saying which one it breaks. */
gboolean md_psk_check_name (const char *name, GError **error);

/* Splits one keys file line (without its newline) into @name and @secret.
 * Returns TRUE with both NULL for a line to skip (empty, blanks only, or a
 * '#' comment); FALSE with @error saying what is wrong. */
gboolean md_psk_parse_line (const char *line, char **name, char **secret, GError **error);

/* A new key: MD_PSK_SECRET_RANDOM_BYTES from getrandom(2), in base64url
 * without padding. */
char *md_psk_generate_secret (GError **error);

/* A string that holds a key, and a string vector whose strings may: cleared
 * (explicit_bzero) before they are freed, so no copy is left in freed
 * memory.  g_autoptr (MdPskSecret), g_auto (MdPskSecretStrv). */
typedef char MdPskSecret;
typedef char **MdPskSecretStrv;
void md_psk_secret_free (char *secret);
void md_psk_secret_strv_free (char **strv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MdPskSecret, md_psk_secret_free)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (MdPskSecretStrv, md_psk_secret_strv_free, NULL)

/* The DTLS suites both ends offer (the server adds %SERVER_PRECEDENCE):
 * ECDHE-PSK first (forward secrecy), then plain PSK; AES only, and never
 * ChaCha20-Poly1305, which Debian 12's tshark cannot decrypt from a key log
 * and which libcoap's GnuTLS client picks unless the server decides; DTLS
 * 1.2 only.  GnuTLS refuses a priority without signature algorithms, though
 * a PSK handshake signs nothing: +SIGN-ALL.  ECDHE-PSK exists with AES only
 * in CBC (RFC 5489), and GnuTLS's default client (NORMAL, libcoap's base)
 * offers CBC with HMAC-SHA1 alone, still a sound record MAC: without +SHA1
 * such a client would get plain PSK. */
#define MD_PSK_DTLS_PRIORITY                                                                       \
  "NONE:+VERS-DTLS1.2:+ECDHE-PSK:+PSK:+AES-128-CCM-8:+AES-128-GCM:+AES-256-GCM:+AES-128-CBC:"      \
  "+AES-256-CBC:+AEAD:+SHA256:+SHA384:+SHA1:+COMP-NULL:+GROUP-X25519:+GROUP-SECP256R1:+SIGN-ALL"

G_END_DECLS
