/* dissect/app_internal.h — what the application decoders share: the per-flow state, the
 * stream driver's contract with each stream decoder, and small helpers. Only the decoders
 * in dissect/ include it; the rest of the program sees dissect/app.h. */
#ifndef PKTSCOPE_DISSECT_APP_INTERNAL_H
#define PKTSCOPE_DISSECT_APP_INTERNAL_H

#include "dissect/app.h"

/* The largest message collected before it is decoded (a TLS handshake message spanning
 * records, an HTTP header block, an HTTP/2 HEADERS frame with its CONTINUATIONs). A longer
 * one is passed over by its length where it has one; otherwise that direction stops. */
#define APP_MAX_MSG (256u << 10)
/* Chunks a stream may begin with before we decide it carries nothing we decode. */
#define APP_MAX_SNIFFS 16 /* enough for an SMTP/IMAP/POP3 STARTTLS exchange */
#define APP_SNIFF_KEEP 16  /* bytes of a too-short first segment kept for the next look */

enum app_proto { AP_UNKNOWN, AP_NONE, AP_TLS, AP_HTTP, AP_HTTP2, AP_DNS,
		 AP_FTP, AP_POP, AP_IMAP, AP_SMTP, AP_TELNET /* textproto.c */ };

struct app_dir {
	uint8_t *buf;         /* an incomplete message (owned) */
	uint32_t len, cap;
	uint32_t need;        /* bytes the decoder wants before it looks again */
	uint64_t skip;        /* bytes to pass over undecoded (a body, encrypted data) */
	bool notify;          /* tell the decoder when the skip ends (http_body_done) */
	bool resync;          /* after a gap: chunks that do not start a message are dropped */
	uint64_t pdu_frame;   /* the packet where the message being collected began */
	bool dead;            /* lost: this direction is not decoded any more */
};

/* TLS numbers (RFC 8446 §B, RFC 6347, RFC 9147, the IANA TLS ExtensionType registry);
 * their names for Info and the tree are the vn_tls_* tables. */
enum tls_version {
	SSL_V2 = 0x0002, SSL_V3 = 0x0300, TLS_V1_0 = 0x0301, TLS_V1_1 = 0x0302, TLS_V1_2 = 0x0303,
	TLS_V1_3 = 0x0304, DTLS_V1_0 = 0xfeff, DTLS_V1_2 = 0xfefd, DTLS_V1_3 = 0xfefc,
};
enum tls_content_type {
	TLS_CHANGE_CIPHER_SPEC = 20, TLS_ALERT = 21, TLS_HANDSHAKE = 22, TLS_APPLICATION_DATA = 23,
	TLS_HEARTBEAT = 24, DTLS_ACK = 26,
};
enum tls_handshake_type {
	TLS_CLIENT_HELLO = 1, TLS_SERVER_HELLO = 2, TLS_ENCRYPTED_EXTENSIONS = 8, TLS_CERTIFICATE = 11,
	TLS_FINISHED = 20, TLS_KEY_UPDATE = 24,
};
enum tls_extension {
	TLS_EXT_SERVER_NAME = 0, TLS_EXT_SUPPORTED_GROUPS = 10, TLS_EXT_EC_POINT_FORMATS = 11,
	TLS_EXT_SIGNATURE_ALGORITHMS = 13, TLS_EXT_ALPN = 16, TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_PSK_KEY_EXCHANGE_MODES = 45, TLS_EXT_KEY_SHARE = 51, TLS_EXT_ECH = 0xfe0d,
};

/* TLS (dissect/tls.c): one direction's record protection (dissect/tls_decrypt.c) */
struct tls_dec {
	uint8_t key[32], iv[12];
	uint8_t secret[48];   /* TLS 1.3: the traffic secret the keys came from (key updates) */
	uint8_t slen;
	uint64_t seq;         /* records decrypted since the keys changed */
	bool on;              /* records of this direction are decrypted */
	bool pending;         /* TLS 1.2: keys known, in use from this side's ChangeCipherSpec */
	bool tls12;
};
struct tls_state {
	uint8_t *hs[2];       /* a handshake message spanning records, per direction */
	uint32_t hs_len[2], hs_cap[2];
	uint32_t hs_skip[2];  /* bytes still to come of a message too long to collect */
	bool encrypted[2];    /* after ChangeCipherSpec (TLS <= 1.2) or ServerHello (1.3) */
	uint16_t version;     /* negotiated, 0 until the ServerHello */
	bool quic;            /* the messages come from QUIC CRYPTO frames */
	/* decryption with a key log: the handshake's randoms and suite, each direction's keys,
	 * and the protocol ALPN chose, which the decrypted application data is given to */
	uint8_t client_random[32], server_random[32];
	bool have_client_random, have_randoms;
	uint8_t client_dir;   /* the app direction that sent the ClientHello */
	uint16_t cipher;
	struct tls_dec dec[2];
	char alpn[16];
	struct app_flow *inner;
	uint64_t inner_frame; /* the packet where the inner protocol last showed a message */
	bool keys_found;      /* the key log had this handshake's secrets */
	uint64_t key_gen;     /* the key log's generation when they were last looked for */
	/* protected records that came before their secrets (a key log written while
	 * capturing lags the packets): decrypted, in order, once the secrets come */
	uint8_t *held[2];
	uint32_t held_len[2], held_cap[2];
	bool held_dropped[2]; /* more than TLS_MAX_HELD: this direction is not decrypted */
};
#define TLS_MAX_HELD (16u << 10) /* a server's first flight, certificates included */

