/* cli/cmd_capture.c — `pktscope capture`: live capture on one or more interfaces, shown
 * as text or NDJSON, or written to pcap/pcapng. Capture threads only fill a bounded ring
 * (capture/live.c); this thread decodes, filters and writes. SIGINT, SIGTERM and SIGHUP
 * stop the capture: what the ring holds is drained, files are flushed and closed valid,
 * and the counts (kernel drops, ring drops) are printed. */
#include "capture/capture.h"
#include "cli/cli.h"
#include "pipeline/config.h"
#include "capture/writer.h"
#include "dissect/packet.h"
#include "filter/filter.h"
#include "flow/flow.h"
#include "output/output.h"
#include "analysis/anomaly.h"
#include "egress/annotate.h"
#include "egress/proc.h"
#include "pipeline/pipeline.h"
#include "dissect/keylog.h"
#include "tui/tui.h"
#include "util/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct capture_opts {
	struct live_opts live;
	uint64_t count;          /* -c: 0 for no limit */
	uint64_t stop_packets;   /* -a packets:N */
	double stop_seconds;     /* -a duration:S */
	const char *display_filter;
	const char *write_path;
	bool pcapng;
	bool json;
	const char *user;        /* -Z */
	const char *ring[2];     /* -b options, parsed by the writer */
	int nring;
	const char *config_path;
	bool no_anomalies;       /* --no-anomalies */
	const char *keylog_path; /* --tls-keylog */
	bool force_text;         /* -T text: lines even on a terminal */
	uint64_t budget_mb;      /* --disk-budget */
	bool no_proc;            /* --no-proc */
};

static const char capture_usage[] =
	"usage: pktscope capture [OPTIONS]\n"
	"\n"
	"  -i IFACE          interface to capture on (repeatable; 'any' for all); default:\n"
	"                    [capture] default_interface of the configuration file\n"
	"  -f BPF            capture filter (tcpdump's syntax)\n"
	"  -s SNAPLEN        bytes kept of each packet (default 262144)\n"
	"  -B MB             kernel capture buffer in MiB (default 4)\n"
	"  -p                do not put the interface in promiscuous mode\n"
	"  -c N              stop after N packets\n"
	"  -a duration:SECS  stop after SECS seconds; -a packets:N after N packets\n"
	"  -Y FILTER         show or write only the packets the display filter matches (:NAME\n"
	"                    for a saved filter)\n"
	"  --json            NDJSON instead of text, and a last line with the counts\n"
	"  -w FILE           write the packets to FILE: pcap, or pcapng with --pcapng or a\n"
	"                    .pcapng name (interfaces, capture filter and statistics recorded)\n"
	"  --pcapng          write pcapng with -w\n"
	"  -b filesize:KB    ring output, as dumpcap: a new file FILE_NNNNN_TIME.EXT every KB kB;\n"
	"  -b files:N        keep only the newest N of them\n"
	"  -Z USER           the user to become once the capture is open when run as root\n"
	"                    (default nobody; -Z root keeps root); capabilities are cleared\n"
	"  --config FILE     the configuration file\n"
	"  --no-anomalies    do not run the anomaly rules (anomaly.* fields, Info notes)\n"
	"  --no-proc         do not attribute packets to processes (the proc.* fields: in\n"
	"                    NDJSON, pcapng comments, the Process column and -Y filters)\n"
	"  -T text           one line per packet even on a terminal (where the full-screen\n"
	"                    analyzer opens when no output option is given)\n"
	"  --disk-budget MB  the full-screen capture's file at most (default [capture]\n"
	"                    disk_budget_mb, else 1024): past it packets are counted, not kept;\n"
	"                    with -b filesize:KB -b files:N the ring keeps the newest instead\n"
	"  --tls-keylog F    decrypt TLS and QUIC with the key log F (SSLKEYLOGFILE's format),\n"
	"                    followed as the browser writes it; opened before privileges go\n"
	"  -h, --help        this text\n";

#define usage_error(...) cli_usage_error(capture_usage, __VA_ARGS__)

static int parse_autostop(const char *s, struct capture_opts *o)
{
	if (!strncmp(s, "duration:", 9)) {
		char *end;
		errno = 0;
		double d = strtod(s + 9, &end);
		if (errno || end == s + 9 || *end || !(d > 0) || d > 1e9) return -1;
		o->stop_seconds = d;
		return 0;
	}
	if (!strncmp(s, "packets:", 8)) return cli_parse_uint(s + 8, 1, UINT64_MAX, &o->stop_packets);
	return -1;
}

