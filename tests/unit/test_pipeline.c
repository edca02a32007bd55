/* tests/unit/test_pipeline.c — the pipeline decides how the engine runs from what a run
 * needs, so one filter selects the same frames whatever the run does with them: printed
 * as text, as NDJSON, as -T fields, written to pcap or pcapng, counted. (Issue 11: capture
 * -w -Y on an application field matched nothing, because capture decided by itself that
 * the application decoders could stay off.) Runs over the bundled lab sample. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "output/output.h"
#include "pipeline/pipeline.h"

static const char *sample;
static const char *corpus; /* ../shared/corpus, or NULL */

/* A file decoded packet by packet by a pipeline for `needs`. */
struct file_run {
	struct pkt_source *src;
	struct pipeline *pl;
	uint64_t n;
};

static void run_open(struct file_run *r, const char *path, const struct pipeline_needs *needs)
{
	char err[256];
	r->src = src_open_file(path, err, sizeof err);
	assert_non_null(r->src);
	r->pl = pipeline_new(needs);
	r->n = 0;
}

/* The next packet decoded (numbered from 1), or NULL at the end. */
static struct packet *run_next(struct file_run *r)
{
	struct pkt_meta m;
	const uint8_t *d;
	if (src_next(r->src, &m, &d) != SRC_OK) return NULL;
	m.number = ++r->n;
	return pipeline_decode(r->pl, &m, d);
}

static void run_close(struct file_run *r)
{
	pipeline_free(r->pl);
	src_close(r->src);
}

#define MAX_FRAMES 4096

/* The frames `filter` selects over the sample when the run needs `needs`. */
static size_t matches(const struct df_filter *filter, struct pipeline_needs needs, uint64_t *frames)
{
	needs.filter = filter;
	struct file_run r;
	run_open(&r, sample, &needs);
	size_t n = 0;
	struct packet *p;
	while ((p = run_next(&r)))
		if (pipeline_match(r.pl, p) && n < MAX_FRAMES) frames[n++] = r.n;
	run_close(&r);
	return n;
}

static void same_frames_for_every_run(const char *text, size_t at_least)
{
	struct df_error ferr;
	struct df_filter *f = df_compile(text, &ferr);
	assert_non_null(f);
	static const int shown[] = { F_FRAME_NUMBER, F_IP_SRC };
	const struct pipeline_needs runs[] = {
		{ .columns = true },                            /* read: text lines */
		{ .all_fields = true, .columns = true },        /* read --json, capture --json */
		{ .fields = shown, .nfields = 2 },              /* read -T fields */
		{ 0 },                                          /* read -w x.pcap, capture -w x.pcap */
		{ .comments = true },                           /* -w x.pcapng: pktscope's comments */
		{ .stats = true },                              /* --stats conv,tcp */
	};
	static uint64_t want[MAX_FRAMES], got[MAX_FRAMES];
	size_t nwant = matches(f, runs[0], want);
	assert_true(nwant >= at_least);
	for (size_t r = 1; r < sizeof runs / sizeof runs[0]; r++) {
		size_t ngot = matches(f, runs[r], got);
		if (ngot != nwant || memcmp(want, got, nwant * sizeof want[0])) {
			fprintf(stderr, "%s: run %zu selects %zu frames, text selects %zu\n", text, r, ngot, nwant);
			fail();
		}
	}
	df_free(f);
}

static void app_field_sni(void **s)
{
	(void)s;
	same_frames_for_every_run("tls.handshake.extensions_server_name", 1);
}

static void app_field_http_host(void **s)
{
	(void)s;
	same_frames_for_every_run("http.host == \"10.77.0.2\" or http.response.code == 200", 2);
}

static void app_field_dns(void **s)
{
	(void)s;
	same_frames_for_every_run("dns.qry.name contains \"example\"", 1);
}

static void flow_field(void **s)
{
	(void)s;
	same_frames_for_every_run("tcp.analysis.flags or tcp.stream == 3", 1);
}

static void packet_local_field(void **s)
{
	(void)s;
	same_frames_for_every_run("tcp.port == 443 and ip.src == 10.77.0.1", 1);
}

