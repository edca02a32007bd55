/* cli/cmd_diff.c — `pktscope diff A B`: which packets two captures of the same traffic
 * share and which only one has, and in which conversations (analysis/diff.h). Exit status
 * as diff(1): 0 the same packets, 1 different, 2 trouble. */
#include "analysis/diff.h"
#include "capture/capture.h"
#include "cli/cli.h"
#include "dissect/decoders.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "util/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { DIFF_SAME = 0, DIFF_DIFFERENT = 1, DIFF_TROUBLE = 2 };
#define DIFF_SHOWN 20 /* extras listed per side without --all */

static const char diff_usage[] =
	"usage: pktscope diff [OPTIONS] A B\n"
	"\n"
	"Compares two captures of the same traffic packet by packet: bytes, timestamps left\n"
	"out; copies of a packet match in order. Exit status 0: the same packets, 1: different,\n"
	"2: trouble (a file that cannot be read, bad usage).\n"
	"\n"
	"  --ignore F,...   leave these fields' bytes out of the comparison (repeatable), e.g.\n"
	"                   ip.ttl,ip.checksum,eth.src,eth.dst for the two sides of a router\n"
	"  --all            list every packet only one side has (default: the first 20 each)\n"
	"  --json           one JSON object instead of text\n"
	"  -h, --help       this text\n";

struct diff_opts {
	const char *path[2];
	int ignore[DIFF_MAX_IGNORE];
	int nignore;
	bool all, json;
};

#define usage(...) (cli_usage_error(diff_usage, __VA_ARGS__), DIFF_TROUBLE)

static int add_ignored(struct diff_opts *o, const char *list)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save = NULL, *f = strtok_r(buf, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		int id = field_by_name(f, strlen(f));
		if (id < 0) {
			const char *s = field_suggest(f);
			if (s) cli_error("unknown field \"%s\" — did you mean \"%s\"?", f, s);
			else cli_error("unknown field \"%s\"", f);
			return -1;
		}
		if (!field_is_packet_local(id) || field_defs[id].type == FT_PROTO) {
			cli_error("--ignore takes fields of a packet's own headers (ip.ttl, eth.src …), not \"%s\"", f);
			return -1;
		}
		if (o->nignore == DIFF_MAX_IGNORE) {
			cli_error("at most %d fields can be ignored", DIFF_MAX_IGNORE);
			return -1;
		}
		o->ignore[o->nignore++] = id;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct diff_opts *o)
{
	static const struct option longopts[] = {
		{ "ignore", required_argument, NULL, 'I' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'I':
			if (add_ignored(o, optarg) < 0) return DIFF_TROUBLE;
			break;
		case 'a': o->all = true; break;
		case 'j': o->json = true; break;
		case 'h': fputs(diff_usage, stdout); return -1;
		case ':': return usage("%s needs an argument", argv[optind - 1]);
		default: return usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2) return usage("%s", "diff takes two capture files, A and B");
	o->path[0] = argv[optind];
	o->path[1] = argv[optind + 1];
	return 0;
}

/* ---- what the extras are: a line each, and their conversations ---- */

#define MAX_CONVS 4096 /* conversations listed; the rest are counted together */

struct conv {
	char name[128];       /* "tcp 10.0.0.1:443 ↔ 10.0.0.2:5555", endpoints in a fixed order */
	uint64_t only[2];
	int64_t stream[2];    /* its tcp.stream / udp.stream in A and in B (-1: not known) */
};

/* The extras of one side, by frame number, and the stream each belongs to in its file. */
struct side_streams {
	uint64_t *frames;
	int64_t *streams;     /* NULL: the file could not be read again (standard input) */
	size_t n, cap, next;
};

struct report {
	struct packet *p;
	struct sbuf *out;
	bool json;
	bool first_item;
	int64_t first_sec[2];
	uint32_t first_nsec[2];
	struct conv *convs;
	size_t nconvs;
	uint64_t other_convs[2];
	struct side_streams ss[2];
};

/* The conversation a packet belongs to, endpoints in a fixed order: "tcp A:p ↔ B:q". */
static void conversation(const struct packet *p, char *out, size_t n)
{
	char a[64] = "", b[64] = "";
	struct sbuf sa, sb;
	sb_init_fixed(&sa, a, sizeof a - 1);
	sb_init_fixed(&sb, b, sizeof b - 1);
	uint64_t sport = 0, dport = 0;
	const char *proto = NULL;
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		if (f->id == F_TCP_SRCPORT || f->id == F_UDP_SRCPORT) sport = f->v.u;
		if (f->id == F_TCP_DSTPORT || f->id == F_UDP_DSTPORT) {
			dport = f->v.u;
			proto = f->id == F_TCP_DSTPORT ? "tcp" : "udp";
		}
	}
	const struct addr *s = p->net_src.type ? &p->net_src : &p->dl_src, *d = p->net_src.type ? &p->net_dst : &p->dl_dst;
	bool ip = s->type == AT_IPV4 || s->type == AT_IPV6;
	if (!ip) proto = s->type == AT_ETHER ? "eth" : "other";
	else if (!proto) proto = s->type == AT_IPV4 ? "ip" : "ipv6";
	if (s->type == AT_IPV4) sb_ipv4(&sa, s->a);
	else if (s->type == AT_IPV6) sb_ipv6(&sa, s->a);
	else if (s->type == AT_ETHER) sb_mac(&sa, s->a);
	if (d->type == AT_IPV4) sb_ipv4(&sb, d->a);
	else if (d->type == AT_IPV6) sb_ipv6(&sb, d->a);
	else if (d->type == AT_ETHER) sb_mac(&sb, d->a);
	if (dport || sport) {
		sb_printf(&sa, ":%" PRIu64, sport);
		sb_printf(&sb, ":%" PRIu64, dport);
	}
	sb_cstr(&sa);
	sb_cstr(&sb);
	bool swap = strcmp(a, b) > 0;
	snprintf(out, n, "%s %s ↔ %s", proto, swap ? b : a, swap ? a : b);
}