static int parse_args(int argc, char **argv, struct capture_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pcapng", no_argument, NULL, 'P' },
		{ "config", required_argument, NULL, 'C' },
		{ "no-anomalies", no_argument, NULL, 'N' },
		{ "no-proc", no_argument, NULL, 'R' },
		{ "tls-keylog", required_argument, NULL, 'K' },
		{ "disk-budget", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	int ch;
	uint64_t v;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":i:f:s:B:pc:a:Y:w:Z:b:T:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (o->live.nifs == LIVE_MAX_IFS) return usage_error("at most %d interfaces", LIVE_MAX_IFS);
			o->live.ifaces[o->live.nifs++] = optarg;
			break;
		case 'f': o->live.bpf = optarg; break;
		case 's':
			if (cli_parse_uint(optarg, 1, 262144, &v) < 0) return usage_error("-s takes 1 to 262144 bytes, not '%s'", optarg);
			o->live.snaplen = (int)v;
			break;
		case 'B':
			if (cli_parse_uint(optarg, 1, 4096, &v) < 0) return usage_error("-B takes 1 to 4096 MiB, not '%s'", optarg);
			o->live.buffer_mb = (int)v;
			break;
		case 'p': o->live.no_promisc = true; break;
		case 'c':
			if (cli_parse_uint(optarg, 1, UINT64_MAX, &o->count) < 0)
				return usage_error("-c needs a positive packet count, not '%s'", optarg);
			break;
		case 'a':
			if (parse_autostop(optarg, o) < 0)
				return usage_error("-a takes duration:SECONDS or packets:N, not '%s'", optarg);
			break;
		case 'Y': o->display_filter = optarg; break;
		case 'w': o->write_path = optarg; break;
		case 'Z': o->user = optarg; break;
		case 'b': {
			struct packet_writer probe = { 0 };
			if (pwriter_ring_option(&probe, optarg) < 0 || o->nring == 2)
				return usage_error("-b takes filesize:KB or files:N (each once), not '%s'", optarg);
			o->ring[o->nring++] = optarg;
			break;
		}
		case 'j': o->json = true; break;
		case 'P': o->pcapng = true; break;
		case 'N': o->no_anomalies = true; break;
		case 'R': o->no_proc = true; break;
		case 'K': o->keylog_path = optarg; break;
		case 'D':
			if (cli_parse_uint(optarg, 1, 1u << 30, &o->budget_mb) < 0)
				return usage_error("--disk-budget takes megabytes (1 or more), not '%s'", optarg);
			break;
		case 'T':
			if (strcmp(optarg, "text")) return usage_error("-T takes 'text' (for JSON use --json), not '%s'", optarg);
			o->force_text = true;
			break;
		case 'C': o->config_path = optarg; break;
		case 'h': fputs(capture_usage, stdout); return -1;
		case ':': return usage_error("option -%c needs a value", optopt);
		default:
			if (optopt) return usage_error("unknown option -%c", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->pcapng && !o->write_path) return usage_error("%s", "--pcapng goes with -w FILE");
	if (o->json && o->write_path) return usage_error("%s", "-w writes packets: it cannot be combined with --json");
	if (o->nring && !o->write_path) return usage_error("%s", "-b goes with -w FILE");
	return 0;
}

/* The pipeline's one post hook, for the two that record fields after decoding. */
struct post_chain {
	struct anomaly_engine *anomalies;
	struct proc_annotator *procs;
};
static void post_both(void *ctx, struct packet *p)
{
	struct post_chain *c = ctx;
	if (c->procs) pann_post(c->procs, p);
	if (c->anomalies) anomaly_post(c->anomalies, p);
}

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Counts on stderr (and as the last NDJSON line): what each interface's kernel buffer
 * and our ring dropped, so a file's missing packets are accounted for. */
static void report(struct live *l, uint64_t shown, bool json, struct sbuf *out, struct packet_writer *ws)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t captured = 0, ring = 0, kernel = 0;
	if (json) sb_puts(out, "{\"stats\":{\"interfaces\":[");
	for (int k = 0; k < live_count(l); k++) {
		struct live_stats s;
		live_stats(l, k, &s);
		if (s.error) fprintf(stderr, "pktscope: %s: capture ended early: %s\n", live_ifname(l, k), s.error);
		captured += s.captured;
		ring += s.ring_dropped;
		kernel += s.kernel_dropped + s.if_dropped;
		fprintf(stderr, "pktscope: %s: %" PRIu64 " packets captured, %" PRIu64 " dropped by the kernel, %" PRIu64
			" dropped by the interface, %" PRIu64 " dropped by pktscope (ring full)\n",
			live_ifname(l, k), s.captured, s.kernel_dropped, s.if_dropped, s.ring_dropped);
		if (json) {
			if (k) sb_putc(out, ',');
			sb_puts(out, "{\"name\":");
			sb_json_str(out, live_ifname(l, k), strlen(live_ifname(l, k)));
			sb_puts(out, ",\"captured\":");
			sb_u64(out, s.captured);
			sb_puts(out, ",\"kernel_dropped\":");
			sb_u64(out, s.kernel_dropped);
			sb_puts(out, ",\"interface_dropped\":");
			sb_u64(out, s.if_dropped);
			sb_puts(out, ",\"ring_dropped\":");
			sb_u64(out, s.ring_dropped);
			sb_putc(out, '}');
		}
		if (ws->path && pwriter_iface_stats(ws, (uint32_t)k, live_linktype(l, k), live_ifname(l, k), now.tv_sec, (uint32_t)now.tv_nsec,
					    s.kernel_received ? s.kernel_received : s.captured,
					    s.kernel_dropped + s.if_dropped + s.ring_dropped) < 0)
			fprintf(stderr, "pktscope: %s\n", ws->err);
	}
	fprintf(stderr, "pktscope: %" PRIu64 " packets %s, %" PRIu64 " dropped by the kernel, %" PRIu64
		" dropped by pktscope\n", shown, ws->path ? "written" : "shown", kernel, ring);
	if (json) {
		sb_puts(out, "],\"shown\":");
		sb_u64(out, shown);
		sb_puts(out, ",\"captured\":");
		sb_u64(out, captured);
		sb_puts(out, ",\"kernel_dropped\":");
		sb_u64(out, kernel);
		sb_puts(out, ",\"ring_dropped\":");
		sb_u64(out, ring);
		sb_puts(out, "}}\n");
	}
}