static void decisions(void **s)
{
	(void)s;
	struct df_error ferr;
	struct df_filter *sni = df_compile("tls.sni", &ferr), *port = df_compile("tcp.port == 443", &ferr);
	struct pipeline *pl = pipeline_new(&(struct pipeline_needs){ .filter = sni });
	assert_true(pipeline_runs_apps(pl));
	assert_non_null(pipeline_mask(pl));
	pipeline_free(pl);
	pl = pipeline_new(&(struct pipeline_needs){ .filter = port });
	assert_false(pipeline_runs_apps(pl)); /* nothing shows the application layers' work */
	pipeline_free(pl);
	pl = pipeline_new(&(struct pipeline_needs){ .filter = port, .columns = true });
	assert_true(pipeline_runs_apps(pl)); /* Info shows it */
	pipeline_free(pl);
	pl = pipeline_new(&(struct pipeline_needs){ .all_fields = true });
	assert_null(pipeline_mask(pl));
	pipeline_free(pl);
	df_free(sni);
	df_free(port);
}

/* ---- names learned from the traffic (the egress monitor's hook) ---- */

struct names_seen {
	char lines[16][128];
	int n;
};

static void on_name(void *ctx, const struct packet *p, const struct name_event *e)
{
	struct names_seen *ns = ctx;
	static const char *const src[] = { "dns", "sni", "host" };
	char addr[64];
	if (e->family == 4) snprintf(addr, sizeof addr, "%u.%u.%u.%u", e->addr[0], e->addr[1], e->addr[2], e->addr[3]);
	else snprintf(addr, sizeof addr, "%x:...:%x", e->addr[0] << 8 | e->addr[1], e->addr[14] << 8 | e->addr[15]);
	if (ns->n < 16)
		snprintf(ns->lines[ns->n++], sizeof ns->lines[0], "%llu %s %.*s -> %s port %u%s%.*s",
			 (unsigned long long)p->meta.number, src[e->source], (int)e->len, (const char *)e->name, addr,
			 e->port, e->query ? " asked " : "", (int)e->query_len, e->query ? (const char *)e->query : "");
}

/* A run that needs nothing but the names gets every one: the pipeline records the fields
 * and runs the application decoders for it. */
static void names_learned(void **s)
{
	(void)s;
	struct names_seen ns = { .n = 0 };
	struct file_run r;
	run_open(&r, sample, &(struct pipeline_needs){ .names = on_name, .names_ctx = &ns });
	while (run_next(&r)) {
	}
	run_close(&r);
	static const char *const want[] = {
		"19 dns www.example.test -> 10.77.0.2 port 0 asked www.example.test",
		"21 dns www.example.test -> fd77:...:2 port 0 asked www.example.test",
		"39 sni www.example.test -> 10.77.0.2 port 443",
		"61 sni api.example.test -> 10.77.0.2 port 443",
		"76 sni www.example.test -> fd77:...:2 port 443",
		"95 host 10.77.0.2 -> 10.77.0.2 port 80",
		"105 host 10.77.0.2 -> 10.77.0.2 port 80",
		"115 host [fd77::2] -> fd77:...:2 port 80",
		"125 host 10.77.0.2:8080 -> 10.77.0.2 port 8080", /* HTTP/2's :authority */
	};
	assert_int_equal(ns.n, sizeof want / sizeof want[0]);
	for (int i = 0; i < ns.n; i++) assert_string_equal(ns.lines[i], want[i]);
}

/* ---- repeated structures: each value knows which one it belongs to ---- */

/* The nearest ancestor of field i with field id `id`, or NULL. */
static const struct fval *ancestor(const struct packet *p, uint16_t i, enum field_id id)
{
	for (uint16_t k = p->fields[i].parent, hops = 0; k != PKT_NO_PARENT && k < p->nfields && hops < 64; hops++) {
		if (p->fields[k].id == id) return &p->fields[k];
		k = p->fields[k].parent;
	}
	return NULL;
}

/* Several DNS answers, several TLS extensions: every value's parent is the head of its own
 * record or extension (the record's name, the extension's type), never a neighbour's. */
