/* pipeline/passes.c — first passes over a file, before the pass that shows it: the
 * answers tshark's -2 finds, and the quick pass of a packet-local filter. */
#include "capture/capture.h"
#include "pipeline/pipeline.h"
#include "dissect/keylog.h"
#include "util/xalloc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The file again, with the run's capture filter, its decryption secrets going to keys
 * (NULL: none); NULL when it cannot be read (the main pass says why). */
static struct pkt_source *open_again(const char *path, const char *bpf, struct keylog *keys)
{
	char err[512];
	struct pkt_source *src = src_open_file(path, err, sizeof err);
	if (src && bpf && src_set_bpf(src, bpf, err, sizeof err) < 0) {
		src_close(src);
		return NULL;
	}
	if (src && keys) src_set_secrets(src, keylog_dsb, keys);
	return src;
}

struct frame_links *pipeline_find_answers(const char *path, const char *bpf, uint64_t count, struct keylog *keys)
{
	struct pkt_source *src = open_again(path, bpf, keys);
	if (!src) return NULL;
	struct frame_links *links = frame_links_new();
	struct packet *p = packet_new();
	struct flow_tracker *tracker = flow_tracker_new(NULL, NULL, NULL);
	flow_tracker_set_app(tracker, true);
	p->tracker = flow_tracker_iface(tracker);
	p->keylog = keys;
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	static const int wanted[] = { F_DNS_ID, F_DNS_RESPONSE_TO, F_HTTP_REQUEST_IN, F_ICMP_IDENT, F_ICMP_SEQ,
				      F_ICMP_RESP_TO, F_ICMPV6_ECHO_IDENTIFIER, F_ICMPV6_ECHO_SEQUENCE_NUMBER,
				      F_ICMPV6_RESP_TO, F_IP_FRAGMENT, F_IP_FRAGMENT_ERROR, F_IPV6_FRAGMENT,
				      F_IPV6_FRAGMENT_ERROR };
	for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) field_mask_add(&mask, wanted[i]);
	p->mask = &mask;
	p->no_columns = true;
	p->links_pass = true;
	uint64_t n = 0;
	struct pkt_meta m;
	const uint8_t *data;
	while (src_next(src, &m, &data) == SRC_OK) {
		m.number = ++n;
		packet_begin(p, &m, data);
		dissect_frame(p);
		uint32_t dns_id = 0, echo_id = 0, echo_seq = 0; /* recorded before the link field */
		for (uint16_t i = 0; i < p->nfields; i++) {
			const struct fval *f = &p->fields[i];
			if (f->nest) continue;
			if (f->id == F_DNS_ID) dns_id = (uint32_t)f->v.u;
			else if (f->id == F_DNS_RESPONSE_TO) frame_links_add(links, LINK_DNS, f->v.u, dns_id, n);
			else if (f->id == F_HTTP_REQUEST_IN) frame_links_add(links, LINK_HTTP, f->v.u, 0, n);
			else if (f->id == F_ICMP_IDENT || f->id == F_ICMPV6_ECHO_IDENTIFIER) echo_id = (uint32_t)f->v.u;
			else if (f->id == F_ICMP_SEQ || f->id == F_ICMPV6_ECHO_SEQUENCE_NUMBER) echo_seq = (uint32_t)f->v.u;
			else if (f->id == F_ICMP_RESP_TO || f->id == F_ICMPV6_RESP_TO)
				frame_links_add(links, LINK_ECHO, f->v.u, echo_id << 16 | echo_seq, n);
			else if ((f->id == F_IP_FRAGMENT || f->id == F_IP_FRAGMENT_ERROR) && f->v.u != n)
				frame_links_add(links, LINK_IPFRAG, f->v.u, 4, n);
			else if ((f->id == F_IPV6_FRAGMENT || f->id == F_IPV6_FRAGMENT_ERROR) && f->v.u != n)
				frame_links_add(links, LINK_IPFRAG, f->v.u, 6, n);
		}
		if (count && n >= count) break;
	}
	flow_tracker_finish(tracker);
	flow_tracker_free(tracker);
	packet_free(p);
	src_close(src);
	frame_links_seal(links);
	return links;
}

