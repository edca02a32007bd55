/* dissect/app.c — the stream driver for application decoders: chooses a TCP stream's
 * protocol from its first bytes (or DNS's port), collects each message until it is whole
 * (bounded by APP_MAX_MSG), passes bodies over without copying them, and owns the
 * per-flow state. */
#include "dissect/app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#include <openssl/evp.h>

bool app_buf_append(uint8_t **buf, uint32_t *len, uint32_t *cap, const uint8_t *b, size_t n, uint32_t max)
{
	if (!n) return true;
	if (n > max || *len > max - n) return false;
	if (*len + n > *cap) {
		uint32_t c = *cap ? *cap : 1024;
		while (c < *len + n) c = c > max / 2 ? max : c * 2;
		*buf = xrealloc(*buf, c);
		*cap = c;
	}
	memcpy(*buf + *len, b, n);
	*len += (uint32_t)n;
	return true;
}

struct sbuf *app_info(struct packet *p, const char *proto)
{
	if (p->app_msgs++ == 0) return pk_col(p, proto);
	if (p->nest || p->info_locked || p->no_columns) return NULL;
	p->proto_col = proto;
	sb_puts(&p->info, ", ");
	return &p->info;
}

int app_proto(struct packet *p, enum field_id id, const struct cur *c)
{
	if (p->nprotos && p->protos[p->nprotos - 1] == id) return pk_proto_again(p, id, c); /* tshark lists a run once */
	return pk_proto(p, id, c);
}

struct app_flow *app_flow_get(struct packet *p)
{
	if (!p->app) return NULL;
	if (!*p->app) *p->app = xcalloc(1, sizeof **p->app);
	return *p->app;
}

bool app_flow_is_empty(const struct app_flow *a)
{
	return a->proto == AP_UNKNOWN && !a->sniffs && !a->dir[0].len && !a->dir[1].len && !a->tls && !a->http &&
	       !a->h2 && !a->dns && !a->quic && !a->echo && !a->text;
}

void app_flow_free(struct app_flow *a)
{
	if (!a) return;
	for (int d = 0; d < 2; d++) free(a->dir[d].buf);
	tls_state_free(a->tls);
	http_state_free(a->http);
	h2_state_free(a->h2);
	if (a->dns) free(a->dns->q);
	free(a->dns);
	if (a->echo) free(a->echo->q);
	free(a->echo);
	quic_state_free(a->quic);
	text_state_free(a->text);
	free(a);
}

void app_credentials(struct packet *p, const char *proto, const uint8_t *user, size_t ulen, const char *method)
{
	if (p->nest) return;
	pk_add(p, F_CREDENTIALS, 0, 0);
	pk_string(p, F_CREDENTIALS_PROTOCOL, proto, strlen(proto), 0, 0);
	pk_string(p, F_CREDENTIALS_USERNAME, (const char *)user, ulen, 0, 0);
	pk_string(p, F_CREDENTIALS_METHOD, method, strlen(method), 0, 0);
}

long app_base64(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	while (n && (in[n - 1] == ' ' || in[n - 1] == '\r' || in[n - 1] == '\n')) n--;
	if (n % 4 || n / 4 * 3 > cap || n > INT32_MAX) return -1;
	int k = EVP_DecodeBlock(out, in, (int)n); /* counts the padding as zero bytes */
	if (k < 0) return -1;
	if (n && in[n - 1] == '=') k--;
	if (n > 1 && in[n - 2] == '=') k--;
	return k;
}

/* A request line's shape: a method token, a space, a target without spaces, then
 * " HTTP/1." (within the first bytes). */
static bool is_request_line(const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i < n && i < 32 && app_is_token_char(b[i])) i++;
	if (i == 0 || i >= n || b[i] != ' ') return false;
	size_t j = i + 1;
	while (j < n && j < 4096 && b[j] != '\r' && b[j] != '\n') j++; /* the line's end */
	while (j > i && b[j - 1] != ' ') j--;                             /* its last word */
	return j > i + 1 && j + 7 <= n && memcmp(b + j, "HTTP/1.", 7) == 0;
}