static void repeated_structures(const char *path, uint64_t *answers, uint64_t *ext_values)
{
	struct file_run r;
	run_open(&r, path, &(struct pipeline_needs){ .all_fields = true, .columns = true });
	struct packet *p;
	while ((p = run_next(&r))) {
		for (uint16_t i = 0; i < p->nfields; i++) {
			const struct fval *f = &p->fields[i], *head;
			switch (f->id) {
			case F_DNS_A: case F_DNS_AAAA: case F_DNS_RESP_TTL: case F_DNS_RESP_TYPE:
				/* under its own record's name: the name recorded just before its type */
				head = ancestor(p, i, F_DNS_RESP_NAME);
				assert_non_null(head);
				assert_true(head < f);
				for (const struct fval *g = head + 1; g < f; g++) assert_int_not_equal(g->id, F_DNS_RESP_NAME);
				*answers += f->id == F_DNS_A || f->id == F_DNS_AAAA;
				break;
			case F_DNS_QRY_TYPE:
				assert_non_null(ancestor(p, i, F_DNS_QRY_NAME));
				break;
			case F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME:
				head = ancestor(p, i, F_TLS_HANDSHAKE_EXTENSION_TYPE);
				assert_non_null(head);
				assert_int_equal(head->v.u, 0); /* server_name */
				++*ext_values;
				break;
			case F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_GROUP:
				head = ancestor(p, i, F_TLS_HANDSHAKE_EXTENSION_TYPE);
				assert_non_null(head);
				assert_int_equal(head->v.u, 10); /* supported_groups */
				++*ext_values;
				break;
			case F_TLS_HANDSHAKE_EXTENSIONS_ALPN_STR:
				head = ancestor(p, i, F_TLS_HANDSHAKE_EXTENSION_TYPE);
				assert_non_null(head);
				assert_int_equal(head->v.u, 16); /* ALPN */
				++*ext_values;
				break;
			case F_TLS_HANDSHAKE_EXTENSION_LEN:
				/* each extension's length under its own type, recorded just before it */
				assert_ptr_equal(&p->fields[f->parent], f - 1);
				assert_int_equal(f[-1].id, F_TLS_HANDSHAKE_EXTENSION_TYPE);
				break;
			default:
				break;
			}
		}
	}
	run_close(&r);
}

static void repeated_structures_have_their_own_parents(void **s)
{
	(void)s;
	uint64_t answers = 0, ext_values = 0;
	repeated_structures(sample, &answers, &ext_values);
	if (corpus) { /* browsers' hellos: dozens of extensions each */
		char path[4096];
		snprintf(path, sizeof path, "%s/ja4/pcap/browsers-x509.pcapng", corpus);
		repeated_structures(path, &answers, &ext_values);
	}
	assert_true(answers >= 2);
	assert_true(ext_values >= 10);
}

/* ---- what the flow tracker reports (the monitor's and the index's hook) ---- */

struct flows_seen {
	uint64_t created, ended, packets;
};

static void seen_new(void *ctx, const struct flow *f, const struct packet *p)
{
	struct flows_seen *fs = ctx;
	assert_int_equal(f->serial, fs->created); /* in the order the table makes them */
	(void)p;
	fs->created++;
}

static void seen_packet(void *ctx, const struct flow *f, const struct packet *p)
{
	(void)f;
	(void)p;
	((struct flows_seen *)ctx)->packets++;
}

static void seen_end(void *ctx, const struct flow *f)
{
	(void)f;
	((struct flows_seen *)ctx)->ended++;
}

/* Every flow the tracker makes is reported made, its packets reported, and it is reported
 * ended by the end of the input; the packets reported are every tracked packet. */
static void observer_reports(void **s)
{
	(void)s;
	struct flows_seen fs = { 0 };
	const struct flow_observer obs = { seen_new, seen_packet, seen_end, &fs };
	struct file_run r;
	run_open(&r, sample, &(struct pipeline_needs){ .columns = true });
	flow_tracker_add_observer(pipeline_tracker(r.pl), &obs);
	uint64_t tracked = 0;
	struct packet *p;
	while ((p = run_next(&r)))
		tracked += p->l3_src.type == AT_IPV4 || p->l3_src.type == AT_IPV6; /* every IP packet has a flow */
	pipeline_finish(r.pl);
	struct flow_stats st;
	flow_table_stats(flow_tracker_table(pipeline_tracker(r.pl)), &st);
	assert_true(fs.created > 10);
	assert_int_equal(fs.created, st.flows_created);
	assert_int_equal(fs.ended, fs.created);
	assert_int_equal(fs.packets, tracked);
	run_close(&r);
}

/* ---- two engines in one process ---- */

