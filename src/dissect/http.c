/* dissect/http.c — HTTP/1.x (RFC 9112) over a reassembled TCP stream: request and status
 * lines, every header, bodies passed over by Content-Length or chunked coding (never
 * stored), pipelined requests paired with their responses in order. As tshark does by
 * default, a message with a body is shown in the packet where its body ends. A 101 to an
 * h2c upgrade hands the stream to HTTP/2; a 2xx to CONNECT opens a tunnel whose protocol
 * is sniffed again. */
#include "dissect/app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define HTTP_MAX_HEADERS 256     /* header lines recorded per message */
#define HTTP_MAX_LINE 8192       /* a chunk-size line longer than this is not HTTP */
#define HTTP_UNTIL_CLOSE UINT64_MAX

void http_state_free(struct http_state *h)
{
	if (!h) return;
	free(h->held[0]);
	free(h->held[1]);
	free(h->q);
	free(h);
}

/* The length of the header block at b: the start line, the header lines and the blank
 * line that ends them, its terminator included; false while the blank line has not come. */
static bool header_block_len(const uint8_t *b, size_t n, size_t *len)
{
	struct cur c = cur_make(b, n), line;
	if (!cur_line(&c, &line)) return false; /* the start line */
	while (cur_line(&c, &line))
		if (!cur_left(&line)) {
			*len = cur_off(&c);
			return true;
		}
	return false;
}

static bool ieq_n(const uint8_t *a, size_t n, const char *lit, size_t k)
{
	if (n != k) return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = a[i];
		if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
		if (c != (uint8_t)lit[i]) return false;
	}
	return true;
}

static bool ieq(const uint8_t *a, size_t n, const char *lit) { return ieq_n(a, n, lit, strlen(lit)); }

/* Whether `lit` occurs in s (case-insensitive), as a token in a comma list. */
static bool has_token(const uint8_t *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;
		while (j < k) {
			uint8_t c = s[i + j];
			if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
			if (c != (uint8_t)lit[j]) break;
			j++;
		}
		if (j == k) return true;
	}
	return false;
}

#define HDR(s, id) { s, sizeof s - 1, id }
static const struct { const char *name; size_t len; enum field_id id; } known_headers[] = {
	HDR("host", F_HTTP_HOST),
	HDR("user-agent", F_HTTP_USER_AGENT),
	HDR("accept", F_HTTP_ACCEPT),
	HDR("referer", F_HTTP_REFERER),
	HDR("cookie", F_HTTP_COOKIE),
	HDR("set-cookie", F_HTTP_SET_COOKIE),
	HDR("server", F_HTTP_SERVER),
	HDR("location", F_HTTP_LOCATION),
	HDR("connection", F_HTTP_CONNECTION),
	HDR("upgrade", F_HTTP_UPGRADE),
	HDR("authorization", F_HTTP_AUTHORIZATION),
	HDR("content-type", F_HTTP_CONTENT_TYPE),
	HDR("content-length", F_HTTP_CONTENT_LENGTH_HEADER),
	HDR("transfer-encoding", F_HTTP_TRANSFER_ENCODING),
	HDR("content-encoding", F_HTTP_CONTENT_ENCODING),
};
#undef HDR

struct http_msg {
	bool request;
	const uint8_t *method, *uri, *version, *phrase, *host, *ctype;
	size_t method_len, uri_len, version_len, phrase_len, host_len, ctype_len;
	uint32_t code;
	bool chunked, have_length, upgrade_h2c;
	bool show_ctype;      /* Info names the content type: a body follows (not a HEAD reply) */
	uint64_t length;
};

/* Authorization: Basic (RFC 7617): base64 of "user:password"; the user is recorded as a
 * cleartext login (credentials.*), the password is not. */
static void basic_credentials(struct packet *p, const struct cur *v)
{
	if (cur_left(v) < 7 || !ieq_n(v->pos, 6, "basic ", 6)) return;
	struct cur b64 = *v;
	cur_skip(&b64, 6);
	cur_trim(&b64);
	uint8_t raw[512];
	long k = app_base64(b64.pos, cur_left(&b64), raw, sizeof raw);
	if (k <= 0) return;
	const uint8_t *colon = memchr(raw, ':', (size_t)k);
	app_credentials(p, "http", raw, colon ? (size_t)(colon - raw) : (size_t)k, "Basic");
}