static bool is_http_start(const uint8_t *b, size_t n)
{
	if (is_request_line(b, n)) return true;
	static const char *const starts[] = { "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ",
					      "PATCH ", "TRACE ", "HTTP/1.", "PROPFIND ", "NOTIFY ", "M-SEARCH " };
	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		size_t k = strlen(starts[i]);
		if (n >= k && memcmp(b, starts[i], k) == 0) return true;
	}
	return false;
}

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* The protocol a stream's first bytes (in either direction) show, or AP_UNKNOWN. */
static enum app_proto sniff(const struct app_flow *a, const uint8_t *b, size_t n)
{
	if (a->sport == 53 || a->sport == 5353 || a->cport == 53) return AP_DNS; /* DNS and mDNS over TCP */
	struct cur h = cur_make(b, n); /* a TLS record header: type, version 3.x */
	uint8_t type = cur_u8(&h);
	uint16_t version = cur_be16(&h);
	if (!h.err && type >= TLS_CHANGE_CIPHER_SPEC && type <= TLS_HEARTBEAT && version >> 8 == 3 && (version & 0xff) <= 4)
		return AP_TLS;
	/* an SSL 2.0-format ClientHello offering SSL 3.0 or TLS: length (2, high bit set), type,
	 * version */
	h = cur_make(b, n);
	uint16_t first = cur_be16(&h);
	uint8_t v2_type = cur_u8(&h);
	uint16_t offered = cur_be16(&h);
	if (!h.err && (first & 0x8000) && v2_type == TLS_CLIENT_HELLO && (offered >> 8 == 3 || offered == SSL_V2))
		return AP_TLS;
	if (n >= 4 && memcmp(b, h2_preface, 4) == 0) return AP_HTTP2;
	if (is_http_start(b, n)) return AP_HTTP;
	if (a->tls_next) return AP_UNKNOWN; /* after STARTTLS only TLS is expected */
	return text_sniff(a, b, n);
}

static app_take_fn take_for(uint8_t proto)
{
	switch (proto) {
	case AP_TLS: return tls_take;
	case AP_HTTP: return http_take;
	case AP_HTTP2: return h2_take;
	case AP_DNS: return dns_tcp_take;
	case AP_FTP: case AP_POP: case AP_IMAP: case AP_SMTP: case AP_TELNET: return text_take;
	default: return NULL;
	}
}

/* The decoder takes a message from b[0..n): its fields' offsets are within it (in the
 * frame's when it lies there, else in a buffer of the packet's). */
static long take_message(app_take_fn take, struct app_flow *a, struct packet *p, int dir, const uint8_t *run,
			 const uint8_t *b, size_t n, size_t *need)
{
	if (p->app_run != run) {
		p->app_run = run;
		p->app_run_layer = -1;
	}
	struct pk_msg msg = pk_msg_begin(p, b, n, PB_REASSEMBLED);
	long r = take(a, p, dir, b, n, need);
	pk_msg_end(p, msg, r > 0 ? (size_t)r : 0);
	return r;
}

/* Passes over what the decoder asked to skip; returns the bytes used. */
static size_t do_skip(struct app_flow *a, struct packet *p, int dir, size_t n)
{
	struct app_dir *d = &a->dir[dir];
	size_t k = d->skip < n ? (size_t)d->skip : n;
	d->skip -= k;
	if (!d->skip && d->notify) {
		d->notify = false;
		if (a->proto == AP_HTTP) http_body_done(a, p, dir);
	}
	return k;
}

/* Runs the decoder over the buffered bytes while it finds whole messages; what is left
 * moves to the front once (a buffer of many small pipelined messages costs one pass, not
 * one move per message). */
static void drain_buffer(struct app_flow *a, struct packet *p, int dir)
{
	struct app_dir *d = &a->dir[dir];
	size_t off = 0;
	while (off < d->len && !d->dead) {
		if (d->skip) {
			off += do_skip(a, p, dir, d->len - off);
			continue;
		}
		app_take_fn take = take_for(a->proto);
		if (!take) {
			off = d->len;
			break;
		}
		size_t need = 0;
		long r = take_message(take, a, p, dir, d->buf + off, d->buf + off, d->len - off, &need);
		if (r < 0) {
			d->dead = true;
			off = d->len;
			break;
		}
		if (r == 0) {
			/* the decoder counts from the message start, which moves to the front */
			d->need = need > APP_MAX_MSG ? APP_MAX_MSG + 1 : (uint32_t)need;
			break;
		}
		off += (size_t)r;
	}
	if (off) {
		memmove(d->buf, d->buf + off, d->len - off);
		d->len -= (uint32_t)off;
	}
	if (!d->len && d->buf) { /* nothing partial left: an idle stream keeps no buffer */
		free(d->buf);
		d->buf = NULL;
		d->cap = 0;
	}
}

