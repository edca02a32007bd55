/* dissect/http2.c — HTTP/2 (RFC 9113) in cleartext, with prior knowledge or after an h2c
 * upgrade: the connection preface, every frame type with its padding and priority flags,
 * header blocks continued in CONTINUATION frames, SETTINGS (the header table size is
 * honoured), and HPACK (RFC 7541) with one dynamic table per direction that lives as long
 * as the connection. HPACK decoding, Huffman strings included, is libnghttp2's inflater —
 * a Debian-packaged, well-kept implementation, and the one tshark uses, so both read the
 * same header blocks the same way. DATA payloads are passed over, never stored. */
#include "dissect/app_internal.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define H2_MAX_FRAME (16u << 20) /* SETTINGS_MAX_FRAME_SIZE's ceiling (RFC 9113 §6.5.2) */
#define H2_MAX_HEADERS 512        /* header fields recorded per block */

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN 24

/* ---- HPACK through nghttp2 ---- */

struct hpack {
	nghttp2_hd_inflater *inf;
	bool broken;
};

struct hpack *hpack_new(void)
{
	struct hpack *h = xcalloc(1, sizeof *h);
	if (nghttp2_hd_inflate_new(&h->inf) != 0) xfatal("out of memory (HPACK inflater)");
	/* Accept table size updates up to our cap until the peer's SETTINGS say otherwise:
	 * the table itself starts at the default 4096 bytes. */
	nghttp2_hd_inflate_change_table_size(h->inf, HPACK_MAX_TABLE);
	return h;
}

void hpack_free(struct hpack *h)
{
	if (!h) return;
	nghttp2_hd_inflate_del(h->inf);
	free(h);
}

bool hpack_set_max(struct hpack *h, uint32_t size)
{
	if (size > HPACK_MAX_TABLE) size = HPACK_MAX_TABLE;
	return nghttp2_hd_inflate_change_table_size(h->inf, size) == 0;
}

bool hpack_decode(struct hpack *h, const uint8_t *b, size_t n, bool final, hpack_emit_fn emit, void *ctx)
{
	if (h->broken) return false;
	int count = 0;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t r = nghttp2_hd_inflate_hd2(h->inf, &nv, &flags, b, n, final);
		if (r < 0) {
			h->broken = true;
			return false;
		}
		b += r;
		n -= (size_t)r;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && count++ < H2_MAX_HEADERS)
			emit(ctx, nv.name, nv.namelen, nv.value, nv.valuelen);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(h->inf);
			return true;
		}
		if (!final && n == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT)) return true; /* more in a CONTINUATION */
		if (r == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT)) {
			h->broken = true;
			return false;
		}
	}
}

void h2_state_free(struct h2_state *s)
{
	if (!s) return;
	for (int d = 0; d < 2; d++) {
		hpack_free(s->t[d]);
		for (int i = 0; i < 8; i++) free(s->bodies[d][i].buf);
	}
	free(s);
}

#define DOH_MAX_BODY 65535 /* a DNS message's largest size */

static struct h2_body *doh_body(struct h2_state *s, int dir, uint32_t stream, bool create)
{
	struct h2_body *free_slot = NULL;
	for (int i = 0; i < 8; i++) {
		struct h2_body *b = &s->bodies[dir][i];
		if (b->used && b->stream == stream) return b;
		if (!b->used && !free_slot) free_slot = b;
	}
	if (!create) return NULL;
	if (!free_slot) free_slot = &s->bodies[dir][stream % 8]; /* too many at once: reuse one */
	free_slot->used = true;
	free_slot->stream = stream;
	free_slot->len = 0;
	return free_slot;
}

/* A DoH body is whole: decode it as DNS in this packet. */
static void doh_message(struct packet *p, struct h2_body *b)
{
	if (b->len >= 12 && p->arena_used + b->len <= PKT_ARENA_SIZE) {
		uint8_t *copy = p->arena + p->arena_used;
		memcpy(copy, b->buf, b->len);
		p->arena_used += b->len;
		struct pk_msg msg = pk_msg_begin(p, copy, b->len, PB_REASSEMBLED); /* the body, collected */
		struct cur c = cur_make(copy, b->len);
		dns_message(p, &c, pk_col(p, "DoH"), b->stream, F_DNS); /* tshark shows the DNS message alone */
		pk_msg_end(p, msg, b->len);
	}
	b->used = false;
	b->len = 0;
}

/* ---- frames ---- */

struct emit_ctx {
	struct packet *p;
	uint32_t count, length;
	bool dns_message;     /* content-type: application/dns-message */
	char ctype[40];       /* content-type without parameters, cut */
	char summary[200];
	struct sbuf sum;
};