static bool is_token(const uint8_t *b, size_t n)
{
	if (!n) return false;
	for (size_t i = 0; i < n; i++)
		if (!app_is_token_char(b[i])) return false;
	return true;
}

/* Splits the start line (without its terminator); false when it is not HTTP. */
static bool start_line(struct cur l, struct http_msg *m)
{
	struct cur first;
	if (!cur_split(&l, ' ', &first)) return false;
	size_t a = cur_left(&first);
	if (cur_starts(&first, "HTTP/", 5)) { /* a status line: version, code, phrase */
		m->request = false;
		m->version = first.pos;
		m->version_len = a;
		size_t nd;
		uint64_t code = cur_digits(&l, 10, 3, &nd);
		if (nd != 3) return false;
		m->code = (uint32_t)code;
		if (cur_left(&l)) cur_skip(&l, 1); /* the space before the phrase */
		m->phrase = l.pos;
		m->phrase_len = cur_left(&l);
		return true;
	}
	if (!is_token(first.pos, a)) return false;
	/* Method, one or more spaces, the target up to the next space, then the version if
	 * any: tshark's reading, which also takes "GET HTTP/1.1" (no target) and a target
	 * with a space in it. A line not ending in a version needs a method we know. */
	m->request = true;
	m->method = first.pos;
	m->method_len = a;
	struct cur target;
	bool more = cur_split(&l, ' ', &target); /* the target runs to the next space (tshark) */
	if (!more) {
		target = l;
		l.pos = l.end;
	}
	m->uri = target.pos;
	m->uri_len = cur_left(&target);
	struct cur last = l; /* the line's last word, after the target */
	cur_after_last(&last, ' ');
	bool versioned = more && cur_starts(&last, "HTTP/", 5);
	m->version = versioned ? last.pos : l.end;
	m->version_len = versioned ? cur_left(&last) : 0;
	if (versioned || (m->uri_len >= 5 && memcmp(m->uri, "HTTP/", 5) == 0)) return true;
	if (more && memchr(last.pos, '/', cur_left(&last))) return false; /* another protocol's version: SIP/2.0, RTSP/1.0 */
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH",
					       "TRACE", "PROPFIND", "NOTIFY", "M-SEARCH", "SUBSCRIBE" };
	for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
		if (strlen(methods[k]) == a && memcmp(methods[k], first.pos, a) == 0) return true;
	return false;
}

