/* cli/cmd_read.c — `pktscope read FILE`: decode a capture file and print one line per
 * packet, NDJSON (--json) or chosen fields (-T fields -e …). Streams: memory does not grow
 * with the file. */
#include "capture/capture.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/writer.h"
#include "dissect/dissect.h"
#include "filter/filter.h"
#include "flow/flow.h"
#include "output/output.h"
#include "util/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUF_SIZE (1u << 20)
#define MAX_FIELD_COLUMNS 256

enum out_mode { MODE_TEXT, MODE_JSON, MODE_FIELDS, MODE_FOLLOW };

struct read_opts {
	const char *path;
	uint64_t count; /* 0: all */
	enum out_mode mode;
	int fields[MAX_FIELD_COLUMNS];
	int nfields;
	char sep;
	struct follow follow;
	struct stats_request stats[16];
	int nstats;
	bool two_pass;
	const char *display_filter;  /* -Y */
	const char *capture_filter;  /* -f */
	const char *write_path;      /* -w */
	bool write_pcapng;           /* --pcapng */
	const char *config_path;     /* --config */
};

static const char read_usage[] =
	"usage: pktscope read [OPTIONS] FILE\n"
	"       pktscope read [OPTIONS] -r FILE     (FILE '-' reads standard input)\n"
	"\n"
	"  -Y FILTER       show (or write, or count) only packets the display filter matches:\n"
	"                  Wireshark's language, e.g. 'tcp.port == 443 and ip.src == 10.0.0.1'\n"
	"  -f BPF          capture filter (tcpdump's syntax) applied while reading: packets it\n"
	"                  rejects are left out as if never captured (and not numbered)\n"
	"  -w OUT          write the packets (those -Y matches) to OUT instead of printing\n"
	"                  them ('-' for standard output): pcap, or pcapng with --pcapng or a\n"
	"                  .pcapng name (every interface, packet comments kept)\n"
	"  --pcapng        write pcapng with -w\n"
	"  --config FILE   the configuration file (default $XDG_CONFIG_HOME/pktscope/config.toml\n"
	"                  or ~/.config/pktscope/config.toml); -Y :NAME uses its saved filter NAME\n"
	"  -c N            stop after N packets read\n"
	"  -2              two passes, as tshark -2: a first pass finds the frames that answer\n"
	"                  DNS queries and HTTP requests (dns.response_in, http.response_in);\n"
	"                  on by itself when -e asks for those fields (not on standard input)\n"
	"  --json          NDJSON: one object per packet (shape: see README)\n"
	"  -T fields       print the fields named with -e, tab-separated\n"
	"  -e FIELD        a field for -T fields (Wireshark names: ip.src, tcp.dstport …)\n"
	"  -E separator=C  column separator for -T fields (default tab)\n"
	"  --follow P,M,N  follow stream N: P tcp or udp, M ascii, hex or raw (tshark's -z follow)\n"
	"  --stats S       statistics instead of packets (repeatable): conv,T or endpoints,T with\n"
	"                  T eth, ip, ipv6, tcp or udp; phs; io,SECONDS; talkers (--json: JSON)\n"
	"  -h, --help      this text\n";

#define usage_error(...) cli_usage_error(read_usage, __VA_ARGS__)