static void emit_header(void *vctx, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	struct emit_ctx *x = vctx;
	struct packet *p = x->p;
	pk_string(p, F_HTTP2_HEADER_NAME, (const char *)name, nlen, 0, (uint32_t)nlen);
	pk_string(p, F_HTTP2_HEADER_VALUE, (const char *)value, vlen, 0, (uint32_t)vlen);
	x->count++;
	x->length += (uint32_t)(nlen + vlen + 32);
	if (nlen == 12 && memcmp(name, "content-type", 12) == 0) {
		if (vlen >= 23 && memcmp(value, "application/dns-message", 23) == 0) x->dns_message = true;
		size_t k = 0;
		while (k < vlen && k < sizeof x->ctype - 1 && value[k] != ';') k++;
		memcpy(x->ctype, value, k);
		x->ctype[k] = '\0';
	}
	static const struct { const char *n; enum field_id id; } known[] = {
		{ ":authority", F_HTTP2_HEADERS_AUTHORITY }, { ":method", F_HTTP2_HEADERS_METHOD },
		{ ":path", F_HTTP2_HEADERS_PATH }, { ":status", F_HTTP2_HEADERS_STATUS },
		{ "user-agent", F_HTTP2_HEADERS_USER_AGENT },
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		if (strlen(known[i].n) != nlen || memcmp(known[i].n, name, nlen) != 0) continue;
		pk_string(p, known[i].id, (const char *)value, vlen, 0, (uint32_t)vlen);
		if (i == 1 || i == 2 || i == 3) { /* Info: ": GET /path" or ": 200 OK" */
			sb_putc(&x->sum, ' ');
			sb_text(&x->sum, value, vlen);
		}
		if (i == 3 && vlen == 3) {
			static const struct val_name phrases[] = {
				{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
				{ 206, "Partial Content" }, { 301, "Moved Permanently" }, { 302, "Found" },
				{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
				{ 403, "Forbidden" }, { 404, "Not Found" }, { 500, "Internal Server Error" },
				{ 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 0, NULL } };
			uint32_t code = (uint32_t)(value[0] - '0') * 100 + (uint32_t)(value[1] - '0') * 10 + (uint32_t)(value[2] - '0');
			const char *ph = vn_lookup(phrases, code);
			if (ph) {
				sb_putc(&x->sum, ' ');
				sb_puts(&x->sum, ph);
			}
		}
	}
}

static void header_block(struct h2_state *s, struct packet *p, int dir, uint32_t stream, const uint8_t *b, size_t n,
			 bool final)
{
	if (!s->t[dir]) s->t[dir] = hpack_new();
	struct emit_ctx x = { .p = p };
	sb_init_fixed(&x.sum, x.summary, sizeof x.summary - 1);
	if (!hpack_decode(s->t[dir], b, n, final, emit_header, &x)) {
		s->broken[dir] = true;
		pk_broken(p, "http2", "HPACK header block could not be decoded");
	}
	if (x.dns_message) doh_body(s, dir, stream, true);
	if (x.ctype[0]) {
		struct h2_ctype *ct = &s->ctypes[dir][s->next_ctype[dir]++ % 4];
		ct->stream = stream;
		memcpy(ct->type, x.ctype, sizeof ct->type);
	}
	pk_uint(p, F_HTTP2_HEADER_LENGTH, x.length, 0, 0);
	pk_uint(p, F_HTTP2_HEADER_COUNT, x.count, 0, 0);
	if (x.sum.len && !p->no_columns && !p->nest) {
		sb_putc(&p->info, ':');
		sb_put(&p->info, x.summary, x.sum.len);
	}
}

/* A header block fragment, decoded as it arrives (the decoder keeps a header that spans
 * into the CONTINUATION), as tshark shows a HEADERS frame's fields before the rest. */
static void fragment(struct h2_state *s, struct packet *p, int dir, uint32_t stream, uint8_t type, bool end,
		     const uint8_t *b, size_t n)
{
	if (s->broken[dir]) return;
	s->hdr_type[dir] = type;
	s->hdr_open[dir] = !end;
	header_block(s, p, dir, stream, b, n, end);
}

static void settings(struct h2_state *s, struct packet *p, int dir, struct cur *c)
{
	static const enum field_id ids[] = { F__COUNT, F_HTTP2_SETTINGS_HEADER_TABLE_SIZE, F_HTTP2_SETTINGS_ENABLE_PUSH,
					     F_HTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, F_HTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
					     F_HTTP2_SETTINGS_MAX_FRAME_SIZE, F_HTTP2_SETTINGS_MAX_HEADER_LIST_SIZE };
	while (cur_left(c) >= 6) {
		uint16_t id = pk_be16(p, c, F_HTTP2_SETTINGS_ID);
		uint32_t off = cur_off(c);
		uint32_t v = cur_be32(c);
		pk_uint(p, id >= 1 && id <= 6 ? ids[id] : F_HTTP2_SETTINGS_UNKNOWN, v, off, 4);
		if (id == 1) { /* the table the other direction's encoder may use */
			if (!s->t[!dir]) s->t[!dir] = hpack_new();
			hpack_set_max(s->t[!dir], v);
		}
	}
}

/* One frame whose payload is complete in b[9..9+len). */
static void frame_body(struct h2_state *s, struct packet *p, int dir, const uint8_t *b, size_t len, bool payload)
{
	struct cur c = cur_make(b, 9 + (payload ? len : 0));
	int slot = app_proto(p, F_HTTP2, &c);
	int tslot = pk_tree(p, F_HTTP2_STREAM, &c);
	cur_be24(&c);
	pk_uint(p, F_HTTP2_LENGTH, len, 0, 3);
	uint8_t type = pk_u8(p, &c, F_HTTP2_TYPE);
	uint8_t flags = pk_u8(p, &c, F_HTTP2_FLAGS);
	uint32_t stream = cur_be32(&c) & 0x7fffffffu;
	pk_uint(p, F_HTTP2_STREAMID, stream, 5, 4);
	bool padded = (type == H2_DATA || type == H2_HEADERS || type == H2_PUSH_PROMISE) && (flags & H2_FLAG_PADDED);
	if (type == H2_DATA || type == H2_HEADERS) pk_bool(p, F_HTTP2_FLAGS_END_STREAM, flags & H2_FLAG_END_STREAM, 4, 1);
	if (type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION) pk_bool(p, F_HTTP2_FLAGS_END_HEADERS, flags & H2_FLAG_END_HEADERS, 4, 1);
	if (type == H2_DATA || type == H2_HEADERS || type == H2_PUSH_PROMISE) pk_bool(p, F_HTTP2_FLAGS_PADDED, padded, 4, 1);
	if (type == H2_HEADERS) pk_bool(p, F_HTTP2_FLAGS_PRIORITY, flags & H2_FLAG_PRIORITY, 4, 1);
	if (type == H2_SETTINGS || type == H2_PING) pk_bool(p, F_HTTP2_FLAGS_ACK, flags & H2_FLAG_ACK, 4, 1);
	struct sbuf *sb = app_info(p, "HTTP2");
	if (sb) sb_printf(sb, "%s[%u]", vn_name(vn_http2_type, type, "Unknown"), stream);
	if (type == H2_DATA && (flags & H2_FLAG_END_STREAM) && sb) /* the body is whole: its type, as tshark shows it */
		for (int i = 0; i < 4; i++)
			if (s->ctypes[dir][i].stream == stream && s->ctypes[dir][i].type[0])
				sb_printf(sb, " (%s)", s->ctypes[dir][i].type);
	if (!payload) {
		pk_uint(p, F_HTTP2_DATA_DATA_LEN, len, 9, 0);
		pk_proto_end(p, tslot, &c);
		pk_proto_end(p, slot, &c);
		return;
	}
	uint8_t pad = 0;
	if (padded) pad = pk_u8(p, &c, F_HTTP2_PADDING);
	struct cur body = c;
	if (pad > cur_left(&body)) {
		pk_broken(p, "http2", "Padding exceeds frame length");
		pad = 0;
	}
	body.end -= pad;
	switch (type) {
	case H2_DATA: {
		pk_uint(p, F_HTTP2_DATA_DATA_LEN, cur_left(&body), cur_off(&body), 0);
		struct h2_body *db = doh_body(s, dir, stream, false);
		if (db) {
			if (!app_buf_append(&db->buf, &db->len, &db->cap, body.pos, cur_left(&body), DOH_MAX_BODY)) db->len = 0;
			if (flags & H2_FLAG_END_STREAM) doh_message(p, db);
		}
		break;
	}
	case H2_HEADERS:
		if (flags & H2_FLAG_PRIORITY) {
			uint32_t off = cur_off(&body);
			uint32_t dep = cur_be32(&body);
			pk_bool(p, F_HTTP2_EXCL_DEPENDENCY, dep >> 31, off, 4);
			pk_uint(p, F_HTTP2_STREAM_DEPENDENCY, dep & 0x7fffffffu, off, 4);
			pk_u8(p, &body, F_HTTP2_WEIGHT);
		}
		if (!body.err) fragment(s, p, dir, stream, type, flags & H2_FLAG_END_HEADERS, body.pos, cur_left(&body));
		break;
	case H2_PRIORITY: {
		uint32_t off = cur_off(&body);
		uint32_t dep = cur_be32(&body);
		pk_bool(p, F_HTTP2_EXCL_DEPENDENCY, dep >> 31, off, 4);
		pk_uint(p, F_HTTP2_STREAM_DEPENDENCY, dep & 0x7fffffffu, off, 4);
		pk_u8(p, &body, F_HTTP2_WEIGHT);
		break;
	}
	case H2_RST_STREAM:
		pk_be32(p, &body, F_HTTP2_RST_STREAM_ERROR);
		break;
	case H2_SETTINGS:
		settings(s, p, dir, &body);
		break;
	case H2_PUSH_PROMISE: {
		uint32_t off = cur_off(&body);
		pk_uint(p, F_HTTP2_PUSH_PROMISE_PROMISED_STREAM_ID, cur_be32(&body) & 0x7fffffffu, off, 4);
		if (!body.err) fragment(s, p, dir, stream, type, flags & H2_FLAG_END_HEADERS, body.pos, cur_left(&body));
		break;
	}
	case H2_PING:
		if (cur_left(&body) >= 8) pk_bytes_copy(p, F_HTTP2_PING, body.pos, 8, cur_off(&body), 8);
		break;
	case H2_GOAWAY: {
		uint32_t off = cur_off(&body);
		pk_uint(p, F_HTTP2_GOAWAY_LAST_STREAM_ID, cur_be32(&body) & 0x7fffffffu, off, 4);
		pk_be32(p, &body, F_HTTP2_GOAWAY_ERROR);
		break;
	}
	case H2_WINDOW_UPDATE: {
		uint32_t off = cur_off(&body);
		pk_uint(p, F_HTTP2_WINDOW_UPDATE_WINDOW_SIZE_INCREMENT, cur_be32(&body) & 0x7fffffffu, off, 4);
		break;
	}
	case H2_CONTINUATION:
		if (s->hdr_open[dir]) fragment(s, p, dir, stream, s->hdr_type[dir], flags & H2_FLAG_END_HEADERS, body.pos, cur_left(&body));
		break;
	default:
		break;
	}
	c.pos = c.end;
	pk_proto_end(p, tslot, &c);
	pk_proto_end(p, slot, &c);
}

static void frame(struct h2_state *s, struct packet *p, int dir, const uint8_t *b, size_t len, bool payload)
{
	size_t n = 9 + (payload ? len : 0);
	struct pk_msg msg = pk_msg_begin(p, b, n, PB_REASSEMBLED);
	frame_body(s, p, dir, b, len, payload);
	pk_msg_end(p, msg, n);
}

long h2_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need)
{
	if (!a->h2) a->h2 = xcalloc(1, sizeof *a->h2);
	struct h2_state *s = a->h2;
	if (dir == 0 && !s->preface_done && n && b[0] == 'P') {
		if (n < PREFACE_LEN) {
			*need = PREFACE_LEN;
			return 0;
		}
		if (memcmp(b, preface, PREFACE_LEN) != 0) return -1;
		s->preface_done = true;
		struct cur c = cur_make(b, PREFACE_LEN);
		int slot = app_proto(p, F_HTTP2, &c);
		pk_string(p, F_HTTP2_MAGIC, preface, PREFACE_LEN, 0, PREFACE_LEN);
		c.pos = c.end;
		pk_proto_end(p, slot, &c);
		struct sbuf *sb = app_info(p, "HTTP2");
		if (sb) sb_puts(sb, "Magic");
		return PREFACE_LEN;
	}
	if (dir == 0) s->preface_done = true;
	if (n < 9) {
		*need = 9;
		return 0;
	}
	struct cur h = cur_make(b, 9); /* length (3), type, flags, stream id (RFC 9113 §4.1) */
	size_t len = cur_be24(&h);
	uint8_t type = cur_u8(&h);
	cur_u8(&h);
	uint32_t sid = cur_be32(&h) & 0x7fffffffu;
	if (len > H2_MAX_FRAME) return -1;
	if (type == H2_DATA && len > 0 && !(len <= DOH_MAX_BODY && doh_body(s, dir, sid, false))) {
		/* DATA: the payload is passed over (unless it carries a DoH message) */
		frame(s, p, dir, b, len, false);
		a->dir[dir].skip = len;
		return 9;
	}
	if (n < 9 + len) {
		if (9 + len > APP_MAX_MSG) { /* too big to keep: skip it; a header block breaks HPACK */
			if (type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION) s->broken[dir] = true;
			frame(s, p, dir, b, len, false);
			a->dir[dir].skip = len;
			return 9;
		}
		*need = 9 + len;
		return 0;
	}
	frame(s, p, dir, b, len, true);
	return (long)(9 + len);
}
