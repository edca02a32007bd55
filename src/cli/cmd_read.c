/* cli/cmd_read.c — `pktscope read FILE`: decode a capture file and print one line per
 * packet, NDJSON (--json) or chosen fields (-T fields -e …). Streams: memory does not grow
 * with the file. */
#include "capture/capture.h"
#include "cli/cli.h"
#include "pipeline/config.h"
#include "capture/writer.h"
#include "dissect/packet.h"
#include "filter/filter.h"
#include "flow/flow.h"
#include "output/output.h"
#include "analysis/anomaly.h"
#include "analysis/flowrec.h"
#include "pipeline/pipeline.h"
#include "dissect/keylog.h"
#include "tui/tui.h"
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
	bool no_anomalies;           /* --no-anomalies */
	uint64_t ref_frame;          /* --ref-frame: the packet ${field} references read */
	const char *keylog_path;     /* --tls-keylog */
	bool force_text;             /* -T text: lines even on a terminal */
};

static const char read_usage[] =
	"usage: pktscope read [OPTIONS] FILE\n"
	"       pktscope read [OPTIONS] -r FILE     (FILE '-' reads standard input)\n"
	"\n"
	"  -r FILE         the file to read (the same as giving FILE alone)\n"
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
	"  -T text         one line per packet even on a terminal (where the full-screen\n"
	"                  analyzer opens otherwise: FILE read on a terminal, no output option)\n"
	"  -e FIELD        a field for -T fields (Wireshark names: ip.src, tcp.dstport …)\n"
	"  -E separator=C  column separator for -T fields (default tab)\n"
	"  --follow P,M,N  follow stream N: P tcp or udp, M ascii, hex or raw (tshark's -z follow)\n"
	"  --stats S       statistics instead of packets (repeatable): conv,T or endpoints,T with\n"
	"                  T eth, ip, ipv6, tcp or udp; phs; io,SECONDS; talkers; flows (one\n"
	"                  row per conversation); anomalies (--json: JSON)\n"
	"  --no-anomalies  do not run the anomaly rules (anomaly.* fields, Info notes)\n"
	"  --ref-frame N   the packet whose values -Y's ${field} references take (Wireshark's\n"
	"                  selected packet); without it a reference has no value\n"
	"  --tls-keylog F  decrypt TLS and QUIC with the secrets in key log file F (the NSS\n"
	"                  format SSLKEYLOGFILE makes); a pcapng file's own secrets are used too\n"
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
		{ "no-anomalies", no_argument, NULL, 'N' },
		{ "ref-frame", required_argument, NULL, 'R' },
		{ "tls-keylog", required_argument, NULL, 'K' },
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
		case 'N': o->no_anomalies = true; break;
		case 'R':
			if (cli_parse_uint(optarg, 1, UINT64_MAX, &o->ref_frame) < 0)
				return usage_error("--ref-frame needs a frame number, not '%s'", optarg);
			break;
		case 'C': o->config_path = optarg; break;
		case 'K': o->keylog_path = optarg; break;
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
			if (!strcmp(optarg, "text")) {
				o->force_text = true;
				break;
			}
			if (strcmp(optarg, "fields"))
				return usage_error("-T takes 'fields' or 'text' (for JSON use --json), not '%s'", optarg);
			fields_mode = true;
			break;
		case 'e': {
			int id = field_by_name(optarg, strlen(optarg));
			uint16_t two[2];
			if (id < 0 && field_pseudo(optarg, strlen(optarg), two) == 0) {
				cli_error("\"%s\" stands for two fields in filters: give -e %s -e %s", optarg, field_defs[two[0]].name,
					  field_defs[two[1]].name);
				return EXIT_USAGE;
			}
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
	for (int i = 0; i < o->nstats; i++)
		if (o->stats[i].what == SR_ANOMALIES && o->no_anomalies)
			return usage_error("%s", "--stats anomalies cannot be combined with --no-anomalies");
	if (o->nstats && (o->mode == MODE_FOLLOW || fields_mode))
		return usage_error("%s", "--stats cannot be combined with --follow or -T fields");
	if (o->mode == MODE_FOLLOW && (fields_mode || o->nfields))
		return usage_error("%s", "--follow cannot be combined with -T fields");
	if (o->write_pcapng && !o->write_path) return usage_error("%s", "--pcapng goes with -w FILE");
	if (o->write_path && (fields_mode || o->mode != MODE_TEXT || o->nstats))
		return usage_error("%s", "-w writes packets: it cannot be combined with --json, -T fields, --follow or --stats");
	if (o->mode == MODE_FOLLOW && o->follow.stream < 0 && !o->display_filter)
		return usage_error("%s", "--follow P,M without a stream number needs -Y to choose the stream");
	if (o->display_filter && o->mode == MODE_FOLLOW && o->follow.stream >= 0)
		return usage_error("%s", "-Y chooses the stream --follow shows: leave out its number (--follow tcp,ascii)");
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


static volatile sig_atomic_t stop_requested;
static void request_stop(int sig) { (void)sig; stop_requested = 1; }

/* A Decryption Secrets Block of the input: its TLS key log decrypts, and pcapng output
 * keeps the block, as editcap does. */
struct secrets_sink {
	struct keylog *keys;
	struct packet_writer *ws; /* pcapng -w, or NULL */
};

static void take_secrets(void *ctx, uint32_t type, const uint8_t *b, size_t n)
{
	struct secrets_sink *s = ctx;
	keylog_dsb(s->keys, type, b, n);
	if (s->ws) pwriter_secrets(s->ws, type, b, n); /* a failure is reported when the file closes */
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
	/* On a terminal, with nothing asked of the output: the full-screen analyzer. */
	if (o.mode == MODE_TEXT && !o.force_text && !o.write_path && !o.nstats && !o.count && !o.capture_filter &&
	    !o.ref_frame && !o.two_pass && strcmp(o.path, "-") && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO)) {
		char kerr[512];
		struct keylog *tkeys = keylog_new();
		int trc;
		if (o.keylog_path && keylog_load_file(tkeys, o.keylog_path, kerr, sizeof kerr) < 0) {
			cli_error("--tls-keylog %s", kerr);
			trc = EXIT_INPUT;
		} else {
			struct tui_opts t = { .path = o.path, .filter = o.display_filter, .keys = tkeys,
					      .anomalies = !o.no_anomalies, .cfg = &cfg };
			trc = tui_run(&t) ? EXIT_INPUT : EXIT_OK;
		}
		keylog_free(tkeys);
		df_free(filter);
		config_free(&cfg);
		return trc;
	}
	config_free(&cfg); /* the program keeps what it needs of a saved filter */
	o.display_filter = NULL;
	char err[512];
	struct keylog *keys = keylog_new(); /* --tls-keylog's secrets, then the file's own */
	if (o.keylog_path && keylog_load_file(keys, o.keylog_path, err, sizeof err) < 0) {
		cli_error("--tls-keylog %s", err);
		keylog_free(keys);
		df_free(filter);
		return EXIT_INPUT;
	}
	struct pkt_source *src = src_open_file(o.path, err, sizeof err);
	if (!src) {
		cli_error("%s: %s", !strcmp(o.path, "-") ? "standard input" : o.path, err);
		keylog_free(keys);
		df_free(filter);
		return EXIT_INPUT;
	}
	struct secrets_sink sink = { keys, NULL };
	src_set_secrets(src, take_secrets, &sink);
	if (o.capture_filter && src_set_bpf(src, o.capture_filter, err, sizeof err) < 0) {
		cli_error("invalid capture filter \"%s\": %s", o.capture_filter, err);
		src_close(src);
		keylog_free(keys);
		df_free(filter);
		return EXIT_USAGE;
	}
	struct packet_writer ws = { .path = o.write_path, .filter = o.capture_filter,
				   .pcapng = o.write_pcapng || (o.write_path && pwriter_wants_pcapng(o.write_path)) };
	if (ws.path && ws.pcapng) sink.ws = &ws; /* the file's secrets are kept in what -w writes */
	if (ws.path) {
		struct sigaction sa = { .sa_handler = request_stop };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	if (o.ref_frame) {
		const char *why = !filter || !df_has_references(filter) ? "--ref-frame is for -Y filters with ${field} references"
				  : !strcmp(o.path, "-") ? "--ref-frame needs a file (it is read twice), not standard input"
				  : !pipeline_set_reference(o.path, o.capture_filter, o.ref_frame, filter, keys) ? "there is no such frame"
				  : NULL;
		if (why) {
			cli_error("--ref-frame %" PRIu64 ": %s", o.ref_frame, why);
			src_close(src);
			keylog_free(keys);
			df_free(filter);
			return EXIT_USAGE;
		}
	}
	if (o.mode == MODE_FOLLOW && filter) { /* -Y chose the stream: the first it matches */
		if (!strcmp(o.path, "-")) {
			cli_error("%s", "--follow with -Y needs a file (it is read twice), not standard input");
			src_close(src);
			keylog_free(keys);
			df_free(filter);
			return EXIT_USAGE;
		}
		o.follow.stream = pipeline_first_stream(o.path, o.capture_filter, o.count, filter, o.follow.proto, keys);
		df_free(filter);
		filter = NULL;
		if (o.follow.stream < 0) {
			cli_error("%s: no %s stream has a packet the filter matches", o.path, o.follow.proto == 6 ? "tcp" : "udp");
			src_close(src);
			keylog_free(keys);
			return EXIT_INPUT;
		}
	}
	struct frame_links *links = o.two_pass ? pipeline_find_answers(o.path, o.capture_filter, o.count, keys) : NULL;
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, OUT_BUF_SIZE);
	bool hierarchy = false; /* the protocol hierarchy counts application layers too */
	struct flow_records *flows = NULL; /* --stats flows */
	struct field_mask flow_fields;
	memset(&flow_fields, 0, sizeof flow_fields);
	for (int i = 0; i < o.nstats; i++) {
		hierarchy |= o.stats[i].what == SR_PHS;
		if (o.stats[i].what == SR_FLOWS && !flows) {
			flows = flowrec_new();
			flowrec_mask_add(&flow_fields);
			flowrec_set_filtered(flows, filter != NULL);
		}
	}
	/* Record only what this run prints or counts: decoding stays complete (the tracker and
	 * the broken-packet marks see everything), recording and Info text are skipped. */
	struct pipeline_needs needs = {
		.filter = filter,
		.links = links,
		.all_fields = o.mode == MODE_JSON && !o.nstats,
		.columns = (o.mode == MODE_TEXT || o.mode == MODE_JSON) && !ws.path && !o.nstats,
		.fields = o.mode == MODE_FIELDS ? o.fields : NULL,
		.nfields = o.mode == MODE_FIELDS ? o.nfields : 0,
		.stats = o.nstats > 0,
		.hierarchy = hierarchy,
		.comments = ws.path && ws.pcapng,
		.observer = flows ? flowrec_observer(flows) : NULL,
		.extra = flows ? &flow_fields : NULL,
		.keylog = keys,
	};
	/* The anomaly rules run when something shows what they find: Info notes, every field,
	 * pcapng comments, a filter or -e on anomaly.*, --stats anomalies. */
	struct anomaly_engine *anomalies = NULL;
	bool stats_anomalies = false;
	for (int i = 0; i < o.nstats; i++) stats_anomalies |= o.stats[i].what == SR_ANOMALIES;
	if (!o.no_anomalies) {
		struct field_mask wanted;
		memset(&wanted, 0, sizeof wanted);
		pipeline_mask_for(&needs, &wanted);
		bool reads = false;
		for (int id = F_ANOMALY; id <= F_ANOMALY_REASON; id++) reads |= (wanted.bits[id >> 3] >> (id & 7)) & 1;
		if (needs.columns || needs.all_fields || needs.comments || stats_anomalies || reads) {
			anomalies = anomaly_new();
			anomaly_mask_add(&flow_fields);
			needs.extra = &flow_fields;
			needs.post = anomaly_post;
			needs.post_ctx = anomalies;
		}
	}
	/* A filter over packet-local fields is first run alone (pipeline/passes.c); the full
	 * pipeline then sees only the conversations with a match. */
	struct prefilter pf = { 0 };
	struct field_mask prepass_fields;
	memset(&prepass_fields, 0, sizeof prepass_fields);
	anomaly_prepass_fields(&prepass_fields);
	struct prefilter_hook hook = { &prepass_fields, anomaly_prepass, anomalies };
	bool use_pf = filter && strcmp(o.path, "-") && !o.nstats && o.mode != MODE_FOLLOW && !o.two_pass &&
		      df_is_packet_local(filter) &&
		      prefilter_run(o.path, o.capture_filter, o.count, filter, o.mode == MODE_TEXT && (!ws.path || ws.pcapng),
				    &stop_requested, anomalies ? &hook : NULL, &pf);
	needs.quiet_packets = use_pf;
	struct pipeline *pl = pipeline_new(&needs);
	if (o.mode == MODE_FOLLOW) follow_attach(&o.follow, pipeline_tracker(pl), &out);
	struct stats *stats = NULL;
	if (o.nstats) {
		stats = stats_new();
		for (int i = 0; i < o.nstats; i++) stats_request_apply(&o.stats[i], stats);
	}
	uint64_t n = 0;
	int status = EXIT_OK;
	bool writer_said = false;
	int first_linktype = use_pf ? pf.first_linktype : LT_ETHERNET;
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
		if (n == 1) first_linktype = m.linktype;
		bool last = (o.count && n >= o.count) || stop_requested;
		struct packet *p;
		if (use_pf) {
			bool hit = prefilter_matched(&pf, n);
			if ((ws.path && !ws.pcapng) || !prefilter_relevant(&pf, n)) {
				/* pcap -w copies matched frames as they are; other conversations are
				 * skipped (pcapng's conversations are decoded for pktscope's comments) */
				pipeline_skip(pl, &m);
				if (hit && ws.path && pwriter_packet(&ws, &m, data, NULL) < 0) {
					cli_error("%s", ws.err);
					writer_said = true;
					status = EXIT_INPUT;
					break;
				}
				if (last) break;
				continue;
			}
			p = hit ? pipeline_decode(pl, &m, data) : pipeline_decode_quiet(pl, &m, data);
			if (!hit || !pipeline_match(pl, p)) {
				if (last) break;
				continue;
			}
		} else {
			p = pipeline_decode(pl, &m, data);
			bool match = pipeline_match(pl, p);
			if (flows) flowrec_packet(flows, p, match);
			if (!match) {
				if (last) break;
				continue;
			}
		}
		if (ws.path) {
			if (pwriter_packet(&ws, &p->meta, data, p) < 0) {
				cli_error("%s", ws.err);
				writer_said = true;
				status = EXIT_INPUT;
				break;
			}
		} else if (stats) {
			stats_packet(stats, p); /* statistics replace per-packet output, as tshark -q -z */
		} else {
			switch (o.mode) {
			case MODE_TEXT: out_text_line(&out, p); break;
			case MODE_JSON: out_json_packet(&out, p); break;
			case MODE_FIELDS: out_fields_line(&out, p, o.fields, o.nfields, o.sep); break;
			case MODE_FOLLOW: break; /* the follower writes as the stream's bytes arrive */
			}
			if (out.werr) break;
		}
		if (last) break;
	}
	pipeline_finish(pl); /* delivers what reassembly still holds */
	for (int i = 0; stats && i < o.nstats; i++) {
		if (o.stats[i].what == SR_FLOWS) flowrec_print(flows, &out, o.mode == MODE_JSON);
		else if (o.stats[i].what == SR_ANOMALIES) anomaly_print_stats(anomalies, &out, o.mode == MODE_JSON);
		else stats_print(&out, stats, &o.stats[i], o.mode == MODE_JSON);
	}
	stats_free(stats);
	flowrec_free(flows);
	anomaly_free(anomalies);
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
	if (pwriter_close(&ws, first_linktype) < 0) {
		if (!writer_said) cli_error("%s", ws.err);
		status = EXIT_INPUT;
	}
	df_free(filter);
	sb_flush(&out);
	if (out.werr && out.werr != EPIPE) {
		cli_error("writing output: %s", strerror(out.werr));
		status = EXIT_INPUT;
	}
	sb_free(&out);
	pipeline_free(pl);
	frame_links_free(links);
	src_close(src);
	keylog_free(keys);
	return status;
}

const struct command cmd_read = { "read", "decode a capture file (pcap or pcapng)", run_read };