/* HTTP/1.x (dissect/http.c): requests waiting for their response, oldest first. */
#define HTTP_MAX_PENDING 32
struct http_pending {
	uint64_t frame;
	int64_t ns;
	bool head, connect;
	char uri[64];         /* http.response_for.uri, cut */
};
struct http_state {
	struct http_pending *q; /* oldest first; grows to HTTP_MAX_PENDING */
	uint8_t count, cap;
	uint64_t last_request_frame;
	bool chunked[2];      /* inside a chunked body */
	bool chunk_trailer[2];
	bool upgrade_h2c;     /* a request asked to upgrade to h2c */
	/* a header block whose message ends after its body: decoded then, as tshark does */
	uint8_t *held[2];
	uint32_t held_len[2], held_cap[2];
	uint64_t body_len[2];
	bool until_close[2]; /* the held message's body runs to the FIN */
	bool ssdp;           /* one SSDP datagram: the layer is ssdp, its fields http.* */
};

/* HTTP/2 frame types and flags (RFC 9113 §6); their names are vn_http2_type. */
enum h2_frame_type {
	H2_DATA = 0, H2_HEADERS = 1, H2_PRIORITY = 2, H2_RST_STREAM = 3, H2_SETTINGS = 4, H2_PUSH_PROMISE = 5,
	H2_PING = 6, H2_GOAWAY = 7, H2_WINDOW_UPDATE = 8, H2_CONTINUATION = 9,
};
enum h2_flag {
	H2_FLAG_END_STREAM = 0x01, H2_FLAG_ACK = 0x01, H2_FLAG_END_HEADERS = 0x04, H2_FLAG_PADDED = 0x08,
	H2_FLAG_PRIORITY = 0x20,
};

/* HPACK: one decoder per direction (libnghttp2's inflater, the one tshark uses too). */
#define HPACK_MAX_TABLE (64u << 10) /* the largest SETTINGS_HEADER_TABLE_SIZE we honour */
struct hpack;
struct h2_state {
	struct hpack *t[2];   /* decoders for the header blocks each direction sends */
	bool preface_done;
	/* a header block being received (decoded fragment by fragment): open until END_HEADERS */
	bool hdr_open[2];
	uint8_t hdr_type[2];
	bool broken[2];       /* HPACK state lost: header fields are no longer decoded */
	/* streams whose body in a direction is a DNS message (DoH, RFC 8484), collected */
	struct h2_body { uint32_t stream; uint8_t *buf; uint32_t len, cap; bool used; } bodies[2][8];
	/* the content type of the latest streams' bodies, per direction, for DATA's Info */
	struct h2_ctype { uint32_t stream; char type[40]; } ctypes[2][4];
	uint8_t next_ctype[2];
};

/* DNS resource record types the decoder reads (IANA DNS parameters; RFC 1035, 3596, 2782,
 * 6891, 4034, 5155, 7344, 8659, 9460); their names are vn_dns_type. */
enum dns_type {
	DNS_A = 1, DNS_NS = 2, DNS_CNAME = 5, DNS_SOA = 6, DNS_PTR = 12, DNS_MX = 15, DNS_TXT = 16,
	DNS_AAAA = 28, DNS_SRV = 33, DNS_OPT = 41, DNS_DS = 43, DNS_RRSIG = 46, DNS_NSEC = 47,
	DNS_DNSKEY = 48, DNS_NSEC3 = 50, DNS_CDS = 59, DNS_CDNSKEY = 60, DNS_SVCB = 64, DNS_HTTPS = 65,
	DNS_CAA = 257,
};
/* SvcParamKeys of SVCB/HTTPS (RFC 9460 §14.3.2) the decoder reads. */
enum dns_svc_key { DNS_SVC_ALPN = 1, DNS_SVC_PORT = 3, DNS_SVC_IPV4HINT = 4, DNS_SVC_IPV6HINT = 6 };