static void count_conv(struct report *r, int side, const char *name, int64_t stream)
{
	for (size_t i = 0; i < r->nconvs; i++)
		if (!strcmp(r->convs[i].name, name)) {
			r->convs[i].only[side]++;
			if (r->convs[i].stream[side] < 0) r->convs[i].stream[side] = stream;
			return;
		}
	if (r->nconvs == MAX_CONVS) {
		r->other_convs[side]++;
		return;
	}
	r->convs = xrealloc(r->convs, (r->nconvs + 1) * sizeof *r->convs);
	struct conv *c = &r->convs[r->nconvs++];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->only[side] = 1;
	c->stream[0] = c->stream[1] = -1;
	c->stream[side] = stream;
}

static void on_extra_frame(void *ctx, int side, const struct pkt_meta *m, const uint8_t *data)
{
	(void)data;
	struct side_streams *ss = &((struct report *)ctx)->ss[side];
	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? ss->cap * 2 : 256;
		ss->frames = xrealloc(ss->frames, ss->cap * sizeof *ss->frames);
	}
	ss->frames[ss->n++] = m->number;
}

/* The tcp.stream or udp.stream of each extra frame, as read numbers them: the file is
 * decoded again with its conversations tracked, up to the last extra. Standard input
 * cannot be read twice: its extras are named by their endpoints only. */
static void find_streams(const char *path, struct side_streams *ss)
{
	if (!ss->n || !strcmp(path, "-")) return;
	char err[512];
	struct pkt_source *src = src_open_file(path, err, sizeof err);
	if (!src) return;
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	field_mask_add(&mask, F_TCP_STREAM);
	field_mask_add(&mask, F_UDP_STREAM);
	struct pipeline_needs needs = { .extra = &mask };
	struct pipeline *pl = pipeline_new(&needs);
	ss->streams = xmalloc(ss->n * sizeof *ss->streams);
	size_t k = 0;
	struct pkt_meta m;
	const uint8_t *data;
	for (uint64_t num = 1; k < ss->n && src_next(src, &m, &data) == SRC_OK; num++) {
		m.number = num;
		struct packet *p = pipeline_decode_quiet(pl, &m, data);
		if (num != ss->frames[k]) continue;
		int64_t stream = -1;
		for (uint16_t i = 0; i < p->nfields && stream < 0; i++)
			if ((p->fields[i].id == F_TCP_STREAM || p->fields[i].id == F_UDP_STREAM) && !p->fields[i].nest)
				stream = (int64_t)p->fields[i].v.u;
		ss->streams[k++] = stream;
	}
	for (; k < ss->n; k++) ss->streams[k] = -1;
	pipeline_free(pl);
	src_close(src);
}

static void decode_alone(struct report *r, int side, const struct pkt_meta *m, const uint8_t *data)
{
	packet_begin(r->p, m, data);
	pk_set_relative(r->p, r->first_sec[side], r->first_nsec[side]);
	dissect_frame(r->p);
}

static void on_extra_line(void *ctx, int side, const struct pkt_meta *m, const uint8_t *data)
{
	struct report *r = ctx;
	decode_alone(r, side, m, data);
	if (!r->json) {
		sb_puts(r->out, "  ");
		out_text_line(r->out, r->p);
		return;
	}
	char line[1024];
	struct sbuf l;
	sb_init_fixed(&l, line, sizeof line - 1);
	out_text_line(&l, r->p);
	if (l.len && line[l.len - 1] == '\n') l.len--;
	sb_printf(r->out, "%s{\"frame\":%" PRIu64 ",\"line\":", r->first_item ? "" : ",", m->number);
	sb_json_str(r->out, line, l.len);
	sb_putc(r->out, '}');
	r->first_item = false;
}