bool app_stream_data(struct app_flow **slot, struct packet *p, int dir, uint16_t client_port, uint16_t server_port,
		     const uint8_t *b, size_t n)
{
	if (!*slot) {
		*slot = xcalloc(1, sizeof **slot);
		(*slot)->cport = client_port;
		(*slot)->sport = server_port;
		/* a capture may start mid-stream: each direction's first message must look like one */
		(*slot)->dir[0].resync = (*slot)->dir[1].resync = true;
	}
	struct app_flow *a = *slot;
	struct app_dir *d = &a->dir[dir];
	const uint8_t *run = NULL; /* where the messages taken straight from b begin */
again:
	if (a->proto == AP_UNKNOWN) {
		/* A first segment too short to tell ("GE" then "T / HTTP/1.1") is kept, up to
		 * APP_SNIFF_KEEP bytes, and looked at again with what follows. */
		if (d->len) { /* kept bytes, then this chunk */
			if (app_buf_append(&d->buf, &d->len, &d->cap, b, n, APP_MAX_MSG) &&
			    (a->proto = (uint8_t)sniff(a, d->buf, d->len)) != AP_UNKNOWN) {
				a->dir[!dir].len = 0; /* what the other side kept came before the protocol */
				uint8_t *kept = d->buf; /* decode them from the start */
				size_t kn = d->len;
				d->buf = NULL;
				d->len = d->cap = 0;
				bool more = app_stream_data(slot, p, dir, client_port, server_port, kept, kn);
				free(kept);
				return more;
			}
			d->len = 0; /* they were something else: look at this chunk alone */
		}
		a->proto = (uint8_t)sniff(a, b, n);
		if (a->proto != AP_UNKNOWN) a->dir[!dir].len = 0;
		if (a->proto == AP_UNKNOWN) {
			if (n < APP_SNIFF_KEEP) app_buf_append(&d->buf, &d->len, &d->cap, b, n, APP_MAX_MSG);
			if (++a->sniffs >= APP_MAX_SNIFFS) a->proto = AP_NONE;
			return a->proto != AP_NONE;
		}
	}
	if (a->proto == AP_NONE) return false;
	while (n && !d->dead) {
		if (d->skip) {
			size_t k = do_skip(a, p, dir, n);
			b += k;
			n -= k;
			continue;
		}
		if (a->proto == AP_UNKNOWN) /* a tunnel opened (CONNECT): look again */
			goto again;
		if (a->proto == AP_NONE) return false;
		if (d->len) { /* a message is being collected */
			/* exactly the rest of the message when its length is known, else all */
			size_t want = d->need > d->len + 1 ? d->need - d->len : n;
			size_t k = want < n ? want : n;
			if (!app_buf_append(&d->buf, &d->len, &d->cap, b, k, APP_MAX_MSG)) {
				d->dead = true;
				d->len = 0;
				break;
			}
			b += k;
			n -= k;
			if (d->len >= d->need) drain_buffer(a, p, dir);
			run = NULL; /* what follows a collected message is a run of its own */
			continue;
		}
		/* after a gap only a chunk that starts a message of this protocol is looked at */
		if (d->resync && a->proto != AP_HTTP2 && a->proto < AP_FTP && sniff(a, b, n) != a->proto) {
			/* an unparsable piece of a response still answers the oldest request, as
			 * tshark pairs them (it shows such pieces as a "Continuation") */
			if (a->proto == AP_HTTP && dir == 1) http_forget_oldest(a);
			break;
		}
		size_t need = 0;
		if (!run) run = b;
		long r = take_message(take_for(a->proto), a, p, dir, run, b, n, &need);
		if (r < 0) {
			if (d->resync) break; /* not a message start: wait for the next chunk */
			d->dead = true;
			break;
		}
		if (r > 0) {
			d->resync = false;
			b += r;
			n -= (size_t)r;
			continue;
		}
		if (d->resync && need > APP_MAX_MSG) break;
		if (need > APP_MAX_MSG) { /* too long to collect: this direction stops */
			d->dead = true;
			break;
		}
		d->need = (uint32_t)need;
		d->pdu_frame = p->meta.number;
		if (!app_buf_append(&d->buf, &d->len, &d->cap, b, n, APP_MAX_MSG)) d->dead = true;
		break;
	}
	return !(a->dir[0].dead && a->dir[1].dead);
}

