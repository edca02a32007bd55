/* tests/unit/test_app.c — the application decoders through the stream driver: a real TLS
 * ClientHello (lab frame 39) split across segments decodes only when whole, and to the same
 * fingerprints as in one piece; DNS over TCP with two messages in one segment; pipelined
 * HTTP with a chunked body; RFC 7541's HPACK example; hostile lengths stay bounded. */
#include "helpers.h"
#include "frames.h"

#include "dissect/app_internal.h"

#include <stdio.h>

static struct packet pkt;
static uint64_t frame_no;

static struct packet *next_packet(void)
{
	dissect_init();
	frame_no++;
	struct pkt_meta m = { .number = frame_no, .ts_digits = 6, .ts_sec = (int64_t)frame_no };
	packet_begin(&pkt, &m, NULL);
	return &pkt;
}

static bool str_is(const struct fval *f, const char *s)
{
	return f && f->v.b.n == strlen(s) && memcmp(f->v.b.p, s, f->v.b.n) == 0;
}

/* The ClientHello's TCP payload in lab frame 39: Ethernet 14 + IPv4 20 + TCP 32 bytes in. */
#define HELLO_OFF 66
#define HELLO_LEN 517

static void check_hello(const struct packet *p)
{
	assert_true(str_is(f1(p, "tls.handshake.extensions_server_name"), "www.example.test"));
	assert_true(str_is(f1(p, "tls.handshake.ja4"), "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"));
	assert_true(str_is(f1(p, "tls.handshake.ja3"), "0149f47eabf9a20d0893e2a44e5a6323"));
	assert_int_equal(fu(p, "tls.handshake.type"), 1);
}

static void test_tls_hello_whole(void **state)
{
	(void)state;
	struct app_flow *a = NULL;
	struct packet *p = next_packet();
	assert_true(app_stream_data(&a, p, 0, 33516, 443, tls_client_hello + HELLO_OFF, HELLO_LEN));
	check_hello(p);
	app_flow_free(a);
}

static void test_tls_hello_split_across_segments(void **state)
{
	(void)state;
	struct app_flow *a = NULL;
	const uint8_t *h = tls_client_hello + HELLO_OFF;
	struct packet *p = next_packet();
	app_stream_data(&a, p, 0, 33516, 443, h, 3); /* inside the record header */
	assert_false(has(p, "tls.handshake.extensions_server_name"));
	p = next_packet();
	app_stream_data(&a, p, 0, 33516, 443, h + 3, 200); /* inside the hello */
	assert_false(has(p, "tls.handshake.type"));
	p = next_packet();
	app_stream_data(&a, p, 0, 33516, 443, h + 203, HELLO_LEN - 203); /* completes it */
	check_hello(p);
	app_flow_free(a);
}

/* The bytes a field describes (issue 11: slices of application layers read the frame at
 * the message's offset). A hello within the frame is described in frame offsets; one
 * collected from segments is a buffer of the packet, kept only when the run asks. */
static bool bytes_are(const struct packet *p, const struct fval *f, const void *want, size_t n)
{
	const uint8_t *b;
	uint32_t len;
	return f && pk_field_bytes(p, f, &b, &len) && len >= n && memcmp(b, want, n) == 0;
}

static void test_field_buffers_in_frame(void **state)
{
	(void)state;
	struct app_flow *a = NULL;
	dissect_init();
	struct pkt_meta m = { .number = ++frame_no, .ts_digits = 6, .caplen = sizeof tls_client_hello,
			      .wirelen = sizeof tls_client_hello };
	packet_begin(&pkt, &m, tls_client_hello);
	app_stream_data(&a, &pkt, 0, 33516, 443, tls_client_hello + HELLO_OFF, HELLO_LEN);
	const struct fval *tls = f1(&pkt, "tls"), *sni = f1(&pkt, "tls.handshake.extensions_server_name");
	assert_non_null(tls);
	assert_int_equal(tls->buf, 0);
	assert_int_equal(tls->off, HELLO_OFF);
	assert_true(bytes_are(&pkt, tls, "\x16\x03\x01", 3));
	/* the name's range is where the frame holds it */
	assert_int_equal(sni->buf, 0);
	assert_memory_equal(tls_client_hello + sni->off, "www.example.test", 16);
	/* its parents, as Wireshark's tree: the handshake message, its record, the TLS layer */
	const struct fval *hs = &pkt.fields[sni->parent];
	while (hs->id != F_TLS_HANDSHAKE && hs->parent != PKT_NO_PARENT) hs = &pkt.fields[hs->parent];
	assert_int_equal(hs->id, F_TLS_HANDSHAKE);
	const struct fval *rec = &pkt.fields[hs->parent];
	assert_int_equal(rec->id, F_TLS_RECORD);
	assert_ptr_equal(&pkt.fields[rec->parent], tls);
	assert_int_equal(tls->parent, PKT_NO_PARENT);
	app_flow_free(a);
}