static int parse_args(int argc, char **argv, struct read_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pcapng", no_argument, NULL, 'P' },
		{ "config", required_argument, NULL, 'C' },
		{ "follow", required_argument, NULL, 'F' },
		{ "stats", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct read_opts){ .sep = '\t' };
	bool fields_mode = false;
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":r:c:T:e:E:Y:f:w:h2", longopts, NULL)) != -1) {
		switch (ch) {
		case '2': o->two_pass = true; break;
		case 'Y': o->display_filter = optarg; break;
		case 'f': o->capture_filter = optarg; break;
		case 'w': o->write_path = optarg; break;
		case 'P': o->write_pcapng = true; break;
		case 'C': o->config_path = optarg; break;
		case 'r': o->path = optarg; break;
		case 'c':
			if (cli_parse_uint(optarg, 1, UINT64_MAX, &o->count) < 0) return usage_error("-c needs a positive packet count, not '%s'", optarg);
			break;
		case 'j': o->mode = MODE_JSON; break;
		case 'S': {
			char err[200];
			if (o->nstats == 16) return usage_error("%s", "at most 16 --stats");
			if (stats_request_parse(&o->stats[o->nstats], optarg, err, sizeof err) < 0) return usage_error("%s", err);
			o->nstats++;
			break;
		}
		case 'F': {
			char err[160];
			if (follow_parse(&o->follow, optarg, err, sizeof err) < 0) return usage_error("%s", err);
			o->mode = MODE_FOLLOW;
			break;
		}
		case 'T':
			if (strcmp(optarg, "fields")) return usage_error("-T takes 'fields' (for JSON use --json), not '%s'", optarg);
			fields_mode = true;
			break;
		case 'e': {
			int id = field_by_name(optarg, strlen(optarg));
			if (id < 0) {
				const char *s = field_suggest(optarg);
				if (s) cli_error("unknown field \"%s\" — did you mean \"%s\"?", optarg, s);
				else cli_error("unknown field \"%s\"", optarg);
				return EXIT_USAGE;
			}
			if (o->nfields == MAX_FIELD_COLUMNS) return usage_error("%s", "too many -e fields (the limit is 256)");
			o->fields[o->nfields++] = id;
			break;
		}
		case 'E':
			if (strncmp(optarg, "separator=", 10) || strlen(optarg) != 11)
				return usage_error("-E takes separator=C with one character, not '%s'", optarg);
			o->sep = optarg[10];
			break;
		case 'h': fputs(read_usage, stdout); return -1;
		case ':': return usage_error("option -%c needs a value", optopt);
		default:
			if (optopt) return usage_error("unknown option -%c", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->nstats && (o->mode == MODE_FOLLOW || fields_mode))
		return usage_error("%s", "--stats cannot be combined with --follow or -T fields");
	if (o->mode == MODE_FOLLOW && (fields_mode || o->nfields))
		return usage_error("%s", "--follow cannot be combined with -T fields");
	if (o->write_pcapng && !o->write_path) return usage_error("%s", "--pcapng goes with -w FILE");
	if (o->write_path && (fields_mode || o->mode != MODE_TEXT || o->nstats))
		return usage_error("%s", "-w writes packets: it cannot be combined with --json, -T fields, --follow or --stats");
	if (o->display_filter && o->mode == MODE_FOLLOW)
		return usage_error("%s", "--follow shows a whole stream: it cannot be combined with -Y");
	if (fields_mode) {
		if (o->mode == MODE_JSON) return usage_error("%s", "-T fields and --json cannot be combined");
		if (!o->nfields) return usage_error("%s", "-T fields needs at least one -e FIELD");
		o->mode = MODE_FIELDS;
	} else if (o->nfields) {
		return usage_error("%s", "-e needs -T fields");
	}
	if (optind < argc) {
		if (o->path) return usage_error("give the file once (-r FILE or FILE), not also '%s'", argv[optind]);
		o->path = argv[optind++];
	}
	if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->path) return usage_error("%s", "no capture file given");
	return 0;
}


/* The first of two passes: decodes the file for DNS and HTTP answers only and returns
 * the links from each question to its answer (NULL when the file cannot be read again). */
static struct frame_links *first_pass(const char *path, const char *bpf, uint64_t count)
{
	char err[512];
	struct pkt_source *src = src_open_file(path, err, sizeof err);
	if (!src) return NULL;
	if (bpf && src_set_bpf(src, bpf, err, sizeof err) < 0) {
		src_close(src);
		return NULL;
	}
	struct frame_links *links = frame_links_new();
	struct packet *p = xcalloc(1, sizeof *p);
	struct flow_tracker *tracker = flow_tracker_new(NULL, NULL, NULL);
	flow_tracker_set_app(tracker, true);
	p->tracker = flow_tracker_iface(tracker);
	static struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	static const int wanted[] = { F_DNS_ID, F_DNS_RESPONSE_TO, F_HTTP_REQUEST_IN, F_ICMP_IDENT, F_ICMP_SEQ,
				      F_ICMP_RESP_TO, F_ICMPV6_ECHO_IDENTIFIER, F_ICMPV6_ECHO_SEQUENCE_NUMBER,
				      F_ICMPV6_RESP_TO };
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
		}
		if (count && n >= count) break;
	}
	flow_tracker_finish(tracker);
	flow_tracker_free(tracker);
	free(p);
	src_close(src);
	frame_links_seal(links);
	return links;
}