static void on_extra_conv(void *ctx, int side, const struct pkt_meta *m, const uint8_t *data)
{
	struct report *r = ctx;
	decode_alone(r, side, m, data);
	char name[128];
	conversation(r->p, name, sizeof name);
	struct side_streams *ss = &r->ss[side];
	int64_t stream = -1;
	while (ss->streams && ss->next < ss->n && ss->frames[ss->next] < m->number) ss->next++;
	if (ss->streams && ss->next < ss->n && ss->frames[ss->next] == m->number) stream = ss->streams[ss->next];
	count_conv(r, side, name, stream);
}

/* "tcp.stream 12 tcp 10.0.0.1:443 ↔ …" or, when the files number it apart, "tcp.stream
 * 12 in A, 14 in B …": the name read -Y 'tcp.stream == 12' finds it by. */
static void conv_label(const struct conv *c, char *out, size_t n)
{
	const char *sp = strchr(c->name, ' ');
	size_t plen = sp ? (size_t)(sp - c->name) : 0;
	bool udp = plen == 3 && !strncmp(c->name, "udp", 3), tcp = plen == 3 && !strncmp(c->name, "tcp", 3);
	int64_t a = c->stream[0], b = c->stream[1];
	if ((!tcp && !udp) || (a < 0 && b < 0)) {
		snprintf(out, n, "%s", c->name);
	} else if (a >= 0 && b >= 0 && a != b) {
		snprintf(out, n, "%s.stream %" PRId64 " in A, %" PRId64 " in B %s", udp ? "udp" : "tcp", a, b, sp + 1);
	} else {
		snprintf(out, n, "%s.stream %" PRId64 " %s", udp ? "udp" : "tcp", a >= 0 ? a : b, sp + 1);
	}
}