/* Records the header block b[0..n) (start line to the blank line's end) into p. */
static void header_block(struct app_flow *a, struct packet *p, const uint8_t *b, size_t n, struct http_msg *m,
			   bool record)
{
	struct cur c = cur_make(b, n), sline = c, line;
	int slot = record ? app_proto(p, a->http && a->http->ssdp ? F_SSDP : F_HTTP, &c) : -1;
	cur_line(&c, &sline); /* the caller found it: start_line read it */
	uint32_t start_len = cur_off(&c);
	if (record) {
		if (m->request) {
			pk_bool(p, F_HTTP_REQUEST, true, 0, start_len);
			pk_string(p, F_HTTP_REQUEST_METHOD, (const char *)m->method, m->method_len, 0, (uint32_t)m->method_len);
			pk_string(p, F_HTTP_REQUEST_URI, (const char *)m->uri, m->uri_len, (uint32_t)(m->uri - b), (uint32_t)m->uri_len);
			if (m->version_len)
				pk_string(p, F_HTTP_REQUEST_VERSION, (const char *)m->version, m->version_len,
					  (uint32_t)(m->version - b), (uint32_t)m->version_len);
		} else {
			pk_bool(p, F_HTTP_RESPONSE, true, 0, start_len);
			pk_string(p, F_HTTP_RESPONSE_VERSION, (const char *)m->version, m->version_len, 0, (uint32_t)m->version_len);
			pk_uint(p, F_HTTP_RESPONSE_CODE, m->code, (uint32_t)m->version_len + 1, 3);
			pk_string(p, F_HTTP_RESPONSE_PHRASE, (const char *)m->phrase, m->phrase_len, (uint32_t)(m->phrase - b),
				  (uint32_t)m->phrase_len);
		}
	}
	int nheaders = 0;
	while (cur_line(&c, &line) && cur_left(&line)) { /* to the blank line */
		uint32_t loff = cur_off(&line), ll = (uint32_t)cur_left(&line), whole = cur_off(&c) - loff;
		if (record && nheaders++ < HTTP_MAX_HEADERS)
			pk_string(p, m->request ? F_HTTP_REQUEST_LINE : F_HTTP_RESPONSE_LINE, (const char *)line.pos, whole,
				  loff, whole);
		struct cur v = line, name;
		if (!cur_split(&v, ':', &name)) continue;
		cur_trim(&v);
		size_t vl = cur_left(&v);
		enum field_id id = F__COUNT;
		for (size_t i = 0; i < sizeof known_headers / sizeof known_headers[0] && id == F__COUNT; i++)
			if (ieq_n(name.pos, cur_left(&name), known_headers[i].name, known_headers[i].len)) id = known_headers[i].id;
		if (record && id != F__COUNT)
			pk_string(p, id, (const char *)v.pos, vl, cur_off(&v), (uint32_t)vl);
		else if (record)
			pk_string(p, F_HTTP_UNKNOWN_HEADER, (const char *)line.pos, ll, loff, ll);
		if (id == F_HTTP_AUTHORIZATION && record) {
			basic_credentials(p, &v);
		} else if (id == F_HTTP_HOST) {
			m->host = v.pos;
			m->host_len = vl;
		} else if (id == F_HTTP_CONTENT_TYPE) {
			m->ctype = v.pos;
			m->ctype_len = vl;
		} else if (id == F_HTTP_CONTENT_LENGTH_HEADER) {
			struct cur d = v;
			size_t nd;
			uint64_t len = cur_digits(&d, 10, 18, &nd);
			if (nd && nd == vl) { /* digits only, at most 18 */
				m->have_length = true;
				m->length = len;
				if (record) pk_uint(p, F_HTTP_CONTENT_LENGTH, len, cur_off(&v), (uint32_t)vl);
			}
		} else if (id == F_HTTP_TRANSFER_ENCODING) {
			if (has_token(v.pos, vl, "chunked")) m->chunked = true;
		} else if (id == F_HTTP_UPGRADE) {
			if (has_token(v.pos, vl, "h2c")) m->upgrade_h2c = true;
		}
	}
	if (!record) return;
	struct http_state *h = a->http;
	int64_t now = pk_time_ns(&p->meta);
	if (m->request) {
		if (m->host && (pk_wants(p, F_HTTP_REQUEST_FULL_URI))) {
			char full[2048];
			struct sbuf sb;
			sb_init_fixed(&sb, full, sizeof full - 1);
			if (m->uri_len && m->uri[0] == '/') {
				sb_puts(&sb, "http://");
				sb_put(&sb, m->host, m->host_len);
			}
			sb_put(&sb, m->uri, m->uri_len);
			pk_string(p, F_HTTP_REQUEST_FULL_URI, full, sb.len, 0, 0);
		}
		if (h->last_request_frame && h->last_request_frame != p->meta.number)
			pk_uint(p, F_HTTP_PREV_REQUEST_IN, h->last_request_frame, 0, 0);
		uint64_t answer = p->links ? frame_links_get(p->links, LINK_HTTP, p->meta.number, 0) : 0;
		if (answer) pk_uint(p, F_HTTP_RESPONSE_IN, answer, 0, 0); /* known from a first pass (-2) */
		h->last_request_frame = p->meta.number;
		struct http_pending *q;
		if (h->count == HTTP_MAX_PENDING) http_forget_oldest(a); /* unanswered requests */
		if (h->count == h->cap) {
			h->cap = (uint8_t)(h->cap ? h->cap * 2 : 2);
			h->q = xrealloc(h->q, h->cap * sizeof *h->q);
		}
		q = &h->q[h->count++];
		q->frame = p->meta.number;
		q->ns = now;
		q->head = ieq(m->method, m->method_len, "head");
		q->connect = ieq(m->method, m->method_len, "connect");
		size_t ul = m->uri_len < sizeof q->uri - 1 ? m->uri_len : sizeof q->uri - 1;
		memcpy(q->uri, m->uri, ul);
		q->uri[ul] = '\0';
		if (m->upgrade_h2c) h->upgrade_h2c = true;
	} else if (h->count && (m->code >= 200 || m->code == 101)) {
		struct http_pending done = h->q[0], *q = &done;
		http_forget_oldest(a);
		pk_uint(p, F_HTTP_REQUEST_IN, q->frame, 0, 0);
		pk_reltime(p, F_HTTP_TIME, now - q->ns);
		pk_string(p, F_HTTP_RESPONSE_FOR_URI, q->uri, strlen(q->uri), 0, 0);
	}
	c.pos = c.end;
	pk_proto_end(p, slot, &c);
	struct sbuf *sb = app_info(p, "HTTP");
	if (sb) {
		sb_text(sb, sline.pos, cur_left(&sline));
		if (m->ctype && m->show_ctype) {
			sb_puts(sb, "  (");
			const uint8_t *semi = memchr(m->ctype, ';', m->ctype_len);
			sb_text(sb, m->ctype, semi ? (size_t)(semi - m->ctype) : m->ctype_len);
			sb_putc(sb, ')');
		}
	}
}