static void test_field_buffers_reassembled(void **state)
{
	(void)state;
	const uint8_t *h = tls_client_hello + HELLO_OFF;
	for (int keep = 0; keep < 2; keep++) {
		struct app_flow *a = NULL;
		struct packet *p = next_packet();
		app_stream_data(&a, p, 0, 33516, 443, h, 300);
		p = next_packet();
		p->keep_bufs = keep;
		app_stream_data(&a, p, 0, 33516, 443, h + 300, HELLO_LEN - 300);
		check_hello(p);
		const struct fval *tls = f1(p, "tls"), *sni = f1(p, "tls.handshake.extensions_server_name");
		assert_true(tls->buf > 0 && tls->buf < p->nbufs);
		assert_int_equal(p->bufs[tls->buf].kind, PB_REASSEMBLED);
		assert_int_equal(p->bufs[tls->buf].n, HELLO_LEN);
		assert_int_equal(sni->buf, tls->buf);
		if (keep) {
			assert_true(bytes_are(p, tls, h, HELLO_LEN));
			assert_true(bytes_are(p, sni, "www.example.test", 16));
		} else { /* not kept: no value rather than the wrong bytes */
			const uint8_t *b;
			uint32_t n;
			assert_false(pk_field_bytes(p, tls, &b, &n));
		}
		p->keep_bufs = false;
		app_flow_free(a);
	}
}

/* A handshake message too long to collect (zeek's tls-fragmented-handshake: a 500 KB
 * certificate chain in 400 records) is passed over by its length: the ServerHelloDone in
 * the record that ends it is still decoded. */
static void test_tls_handshake_longer_than_collected(void **state)
{
	(void)state;
	static uint8_t rec[5 + 16384];
	const size_t body = APP_MAX_MSG + 40000; /* the certificate message's length */
	size_t sent = 0, total = 4 + body;
	struct app_flow *a = NULL;
	struct packet *p = NULL;
	while (sent < total) {
		size_t k = total - sent < 16000 ? total - sent : 16000, n = 0;
		uint8_t *d = rec + 5;
		if (sent == 0) { /* the message's header: Certificate, its length */
			d[n++] = 11;
			d[n++] = (uint8_t)(body >> 16);
			d[n++] = (uint8_t)(body >> 8);
			d[n++] = (uint8_t)body;
		}
		while (n < k) d[n++] = 0x30;
		sent += k;
		if (sent == total) { /* ServerHelloDone after it, in the same record */
			static const uint8_t done[4] = { 14, 0, 0, 0 };
			memcpy(d + n, done, 4);
			n += 4;
		}
		rec[0] = 0x16;
		rec[1] = 3;
		rec[2] = 3;
		rec[3] = (uint8_t)(n >> 8);
		rec[4] = (uint8_t)n;
		p = next_packet();
		app_stream_data(&a, p, 1, 40000, 443, rec, 5 + n);
	}
	assert_int_equal(fu(p, "tls.handshake.type"), 14);
	assert_true(a->tls->hs_len[1] == 0 && a->tls->hs_skip[1] == 0);
	app_flow_free(a);
}

static void test_tls_hostile_handshake_length(void **state)
{
	(void)state;
	/* a record announcing a 16 MB handshake message in 4-byte records: collected only
	 * up to APP_MAX_MSG, never decoded, never a crash */
	static uint8_t rec[9] = { 0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff };
	struct app_flow *a = NULL;
	for (int i = 0; i < 70000; i++) {
		struct packet *p = next_packet();
		app_stream_data(&a, p, 0, 40000, 443, rec, sizeof rec);
		assert_false(has(p, "tls.handshake.type"));
	}
	assert_true(a->tls->hs_len[0] <= APP_MAX_MSG);
	app_flow_free(a);
}

static void test_dns_over_tcp_two_messages_in_one_segment(void **state)
{
	(void)state;
	const uint8_t *q = dns_query_udp + 42; /* the UDP payload of lab frame 18 */
	size_t n = sizeof dns_query_udp - 42;
	uint8_t seg[2 * (2 + 128)];
	size_t k = 0;
	for (int i = 0; i < 2; i++) {
		seg[k++] = (uint8_t)(n >> 8);
		seg[k++] = (uint8_t)n;
		memcpy(seg + k, q, n);
		k += n;
	}
	struct app_flow *a = NULL;
	struct packet *p = next_packet();
	app_stream_data(&a, p, 0, 38117, 53, seg, k);
	assert_true(str_is(fnth(p, "dns.qry.name", 0), "www.example.test"));
	assert_true(str_is(fnth(p, "dns.qry.name", 1), "www.example.test"));
	assert_int_equal(fu(p, "dns.length"), n);
	app_flow_free(a);
}