/* DNS (dissect/dns.c): transactions (a query and its first answer) per flow, newest
 * last; the oldest go when DNS_MAX_PENDING are kept. */
#define DNS_MAX_PENDING 1024
struct dns_pending { uint32_t key; uint64_t frame, answered; int64_t ns; };
struct dns_state { struct dns_pending *q; uint32_t n, cap; };

/* QUIC (dissect/quic.c) */
#define QUIC_MAX_CRYPTO (64u << 10) /* CRYPTO bytes collected per direction for the hello */
#define QUIC_MAX_CIDS 32
#define QUIC_MAX_PLAIN 65536        /* a UDP datagram's payload: the largest Initial decrypted */
enum quic_level { QL_INITIAL, QL_HANDSHAKE, QL_APP, QL__COUNT }; /* packet number spaces */
struct quic_keys {
	bool on;
	bool chacha;          /* ChaCha20-Poly1305 and ChaCha20 header protection, else AES-GCM */
	uint8_t klen;         /* 16 or 32 */
	uint8_t key[32], iv[12], hp[32];
};
struct quic_crypto {        /* one CRYPTO stream (a level, a direction), from offset 0 */
	uint8_t *buf, *seen;  /* QUIC_MAX_CRYPTO bytes, one bit per byte that arrived */
	uint32_t end;         /* contiguous bytes from 0 */
	uint32_t used;        /* bytes of whole handshake messages decoded */
};
struct quic_state {
	bool known;            /* a valid long header was seen on this flow */
	uint32_t version;
	/* connection IDs the endpoints chose (long headers' SCIDs, NEW_CONNECTION_ID frames
	 * when decrypted): a short header's DCID is shown when it is one of them, as tshark
	 * finds the connection by it; the oldest goes when QUIC_MAX_CIDS are known */
	uint8_t cid[QUIC_MAX_CIDS][20];
	uint8_t cid_len[QUIC_MAX_CIDS];
	uint8_t ncids, next_cid;
	bool empty_cid[2];     /* this direction's sender chose a zero-length connection ID: short
				* headers to it have no DCID, and tshark finds them by address */
	bool have_keys;        /* Initial keys */
	bool tls_keys_found;   /* the key log had the handshake's secrets */
	bool tls_key_tried;    /* looked for: after the ServerHello, then again at a protected
				* packet when the key log's generation changed */
	uint64_t tls_key_gen;
	struct quic_keys keys[QL__COUNT][2]; /* per level and app direction */
	uint64_t largest_pn[QL__COUNT][2];   /* for the full packet number (RFC 9000 §A.3) */
	struct quic_crypto crypto[QL__COUNT][2];
};

struct text_state;

struct app_flow {
	uint8_t proto;        /* enum app_proto, for the TCP stream */
	uint8_t sniffs;
	bool tls_next;        /* a STARTTLS was accepted: look for TLS only, not the text
			       * protocol again */
	uint16_t cport, sport;
	struct app_dir dir[2];
	struct tls_state *tls;
	struct http_state *http;
	struct h2_state *h2;
	struct dns_state *dns;
	struct quic_state *quic;
	struct dns_state *echo;   /* ICMP echo requests (key id << 16 | seq), same table as DNS's */
	struct text_state *text;  /* FTP, POP, IMAP, SMTP, Telnet (textproto.c) */
};

/* The flow's state for a datagram packet, created on first use; NULL without a tracker. */
struct app_flow *app_flow_get(struct packet *p);
/* Whether a flow's state holds nothing (it can be freed and made again when needed). */
bool app_flow_is_empty(const struct app_flow *a);

/* A stream decoder looks at the bytes b[0..n) of direction dir, which start a message.
 * It returns the length of the message it decoded (and may set a->dir[dir].skip to pass
 * over a body after it), or 0 with *need set to the total bytes it wants before looking
 * again (n + 1 when it cannot tell), or -1 when the bytes are not its protocol. */
typedef long (*app_take_fn)(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need);

long tls_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need);
long http_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need);
long h2_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need);
/* The body that followed a header block ended (the skip asked for with `notify`). */
void http_body_done(struct app_flow *a, struct packet *p, int dir);
void http_state_free(struct http_state *h);
/* The direction ended: a message whose body ran to the end of the connection is shown. */
void http_stream_fin(struct app_flow *a, struct packet *p, int dir);
/* The oldest request waiting for a response gets none (its response was not readable). */
void http_forget_oldest(struct app_flow *a);
long dns_tcp_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need);
/* FTP, POP, IMAP, SMTP and Telnet (textproto.c): the protocol a stream's first bytes
 * show by its own greeting or commands (AP_UNKNOWN when none), its decoder, its state. */