static volatile sig_atomic_t stop_requested;
static void request_stop(int sig) { (void)sig; stop_requested = 1; }

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
struct prefilter {
	uint8_t *matched;   /* bitmap by frame number */
	uint8_t *relevant;  /* frames the full pipeline must see (NULL: all) */
	uint64_t nframes, nmatched;
	int first_linktype;
};

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

/* Runs the first pass; false when the file cannot be read (the main pass reports why). */
static bool prefilter_run(const struct read_opts *o, const struct df_filter *filter, bool by_conversation,
			  struct prefilter *pf)
{
	char err[512];
	*pf = (struct prefilter){ .first_linktype = LT_ETHERNET };
	struct pkt_source *src = src_open_file(o->path, err, sizeof err);
	if (!src) return false;
	if (o->capture_filter && src_set_bpf(src, o->capture_filter, err, sizeof err) < 0) {
		src_close(src);
		return false;
	}
	struct packet *p = xcalloc(1, sizeof *p);
	static struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	df_mask_add(filter, &mask);
	static const int key_fields[] = { F_TCP_SRCPORT, F_TCP_DSTPORT, F_UDP_SRCPORT, F_UDP_DSTPORT };
	for (size_t i = 0; i < sizeof key_fields / sizeof key_fields[0]; i++) field_mask_add(&mask, key_fields[i]);
	p->mask = &mask;
	p->no_columns = true;
	p->skip_apps = true;
	size_t cap = 1u << 16;
	uint64_t *keys = by_conversation ? xmalloc(cap * sizeof *keys) : NULL;
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
		if (df_match(filter, p)) {
			set_bit(pf->matched, n);
			pf->nmatched++;
		}
		if (keys) keys[n] = conversation_key(p);
		if ((o->count && n >= o->count) || stop_requested) break;
	}
	pf->nframes = n;
	free(p);
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
		free(hit);
	}
	free(keys);
	if (!ok) {
		free(pf->matched);
		pf->matched = NULL;
	}
	return ok;
}

static void prefilter_free(struct prefilter *pf)
{
	free(pf->matched);
	free(pf->relevant);
}