/* A header block may be the message being taken or one held until its body ended. */
static void decode_headers(struct app_flow *a, struct packet *p, const uint8_t *b, size_t n, struct http_msg *m,
			   bool record)
{
	struct pk_msg msg = pk_msg_begin(p, b, n, PB_REASSEMBLED);
	header_block(a, p, b, n, m, record);
	pk_msg_end(p, msg, n);
}

/* What follows a response's headers, and the stream changes it brings (RFC 9112 §6.3). */
static uint64_t body_length(struct app_flow *a, const struct http_msg *m, int dir)
{
	struct http_state *h = a->http;
	if (m->request) return m->chunked ? 0 : m->have_length ? m->length : 0;
	bool head = false, connect = false;
	if (h->count) {
		head = h->q[0].head;
		connect = h->q[0].connect;
	}
	(void)dir;
	if (m->code < 200 || m->code == 204 || m->code == 304 || head) return 0;
	if (connect && m->code < 300) return 0;
	if (m->chunked) return 0;
	if (m->have_length) return m->length;
	return HTTP_UNTIL_CLOSE;
}

/* The stream changes a response brings, after it has been recorded. */
static void after_response(struct app_flow *a, const struct http_msg *m, bool was_connect)
{
	if (m->code == 101 && a->http->upgrade_h2c) {
		a->proto = AP_HTTP2;
	} else if (was_connect && m->code >= 200 && m->code < 300) {
		a->proto = AP_UNKNOWN; /* a tunnel: sniff what it carries */
		a->sniffs = 0;
		a->dir[0].len = 0;
	}
}

static void decode_held(struct app_flow *a, struct packet *p, int dir)
{
	struct http_state *h = a->http;
	struct http_msg m = { 0 };
	const uint8_t *b = h->held[dir];
	size_t n = h->held_len[dir];
	struct cur c = cur_make(b, n), line;
	m.show_ctype = true; /* a message is held only when a body follows */
	if (cur_line(&c, &line) && start_line(line, &m)) decode_headers(a, p, b, n, &m, true);
	/* released, not kept: thousands of idle connections must not each hold a buffer */
	free(h->held[dir]);
	h->held[dir] = NULL;
	h->held_len[dir] = h->held_cap[dir] = 0;
}

void http_forget_oldest(struct app_flow *a)
{
	struct http_state *h = a->http;
	if (!h || !h->count) return;
	memmove(h->q, h->q + 1, (size_t)(h->count - 1) * sizeof *h->q);
	if (--h->count == 0) { /* nothing waits: give the queue back */
		free(h->q);
		h->q = NULL;
		h->cap = 0;
	}
}

void http_stream_fin(struct app_flow *a, struct packet *p, int dir)
{
	if (!a->http || !a->http->until_close[dir]) return;
	a->http->until_close[dir] = false;
	http_body_done(a, p, dir);
}

void http_body_done(struct app_flow *a, struct packet *p, int dir)
{
	if (!a->http || !a->http->held_len[dir]) return;
	struct packet *rp = p;
	decode_held(a, rp, dir);
	if (rp->app_msgs) {
		struct fval *f = pk_add(rp, F_HTTP_FILE_DATA_LEN, 0, 0);
		if (f) f->v.u = a->http->body_len[dir];
	}
}

