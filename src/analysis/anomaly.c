/* analysis/anomaly.c — the anomaly rules (see anomaly.h). Each rule reads the fields the
 * decoders recorded; the rules that need history (scans, ARP, one report per HTTP stream)
 * keep bounded tables here. */
#include "analysis/anomaly.h"
#include "dissect/names.h"
#include "util/hash.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_CREDENTIALS, K_HTTP_PORT, K_TLS_DEPRECATED, K_CERT_EXPIRED, K_CERT_NOT_YET, K_SELF_SIGNED, K_DNS_ERROR,
	K_DNS_TUNNEL, K_PORT_SCAN, K_ADDR_SCAN, K_ARP_SPOOF, K__COUNT
};

static const struct { const char *name; uint8_t sev; } kinds[K__COUNT] = {
	[K_CREDENTIALS] = { "cleartext-credentials", SEV_WARNING },
	[K_HTTP_PORT] = { "http-unusual-port", SEV_NOTICE },
	[K_TLS_DEPRECATED] = { "tls-deprecated", SEV_WARNING },
	[K_CERT_EXPIRED] = { "tls-cert-expired", SEV_WARNING },
	[K_CERT_NOT_YET] = { "tls-cert-not-yet-valid", SEV_WARNING },
	[K_SELF_SIGNED] = { "tls-self-signed", SEV_NOTICE },
	[K_DNS_ERROR] = { "dns-error", SEV_INFO },
	[K_DNS_TUNNEL] = { "dns-tunnel", SEV_NOTICE },
	[K_PORT_SCAN] = { "port-scan", SEV_WARNING },
	[K_ADDR_SCAN] = { "address-scan", SEV_WARNING },
	[K_ARP_SPOOF] = { "arp-spoof", SEV_WARNING },
};

static const char *const sev_names[] = { "info", "notice", "warning" };

/* The ports HTTP is usually served on: IANA's http (80), http-alt (8080, 8008, 591),
 * and the common development and proxy ports. */
static const uint16_t http_ports[] = { 80, 591, 3128, 8000, 8008, 8080, 8081, 8888 };

struct kind_stat {
	uint64_t count, first_frame;
	char example[200];
};

/* ---- scans ---- */

struct probe {
	uint8_t dst[16];
	uint16_t port;
	bool done;       /* the handshake completed: not a probe after all */
	int64_t t;
};

struct source {
	uint8_t addr[16];
	uint8_t family;  /* 0: free slot */
	uint32_t home;   /* its slot by hash, for removal from the open-addressed table */
	int64_t last;
	struct probe *probes; /* unanswered SYNs, at most SCAN_MAX_PROBES (the oldest goes); NULL
			       * while there is at most one, kept in `one` (no allocation for the
			       * SYN of an ordinary connection) */
	struct probe one;
	uint16_t nprobes, cap;
	struct flagged *flagged; /* what was reported of a scanner; NULL for everyone else (the
				  * entry of an ordinary client stays small: it is made and removed
				  * once per connection) */
};

struct flagged {
	uint8_t dst[4][16];  /* targets already reported (port scans) */
	uint16_t port[4];    /* ports already reported (address scans) */
	uint8_t ndst, nport; /* at most 4 each; then the oldest is replaced */
	uint8_t next_dst, next_port;
};

/* ---- ARP ---- */

struct arp_entry {
	uint32_t ip;      /* 0: free */
	uint8_t mac[6];
};

/* A finding of the first pass, waiting for its packet to be decoded again. */
struct early {
	uint64_t frame;
	uint8_t kind;
	char reason[200];
};

struct anomaly_engine {
	struct hash_seed seed;
	bool prepass;             /* scans and ARP ran in a first pass: replay them from `early` */
	struct early *early;      /* in frame order */
	size_t nearly, cap_early, next_early;
	struct packet *recording; /* NULL: report into the packet; else into `early` */
	struct kind_stat stats[K__COUNT];
	uint64_t total;
	struct source *sources;   /* SCAN_MAX_SOURCES, open addressing by address */
	uint32_t nsources;
	/* How many sources in the table fall in each bucket of a cheap hash of the address: a
	 * pure ACK from a source whose bucket is empty cannot complete a probe, and skips the
	 * keyed hash (most ACKs of a transfer). A filter only: collisions fall through to the
	 * table. */
	uint16_t pending[SCAN_FILTER_BUCKETS];
	uint64_t filter_seed;
	struct arp_entry *arp;    /* ARP_MAX_ENTRIES * 2 slots, open addressing */
	uint32_t narp;
	int64_t *http_flagged;    /* tcp.stream numbers already reported, open addressing */
	uint32_t nhttp;
};