bool pipeline_set_reference(const char *path, const char *bpf, uint64_t n, struct df_filter *filter,
			    struct keylog *keys)
{
	struct pkt_source *src = open_again(path, bpf, keys);
	if (!src) return false;
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	df_reference_mask_add(filter, &mask);
	struct pipeline_needs needs = { .extra = &mask, .keylog = keys };
	struct pipeline *pl = pipeline_new(&needs);
	bool found = false;
	struct pkt_meta m;
	const uint8_t *data;
	for (uint64_t k = 1; k <= n && src_next(src, &m, &data) == SRC_OK; k++) {
		m.number = k;
		struct packet *p = k == n ? pipeline_decode(pl, &m, data) : pipeline_decode_quiet(pl, &m, data);
		if (k == n) {
			df_set_reference(filter, p);
			found = true;
		}
	}
	pipeline_free(pl);
	src_close(src);
	return found;
}

int64_t pipeline_first_stream(const char *path, const char *bpf, uint64_t count, const struct df_filter *filter,
			      uint8_t proto, struct keylog *keys)
{
	struct pkt_source *src = open_again(path, bpf, keys);
	if (!src) return -1;
	int want = proto == 6 ? F_TCP_STREAM : F_UDP_STREAM;
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	field_mask_add(&mask, want);
	struct pipeline_needs needs = { .filter = filter, .extra = &mask, .keylog = keys };
	struct pipeline *pl = pipeline_new(&needs);
	int64_t stream = -1;
	struct pkt_meta m;
	const uint8_t *data;
	for (uint64_t k = 1; stream < 0 && (!count || k <= count) && src_next(src, &m, &data) == SRC_OK; k++) {
		m.number = k;
		struct packet *p = pipeline_decode_quiet(pl, &m, data);
		if (!pipeline_match(pl, p)) continue;
		for (uint16_t i = 0; i < p->nfields && stream < 0; i++)
			if (p->fields[i].id == want && !p->fields[i].nest) stream = (int64_t)p->fields[i].v.u;
	}
	pipeline_free(pl);
	src_close(src);
	return stream;
}

/* ---- a quick first pass that finds the matching frames ----
 *
 * A filter such as `tcp.port == 443 and ip.src == 10.0.0.1` can be judged from each
 * packet's own bytes, without conversation tracking, application decoders or columns.
 * So a file is first read with only the fields the filter needs: that finds the matching
 * frames, and the conversations they belong to. The full pipeline then runs only where
 * the output needs it: not at all when nothing matched; for text and -w output, only on
 * the conversations with a match (what a matched packet shows — relative sequence
 * numbers, TCP analysis, application Info — comes from its own conversation); for JSON
 * and -T fields, which show tcp.stream (numbered over every conversation), on all
 * packets, with columns built for none. What is printed is what the single pass prints.
 *
 * A filter over conversation or application fields (dns.qry.name, tcp.analysis.*) runs in
 * the one pass: measured, a first pass with tracking costs what it would save. */
static bool bit(const uint8_t *map, uint64_t n) { return map[n >> 3] & (1u << (n & 7)); }
static void set_bit(uint8_t *map, uint64_t n) { map[n >> 3] |= (uint8_t)(1u << (n & 7)); }

/* The packet's conversation, the same for both directions: outermost addresses,
 * innermost unquoted ports; 0 for packets outside IP (each stands alone). Two
 * conversations with the same key only cost decoding the other one too, so a fast
 * unkeyed mix is enough here. */