static int run_read(int argc, char **argv)
{
	struct read_opts o;
	dissect_init(); /* field names are looked up while parsing -e */
	int rc = parse_args(argc, argv, &o);
	if (rc) return rc < 0 ? EXIT_OK : rc;

	for (int i = 0; i < o.nfields; i++)
		if (o.fields[i] == F_DNS_RESPONSE_IN || o.fields[i] == F_HTTP_RESPONSE_IN || o.fields[i] == F_ICMP_RESP_IN ||
		    o.fields[i] == F_ICMPV6_RESP_IN)
			o.two_pass = true;
	if (o.two_pass && !strcmp(o.path, "-"))
		return usage_error("%s", "-2 (or dns.response_in, http.response_in) needs a file: standard input cannot be read twice");
	struct config cfg;
	char cerr[512];
	if (config_load(o.config_path, &cfg, cerr, sizeof cerr) < 0) {
		cli_error("%s", cerr);
		return EXIT_USAGE;
	}
	if (o.display_filter && o.display_filter[0] == ':') {
		const char *saved = config_filter(&cfg, o.display_filter + 1);
		if (!saved) {
			cli_error("no saved filter \"%s\" in %s (saved filters live under [filters])", o.display_filter + 1,
				  cfg.path ? cfg.path : "the configuration: there is no configuration file");
			config_free(&cfg);
			return EXIT_USAGE;
		}
		o.display_filter = saved;
	}
	struct df_filter *filter = NULL;
	if (o.display_filter) {
		struct df_error ferr;
		filter = df_compile(o.display_filter, &ferr);
		if (!filter) {
			df_error_print(stderr, o.display_filter, &ferr);
			config_free(&cfg);
			return EXIT_USAGE;
		}
	}
	config_free(&cfg); /* the program keeps what it needs of a saved filter */
	o.display_filter = NULL;
	char err[512];
	struct pkt_source *src = src_open_file(o.path, err, sizeof err);
	if (!src) {
		cli_error("%s: %s", !strcmp(o.path, "-") ? "standard input" : o.path, err);
		df_free(filter);
		return EXIT_INPUT;
	}
	if (o.capture_filter && src_set_bpf(src, o.capture_filter, err, sizeof err) < 0) {
		cli_error("invalid capture filter \"%s\": %s", o.capture_filter, err);
		src_close(src);
		df_free(filter);
		return EXIT_USAGE;
	}
	struct packet_writer ws = { .path = o.write_path, .filter = o.capture_filter,
				   .pcapng = o.write_pcapng || (o.write_path && pwriter_wants_pcapng(o.write_path)) };
	if (ws.path) {
		struct sigaction sa = { .sa_handler = request_stop };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	struct frame_links *links = o.two_pass ? first_pass(o.path, o.capture_filter, o.count) : NULL;
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, OUT_BUF_SIZE);
	struct packet *p = xcalloc(1, sizeof *p);
	struct flow_tracker *tracker = flow_tracker_new(NULL, NULL, NULL);
	p->tracker = flow_tracker_iface(tracker);
	p->links = links;
	if (o.mode == MODE_FOLLOW) follow_attach(&o.follow, tracker, &out);
	struct stats *stats = NULL;
	if (o.nstats) {
		stats = stats_new();
		for (int i = 0; i < o.nstats; i++) stats_request_apply(&o.stats[i], stats);
	}
	/* Record only what this run prints or counts: decoding stays complete (the tracker and
	 * the broken-packet marks see everything), recording and Info text are skipped. */
	static struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	switch (o.mode) {
	case MODE_JSON:
		if (!stats) break; /* NDJSON shows every field */
		/* fall through */
	case MODE_TEXT:
		p->mask = &mask;
		if (ws.path) p->no_columns = true; /* nothing is printed */
		if (ws.path && ws.pcapng) pwriter_mask_add(&mask); /* for pktscope's packet comments */
		if (stats) {
			static const int counted[] = { F_ETH_SRC, F_ETH_DST, F_IP_SRC, F_IP_DST, F_IPV6_SRC, F_IPV6_DST,
				F_TCP_SRCPORT, F_TCP_DSTPORT, F_UDP_SRCPORT, F_UDP_DSTPORT, F_TCP_STREAM };
			for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++) field_mask_add(&mask, counted[i]);
			p->no_columns = true;
		}
		break;
	case MODE_FIELDS:
		for (int i = 0; i < o.nfields; i++) field_mask_add(&mask, o.fields[i]);
		p->mask = &mask;
		p->no_columns = true;
		break;
	case MODE_FOLLOW:
		p->mask = &mask;
		p->no_columns = true;
		break;
	}
	if (filter && p->mask) df_mask_add(filter, &mask);
	/* The application decoders run when something shows their work: Info, JSON, the
	 * protocol hierarchy, or one of their fields (the registry keeps them contiguous from
	 * dns to http2). */
	bool phs = false; /* the protocol hierarchy counts application layers too */
	for (int i = 0; i < o.nstats; i++) phs |= o.stats[i].what == SR_PHS;
	flow_tracker_set_app(tracker, !p->no_columns || phs || pk_wants_range(p, F_DNS, F_HTTP2_HEADERS_USER_AGENT) ||
				      pk_wants(p, F_ICMP_RESP_TO) || pk_wants(p, F_ICMPV6_RESP_TO) ||
				      pk_wants(p, F_ICMP_RESP_IN) || pk_wants(p, F_ICMPV6_RESP_IN));
	uint64_t n = 0;
	int64_t first_sec = 0;
	uint32_t first_nsec = 0;
	int status = EXIT_OK;
	int first_linktype = LT_ETHERNET;
	struct prefilter pf = { 0 };
	bool use_pf = filter && strcmp(o.path, "-") && !stats && o.mode != MODE_FOLLOW && !o.two_pass &&
		      df_is_packet_local(filter) && prefilter_run(&o, filter, o.mode == MODE_TEXT && (!ws.path || ws.pcapng), &pf);
	bool base_no_columns = p->no_columns;
	if (use_pf) first_linktype = pf.first_linktype;
	/* Packets without a line are decoded without columns; TCP analysis, which a run
	 * without columns may skip, must still see them for the lines that follow. */
	if (use_pf && !base_no_columns && p->mask)
		for (int id = F_TCP_ANALYSIS; id <= F_TCP_ANALYSIS_KEEP_ALIVE_ACK; id++) field_mask_add(&mask, id);
	for (;;) {
		if (use_pf && (n >= pf.nframes || !pf.nmatched)) break; /* nothing left to show */
		struct pkt_meta m;
		const uint8_t *data;
		enum src_status st = src_next(src, &m, &data);
		if (st == SRC_EOF) break;
		if (st == SRC_ERROR) {
			sb_flush(&out);
			cli_error("%s: %s (at byte offset %" PRIu64 ", after %" PRIu64 " complete packets)",
				  !strcmp(o.path, "-") ? "standard input" : o.path, src_error(src), src_offset(src), n);
			status = EXIT_INPUT;
			break;
		}
		m.number = ++n;
		if (n == 1) {
			first_sec = m.ts_sec;
			first_nsec = m.ts_nsec;
		}
		bool hit = true;
		if (use_pf) {
			hit = bit(pf.matched, n);
			if ((ws.path && !ws.pcapng) || (pf.relevant && !bit(pf.relevant, n))) {
				/* pcap -w copies matched frames as they are; other conversations are
				 * skipped (pcapng's conversations are decoded for pktscope's comments) */
				if (hit && ws.path && pwriter_packet(&ws, &m, data, NULL) < 0) {
					status = EXIT_INPUT;
					break;
				}
				if ((o.count && n >= o.count) || stop_requested) break;
				continue;
			}
			p->no_columns = base_no_columns || !hit;
		}
		packet_begin(p, &m, data);
		pk_set_relative(p, first_sec, first_nsec);
		dissect_frame(p);
		if (n == 1) first_linktype = m.linktype;
		if (filter && !(use_pf ? hit && df_match(filter, p) : df_match(filter, p))) {
			if (o.count && n >= o.count) break;
			if (stop_requested) break;
			continue;
		}
		if (ws.path) {
			if (pwriter_packet(&ws, &p->meta, data, p) < 0) {
				status = EXIT_INPUT;
				break;
			}
			if ((o.count && n >= o.count) || stop_requested) break;
			continue;
		}
		if (stats) {
			stats_packet(stats, p); /* statistics replace per-packet output, as tshark -q -z */
			if (o.count && n >= o.count) break;
			continue;
		}
		switch (o.mode) {
		case MODE_TEXT: out_text_line(&out, p); break;
		case MODE_JSON: out_json_packet(&out, p); break;
		case MODE_FIELDS: out_fields_line(&out, p, o.fields, o.nfields, o.sep); break;
		case MODE_FOLLOW: break; /* the follower writes as the stream's bytes arrive */
		}
		if (out.werr) break;
		if (o.count && n >= o.count) break;
	}
	flow_tracker_finish(tracker); /* delivers what reassembly still holds */
	for (int i = 0; stats && i < o.nstats; i++) stats_print(&out, stats, &o.stats[i], o.mode == MODE_JSON);
	stats_free(stats);
	if (o.mode == MODE_FOLLOW) {
		follow_finish(&o.follow);
		if (!o.follow.found && status == EXIT_OK) {
			sb_flush(&out);
			cli_error("%s: there is no %s stream %lld", o.path, o.follow.proto == 6 ? "tcp" : "udp",
				  (long long)o.follow.stream);
			status = EXIT_INPUT;
		}
	}
	prefilter_free(&pf);
	if (pwriter_close(&ws, first_linktype) < 0) status = EXIT_INPUT;
	df_free(filter);
	sb_flush(&out);
	if (out.werr && out.werr != EPIPE) {
		cli_error("writing output: %s", strerror(out.werr));
		status = EXIT_INPUT;
	}
	sb_free(&out);
	flow_tracker_free(tracker);
	frame_links_free(links);
	free(p);
	src_close(src);
	return status;
}

const struct command cmd_read = { "read", "decode a capture file (pcap or pcapng)", run_read };