#define HTTP_FLAGGED_SLOTS 65536u

struct anomaly_engine *anomaly_new(void)
{
	struct anomaly_engine *e = xcalloc(1, sizeof *e);
	e->seed = hash_seed_random();
	e->filter_seed = e->seed.k0 | 1;
	return e;
}

void anomaly_free(struct anomaly_engine *e)
{
	if (!e) return;
	if (e->sources)
		for (uint32_t i = 0; i < SCAN_MAX_SOURCES * 2; i++) {
			free(e->sources[i].probes);
			free(e->sources[i].flagged);
		}
	free(e->sources);
	free(e->arp);
	free(e->http_flagged);
	free(e->early);
	free(e);
}

uint64_t anomaly_total(const struct anomaly_engine *e) { return e->total; }

static const int read_fields[] = {
	F_CREDENTIALS_PROTOCOL, F_CREDENTIALS_USERNAME, F_CREDENTIALS_METHOD, F_HTTP_REQUEST, F_TCP_DSTPORT,
	F_TCP_STREAM, F_TLS_HANDSHAKE_TYPE, F_TLS_HANDSHAKE_VERSION,
	F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_VERSION, F_X509AF_SUBJECT_CN, F_X509AF_NOTBEFORE, F_X509AF_NOTAFTER,
	F_X509AF_SELF_SIGNED, F_DNS_FLAGS_RESPONSE, F_DNS_FLAGS_RCODE, F_DNS_QRY_NAME, F_ARP_SRC_PROTO_IPV4,
	F_ARP_SRC_HW_MAC, F_ARP_ISGRATUITOUS, F_ANOMALY, F_ANOMALY_KIND, F_ANOMALY_SEVERITY, F_ANOMALY_REASON,
};

void anomaly_mask_add(struct field_mask *m)
{
	for (size_t i = 0; i < sizeof read_fields / sizeof read_fields[0]; i++) field_mask_add(m, read_fields[i]);
}

/* Records one finding in the packet and in the table. */
static void report(struct anomaly_engine *e, struct packet *p, enum kind k, const char *reason);

/* A first pass's finding: kept for when the packet is decoded again (anomaly_packet). */
static void keep_early(struct anomaly_engine *e, const struct packet *p, enum kind k, const char *reason)
{
	if (e->nearly == e->cap_early) {
		e->cap_early = e->cap_early ? e->cap_early * 2 : 16;
		e->early = xrealloc(e->early, e->cap_early * sizeof *e->early);
	}
	struct early *x = &e->early[e->nearly++];
	x->frame = p->meta.number;
	x->kind = (uint8_t)k;
	snprintf(x->reason, sizeof x->reason, "%s", reason);
}

static void report(struct anomaly_engine *e, struct packet *p, enum kind k, const char *reason)
{
	if (e->recording) {
		keep_early(e, p, k, reason);
		return;
	}
	struct kind_stat *st = &e->stats[k];
	if (!st->count++) {
		st->first_frame = p->meta.number;
		snprintf(st->example, sizeof st->example, "%s", reason);
	}
	e->total++;
	/* a layer of the packet's own, after everything decoded */
	p->cur_where = 0;
	p->cur_parent = PKT_NO_PARENT;
	p->buf_bias = 0;
	struct cur none = cur_make(p->data, 0);
	int slot = pk_proto_again(p, F_ANOMALY, &none);
	const char *kind = kinds[k].name, *sev = sev_names[kinds[k].sev];
	pk_string(p, F_ANOMALY_KIND, kind, strlen(kind), 0, 0);
	pk_string(p, F_ANOMALY_SEVERITY, sev, strlen(sev), 0, 0);
	pk_string(p, F_ANOMALY_REASON, reason, strlen(reason), 0, 0);
	pk_proto_end(p, slot, &none);
	if (!p->no_columns) {
		sb_puts(&p->info, " [");
		sb_puts(&p->info, kind);
		sb_putc(&p->info, ']');
	}
}

/* ---- helpers ---- */

static void addr_text(char *out, size_t n, uint8_t family, const uint8_t *a)
{
	char buf[64];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	if (family == 6) sb_ipv6(&sb, a);
	else sb_ipv4(&sb, a);
	snprintf(out, n, "%s", sb_cstr(&sb));
}