/* One chunk-size line, chunk data or the trailer of a chunked body. */
static long chunk_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need)
{
	struct http_state *h = a->http;
	struct cur c = cur_make(b, n < HTTP_MAX_LINE ? n : HTTP_MAX_LINE), line;
	if (!cur_line(&c, &line)) {
		if (n >= HTTP_MAX_LINE) return -1;
		*need = n + 1;
		return 0;
	}
	long used = (long)cur_off(&c);
	if (h->chunk_trailer[dir]) { /* trailer lines until an empty one */
		if (!cur_left(&line)) {
			h->chunk_trailer[dir] = false;
			h->chunked[dir] = false;
			http_body_done(a, p, dir);
		}
		return used;
	}
	size_t nd;
	uint64_t size = cur_digits(&line, 16, 16, &nd); /* the chunk size, then extensions */
	if (nd == 0) return -1;
	pk_uint(p, F_HTTP_CHUNK_SIZE, size, 0, 0);
	h->body_len[dir] += size;
	if (size == 0) h->chunk_trailer[dir] = true;
	else a->dir[dir].skip = size + 2;
	return used;
}

long http_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need)
{
	if (!a->http) a->http = xcalloc(1, sizeof *a->http);
	struct http_state *h = a->http;
	if (h->chunked[dir]) return chunk_take(a, p, dir, b, n, need);
	struct cur c = cur_make(b, n), line;
	bool have_line = cur_line(&c, &line);
	struct http_msg m = { 0 };
	if (have_line && !start_line(line, &m)) return -1;
	/* no whole start line yet: wait, unless what there is cannot become one */
	if (!have_line && (n > HTTP_MAX_LINE || (n >= 8 && !cur_starts(&c, "HTTP/", 5) && !is_token(c.pos, 3)))) return -1;
	size_t hl;
	if (!have_line || !header_block_len(b, n, &hl)) {
		if (n > APP_MAX_MSG) return -1;
		*need = n + 1;
		return 0;
	}
	/* parse first to learn the body, without recording */
	decode_headers(a, p, b, hl, &m, false);
	uint64_t body = body_length(a, &m, dir);
	bool was_connect = !m.request && h->count && h->q[0].connect;
	h->body_len[dir] = 0;
	if (m.chunked && !(m.request ? false : (m.code < 200 || m.code == 204 || m.code == 304))) {
		/* shown when the last chunk has arrived */
		h->held_len[dir] = 0;
		a->dir[dir].pdu_frame = p->meta.number;
		m.show_ctype = true;
		if (!app_buf_append(&h->held[dir], &h->held_len[dir], &h->held_cap[dir], b, hl, APP_MAX_MSG))
			decode_headers(a, p, b, hl, &m, true);
		h->chunked[dir] = true;
		h->chunk_trailer[dir] = false;
		return (long)hl;
	}
	/* MS RPC over HTTP announces ~1 GB bodies that carry a whole session: shown at once,
	 * as tshark shows them */
	bool rpc = m.request && (ieq(m.method, m.method_len, "rpc_in_data") || ieq(m.method, m.method_len, "rpc_out_data"));
	if (body && !rpc) { /* shown where the body ends: by its length, or at the FIN */
		h->held_len[dir] = 0;
		a->dir[dir].pdu_frame = p->meta.number;
		if (app_buf_append(&h->held[dir], &h->held_len[dir], &h->held_cap[dir], b, hl, APP_MAX_MSG)) {
			h->body_len[dir] = body == HTTP_UNTIL_CLOSE ? 0 : body;
			h->until_close[dir] = body == HTTP_UNTIL_CLOSE;
			a->dir[dir].skip = body;
			a->dir[dir].notify = body != HTTP_UNTIL_CLOSE;
			return (long)hl;
		}
	}
	m.show_ctype = body != 0;
	decode_headers(a, p, b, hl, &m, true);
	if (!m.request) after_response(a, &m, was_connect);
	if (body) a->dir[dir].skip = body;
	return (long)hl;
}

void dissect_ssdp(struct packet *p, struct cur *c)
{
	size_t n = cur_left(c), hl;
	const uint8_t *b = c->pos;
	struct cur d = *c, line;
	struct http_msg m = { 0 };
	if (!cur_line(&d, &line) || !start_line(line, &m)) {
		pk_data(p, c);
		return;
	}
	if (!header_block_len(b, n, &hl)) hl = n;
	struct http_state h = { .ssdp = true };
	struct app_flow a = { .http = &h };
	m.show_ctype = true;
	decode_headers(&a, p, b, hl, &m, true);
	free(h.q); /* a datagram pairs nothing: the queue a request made goes with it */
	if (p->proto_col && !p->nest) p->proto_col = "SSDP";
	cur_skip(c, n);
}