static int cmp_conv(const void *a, const void *b)
{
	const struct conv *x = a, *y = b;
	uint64_t nx = x->only[0] + x->only[1], ny = y->only[0] + y->only[1];
	if (nx != ny) return nx > ny ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void print_report(struct diff *d, const struct diff_opts *o, struct report *r)
{
	struct diff_totals t = diff_totals(d);
	struct sbuf *out = r->out;
	for (int side = 0; side < 2; side++) {
		diff_extras(d, side, 0, on_extra_frame, r);
		find_streams(o->path[side], &r->ss[side]);
		diff_extras(d, side, 0, on_extra_conv, r);
	}
	if (r->nconvs) qsort(r->convs, r->nconvs, sizeof *r->convs, cmp_conv);
	uint64_t max = o->all ? 0 : DIFF_SHOWN;
	if (o->json) {
		sb_puts(out, "{\"a\":{\"file\":");
		sb_json_str(out, o->path[0], strlen(o->path[0]));
		sb_printf(out, ",\"packets\":%" PRIu64 "},\"b\":{\"file\":", t.packets[0]);
		sb_json_str(out, o->path[1], strlen(o->path[1]));
		sb_printf(out, ",\"packets\":%" PRIu64 "},\"common\":%" PRIu64 ",\"only_a\":%" PRIu64 ",\"only_b\":%" PRIu64,
			  t.packets[1], t.common, t.only[0], t.only[1]);
		sb_printf(out, ",\"peak_waiting\":%" PRIu64 ",\"ignored\":[", t.peak_waiting);
		for (int i = 0; i < o->nignore; i++)
			sb_printf(out, "%s\"%s\"", i ? "," : "", field_defs[o->ignore[i]].name);
		for (int side = 0; side < 2; side++) {
			sb_puts(out, side ? "],\"extras_b\":[" : "],\"extras_a\":[");
			r->first_item = true;
			diff_extras(d, side, max, on_extra_line, r);
		}
		sb_puts(out, "],\"conversations\":[");
		for (size_t i = 0; i < r->nconvs; i++) {
			sb_puts(out, i ? ",{\"conversation\":" : "{\"conversation\":");
			sb_json_str(out, r->convs[i].name, strlen(r->convs[i].name));
			for (int side = 0; side < 2; side++)
				if (r->convs[i].stream[side] >= 0)
					sb_printf(out, ",\"stream_%c\":%" PRId64, 'a' + side, r->convs[i].stream[side]);
			sb_printf(out, ",\"only_a\":%" PRIu64 ",\"only_b\":%" PRIu64 "}", r->convs[i].only[0], r->convs[i].only[1]);
		}
		sb_puts(out, "]}\n");
		return;
	}
	sb_printf(out, "A: %s: %" PRIu64 " packets\nB: %s: %" PRIu64 " packets\n", o->path[0], t.packets[0], o->path[1],
		  t.packets[1]);
	if (o->nignore) {
		sb_puts(out, "ignored:");
		for (int i = 0; i < o->nignore; i++) sb_printf(out, " %s", field_defs[o->ignore[i]].name);
		sb_putc(out, '\n');
	}
	sb_printf(out, "common: %" PRIu64 "\nonly in A: %" PRIu64 "\nonly in B: %" PRIu64 "\n", t.common, t.only[0], t.only[1]);
	for (int side = 0; side < 2; side++) {
		if (!t.only[side]) continue;
		if (max && t.only[side] > max)
			sb_printf(out, "\nOnly in %c (the first %" PRIu64 " of %" PRIu64 "; --all for every one):\n", 'A' + side, max,
				  t.only[side]);
		else
			sb_printf(out, "\nOnly in %c:\n", 'A' + side);
		diff_extras(d, side, max, on_extra_line, r);
	}
	if (r->nconvs) {
		sb_puts(out, "\nWhere they differ:\n");
		for (size_t i = 0; i < r->nconvs; i++) {
			const struct conv *c = &r->convs[i];
			char label[192];
			conv_label(c, label, sizeof label);
			sb_printf(out, "  %s:", label);
			if (c->only[0]) sb_printf(out, " %" PRIu64 " only in A%s", c->only[0], c->only[1] ? "," : "");
			if (c->only[1]) sb_printf(out, " %" PRIu64 " only in B", c->only[1]);
			sb_putc(out, '\n');
		}
		if (r->other_convs[0] || r->other_convs[1])
			sb_printf(out, "  (more conversations: %" PRIu64 " only in A, %" PRIu64 " only in B)\n", r->other_convs[0],
				  r->other_convs[1]);
	}
}

static int run_diff(int argc, char **argv)
{
	struct diff_opts o;
	dissect_init(); /* --ignore looks fields up */
	int rc = parse_args(argc, argv, &o);
	if (rc) return rc < 0 ? DIFF_SAME : rc;
	struct pkt_source *src[2] = { NULL, NULL };
	for (int side = 0; side < 2; side++) {
		char err[512];
		if (!strcmp(o.path[side], "-") && side == 1 && !strcmp(o.path[0], "-")) {
			cli_error("%s", "only one of A and B can be standard input");
			if (src[0]) src_close(src[0]);
			return DIFF_TROUBLE;
		}
		src[side] = src_open_file(o.path[side], err, sizeof err);
		if (!src[side]) {
			cli_error("%s: %s", o.path[side], err);
			if (side) src_close(src[0]);
			return DIFF_TROUBLE;
		}
	}
	struct diff *d = diff_new(o.ignore, o.nignore);
	struct report r = { .p = packet_new(), .json = o.json };
	bool done[2] = { false, false }, first[2] = { true, true };
	uint64_t n[2] = { 0, 0 };
	int status = DIFF_SAME;
	while (!done[0] || !done[1]) {
		int side = diff_next_side(d);
		if (done[side]) side = !side;
		struct pkt_meta m;
		const uint8_t *data;
		enum src_status st = src_next(src[side], &m, &data);
		if (st == SRC_EOF) {
			done[side] = true;
			continue;
		}
		if (st == SRC_ERROR) {
			cli_error("%s: %s (after %" PRIu64 " packets)", o.path[side], src_error(src[side]), n[side]);
			status = DIFF_TROUBLE;
			break;
		}
		m.number = ++n[side];
		if (first[side]) {
			first[side] = false;
			r.first_sec[side] = m.ts_sec;
			r.first_nsec[side] = m.ts_nsec;
		}
		diff_add(d, side, &m, data);
	}
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	r.out = &out;
	if (status != DIFF_TROUBLE) {
		print_report(d, &o, &r);
		struct diff_totals t = diff_totals(d);
		status = t.only[0] || t.only[1] ? DIFF_DIFFERENT : DIFF_SAME;
	}
	sb_flush(&out);
	if (out.werr && out.werr != EPIPE) {
		cli_error("writing output: %s", strerror(out.werr));
		status = DIFF_TROUBLE;
	}
	sb_free(&out);
	free(r.convs);
	for (int side = 0; side < 2; side++) {
		free(r.ss[side].frames);
		free(r.ss[side].streams);
	}
	packet_free(r.p);
	diff_free(d);
	src_close(src[0]);
	src_close(src[1]);
	return status;
}

const struct command cmd_diff = { "diff", "compare two captures of the same traffic, packet by packet", run_diff };