static void mac_text(char *out, const uint8_t *m)
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* A field's string, cut and made printable for a reason. */
static void str_of(char *out, size_t n, const struct fval *f)
{
	size_t k = 0;
	for (uint32_t i = 0; f && i < f->v.b.n && k + 1 < n; i++) {
		uint8_t c = f->v.b.p[i];
		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
	}
	out[k] = '\0';
}

/* The fields the rules read, found in one pass: the first of each (not in a quote). */
enum seen_slot {
	S_HTTP_REQUEST, S_DSTPORT, S_STREAM, S_CN, S_NOTBEFORE, S_NOTAFTER, S_SELF_SIGNED,
	S_DNS_RESPONSE, S_DNS_NAME, S_RCODE, S_ARP_IP, S_ARP_MAC, S_ARP_GRATUITOUS, S_CREDENTIALS, S_TLS_TYPE, S__COUNT
};
static const struct { enum seen_slot slot; int id; } seen_ids[] = {
	{ S_HTTP_REQUEST, F_HTTP_REQUEST }, { S_DSTPORT, F_TCP_DSTPORT }, { S_STREAM, F_TCP_STREAM },
	{ S_CN, F_X509AF_SUBJECT_CN },
	{ S_NOTBEFORE, F_X509AF_NOTBEFORE }, { S_NOTAFTER, F_X509AF_NOTAFTER }, { S_SELF_SIGNED, F_X509AF_SELF_SIGNED },
	{ S_DNS_RESPONSE, F_DNS_FLAGS_RESPONSE }, { S_DNS_NAME, F_DNS_QRY_NAME }, { S_RCODE, F_DNS_FLAGS_RCODE },
	{ S_ARP_IP, F_ARP_SRC_PROTO_IPV4 }, { S_ARP_MAC, F_ARP_SRC_HW_MAC }, { S_ARP_GRATUITOUS, F_ARP_ISGRATUITOUS },
	{ S_CREDENTIALS, F_CREDENTIALS_USERNAME }, { S_TLS_TYPE, F_TLS_HANDSHAKE_TYPE },
};
struct seen {
	const struct fval *f[S__COUNT];
};
static int8_t slot_of[F__COUNT]; /* seen slot + 1, 0 for fields the rules do not read */

static void look(const struct packet *p, struct seen *s)
{
	if (!slot_of[F_HTTP_REQUEST]) /* filled once: the registry is static */
		for (size_t i = 0; i < sizeof seen_ids / sizeof seen_ids[0]; i++)
			slot_of[seen_ids[i].id] = (int8_t)(seen_ids[i].slot + 1);
	memset(s, 0, sizeof *s);
	const struct fval *f = p->fields, *end = p->fields + p->nfields;
	for (; f < end; f++) {
		int k = slot_of[f->id];
		if (__builtin_expect(k != 0, 0) && !f->nest && !s->f[k - 1]) s->f[k - 1] = f;
	}
}

/* ---- rules ---- */

static void credentials(struct anomaly_engine *e, struct packet *p)
{
	if (p->decrypted) return; /* a login inside TLS, seen with its keys, was not in the clear */
	const struct fval *proto = NULL, *method = NULL;
	uint16_t n = p->nfields;
	for (uint16_t i = 0; i < n; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		if (f->id == F_CREDENTIALS_PROTOCOL) proto = f;
		else if (f->id == F_CREDENTIALS_METHOD) method = f;
		else if (f->id == F_CREDENTIALS_USERNAME) {
			/* the method follows the user: look ahead for it */
			for (uint16_t j = i + 1; j < n && j < i + 3; j++)
				if (p->fields[j].id == F_CREDENTIALS_METHOD) method = &p->fields[j];
			char pr[16], user[80], how[40], reason[200];
			str_of(pr, sizeof pr, proto);
			str_of(user, sizeof user, f);
			str_of(how, sizeof how, method);
			for (char *c = pr; *c; c++)
				if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
			snprintf(reason, sizeof reason, "%s login in the clear (%s) for user '%s'", pr, how, user);
			report(e, p, K_CREDENTIALS, reason);
		}
	}
}