enum app_proto text_sniff(const struct app_flow *a, const uint8_t *b, size_t n);
long text_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need);
void text_state_free(struct text_state *t);
/* A cleartext login a decoder saw: credentials.protocol/.username/.method (the secret is
 * never recorded). */
void app_credentials(struct packet *p, const char *proto, const uint8_t *user, size_t ulen, const char *method);
/* Base64 (RFC 4648 §4) into out (at most cap bytes); the decoded length, or -1. */
long app_base64(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

void tls_state_free(struct tls_state *t);
void h2_state_free(struct h2_state *h);
void quic_state_free(struct quic_state *q);

/* TLS decryption (dissect/tls_decrypt.c). After the ServerHello: the handshake keys
 * (TLS 1.3) or the pending keys (TLS 1.2) for the handshake's client random, when the key
 * log has them. */
struct keylog;
void tls_keys_server_hello(struct tls_state *t, const struct keylog *k);
void tls_keys_change_cipher_spec(struct tls_state *t, int dir); /* TLS 1.2: keys in use */
/* A protected record came and the key log had no secrets at the ServerHello: look again
 * when secrets were added since (a key log followed during a live capture is written
 * after the packets it decrypts go by). True when they are found now. */
bool tls_keys_late(struct tls_state *t, const struct keylog *k);
void tls_keys_finished(struct tls_state *t, const struct keylog *k, int dir); /* 1.3: application keys */
void tls_keys_update(struct tls_state *t, int dir);             /* TLS 1.3 KeyUpdate */
/* Decrypts one whole record (header included) of direction dir into out (n bytes room):
 * the plaintext length and its content type, or -1 (no keys, or it does not open). */
long tls_decrypt_record(struct tls_state *t, int dir, const uint8_t *rec, size_t n, uint8_t *out, uint8_t *type);
/* HKDF-Expand-Label with an empty context (RFC 8446 §7.1), and an AEAD open with a 12-byte
 * nonce and the 16-byte tag after the ciphertext; TLS and QUIC share them. */
#include <openssl/evp.h>
void tls13_expand_label(const EVP_MD *md, const uint8_t *secret, size_t slen, const char *label, uint8_t *out,
			size_t olen);
bool tls_aead_open(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t nonce[12], const uint8_t *aad,
		   size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out);

/* Decodes one complete TLS handshake message (type, length, body) that arrived in
 * direction dir; QUIC's CRYPTO frames use it for their hellos. */
void tls_handshake_message(struct tls_state *t, struct packet *p, int dir, const uint8_t *m, size_t n);

/* Decodes one DNS message (the UDP payload or a TCP message without its length). scope
 * separates transactions that share a flow and an ID: the HTTP/2 stream of a DoH message
 * (tshark matches those per stream), else 0. */
/* One DNS message; `proto` is the layer it is shown as: F_DNS, or F_MDNS / F_LLMNR for
 * those ports, as Wireshark names them (`-Y dns` leaves mDNS out). */
void dns_message(struct packet *p, struct cur *c, struct sbuf *info, uint32_t scope, enum field_id proto);

/* HPACK (RFC 7541) */
struct hpack *hpack_new(void);
void hpack_free(struct hpack *h);
/* The peer's SETTINGS_HEADER_TABLE_SIZE (capped at HPACK_MAX_TABLE); false if refused. */
bool hpack_set_max(struct hpack *h, uint32_t size);
/* Decodes part of a header block (final: its last part), calling emit for each header
 * completed; false when the block is broken (the table is then out of step with the
 * sender's and stays unusable). */
typedef void (*hpack_emit_fn)(void *ctx, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen);
bool hpack_decode(struct hpack *h, const uint8_t *b, size_t n, bool final, hpack_emit_fn emit, void *ctx);

/* Starts an application protocol layer; several messages of one protocol in a row are
 * listed once in frame.protocols, as tshark lists them. */
int app_proto(struct packet *p, enum field_id id, const struct cur *c);

/* Protocol column and Info for an application message: the first message of a packet
 * starts a fresh Info, later ones are joined with ", ". NULL when no Info is built. */
struct sbuf *app_info(struct packet *p, const char *proto);

/* A growable buffer with a hard cap: appends n bytes, false when cap would be exceeded. */
bool app_buf_append(uint8_t **buf, uint32_t *len, uint32_t *cap, const uint8_t *b, size_t n, uint32_t max);

/* Whether a string of n bytes looks like a DNS name / printable text (for heuristics). */
static inline bool app_is_token_char(uint8_t ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '(' && ch != ')' && ch != '<' && ch != '>' && ch != '@' &&
	       ch != ',' && ch != ';' && ch != ':' && ch != '\\' && ch != '"' && ch != '/' && ch != '[' &&
	       ch != ']' && ch != '?' && ch != '=' && ch != '{' && ch != '}';
}

#endif