void app_mark_segment(struct app_flow *a, struct packet *p, int dir, uint32_t payload_off)
{
	const struct app_dir *d = &a->dir[dir];
	/* TLS shows its layer in the segment a record starts in, before asking TCP for the
	 * rest (tshark's `tls` matches it); the other decoders wait for the whole message. */
	if (a->proto == AP_TLS && !p->app_msgs && !p->nest && !d->dead && d->len && d->pdu_frame == p->meta.number &&
	    pk_wants(p, F_TLS)) {
		/* the layer starts at this segment's payload, as tshark's does */
		uint32_t off = payload_off < p->meta.caplen ? payload_off : p->meta.caplen;
		struct cur seg = cur_make(p->data + off, p->meta.caplen - off);
		seg.base = p->data; /* offsets are the frame's */
		pk_proto_end(p, pk_proto(p, F_TLS, &seg), &seg);
	}
	bool held = a->proto == AP_HTTP && a->http && a->http->held_len[dir];
	if (p->app_msgs || p->no_columns || p->nest || p->info_locked || d->dead || (!d->len && !held) ||
	    a->proto == AP_UNKNOWN || a->proto == AP_NONE)
		return;
	static const char note[] = "[TCP segment of a reassembled PDU]";
	if (d->pdu_frame == p->meta.number) {
		sb_reset(&p->info);
		p->tcp_info.pending = false;
		sb_puts(&p->info, note);
	} else {
		sb_putc(&p->info, ' ');
		sb_puts(&p->info, note);
	}
}

void app_stream_fin(struct app_flow *a, struct packet *p, int dir)
{
	if (a->proto == AP_HTTP && !a->dir[dir].dead) http_stream_fin(a, p, dir);
}

void app_stream_gap(struct app_flow *a, int dir, uint64_t len)
{
	struct app_dir *d = &a->dir[dir];
	if (d->dead) return;
	if (!d->len && d->skip >= len) { /* lost inside a body: the framing still holds */
		d->skip -= len;
		return;
	}
	d->len = 0;
	d->skip = 0;
	d->notify = false;
	if (a->proto == AP_HTTP2) d->dead = true; /* HPACK state cannot be recovered */
	else d->resync = true;
}

uint64_t pk_echo_pair(struct packet *p, bool reply, uint16_t id, uint16_t seq, enum field_id resp_in,
		      enum field_id resp_to)
{
	if (p->nest) return 0;
	uint32_t key = (uint32_t)id << 16 | seq;
	uint64_t answer = 0;
	if (!reply) {
		answer = p->links ? frame_links_get(p->links, LINK_ECHO, p->meta.number, key) : 0;
		if (answer) pk_uint(p, resp_in, answer, 0, 0);
	}
	struct app_flow *a = app_flow_get(p);
	if (!a) return answer;
	if (!a->echo) a->echo = xcalloc(1, sizeof *a->echo);
	struct dns_state *e = a->echo;
	if (!reply) { /* remembered (the oldest forgotten past DNS_MAX_PENDING) */
		if (e->n == DNS_MAX_PENDING) memmove(e->q, e->q + 1, --e->n * sizeof *e->q);
		if (e->n == e->cap) {
			e->cap = e->cap ? e->cap * 2 : 2;
			e->q = xrealloc(e->q, e->cap * sizeof *e->q);
		}
		e->q[e->n++] = (struct dns_pending){ key, p->meta.number, 0, 0 };
		return answer;
	}
	for (uint32_t i = e->n; i-- > 0;) {
		if (e->q[i].key != key || e->q[i].frame >= p->meta.number) continue;
		pk_uint(p, resp_to, e->q[i].frame, 0, 0);
		return e->q[i].frame;
	}
	return 0;
}