static bool stream_flagged_once(struct anomaly_engine *e, int64_t stream)
{
	if (!e->http_flagged) {
		e->http_flagged = xmalloc(HTTP_FLAGGED_SLOTS * sizeof *e->http_flagged);
		memset(e->http_flagged, 0xff, HTTP_FLAGGED_SLOTS * sizeof *e->http_flagged);
	}
	if (e->nhttp >= HTTP_FLAGGED_SLOTS / 2) { /* full: forget (a stream may be reported again) */
		memset(e->http_flagged, 0xff, HTTP_FLAGGED_SLOTS * sizeof *e->http_flagged);
		e->nhttp = 0;
	}
	for (uint32_t i = (uint32_t)((uint64_t)stream * 0x9e3779b97f4a7c15u >> 48) & (HTTP_FLAGGED_SLOTS - 1);;
	     i = (i + 1) & (HTTP_FLAGGED_SLOTS - 1)) {
		if (e->http_flagged[i] == stream) return false;
		if (e->http_flagged[i] < 0) {
			e->http_flagged[i] = stream;
			e->nhttp++;
			return true;
		}
	}
}

static void http_port(struct anomaly_engine *e, struct packet *p, const struct seen *sn)
{
	const struct fval *req = sn->f[S_HTTP_REQUEST], *dport = sn->f[S_DSTPORT], *st = sn->f[S_STREAM];
	if (!req || !req->v.u || !dport || p->decrypted) return;
	for (size_t i = 0; i < sizeof http_ports / sizeof http_ports[0]; i++)
		if (dport->v.u == http_ports[i]) return;
	if (st && !stream_flagged_once(e, (int64_t)st->v.u)) return;
	char reason[160];
	snprintf(reason, sizeof reason, "cleartext HTTP request to port %u, not an HTTP port", (unsigned)dport->v.u);
	report(e, p, K_HTTP_PORT, reason);
}

static bool deprecated(uint32_t v) { return v == 0x0002 || v == 0x0300 || v == 0x0301 || v == 0x0302 || v == 0xfeff; }
static bool grease(uint32_t v) { return (v & 0x0f0f) == 0x0a0a; }
/* Order of versions (DTLS counts down: 0xfeff is 1.0, 0xfefd 1.2). */
static int rank(uint32_t v)
{
	switch (v) {
	case 0x0002: return 1;
	case 0x0300: return 2;
	case 0x0301: case 0xfeff: return 3;
	case 0x0302: return 4;
	case 0x0303: case 0xfefd: return 5;
	case 0x0304: case 0xfefc: return 6;
	default: return 0;
	}
}

static void tls_hello_done(struct anomaly_engine *e, struct packet *p, int type, uint32_t legacy, uint32_t best)
{
	uint32_t v = best ? best : legacy;
	if (!v || !deprecated(v)) return;
	char reason[160];
	const char *name = vn_name(vn_tls_version, v, "?");
	if (type == 2) snprintf(reason, sizeof reason, "server negotiated %s", name);
	else snprintf(reason, sizeof reason, "client offers at most %s", name);
	report(e, p, K_TLS_DEPRECATED, reason);
}

static void tls_versions(struct anomaly_engine *e, struct packet *p)
{
	int type = -1;
	uint32_t legacy = 0, best = 0;
	uint16_t n = p->nfields; /* reports add fields: stop at what decoding recorded */
	for (uint16_t i = 0; i < n; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		if (f->id == F_TLS_HANDSHAKE_TYPE) {
			if (type == 1 || type == 2) tls_hello_done(e, p, type, legacy, best);
			type = (int)f->v.u;
			legacy = best = 0;
		} else if (f->id == F_TLS_HANDSHAKE_VERSION && (type == 1 || type == 2)) {
			legacy = (uint32_t)f->v.u;
		} else if (f->id == F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_VERSION && (type == 1 || type == 2)) {
			uint32_t v = (uint32_t)f->v.u;
			if (!grease(v) && rank(v) > rank(best)) best = v;
		}
	}
	if (type == 1 || type == 2) tls_hello_done(e, p, type, legacy, best);
}

static void day_text(char *out, size_t n, int64_t sec)
{
	char buf[40];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	sb_rfc3339(&sb, sec, 0, 6);
	snprintf(out, n, "%.10s", sb_cstr(&sb));
}