static uint64_t conversation_key(const struct packet *p)
{
	if (p->net_src.type != AT_IPV4 && p->net_src.type != AT_IPV6) return 0;
	uint32_t ports[2] = { 0, 0 }, proto = 0;
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		if (f->id == F_TCP_SRCPORT || f->id == F_UDP_SRCPORT) ports[0] = (uint32_t)f->v.u;
		else if (f->id == F_TCP_DSTPORT || f->id == F_UDP_DSTPORT) ports[1] = (uint32_t)f->v.u;
		if (f->id == F_TCP_SRCPORT) proto = 6;
		else if (f->id == F_UDP_SRCPORT) proto = 17;
	}
	struct end { uint8_t a[16]; uint32_t port; } ends[2];
	memset(ends, 0, sizeof ends);
	memcpy(ends[0].a, p->net_src.a, p->net_src.len);
	memcpy(ends[1].a, p->net_dst.a, p->net_dst.len);
	ends[0].port = ports[0];
	ends[1].port = ports[1];
	bool swap = memcmp(&ends[0], &ends[1], sizeof ends[0]) > 0;
	struct { struct end lo, hi; uint32_t proto; } k;
	memset(&k, 0, sizeof k);
	k.lo = ends[swap];
	k.hi = ends[!swap];
	k.proto = proto | (uint32_t)p->net_src.type << 8;
	uint64_t h = 0x9e3779b97f4a7c15u, w[sizeof k / 8 + 1];
	memset(w, 0, sizeof w);
	memcpy(w, &k, sizeof k);
	for (size_t i = 0; i < sizeof w / 8; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	return h ? h : 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

bool prefilter_run(const char *path, const char *bpf, uint64_t count, const struct df_filter *filter,
		   bool by_conversation, volatile const sig_atomic_t *stop, const struct prefilter_hook *hook,
		   struct prefilter *pf)
{
	*pf = (struct prefilter){ .first_linktype = LT_ETHERNET };
	struct pkt_source *src = open_again(path, bpf, NULL);
	if (!src) return false;
	struct packet *p = packet_new();
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	df_mask_add(filter, &mask);
	static const int key_fields[] = { F_TCP_SRCPORT, F_TCP_DSTPORT, F_UDP_SRCPORT, F_UDP_DSTPORT };
	for (size_t i = 0; i < sizeof key_fields / sizeof key_fields[0]; i++) field_mask_add(&mask, key_fields[i]);
	if (hook && hook->fields)
		for (size_t i = 0; i < sizeof mask.bits; i++) mask.bits[i] |= hook->fields->bits[i];
	p->mask = &mask;
	p->no_columns = true;
	p->skip_apps = true;
	size_t cap = 1u << 16;
	uint64_t *keys = by_conversation ? xmalloc(cap * sizeof *keys) : NULL;
	uint64_t *frags = NULL; /* frames with IP fragments: always decoded again */
	size_t nfrags = 0, frags_cap = 0;
	pf->matched = xcalloc(cap / 8 + 1, 1);
	uint64_t n = 0;
	int64_t first_sec = 0;
	uint32_t first_nsec = 0;
	struct pkt_meta m;
	const uint8_t *data;
	bool ok = true;
	for (;;) {
		enum src_status st = src_next(src, &m, &data);
		if (st != SRC_OK) {
			ok = st == SRC_EOF;
			break;
		}
		m.number = ++n;
		if (n == 1) {
			first_sec = m.ts_sec;
			first_nsec = m.ts_nsec;
			pf->first_linktype = m.linktype;
		}
		if (n >= cap) {
			size_t ncap = cap * 2;
			pf->matched = xrealloc(pf->matched, ncap / 8 + 1);
			memset(pf->matched + cap / 8 + 1, 0, ncap / 8 - cap / 8);
			if (keys) keys = xrealloc(keys, ncap * sizeof *keys);
			cap = ncap;
		}
		packet_begin(p, &m, data);
		pk_set_relative(p, first_sec, first_nsec);
		dissect_frame(p);
		if (hook && hook->fn) hook->fn(hook->ctx, p);
		if (df_match(filter, p)) {
			set_bit(pf->matched, n);
			pf->nmatched++;
		}
		if (keys) keys[n] = conversation_key(p);
		if (keys && p->ip_fragment) { /* the datagram it is part of is decoded from it too */
			if (nfrags == frags_cap) {
				frags_cap = frags_cap ? frags_cap * 2 : 64;
				frags = xrealloc(frags, frags_cap * sizeof *frags);
			}
			frags[nfrags++] = n;
		}
		if ((count && n >= count) || (stop && *stop)) break;
	}
	pf->nframes = n;
	packet_free(p);
	src_close(src);
	if (keys && ok && pf->nmatched) {
		/* the conversations with a match, then every frame of them */
		uint64_t *hit = xmalloc(pf->nmatched * sizeof *hit);
		size_t nhit = 0;
		for (uint64_t i = 1; i <= n; i++)
			if (bit(pf->matched, i) && keys[i]) hit[nhit++] = keys[i];
		qsort(hit, nhit, sizeof *hit, cmp_u64);
		pf->relevant = xcalloc(n / 8 + 1, 1);
		for (uint64_t i = 1; i <= n; i++)
			if (bit(pf->matched, i) || (keys[i] && bsearch(&keys[i], hit, nhit, sizeof *hit, cmp_u64)))
				set_bit(pf->relevant, i);
		for (size_t i = 0; i < nfrags; i++) set_bit(pf->relevant, frags[i]);
		free(hit);
	}
	free(keys);
	free(frags);
	if (!ok) {
		free(pf->matched);
		pf->matched = NULL;
	}
	return ok;
}

void prefilter_free(struct prefilter *pf)
{
	free(pf->matched);
	free(pf->relevant);
}