static void test_http_pipelined_and_chunked(void **state)
{
	(void)state;
	static const char req[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp1[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
				    "5\r\nhello\r\n";
	static const char resp2[] = "0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
	struct app_flow *a = NULL;
	struct packet *p = next_packet(); /* frame 1: both requests */
	uint64_t f_req = p->meta.number;
	app_stream_data(&a, p, 0, 50000, 80, (const uint8_t *)req, sizeof req - 1);
	assert_true(str_is(fnth(p, "http.request.uri", 0), "/a"));
	assert_true(str_is(fnth(p, "http.request.uri", 1), "/b"));
	p = next_packet(); /* the chunked response's header and first chunk: not complete */
	app_stream_data(&a, p, 1, 50000, 80, (const uint8_t *)resp1, sizeof resp1 - 1);
	assert_false(has(p, "http.response.code"));
	p = next_packet(); /* its last chunk, then the second response */
	app_stream_data(&a, p, 1, 50000, 80, (const uint8_t *)resp2, sizeof resp2 - 1);
	assert_int_equal(fnth(p, "http.response.code", 0)->v.u, 200);
	assert_int_equal(fnth(p, "http.response.code", 1)->v.u, 404);
	assert_int_equal(fnth(p, "http.request_in", 0)->v.u, f_req);
	assert_int_equal(fnth(p, "http.request_in", 1)->v.u, f_req);
	app_flow_free(a);
}

static void test_http_header_without_end_is_bounded(void **state)
{
	(void)state;
	static char line[4096];
	memset(line, 'a', sizeof line);
	memcpy(line, "GET / HTTP/1.1\r\nX: ", 19);
	struct app_flow *a = NULL;
	bool more = true;
	for (int i = 0; i < 100 && more; i++) more = app_stream_data(&a, next_packet(), 0, 50000, 80, (uint8_t *)line, sizeof line);
	assert_true(a->dir[0].dead); /* gave up past APP_MAX_MSG without a blank line */
	assert_true(a->dir[0].cap <= APP_MAX_MSG);
	app_flow_free(a);
}

static void test_http_many_pipelined_in_one_buffer(void **state)
{
	(void)state;
	/* a request cut before its blank line, then 150 more in one segment: all decoded in
	 * the packet that completes them, from the collect buffer in one pass */
	static const char first[] = "GET /0 HTTP/1.1\r\n";
	static char rest[2 + 150 * 24];
	size_t k = 0;
	rest[k++] = '\r';
	rest[k++] = '\n';
	for (int i = 1; i <= 150; i++) k += (size_t)snprintf(rest + k, sizeof rest - k, "GET /%d HTTP/1.1\r\n\r\n", i);
	struct app_flow *a = NULL;
	app_stream_data(&a, next_packet(), 0, 50000, 80, (const uint8_t *)first, sizeof first - 1);
	struct packet *p = next_packet();
	app_stream_data(&a, p, 0, 50000, 80, (const uint8_t *)rest, k);
	assert_true(str_is(fnth(p, "http.request.uri", 0), "/0"));
	assert_true(str_is(fnth(p, "http.request.uri", 150), "/150"));
	assert_null(fnth(p, "http.request.uri", 151));
	assert_int_equal(a->dir[0].len, 0);
	app_flow_free(a);
}

struct hdrs {
	char buf[512];
	size_t len;
};

static void collect(void *ctx, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	struct hdrs *h = ctx;
	h->len += (size_t)snprintf(h->buf + h->len, sizeof h->buf - h->len, "%.*s: %.*s\n", (int)nlen, name, (int)vlen, value);
}

static void test_hpack_rfc7541_c41(void **state)
{
	(void)state;
	/* RFC 7541 Appendix C.4.1: a request with Huffman-coded strings */
	static const uint8_t block[] = { 0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5,
					 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff };
	struct hpack *h = hpack_new();
	struct hdrs out = { .len = 0 };
	assert_true(hpack_decode(h, block, sizeof block, true, collect, &out));
	assert_string_equal(out.buf, ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n");
	/* C.4.2 uses the entry C.4.1 put in the dynamic table (index 62) */
	static const uint8_t block2[] = { 0x82, 0x86, 0x84, 0xbe, 0x58, 0x86, 0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf };
	out.len = 0;
	out.buf[0] = '\0';
	assert_true(hpack_decode(h, block2, sizeof block2, true, collect, &out));
	assert_string_equal(out.buf, ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\ncache-control: no-cache\n");
	/* an index past both tables breaks the block */
	static const uint8_t bad[] = { 0xff, 0x7f };
	assert_false(hpack_decode(h, bad, sizeof bad, true, collect, &out));
	hpack_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_hello_whole),
		cmocka_unit_test(test_tls_hello_split_across_segments),
		cmocka_unit_test(test_field_buffers_in_frame),
		cmocka_unit_test(test_field_buffers_reassembled),
		cmocka_unit_test(test_tls_handshake_longer_than_collected),
		cmocka_unit_test(test_tls_hostile_handshake_length),
		cmocka_unit_test(test_dns_over_tcp_two_messages_in_one_segment),
		cmocka_unit_test(test_http_pipelined_and_chunked),
		cmocka_unit_test(test_http_header_without_end_is_bounded),
		cmocka_unit_test(test_http_many_pipelined_in_one_buffer),
		cmocka_unit_test(test_hpack_rfc7541_c41),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