/* The leaf certificate: the first one the packet carries. */
static void certificate(struct anomaly_engine *e, struct packet *p, const struct seen *sn)
{
	const struct fval *cn = sn->f[S_CN], *nb = sn->f[S_NOTBEFORE], *na = sn->f[S_NOTAFTER], *self = sn->f[S_SELF_SIGNED];
	if (!nb && !na && !self) return;
	char name[100], day[16], reason[200];
	str_of(name, sizeof name, cn);
	if (!cn) snprintf(name, sizeof name, "(no common name)");
	int64_t now = p->meta.ts_sec;
	if (!p->meta.no_time && na && na->v.t.sec < now) {
		day_text(day, sizeof day, na->v.t.sec);
		snprintf(reason, sizeof reason, "certificate for %s expired on %s", name, day);
		report(e, p, K_CERT_EXPIRED, reason);
	} else if (!p->meta.no_time && nb && nb->v.t.sec > now) {
		day_text(day, sizeof day, nb->v.t.sec);
		snprintf(reason, sizeof reason, "certificate for %s is not valid before %s", name, day);
		report(e, p, K_CERT_NOT_YET, reason);
	}
	if (self && self->v.u) {
		snprintf(reason, sizeof reason, "self-signed certificate for %s", name);
		report(e, p, K_SELF_SIGNED, reason);
	}
}

/* Shannon entropy of a label, bits per character. */
static double entropy(const uint8_t *s, size_t n)
{
	unsigned count[256] = { 0 };
	for (size_t i = 0; i < n; i++) count[s[i]]++;
	double h = 0;
	for (int c = 0; c < 256; c++)
		if (count[c]) {
			double q = (double)count[c] / (double)n;
			h -= q * log2(q);
		}
	return h;
}

/* Why a query name looks like data rather than a name, or NULL. */
static const char *tunnel_reason(const uint8_t *s, size_t n, char *buf, size_t bn)
{
	if (n >= DNS_TUNNEL_NAME_LEN) {
		snprintf(buf, bn, "query name of %zu characters", n);
		return buf;
	}
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') continue;
		size_t len = i - start;
		if (len >= DNS_TUNNEL_LABEL_LEN) {
			snprintf(buf, bn, "label of %zu characters", len);
			return buf;
		}
		if (len >= DNS_TUNNEL_ENTROPY_LEN) {
			double h = entropy(s + start, len);
			if (h >= DNS_TUNNEL_ENTROPY) {
				snprintf(buf, bn, "label of %zu characters with %.1f bits of entropy per character", len, h);
				return buf;
			}
		}
		start = i + 1;
	}
	return NULL;
}

static void dns(struct anomaly_engine *e, struct packet *p, const struct seen *sn)
{
	const struct fval *resp = sn->f[S_DNS_RESPONSE];
	if (!resp) return;
	const struct fval *name = sn->f[S_DNS_NAME];
	char qn[140], reason[220], why[100];
	str_of(qn, sizeof qn, name);
	if (resp->v.u) {
		const struct fval *rc = sn->f[S_RCODE];
		if (rc && (rc->v.u == 2 || rc->v.u == 3)) {
			snprintf(reason, sizeof reason, "%s for %s", rc->v.u == 3 ? "NXDOMAIN" : "SERVFAIL", name ? qn : "(no question)");
			report(e, p, K_DNS_ERROR, reason);
		}
		return;
	}
	if (name && tunnel_reason(name->v.b.p, name->v.b.n, why, sizeof why)) {
		snprintf(reason, sizeof reason, "query %.60s%s looks like tunnelled data: %s", qn, strlen(qn) > 60 ? "…" : "", why);
		report(e, p, K_DNS_TUNNEL, reason);
	}
}

/* ---- scans ---- */