#define MAX_PACKETS 512

static uint64_t fnv(const char *b, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)b[i]) * 0x100000001b3u;
	return h;
}

/* NDJSON and the text line of a decoded packet, hashed. */
static uint64_t shown(const struct packet *p)
{
	static char buf[1u << 20];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	out_json_packet(&sb, p);
	out_text_line(&sb, p);
	assert_false(sb.trunc);
	return fnv(sb.buf, sb.len);
}

static const struct pipeline_needs everything = { .all_fields = true, .columns = true };

/* What one engine alone shows for the packets of path from the skip+1-th on. */
static size_t alone(const char *path, int skip, uint64_t *out)
{
	struct file_run r;
	run_open(&r, path, &everything);
	struct pkt_meta m;
	const uint8_t *d;
	for (int i = 0; i < skip; i++) assert_int_equal(src_next(r.src, &m, &d), SRC_OK);
	struct packet *p;
	while (r.n < MAX_PACKETS && (p = run_next(&r))) out[r.n - 1] = shown(p);
	size_t n = r.n;
	run_close(&r);
	return n;
}

/* Two pipelines over the same capture, one packet apart, each decoding its packet before
 * either is shown: each must show what it shows alone. Decoder state that lived in process
 * globals (QUIC's decrypted payload, the reassembly and RTT accounts, the sink packet, the
 * TLS hello) would leak from one into the other. */
static void two_engines_side_by_side(const char *path)
{
	static uint64_t solo_a[MAX_PACKETS], solo_b[MAX_PACKETS];
	size_t na = alone(path, 0, solo_a), nb = alone(path, 1, solo_b);
	assert_true(na > 1 && nb == na - 1);
	char err[256];
	struct pkt_source *sa = src_open_file(path, err, sizeof err), *sb = src_open_file(path, err, sizeof err);
	struct pipeline *a = pipeline_new(&everything), *b = pipeline_new(&everything);
	struct pkt_meta ma, mb;
	const uint8_t *da, *db;
	assert_int_equal(src_next(sb, &mb, &db), SRC_OK);
	for (size_t i = 0; i < nb; i++) {
		assert_int_equal(src_next(sa, &ma, &da), SRC_OK);
		assert_int_equal(src_next(sb, &mb, &db), SRC_OK);
		ma.number = mb.number = i + 1;
		struct packet *pa = pipeline_decode(a, &ma, da), *pb = pipeline_decode(b, &mb, db);
		if (shown(pa) != solo_a[i] || shown(pb) != solo_b[i]) {
			fprintf(stderr, "%s: packet %zu shows otherwise beside another engine\n", path, i + 1);
			fail();
		}
	}
	pipeline_free(a);
	pipeline_free(b);
	src_close(sa);
	src_close(sb);
}

static void two_engines_lab(void **s)
{
	(void)s;
	two_engines_side_by_side(sample);
}

static void two_engines_quic(void **s)
{
	(void)s;
	if (!corpus) {
		fprintf(stderr, "SKIP two_engines_quic: no corpus\n");
		return;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/tcpdump/pcap/quic_handshake.pcap", corpus);
	two_engines_side_by_side(path);
}

/* ---- decoding one packet again ---- */

/* Everything a packet record says, hashed: each field's id, depth, sign, range, buffer,
 * parent and value (bytes compared by content), the columns and the Info line, the layers. */
static uint64_t record_of(const struct packet *p)
{
	static char buf[1u << 20];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		sb_put(&sb, (const char *)f, offsetof(struct fval, v)); /* id .. parent: no padding */
		switch (field_defs[f->id].type) {
		case FT_BYTES: case FT_STRING: sb_put(&sb, (const char *)f->v.b.p, f->v.b.n); break;
		case FT_IPV4: sb_put(&sb, (const char *)f->v.addr, 4); break;
		case FT_IPV6: sb_put(&sb, (const char *)f->v.addr, 16); break;
		case FT_ETHER: sb_put(&sb, (const char *)f->v.addr, 6); break;
		case FT_ABSTIME: case FT_EPOCH: case FT_RELTIME:
			sb_put(&sb, (const char *)&f->v.t.sec, 8);
			sb_put(&sb, (const char *)&f->v.t.nsec, 4);
			break;
		case FT_PROTO: case FT_NONE: break;
		default: sb_put(&sb, (const char *)&f->v.u, 8); break;
		}
		const uint8_t *b;
		uint32_t n;
		if (field_defs[f->id].type == FT_PROTO && pk_field_bytes(p, f, &b, &n)) sb_put(&sb, (const char *)b, n);
	}
	sb_put(&sb, (const char *)p->protos, p->nprotos * sizeof p->protos[0]);
	out_text_line(&sb, p);
	assert_false(sb.trunc);
	return fnv(sb.buf, sb.len);
}