static int run_capture(int argc, char **argv)
{
	struct capture_opts o;
	dissect_init();
	int rc = parse_args(argc, argv, &o);
	if (rc) return rc < 0 ? EXIT_OK : rc;
	struct config cfg;
	char err[600];
	if (config_load(o.config_path, &cfg, err, sizeof err) < 0) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	if (!o.live.nifs && cfg.default_interface) o.live.ifaces[o.live.nifs++] = cfg.default_interface;
	if (!o.live.snaplen) o.live.snaplen = cfg.snaplen;
	if (!o.live.buffer_mb) o.live.buffer_mb = cfg.buffer_mb;
	int status = EXIT_OK;
	bool writer_said = false;
	struct df_filter *filter = NULL;
	const char *filter_text = NULL;
	struct live *l = NULL;
	struct keylog *keys = NULL;
	struct tui_prepared *screen = NULL;
	struct proc_attr *pa = NULL;
	struct proc_annotator *procs = NULL;
	char tmp_path[64] = "";
	if (!o.live.nifs) {
		status = usage_error("%s", "no interface: give -i IFACE (pktscope list-interfaces shows them) or set "
				     "[capture] default_interface in the configuration file");
		goto done_cfg;
	}
	if (o.display_filter) {
		const char *text = o.display_filter;
		if (text[0] == ':' && !(text = config_filter(&cfg, o.display_filter + 1))) {
			cli_error("no saved filter \"%s\" in %s", o.display_filter + 1, cfg.path ? cfg.path : "the configuration");
			status = EXIT_USAGE;
			goto done_cfg;
		}
		struct df_error ferr;
		filter_text = text;
		if (!(filter = df_compile(text, &ferr))) {
			df_error_print(stderr, text, &ferr);
			status = EXIT_USAGE;
			goto done_cfg;
		}
	}
	int why = 0;
	if (!(l = live_open(&o.live, err, sizeof err, &why))) {
		cli_error("%s", err);
		status = why == LIVE_ERR_USAGE ? EXIT_USAGE : EXIT_INPUT;
		goto done_cfg;
	}
	struct packet_writer ws = { .path = o.write_path, .filter = o.live.bpf, .snaplen = (uint32_t)o.live.snaplen,
				    .pcapng = o.pcapng || (o.write_path && pwriter_wants_pcapng(o.write_path)) };
	for (int k = 0; k < o.nring; k++) pwriter_ring_option(&ws, o.ring[k]);
	/* On a terminal, with nothing asked of the output, the full-screen analyzer: the
	 * capture goes to a pcapng file (the -w one, or a temporary one removed at exit) that
	 * it indexes as it grows. */
	bool tui = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !o.json && !o.force_text && !o.count &&
		   !o.stop_packets && !(o.stop_seconds > 0) && (!ws.path || ws.pcapng);
	if (tui && !ws.path) {
		snprintf(tmp_path, sizeof tmp_path, "%s/pktscope-capture-XXXXXX.pcapng",
			 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 32 ? getenv("TMPDIR") : "/tmp");
		int fd = mkstemps(tmp_path, 7);
		if (fd < 0) {
			cli_error("a temporary capture file in %s: %s", tmp_path, strerror(errno));
			tmp_path[0] = '\0';
			status = EXIT_INPUT;
			goto done_live;
		}
		close(fd);
		ws.path = tmp_path;
		ws.pcapng = true;
	}
	/* The file exists, with every interface described, before privileges go. */
	if (ws.path) {
		if (pwriter_open(&ws, live_linktype(l, 0), err, sizeof err) < 0) {
			cli_error("%s: %s", ws.path, err);
			status = EXIT_INPUT;
			goto done_live;
		}
		/* the ring's later files are made, and its first removed, by the user we become */
		uid_t uid;
		gid_t gid;
		if (ws.ring_bytes && priv_target(o.user, &uid, &gid) == 1 && chown(ws.cur, uid, gid) != 0) {
			cli_error("%s: %s", ws.cur, strerror(errno));
			status = EXIT_INPUT;
			goto done_file;
		}
		for (int k = 0; ws.pcapng && k < live_count(l); k++)
			if (pwriter_iface(&ws, (uint32_t)k, live_linktype(l, k), live_ifname(l, k)) < 0) {
				cli_error("%s", ws.err);
				writer_said = true;
				status = EXIT_INPUT;
				goto done_file;
			}
	}
	if (o.keylog_path) { /* opened while it can still be read, then followed */
		keys = keylog_new();
		if (keylog_follow(keys, o.keylog_path, err, sizeof err) < 0) {
			cli_error("--tls-keylog %s", err);
			status = EXIT_INPUT;
			goto done_file;
		}
	}
	/* process attribution (the proc.* fields), when something shows them: opened while
	 * privileges last (the eBPF programs, the socket table); asked for after they are gone
	 * through the descriptors it holds */
	bool proc_filter = false;
	if (filter) {
		struct field_mask fm;
		memset(&fm, 0, sizeof fm);
		pipeline_mask_for(&(struct pipeline_needs){ .filter = filter }, &fm);
		proc_filter = pann_wanted(&fm);
	}
	if (!o.no_proc && (proc_filter || o.json || ws.pcapng || tui)) {
		char note[600];
		pa = proc_attr_open(true, note, sizeof note, err, sizeof err);
		if (!pa && proc_filter) cli_error("no process attribution (proc.* fields): %s", err);
		else if (pa && proc_filter && !proc_attr_kernel(pa)) fprintf(stderr, "pktscope: %s\n", note);
		if (pa) procs = pann_new(pa);
	}
	if (tui) { /* the file is read by the screen: opened now, and its owner the user we become */
		uid_t uid;
		gid_t gid;
		if (tmp_path[0] && priv_target(o.user, &uid, &gid) == 1 && chown(tmp_path, uid, gid) != 0) {
			cli_error("%s: %s", tmp_path, strerror(errno));
			status = EXIT_INPUT;
			goto done_file;
		}
		uint64_t mb = o.budget_mb ? o.budget_mb : cfg.disk_budget_mb ? (uint64_t)cfg.disk_budget_mb : TUI_DEFAULT_BUDGET_MB;
		struct tui_opts t = { .path = ws.ring_bytes ? ws.cur : ws.path, .filter = filter_text, .keys = keys, .anomalies = !o.no_anomalies,
				      .cfg = &cfg, .live = l, .ws = &ws, .budget = mb << 20, .procs = procs };
		if (pwriter_flush(&ws) < 0 || !(screen = tui_prepare(&t, err, sizeof err))) {
			cli_error("%s: %s", ws.path, ws.failed ? ws.err : err);
			status = EXIT_INPUT;
			goto done_file;
		}
	}
	if (priv_drop(o.user, err, sizeof err) < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
		goto done_file;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (live_start(l, err, sizeof err) < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
		goto done_file;
	}
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	if (screen) {
		int trc = tui_run_prepared(screen);
		screen = NULL;
		uint64_t written = 0; /* every packet the ring gave went to the file */
		for (int k = 0; k < live_count(l); k++) {
			struct live_stats st;
			live_stats(l, k, &st);
			written += st.captured - st.ring_dropped;
		}
		report(l, written, false, &out, &ws);
		sb_flush(&out);
		sb_free(&out);
		if (trc) status = EXIT_INPUT;
		goto done_file;
	}
	/* as tshark and dumpcap say it: from here on packets are taken (and privileges are gone) */
	for (int k = 0; k < live_count(l); k++) fprintf(stderr, "pktscope: capturing on '%s'\n", live_ifname(l, k));
	/* pcapng output is decoded too, for pktscope's packet comments (TCP analysis,
	 * malformed); pcap output alone is written as it comes */
	bool decode = !ws.path || filter || ws.pcapng;
	struct pipeline_needs needs = {
		.filter = filter,
		.all_fields = o.json,
		.columns = !ws.path,
		.comments = ws.pcapng,
		.keylog = keys,
	};
	/* the anomaly rules, when lines, NDJSON, pcapng comments or the filter show them */
	struct anomaly_engine *anomalies = NULL;
	struct field_mask anomaly_fields;
	memset(&anomaly_fields, 0, sizeof anomaly_fields);
	if (!o.no_anomalies && decode) {
		pipeline_mask_for(&needs, &anomaly_fields);
		bool reads = false;
		for (int id = F_ANOMALY; id <= F_ANOMALY_REASON; id++) reads |= (anomaly_fields.bits[id >> 3] >> (id & 7)) & 1;
		memset(&anomaly_fields, 0, sizeof anomaly_fields);
		if (needs.columns || needs.all_fields || needs.comments || reads) {
			anomalies = anomaly_new();
			anomaly_mask_add(&anomaly_fields);
			needs.extra = &anomaly_fields;
			needs.post = anomaly_post;
			needs.post_ctx = anomalies;
		}
	}
	struct field_mask extra;
	struct post_chain chain = { .anomalies = anomalies, .procs = procs };
	if (procs && decode) {
		extra = anomaly_fields;
		pann_mask_add(&extra);
		needs.extra = &extra;
		needs.observer = pann_observer(procs);
		needs.post = post_both;
		needs.post_ctx = &chain;
	}
	struct pipeline *pl = pipeline_new(&needs);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t n = 0, shown = 0;
	bool stopping = false;
	for (;;) {
		if (!stopping && (stop_signal || (o.stop_seconds > 0 && since(&t0) >= o.stop_seconds))) {
			live_stop(l); /* then drain what the ring holds */
			stopping = true;
		}
		struct pkt_meta m;
		const uint8_t *data;
		bool timed_out;
		enum src_status st = live_next(l, &m, &data, 0, &timed_out);
		if (st != SRC_OK) {
			if (!timed_out) break; /* stopped and drained */
			/* nothing to take: show what is buffered, let quiet flows end on the wall
			 * clock, and sleep until a packet comes (a signal or 100 ms for -a) */
			sb_flush(&out);
			keylog_refresh(keys);
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			pipeline_tick(pl, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
			struct pollfd pfd = { .fd = live_fd(l), .events = POLLIN };
			poll(&pfd, 1, 100);
			continue;
		}
		m.number = ++n;
		struct packet *p = NULL;
		bool keep = true;
		/* the secrets of a handshake are written as it happens: look before each packet
		 * (an fstat; a read only when the file grew) */
		if (keys) keylog_refresh(keys);
		if (decode) {
			p = pipeline_decode(pl, &m, data);
			keep = pipeline_match(pl, p);
		}
		if (keep) {
			shown++;
			if (ws.path) {
				if (pwriter_packet(&ws, &m, data, p) < 0) {
					cli_error("%s", ws.err);
					writer_said = true;
					status = EXIT_INPUT;
					break;
				}
			} else if (o.json) {
				out_json_packet(&out, p);
			} else {
				out_text_line(&out, p);
			}
		}
		if (out.werr) break;
		if ((o.count && n >= o.count) || (o.stop_packets && n >= o.stop_packets)) break;
	}
	live_stop(l);
	pipeline_finish(pl);
	report(l, shown, o.json, &out, &ws);
	sb_flush(&out);
	sb_free(&out);
	pipeline_free(pl);
	anomaly_free(anomalies);
done_file:
	if (screen) tui_run_prepared_free(screen);
	if (ws.path && pwriter_close(&ws, live_linktype(l, 0)) < 0) {
		if (!writer_said) cli_error("%s", ws.err);
		status = EXIT_INPUT;
	}
	if (tmp_path[0]) unlink(tmp_path); /* the temporary capture: saved only with s or w */
done_live:
	live_close(l);
	pann_free(procs);
	proc_attr_close(pa);
done_cfg:
	keylog_free(keys);
	df_free(filter);
	config_free(&cfg);
	return status;
}

const struct command cmd_capture = { "capture", "capture live traffic (text, NDJSON, pcap/pcapng)", run_capture };