/* A connection-opening SYN. */
static bool scan_syn(const struct packet *p) { return (p->tcp_hdr.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN; }
/* A pure ACK from the SYN's sender: the handshake completed (a probe gets a RST, or the
 * scanner answers a SYN-ACK with RST). Without sequence numbers, so that a first pass
 * without conversations sees the same. */
static bool scan_completes(const struct packet *p)
{
	return (p->tcp_hdr.flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_ACK && p->tcp_hdr.len == 0;
}

/* 16-byte addresses compared as two words (inline: this runs for every SYN and handshake) */
static inline bool addr16_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static uint32_t filter_bucket(const struct anomaly_engine *e, uint8_t family, const uint8_t *a)
{
	uint64_t x = 0, y = 0;
	memcpy(&x, a, family == 6 ? 8 : 4);
	if (family == 6) memcpy(&y, a + 8, 8);
	x = (x ^ (y * 0x9e3779b97f4a7c15u)) * e->filter_seed;
	return (uint32_t)(x >> 52) & (SCAN_FILTER_BUCKETS - 1);
}

static struct source *source_of(struct anomaly_engine *e, uint8_t family, const uint8_t *a, int64_t now, bool create)
{
	const uint32_t slots = SCAN_MAX_SOURCES * 2;
	if (!e->sources) {
		if (!create) return NULL;
		e->sources = xcalloc(slots, sizeof *e->sources);
	}
	uint8_t key[17] = { family };
	size_t alen = family == 6 ? 16 : 4;
	memcpy(key + 1, a, alen);
	uint32_t h = (uint32_t)siphash13(&e->seed, key, 1 + alen) & (slots - 1);
	for (uint32_t i = h;; i = (i + 1) & (slots - 1)) {
		struct source *s = &e->sources[i];
		if (s->family == family && (family == 6 ? addr16_eq(s->addr, a) : !memcmp(s->addr, a, 4))) {
			s->last = now;
			return s;
		}
		if (!s->family) {
			if (!create) return NULL;
			if (e->nsources >= SCAN_MAX_SOURCES) { /* full: start over (the oldest state goes) */
				for (uint32_t j = 0; j < slots; j++) {
					free(e->sources[j].probes);
					free(e->sources[j].flagged);
				}
				memset(e->sources, 0, slots * sizeof *e->sources);
				memset(e->pending, 0, sizeof e->pending);
				e->nsources = 0;
				return source_of(e, family, a, now, create);
			}
			memset(s, 0, sizeof *s);
			e->pending[filter_bucket(e, family, a)]++;
			s->family = family;
			s->home = h;
			memcpy(s->addr, a, family == 6 ? 16 : 4);
			s->last = now;
			e->nsources++;
			return s;
		}
	}
}

/* Removes a source with nothing left to remember (its SYNs all became connections):
 * ordinary clients then cost no table space. Linear probing's backward shift keeps every
 * other entry reachable from its home slot. */
static void source_remove(struct anomaly_engine *e, struct source *s)
{
	const uint32_t mask = SCAN_MAX_SOURCES * 2 - 1;
	e->pending[filter_bucket(e, s->family, s->addr)]--;
	free(s->probes);
	free(s->flagged);
	uint32_t i = (uint32_t)(s - e->sources);
	for (uint32_t j = (i + 1) & mask; e->sources[j].family; j = (j + 1) & mask) {
		uint32_t k = e->sources[j].home;
		/* j's entry may move to i when its home is not in the cyclic range (i, j] */
		bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
		if (movable) {
			e->sources[i] = e->sources[j];
			i = j;
		}
	}
	memset(&e->sources[i], 0, sizeof e->sources[i]);
	e->nsources--;
}

static struct probe *probe_list(struct source *s) { return s->probes ? s->probes : &s->one; }

static struct probe *find_probe(struct source *s, const uint8_t *dst, uint16_t port)
{
	struct probe *l = probe_list(s);
	for (uint16_t i = 0; i < s->nprobes; i++)
		if (l[i].port == port && addr16_eq(l[i].dst, dst)) return &l[i];
	return NULL;
}

static void scans(struct anomaly_engine *e, struct packet *p)
{
	if (p->meta.no_time) return;
	if (p->net_src.type != AT_IPV4 && p->net_src.type != AT_IPV6) return;
	uint8_t family = p->net_src.type == AT_IPV6 ? 6 : 4;
	uint8_t dst[16] = { 0 };
	memcpy(dst, p->net_dst.a, family == 6 ? 16 : 4);
	uint16_t port = p->tcp_hdr.dport;
	int64_t now = pk_time_ns(&p->meta);
	bool syn = scan_syn(p);
	if (!syn && (!e->nsources || !e->pending[filter_bucket(e, family, p->net_src.a)])) return;
	struct source *s = source_of(e, family, p->net_src.a, now, syn);
	if (!s) return;
	struct probe *pr = find_probe(s, dst, port);
	if (!syn) { /* the handshake completed: a connection, not a probe */
		if (pr) *pr = probe_list(s)[--s->nprobes];
		if (!s->nprobes && !s->flagged) source_remove(e, s);
		return;
	}
	if (!pr) {
		if (!s->cap) s->cap = 1; /* `one` */
		if (s->nprobes == s->cap && s->cap < SCAN_MAX_PROBES) { /* a second SYN unanswered: a list */
			bool was_one = !s->probes;
			s->cap = s->cap == 1 ? 8 : s->cap * 2;
			s->probes = xrealloc(s->probes, s->cap * sizeof *s->probes);
			if (was_one && s->nprobes) s->probes[0] = s->one;
		}
		struct probe *l = probe_list(s);
		if (s->nprobes == SCAN_MAX_PROBES) { /* full: the oldest goes */
			uint16_t old = 0;
			for (uint16_t i = 1; i < s->nprobes; i++)
				if (l[i].t < l[old].t) old = i;
			l[old] = l[--s->nprobes];
		}
		pr = &l[s->nprobes++];
		memcpy(pr->dst, dst, 16);
		pr->port = port;
	}
	pr->done = false;
	pr->t = now;
	/* distinct unanswered ports of this host, and hosts on this port, within the window */
	unsigned ports = 0, hosts = 0;
	int64_t since = now;
	const struct probe *list = probe_list(s);
	for (uint16_t i = 0; i < s->nprobes; i++) {
		const struct probe *q = &list[i];
		if (q->done || now - q->t > SCAN_WINDOW_NS || q->t > now) continue;
		bool same_host = !memcmp(q->dst, dst, 16), same_port = q->port == port;
		if (same_host) ports++;
		if (same_port) hosts++;
		if ((same_host || same_port) && q->t < since) since = q->t;
	}
	if (ports < SCAN_PORTS && hosts < SCAN_HOSTS) return;
	char a[64], b[64], reason[320];
	addr_text(a, sizeof a, family, p->net_src.a);
	addr_text(b, sizeof b, family, dst);
	double secs = (double)(now - since) / 1e9;
	if (!s->flagged) s->flagged = xcalloc(1, sizeof *s->flagged);
	struct flagged *fl = s->flagged;
	if (ports >= SCAN_PORTS) {
		bool seen = false;
		for (uint8_t i = 0; i < fl->ndst; i++) seen |= !memcmp(fl->dst[i], dst, 16);
		if (!seen) {
			memcpy(fl->dst[fl->ndst < 4 ? fl->ndst++ : fl->next_dst++ % 4], dst, 16);
			snprintf(reason, sizeof reason, "%s sent SYNs to %u ports of %s in %.1f s without completing a handshake",
				 a, ports, b, secs);
			report(e, p, K_PORT_SCAN, reason);
		}
	}
	if (hosts >= SCAN_HOSTS) {
		bool seen = false;
		for (uint8_t i = 0; i < fl->nport; i++) seen |= fl->port[i] == port;
		if (!seen) {
			fl->port[fl->nport < 4 ? fl->nport++ : fl->next_port++ % 4] = port;
			snprintf(reason, sizeof reason, "%s sent SYNs to port %u of %u hosts in %.1f s without completing a handshake",
				 a, port, hosts, secs);
			report(e, p, K_ADDR_SCAN, reason);
		}
	}
}

/* ---- ARP ---- */

static void arp(struct anomaly_engine *e, struct packet *p, const struct seen *sn)
{
	const struct fval *ip = sn->f[S_ARP_IP], *mac = sn->f[S_ARP_MAC];
	if (!ip || !mac) return;
	uint32_t a = (uint32_t)ip->v.addr[0] << 24 | (uint32_t)ip->v.addr[1] << 16 | (uint32_t)ip->v.addr[2] << 8 | ip->v.addr[3];
	if (!a) return; /* an ARP probe (RFC 5227) claims no address */
	const uint32_t slots = ARP_MAX_ENTRIES * 2;
	if (!e->arp) e->arp = xcalloc(slots, sizeof *e->arp);
	if (e->narp >= ARP_MAX_ENTRIES) { /* full: start over */
		memset(e->arp, 0, slots * sizeof *e->arp);
		e->narp = 0;
	}
	uint32_t h = (uint32_t)siphash13(&e->seed, &a, sizeof a) & (slots - 1);
	for (uint32_t i = h;; i = (i + 1) & (slots - 1)) {
		struct arp_entry *en = &e->arp[i];
		if (en->ip == a) {
			if (memcmp(en->mac, mac->v.addr, 6)) {
				const struct fval *g = sn->f[S_ARP_GRATUITOUS];
				char ipt[20], was[20], now[20], reason[200];
				addr_text(ipt, sizeof ipt, 4, ip->v.addr);
				mac_text(was, en->mac);
				mac_text(now, mac->v.addr);
				snprintf(reason, sizeof reason, "%s%s moved from %s to %s", g && g->v.u ? "gratuitous ARP: " : "", ipt,
					 was, now);
				report(e, p, K_ARP_SPOOF, reason);
				memcpy(en->mac, mac->v.addr, 6);
			}
			return;
		}
		if (!en->ip) {
			en->ip = a;
			memcpy(en->mac, mac->v.addr, 6);
			e->narp++;
			return;
		}
	}
}

/* Whether the packet has a layer a field-reading rule looks at: ARP, or anything the
 * application decoders made (the registry keeps them after F_DNS). */
static bool has_rule_layer(const struct packet *p)
{
	for (uint8_t i = 0; i < p->nprotos; i++)
		if (p->protos[i] == F_ARP || p->protos[i] >= F_DNS) return true;
	return false;
}

void anomaly_packet(struct anomaly_engine *e, struct packet *p)
{
	if (e->prepass) { /* scans and ARP: what the first pass found for this frame */
		while (e->next_early < e->nearly && e->early[e->next_early].frame < p->meta.number) e->next_early++;
		for (size_t i = e->next_early; i < e->nearly && e->early[i].frame == p->meta.number; i++)
			report(e, p, (enum kind)e->early[i].kind, e->early[i].reason);
	} else if (p->tcp_hdr.seen && (scan_syn(p) || scan_completes(p))) {
		scans(e, p);
	}
	if (!has_rule_layer(p)) return;
	struct seen sn;
	look(p, &sn); /* the rules add fields: they read what decoding recorded */
	if (sn.f[S_CREDENTIALS]) credentials(e, p);
	if (sn.f[S_HTTP_REQUEST]) http_port(e, p, &sn);
	if (sn.f[S_TLS_TYPE]) tls_versions(e, p);
	if (sn.f[S_NOTBEFORE] || sn.f[S_NOTAFTER] || sn.f[S_SELF_SIGNED]) certificate(e, p, &sn);
	if (sn.f[S_DNS_RESPONSE]) dns(e, p, &sn);
	if (sn.f[S_ARP_IP] && !e->prepass) arp(e, p, &sn);
}

void anomaly_prepass_fields(struct field_mask *m)
{
	field_mask_add(m, F_ARP_SRC_PROTO_IPV4);
	field_mask_add(m, F_ARP_SRC_HW_MAC);
	field_mask_add(m, F_ARP_ISGRATUITOUS);
}

void anomaly_prepass(void *ctx, struct packet *p)
{
	struct anomaly_engine *e = ctx;
	e->prepass = true;
	e->recording = p;
	if (p->tcp_hdr.seen) { /* a TCP segment is no ARP packet: the scans are all it feeds */
		if (scan_syn(p) || scan_completes(p)) scans(e, p);
	} else if (has_rule_layer(p)) {
		struct seen sn;
		memset(&sn, 0, sizeof sn);
		look(p, &sn);
		if (sn.f[S_ARP_IP]) arp(e, p, &sn);
	}
	e->recording = NULL;
}

void anomaly_post(void *ctx, struct packet *p) { anomaly_packet(ctx, p); }

void anomaly_print_stats(const struct anomaly_engine *e, struct sbuf *sb, bool json)
{
	if (json) {
		sb_printf(sb, "{\"stats\":\"anomalies\",\"total\":%llu,\"rows\":[", (unsigned long long)e->total);
		bool any = false;
		for (int k = 0; k < K__COUNT; k++) {
			const struct kind_stat *st = &e->stats[k];
			if (!st->count) continue;
			if (any) sb_putc(sb, ',');
			any = true;
			sb_printf(sb, "{\"kind\":\"%s\",\"severity\":\"%s\",\"count\":%llu,\"first_frame\":%llu,\"example\":",
				  kinds[k].name, sev_names[kinds[k].sev], (unsigned long long)st->count,
				  (unsigned long long)st->first_frame);
			sb_json_str(sb, st->example, strlen(st->example));
			sb_putc(sb, '}');
		}
		sb_puts(sb, "]}\n");
		return;
	}
	sb_puts(sb, "================================================================================\n");
	sb_puts(sb, "Anomalies\n");
	sb_puts(sb, "Kind                     Severity   Count  First  Example\n");
	for (int k = 0; k < K__COUNT; k++) {
		const struct kind_stat *st = &e->stats[k];
		if (!st->count) continue;
		sb_printf(sb, "%-24s %-8s %7llu %6llu  %s\n", kinds[k].name, sev_names[kinds[k].sev],
			  (unsigned long long)st->count, (unsigned long long)st->first_frame, st->example);
	}
	sb_printf(sb, "%llu anomalies\n", (unsigned long long)e->total);
	sb_puts(sb, "================================================================================\n");
}