/* Every packet of a capture decoded again on demand equals its streaming decode. */
static void redecode_equals_stream(const char *path)
{
	static uint64_t want[8192];
	char err[512];
	struct frame_links *links = pipeline_find_answers(path, NULL, 0, NULL);
	struct packet_index *ix = pindex_new(links);
	struct pipeline_needs needs = { .all_fields = true, .columns = true, .layer_bytes = true, .links = links };
	struct pipeline_needs indexed = needs;
	indexed.index = ix;
	struct file_run r;
	run_open(&r, path, &indexed);
	struct packet *p;
	while (r.n < 8192 && (p = run_next(&r))) want[r.n - 1] = record_of(p);
	uint64_t n = r.n;
	pipeline_free(r.pl);
	struct pkt_source *src = r.src; /* kept open: the on-demand decodes read it again */
	assert_int_equal(pindex_count(ix), n);
	size_t bad = 0;
	for (uint64_t k = n; k >= 1; k--) { /* from the end: every read goes back in the file */
		const struct packet *again = pindex_decode(ix, src, k, &needs, err, sizeof err);
		if (!again) {
			fprintf(stderr, "%s: packet %llu: %s\n", path, (unsigned long long)k, err);
			fail();
		}
		if (record_of(again) != want[k - 1] && bad++ < 5)
			fprintf(stderr, "%s: packet %llu decoded again differs\n", path, (unsigned long long)k);
	}
	assert_int_equal(bad, 0);
	char e2[64];
	assert_null(pindex_decode(ix, src, n + 1, &needs, e2, sizeof e2));
	pindex_free(ix);
	frame_links_free(links);
	src_close(src);
}

static void redecode_lab(void **s)
{
	(void)s;
	redecode_equals_stream(sample);
}

static void redecode_corpus(void **s)
{
	(void)s;
	if (!corpus) {
		fprintf(stderr, "SKIP redecode_corpus: no corpus\n");
		return;
	}
	/* retransmissions, dup ACKs, out-of-order segments; a ClientHello reassembled from
	 * many segments; HTTP/2 and TLS 1.3 from browsers; several pcapng sections; DNS
	 * answers in IPv4 and IPv6 fragments (a flow whose packets complete datagrams) */
	static const char *const files[] = { "ndpi/pcap/tls_with_huge_ch.pcapng", "ja4/pcap/browsers-x509.pcapng",
					     "tcpdump/pcap/quic_handshake.pcap", "ndpi/pcap/dns_fragmented.pcap",
					     "zeek/traces/ipv6-fragmented-dns.pcap" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", corpus, files[i]);
		redecode_equals_stream(path);
	}
	char multi[4096]; /* several sections, link types and interfaces: samples/../tests/golden/pcap */
	snprintf(multi, sizeof multi, "%.*s/../tests/golden/pcap/multi.pcapng", (int)(strrchr(sample, '/') - sample), sample);
	redecode_equals_stream(multi);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_pipeline SAMPLE.pcapng [CORPUS_DIR]\n");
		return 2;
	}
	sample = argv[1];
	if (argc > 2) {
		FILE *f = fopen(argv[2], "r");
		if (f) {
			corpus = argv[2];
			fclose(f);
		}
	}
	dissect_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(app_field_sni),       cmocka_unit_test(app_field_http_host),
		cmocka_unit_test(app_field_dns),       cmocka_unit_test(flow_field),
		cmocka_unit_test(packet_local_field),  cmocka_unit_test(decisions),
		cmocka_unit_test(two_engines_lab),     cmocka_unit_test(two_engines_quic),
		cmocka_unit_test(redecode_lab),        cmocka_unit_test(redecode_corpus),
		cmocka_unit_test(names_learned),       cmocka_unit_test(observer_reports),
		cmocka_unit_test(repeated_structures_have_their_own_parents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
