#define _GNU_SOURCE /* strptime */
/* cli/cmd_monitor.c — `pktscope monitor run`: the egress monitor in the foreground. Captures
 * on the interfaces given (default: every interface that is up, loopback included, so the
 * local DNS stub's answers are seen), ties each connection to its program, names it from
 * the wire, places it with the GeoIP files given, stores it in SQLite under the state
 * directory and, with --json, writes NDJSON events. SIGINT/SIGTERM stop it with everything
 * stored. */
#include "cli/cli.h"
#include "capture/capture.h"
#include "dissect/decoders.h"
#include "egress/baseline.h"
#include "egress/geo.h"
#include "egress/ident.h"
#include "egress/monitor.h"
#include "egress/proc.h"
#include "egress/report.h"
#include "egress/store.h"
#include "pipeline/config.h"
#include "util/duration.h"
#include "util/sbuf.h"

#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: pktscope monitor run [-i IF]... [-r FILE] [-f BPF] [-s SNAPLEN] [-B MB] [--state-dir DIR] [--json]\n"
	"                            [--geoip-country-db FILE] [--geoip-asn-db FILE] [--no-ebpf]\n"
	"                            [--learning DURATION | --demo] [--no-journal] [--config FILE]\n"
	"       pktscope monitor alerts [--since T] [--all] [--json] [--state-dir DIR]\n"
	"       pktscope monitor ack ID [--state-dir DIR]\n"
	"       pktscope monitor known add|remove PROGRAM [DESTINATION] | list [--state-dir DIR]\n"
	"       pktscope monitor new [--since T] [--json] [--state-dir DIR]\n"
	"  (T: a length of time back, such as 30m, 24h or 7d, or a date, 2026-11-30 or\n"
	"  2026-11-30T18:00, local time)\n\n"
	"monitor run:\n"
	"  -i IF                  an interface to watch (repeatable; default: every interface\n"
	"                         that is up, loopback included)\n"
	"  -r FILE                a capture file instead: its connections, names and places (no\n"
	"                         processes), its packets' times the clock, no retention\n"
	"  -f BPF                 a capture filter (tcpdump's syntax)\n"
	"  -s SNAPLEN             bytes kept of each packet (default 4096: names are in the first\n"
	"                         ones; bytes are counted from the packets' real lengths)\n"
	"  -B MB                  the kernel's capture buffer per interface (default 1)\n"
	"  --state-dir DIR        where the store (monitor.db) lives (default /var/lib/pktscope\n"
	"                         for root, else $XDG_DATA_HOME/pktscope)\n"
	"  --json                 NDJSON events on standard output: open, update, close\n"
	"  --geoip-country-db F   a MaxMind-format country (or city) database\n"
	"  --geoip-asn-db F       a MaxMind-format ASN database\n"
	"  --no-ebpf              attribute by the socket table and process events only (by\n"
	"                         default eBPF is tried first, and its absence is said)\n"
	"  (default for both: dbip-country-lite.mmdb / dbip-asn-lite.mmdb, GeoLite2-Country.mmdb /\n"
	"  GeoLite2-ASN.mmdb in the state directory, then in /usr/share/GeoIP)\n"
	"  --learning DURATION    how long the baseline learns before it alerts, from its first\n"
	"                         observation (default 7d; the start is kept in the store)\n"
	"  --demo                 --learning 5s\n"
	"  --no-journal           alerts and binary updates only on standard error (and --json),\n"
	"                         not to the system journal (or syslog)\n"
	"  --config FILE          the configuration file; its [monitor] table gives interfaces,\n"
	"                         capture_filter, state_dir, geoip_country_db, geoip_asn_db,\n"
	"                         retention_days (default 30), max_db_mb (default 1024), ebpf,\n"
	"                         learning (7d), volume_interval (60s), volume_window (1440\n"
	"                         intervals), volume_min_samples (30), volume_floor_mb (8),\n"
	"                         cooldown (1h), journal (true) (options given here win)\n"
	"\nmonitor alerts: the alerts raised (not yet acknowledged; --all: every one)\n"
	"monitor ack ID: acknowledges an alert\n"
	"monitor known: a program (its path, or a name seen), or a program and a destination (a\n"
	"  registrable domain, AS number as AS15169, or address), marked known: never alerted on\n"
	"monitor new: what is new since T (default 24h): programs, destinations, countries and\n"
	"  networks, binaries that changed and how, alerts\n";

/* What the monitor keeps of a packet: headers, DNS answers, a ClientHello's first segment,
 * an HTTP request's Host. A TSO frame on loopback is 64 kB; kept whole, a few of them fill
 * the kernel's ring. */
#define MONITOR_SNAPLEN 4096
/* The kernel's buffer per interface (libpcap maps twice this as its ring): 2 MB holds
 * about 1300 full-sized frames, 50 ms of 300 Mbit/s, and every interface's ring counts in
 * the monitor's memory. */
#define MONITOR_BUFFER_MB 1
/* Blocks are handed over at most this late: a connection's close is said CLOSE_GRACE (500
 * ms) after it, so a block still in another interface's ring is counted first. Fewer,
 * fuller wakeups. */
#define MONITOR_BLOCK_MS 250
/* The copy ring between the capture threads and the monitor: what a burst can queue (its
 * pages count in the monitor's memory only as far as a backlog ever reached). */
#define MONITOR_RING_MB 8

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }


/* The first of the well-known files that exists, or NULL. */
static const char *find_db(const char *state_dir, const char *const *names, char *buf, size_t cap)
{
	const char *dirs[] = { state_dir, "/usr/share/GeoIP", "/var/lib/GeoIP" };
	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++)
		for (size_t i = 0; names[i]; i++) {
			snprintf(buf, cap, "%s/%s", dirs[d], names[i]);
			if (access(buf, R_OK) == 0) return buf;
		}
	return NULL;
}

/* Every interface that is up and can be captured on (loopback included); their names go
 * into names (LIVE_MAX_IFS of them), which lo then points to. */
static int all_up(struct live_opts *lo, char names[][64], char *err, size_t errlen)
{
	pcap_if_t *devs;
	char perr[PCAP_ERRBUF_SIZE];
	if (pcap_findalldevs(&devs, perr) < 0) {
		snprintf(err, errlen, "listing interfaces: %s", perr);
		return -1;
	}
	for (pcap_if_t *d = devs; d && lo->nifs < LIVE_MAX_IFS; d = d->next) {
		if (!(d->flags & PCAP_IF_UP) || !strcmp(d->name, "any")) continue;
		if (!(d->flags & PCAP_IF_LOOPBACK) && !d->addresses) continue; /* nflog, usbmon, bluetooth... */
		snprintf(names[lo->nifs], sizeof names[0], "%s", d->name);
		lo->ifaces[lo->nifs] = names[lo->nifs];
		lo->nifs++;
	}
	pcap_freealldevs(devs);
	if (!lo->nifs) {
		snprintf(err, errlen, "no interface is up");
		return -1;
	}
	return 0;
}

struct mrun {
	struct live_opts lo;
	const char *state_arg, *cdb, *adb;
	const char *read_path;   /* -r: a capture file instead of the interfaces */
	bool json, want_ebpf, journal;
	int64_t retention_ms;
	uint64_t max_bytes;
	struct bl_config bl;
};
static int monitor_main(struct mrun *r);

static int monitor_run(int argc, char **argv)
{
	struct live_opts lo = { .snaplen = MONITOR_SNAPLEN, .buffer_mb = MONITOR_BUFFER_MB };
	const char *state_arg = NULL, *cdb = NULL, *adb = NULL, *read_path = NULL;
	bool json = false, no_ebpf = false, no_journal = false;
	const char *config_path = NULL;
	int64_t learning_ms = 0;
	static const struct option longs[] = {
		{ "no-ebpf", no_argument, NULL, 'E' }, { "config", required_argument, NULL, 'c' },
		{ "learning", required_argument, NULL, 'L' }, { "demo", no_argument, NULL, 'D' },
		{ "no-journal", no_argument, NULL, 'N' },
		{ "state-dir", required_argument, NULL, 'S' }, { "json", no_argument, NULL, 'J' },
		{ "geoip-country-db", required_argument, NULL, 'C' }, { "geoip-asn-db", required_argument, NULL, 'A' },
		{ "interface", required_argument, NULL, 'i' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	optind = 1;
	int ch;
	uint64_t v;
	while ((ch = getopt_long(argc, argv, "+i:f:s:B:r:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'r': read_path = optarg; break;
		case 'i':
			if (lo.nifs == LIVE_MAX_IFS) return cli_usage_error(usage, "at most %d interfaces", LIVE_MAX_IFS);
			lo.ifaces[lo.nifs++] = optarg;
			break;
		case 'f': lo.bpf = optarg; break;
		case 's':
			if (cli_parse_uint(optarg, 256, 262144, &v) < 0)
				return cli_usage_error(usage, "-s takes 256 to 262144 bytes, not '%s'", optarg);
			lo.snaplen = (int)v;
			break;
		case 'B':
			if (cli_parse_uint(optarg, 1, 4096, &v) < 0) return cli_usage_error(usage, "-B takes 1 to 4096 MiB, not '%s'", optarg);
			lo.buffer_mb = (int)v;
			break;
		case 'S': state_arg = optarg; break;
		case 'J': json = true; break;
		case 'E': no_ebpf = true; break;
		case 'N': no_journal = true; break;
		case 'L':
			if (parse_duration_ms(optarg, &learning_ms) < 0 || learning_ms <= 0)
				return cli_usage_error(usage, "--learning takes a length of time such as 5s, 10m or 7d, not '%s'", optarg);
			break;
		case 'D': learning_ms = 5000; break;
		case 'c': config_path = optarg; break;
		case 'C': cdb = optarg; break;
		case 'A': adb = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	if (optind < argc) return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (read_path && lo.nifs) return cli_usage_error(usage, "%s", "-r reads a file: it cannot be combined with -i");
	char err[1024];
	struct config cfg;
	dissect_init(); /* the file's saved filters are compiled: field names are looked up */
	if (config_load(config_path, &cfg, err, sizeof err) < 0) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	/* [monitor] where the command line says nothing */
	char cfg_ifs[LIVE_MAX_IFS][64];
	bool cli_ifs = lo.nifs > 0;
	for (char *list = cfg.mon.interfaces, *tok; !cli_ifs && list && (tok = strsep(&list, ","));) {
		while (*tok == ' ') tok++;
		if (!*tok) continue;
		if (lo.nifs == LIVE_MAX_IFS) {
			config_free(&cfg);
			return cli_usage_error(usage, "at most %d interfaces", LIVE_MAX_IFS);
		}
		snprintf(cfg_ifs[lo.nifs], sizeof cfg_ifs[0], "%.*s", (int)strcspn(tok, " "), tok);
		lo.ifaces[lo.nifs] = cfg_ifs[lo.nifs];
		lo.nifs++;
	}
	if (!lo.bpf) lo.bpf = cfg.mon.capture_filter;
	if (!state_arg) state_arg = cfg.mon.state_dir;
	if (!cdb) cdb = cfg.mon.geoip_country_db;
	if (!adb) adb = cfg.mon.geoip_asn_db;
	bool want_ebpf = !no_ebpf && cfg.mon.ebpf >= 0;
	int64_t retention_ms = (int64_t)(cfg.mon.retention_days ? cfg.mon.retention_days : 30) * 86400000;
	uint64_t max_bytes = (uint64_t)(cfg.mon.max_db_mb ? cfg.mon.max_db_mb : 1024) << 20;
	struct mrun r = { .lo = lo, .state_arg = state_arg, .cdb = cdb, .adb = adb, .read_path = read_path, .json = json,
			  .want_ebpf = want_ebpf, .retention_ms = retention_ms, .max_bytes = max_bytes,
			  .journal = !no_journal && cfg.mon.journal >= 0 };
	bl_config_default(&r.bl);
	if (learning_ms) r.bl.learning_ms = learning_ms;
	else if (cfg.mon.learning_ms) r.bl.learning_ms = cfg.mon.learning_ms;
	if (cfg.mon.volume_interval_ms) r.bl.interval_ms = cfg.mon.volume_interval_ms;
	if (cfg.mon.cooldown_ms) r.bl.cooldown_ms = cfg.mon.cooldown_ms;
	if (cfg.mon.volume_floor_mb) r.bl.floor_bytes = (uint64_t)cfg.mon.volume_floor_mb << 20;
	if (cfg.mon.volume_window) r.bl.window = cfg.mon.volume_window;
	if (cfg.mon.volume_min_samples) r.bl.min_samples = cfg.mon.volume_min_samples;
	int status = monitor_main(&r);
	config_free(&cfg);
	return status;
}

/* -r: the file's packets through the same engine, its times the clock; no processes. */
static int replay(struct mrun *r, const struct monitor_opts *mo_in, struct sbuf *out, const char *dbpath)
{
	char err[1024];
	struct pkt_source *src = src_open_file(r->read_path, err, sizeof err);
	if (!src) {
		cli_error("%s: %s", r->read_path, err);
		return EXIT_INPUT;
	}
	if (r->lo.bpf && src_set_bpf(src, r->lo.bpf, err, sizeof err) < 0) {
		cli_error("-f: %s", err);
		src_close(src);
		return EXIT_USAGE;
	}
	struct monitor_opts mo = *mo_in;
	mo.replay = true;
	struct monitor *mon = monitor_new(&mo);
	fprintf(stderr, "pktscope: monitor: reading %s (no processes: a capture file); store %s\n", r->read_path, dbpath);
	struct pkt_meta m;
	const uint8_t *data;
	enum src_status st;
	uint64_t n = 0;
	while (!stop_signal && (st = src_next(src, &m, &data)) == SRC_OK) {
		m.number = ++n;
		monitor_packet(mon, &m, data);
	}
	int status = EXIT_OK;
	if (!stop_signal && st == SRC_ERROR) {
		cli_error("%s: %s (after %llu packets)", r->read_path, src_error(src), (unsigned long long)n);
		status = EXIT_INPUT;
	}
	monitor_finish(mon);
	struct monitor_stats ms;
	monitor_stats(mon, &ms);
	monitor_free(mon);
	sb_flush(out);
	fprintf(stderr, "pktscope: monitor: %llu packets, %llu connections, %llu names; dropped: %llu store rows\n",
		(unsigned long long)ms.packets, (unsigned long long)ms.conns, (unsigned long long)ms.named,
		(unsigned long long)ms.store_dropped);
	src_close(src);
	return status;
}

#define KNOWN_RELOAD_MS 2000 /* the known list read again at most this often */

static void hold_exe(void *ctx, int fd) { ident_hold(ctx, fd); }

static int monitor_main(struct mrun *r)
{
	struct live_opts lo = r->lo;
	const char *state_arg = r->state_arg, *cdb = r->cdb, *adb = r->adb;
	bool json = r->json, want_ebpf = r->want_ebpf;
	int64_t retention_ms = r->retention_ms;
	uint64_t max_bytes = r->max_bytes;
	char err[1024], note[512], state_dir[4096], dbpath[4200], cbuf[4200], abuf[4200];
	if (state_arg) snprintf(state_dir, sizeof state_dir, "%s", state_arg);
	else cli_state_dir(state_dir, sizeof state_dir);
	if (cli_mkdirs(state_dir) < 0) {
		cli_error("state directory %s: %s", state_dir, strerror(errno));
		return EXIT_INPUT;
	}
	static const char *const cnames[] = { "dbip-country-lite.mmdb", "GeoLite2-Country.mmdb", "GeoLite2-City.mmdb", NULL };
	static const char *const anames[] = { "dbip-asn-lite.mmdb", "GeoLite2-ASN.mmdb", NULL };
	if (!cdb) cdb = find_db(state_dir, cnames, cbuf, sizeof cbuf);
	if (!adb) adb = find_db(state_dir, anames, abuf, sizeof abuf);
	struct geo *geo = geo_open(cdb, adb, err, sizeof err);
	if (!geo) {
		cli_error("%s", err);
		return EXIT_INPUT;
	}
	char ifnames[LIVE_MAX_IFS][64];
	if (!r->read_path && !lo.nifs && all_up(&lo, ifnames, err, sizeof err) < 0) {
		cli_error("%s", err);
		geo_close(geo);
		return EXIT_INPUT;
	}
	int status = EXIT_OK, why = 0;
	struct proc_attr *pa = NULL;
	struct baseline *bl = NULL;
	struct ident *ident = NULL;
	if (!r->read_path) { /* a file has no processes to ask */
		pa = proc_attr_open(want_ebpf, note, sizeof note, err, sizeof err);
		if (!pa) fprintf(stderr, "pktscope: monitor: no process attribution: %s\n", err);
		else if (note[0]) fprintf(stderr, "pktscope: monitor: %s\n", note);
		/* without the kernel side, a connection is looked up while its socket may still be
		 * there: each packet as it comes (a wakeup per packet); with it, the kernel's record
		 * waits, and packets come in blocks (fewer wakeups, less CPU) */
		lo.immediate = !pa || !proc_attr_kernel(pa);
		lo.block_ms = MONITOR_BLOCK_MS;
		lo.ring_mb = MONITOR_RING_MB;
	}
	snprintf(dbpath, sizeof dbpath, "%s/monitor.db", state_dir);
	struct store *store = store_open(dbpath, err, sizeof err);
	struct live *l = NULL;
	if (!store) {
		cli_error("%s", err);
		status = EXIT_INPUT;
		goto done;
	}
	if (!r->read_path) store_set_retention(store, retention_ms, max_bytes); /* a file's times are old */
	dissect_init();
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (r->read_path) {
		struct sbuf out;
		sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
		struct monitor_opts mo = { .json = json ? &out : NULL, .store = store, .geo = geo };
		status = replay(r, &mo, &out, dbpath);
		sb_free(&out);
		goto done;
	}
	if (!(l = live_open(&lo, err, sizeof err, &why))) {
		cli_error("%s", err);
		status = why == LIVE_ERR_USAGE ? EXIT_USAGE : EXIT_INPUT;
		goto done;
	}
	if (live_start(l, err, sizeof err) < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
		goto done;
	}
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	/* the baseline and its alerts (baseline.h), the binaries' identity (ident.h) */
	struct report_out ro = { .store = store, .json = json ? &out : NULL, .to_stderr = true, .to_journal = r->journal };
	struct bl_sink sink;
	report_sink(&ro, &sink);
	bl = baseline_new(&r->bl, &sink);
	struct timespec t0;
	clock_gettime(CLOCK_REALTIME, &t0);
	int64_t now_ms = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000;
	if (store_load_baseline(store, bl, now_ms, err, sizeof err) < 0) {
		cli_error("%s: %s", dbpath, err);
		sb_free(&out);
		status = EXIT_INPUT;
		goto done;
	}
	ident = ident_open(NULL, note, sizeof note);
	fprintf(stderr, "pktscope: monitor: %s\n", note);
	if (pa) proc_attr_on_exe(pa, hold_exe, ident);
	char learn[64];
	int64_t ends = baseline_learning_ends(bl);
	bool active = baseline_active(bl, now_ms);
	if (!ends) fprintf(stderr, "pktscope: monitor: baseline: learning for %s from the first connection\n", format_duration_ms(r->bl.learning_ms, learn, sizeof learn));
	else if (!active) fprintf(stderr, "pktscope: monitor: baseline: learning for %s more\n", format_duration_ms(ends - now_ms, learn, sizeof learn));
	else fprintf(stderr, "pktscope: monitor: baseline: active (learned for %s)\n", format_duration_ms(r->bl.learning_ms, learn, sizeof learn));
	struct monitor_opts mo = { .json = json ? &out : NULL, .store = store, .geo = geo, .proc = pa, .baseline = bl, .ident = ident };
	struct monitor *mon = monitor_new(&mo);
	fprintf(stderr, "pktscope: monitor: attribution %s; store %s; watching",
		!pa ? "off" : proc_attr_kernel(pa) ? "by eBPF, then the socket table" : "by the socket table and process events", dbpath);
	for (int k = 0; k < live_count(l); k++) fprintf(stderr, " %s", live_ifname(l, k));
	fprintf(stderr, "\n");
	bool stopping = false;
	int64_t known_ms = now_ms;
	for (;;) {
		if (!stopping && stop_signal) {
			live_stop(l);
			stopping = true;
		}
		struct pkt_meta m;
		const uint8_t *data;
		bool timed_out;
		enum src_status st = live_next(l, &m, &data, 0, &timed_out);
		if (st == SRC_OK) {
			monitor_packet(mon, &m, data);
			continue;
		}
		if (!timed_out) break;
		if (pa) proc_attr_events(pa); /* idle: the process table kept current (lookups read them too) */
		ident_events(ident);
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		monitor_tick(mon, ns);
		if (!active && baseline_active(bl, ns / 1000000)) {
			active = true;
			fprintf(stderr, "pktscope: monitor: baseline: learning is over, alerts are on\n");
		}
		if (ns / 1000000 - known_ms >= KNOWN_RELOAD_MS) { /* `monitor known` changes it from outside */
			known_ms = ns / 1000000;
			store_load_known(store, bl);
		}
		struct pollfd pfd[3] = { { .fd = live_fd(l), .events = POLLIN }, { .fd = pa ? proc_attr_fd(pa) : -1, .events = POLLIN },
					 { .fd = ident_fd(ident), .events = POLLIN } };
		poll(pfd, 3, 200);
	}
	monitor_finish(mon);
	struct monitor_stats ms;
	monitor_stats(mon, &ms);
	monitor_free(mon);
	struct bl_stats bs;
	baseline_stats(bl, &bs);
	struct ident_stats is;
	ident_stats(ident, &is);
	sb_flush(&out);
	sb_free(&out);
	uint64_t kernel = 0, ring = 0;
	for (int k = 0; k < live_count(l); k++) {
		struct live_stats ls;
		live_stats(l, k, &ls);
		kernel += ls.kernel_dropped + ls.if_dropped;
		ring += ls.ring_dropped;
	}
	fprintf(stderr,
		"pktscope: monitor: %llu packets, %llu connections (%llu attributed, %llu unknown), %llu names; "
		"dropped: %llu by the kernel, %llu by pktscope, %llu store rows; not followed (table full): %llu "
		"connections; forgotten: %llu names (cache full), %llu exited processes\n",
		(unsigned long long)ms.packets, (unsigned long long)ms.conns, (unsigned long long)ms.attributed,
		(unsigned long long)ms.unknown, (unsigned long long)ms.named, (unsigned long long)kernel,
		(unsigned long long)ring, (unsigned long long)ms.store_dropped, (unsigned long long)ms.conns_evicted,
		(unsigned long long)ms.names_evicted, (unsigned long long)ms.procs_evicted);
	fprintf(stderr,
		"pktscope: monitor: baseline: %llu alerts, %llu binary updates, %llu suppressed by cooldown, %llu by the "
		"known list; %llu keys; %llu binaries hashed (%llu MB)\n",
		(unsigned long long)bs.alerts, (unsigned long long)bs.info, (unsigned long long)bs.suppressed_cooldown,
		(unsigned long long)bs.suppressed_known, (unsigned long long)bs.keys, (unsigned long long)is.hashed,
		(unsigned long long)(is.hashed_bytes >> 20));
done:
	if (l) live_close(l);
	if (store && store_close(store, err, sizeof err) < 0) {
		cli_error("%s: %s", dbpath, err);
		status = EXIT_INPUT;
	}
	proc_attr_close(pa);
	ident_close(ident);
	baseline_free(bl);
	geo_close(geo);
	return status;
}

/* --since: a length of time back, or a local date and time; ms since the epoch, or -1. */
static int64_t parse_since(const char *s, int64_t now_ms)
{
	int64_t d;
	if (parse_duration_ms(s, &d) == 0) return now_ms - d;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T') end = strptime(end + 1, "%H:%M", &tm);
	if (end && *end == ':') end = strptime(end, ":%S", &tm);
	if (!end || *end) return -1;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	return t == (time_t)-1 ? -1 : (int64_t)t * 1000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `monitor alerts|ack|known|new`: the store read (and the alerts and known list changed)
 * while the monitor runs or not. */
static int monitor_query(const char *cmd, int argc, char **argv)
{
	const char *state_arg = NULL, *config_path = NULL, *since = NULL;
	bool json = false, all = false;
	static const struct option longs[] = {
		{ "state-dir", required_argument, NULL, 'S' }, { "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'J' }, { "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	bool takes_since = !strcmp(cmd, "alerts") || !strcmp(cmd, "new");
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'S': state_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case 's':
		case 'J':
		case 'a':
			if (!takes_since || (ch == 'a' && strcmp(cmd, "alerts")))
				return cli_usage_error(usage, "monitor %s takes no %s", cmd, argv[optind - 1]);
			if (ch == 's') since = optarg;
			else if (ch == 'J') json = true;
			else all = true;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	char **arg = argv + optind;
	int nargs = argc - optind;
	int64_t now = wall_ms(), since_ms = 0;
	if (since && (since_ms = parse_since(since, now)) < 0)
		return cli_usage_error(usage, "--since takes a length of time (30m, 24h, 7d) or a date (2026-11-30[T18:00]), not '%s'", since);
	if (!since && !strcmp(cmd, "new")) since_ms = now - 86400000;
	uint64_t id = 0;
	if (!strcmp(cmd, "ack") && (nargs != 1 || cli_parse_uint(arg[0], 1, INT64_MAX, &id) < 0))
		return cli_usage_error(usage, "%s", "monitor ack takes one alert number");
	if (!strcmp(cmd, "known")) {
		bool list = nargs == 1 && !strcmp(arg[0], "list");
		bool change = (nargs == 2 || nargs == 3) && (!strcmp(arg[0], "add") || !strcmp(arg[0], "remove"));
		if (!list && !change) return cli_usage_error(usage, "%s", "monitor known add|remove PROGRAM [DESTINATION], or list");
	} else if (takes_since && nargs) {
		return cli_usage_error(usage, "unexpected argument '%s'", arg[0]);
	}
	char err[1024], state_dir[4096], dbpath[4200];
	struct config cfg;
	dissect_init(); /* the file's saved filters are compiled */
	if (config_load(config_path, &cfg, err, sizeof err) < 0) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	if (!state_arg) state_arg = cfg.mon.state_dir;
	if (state_arg) snprintf(state_dir, sizeof state_dir, "%s", state_arg);
	else cli_state_dir(state_dir, sizeof state_dir);
	snprintf(dbpath, sizeof dbpath, "%s/monitor.db", state_dir);
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	int rc;
	if (!strcmp(cmd, "alerts")) rc = report_alerts(dbpath, since_ms, json, all, &out, err, sizeof err);
	else if (!strcmp(cmd, "new")) rc = report_new(dbpath, since_ms, json, &out, err, sizeof err);
	else if (!strcmp(cmd, "ack")) rc = report_ack(dbpath, id, now, err, sizeof err);
	else rc = report_known(dbpath, arg[0], nargs > 1 ? arg[1] : NULL, nargs > 2 ? arg[2] : NULL, now, &out, err, sizeof err);
	if (rc == 0 && !strcmp(cmd, "ack")) sb_printf(&out, "alert #%llu acknowledged\n", (unsigned long long)id);
	sb_flush(&out);
	sb_free(&out);
	config_free(&cfg);
	if (rc < 0) {
		cli_error("%s", err);
		return EXIT_INPUT;
	}
	if (rc == 1) {
		if (!strcmp(cmd, "ack")) cli_error("there is no alert #%llu", (unsigned long long)id);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

static int run_monitor(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "run")) return monitor_run(argc - 1, argv + 1);
	static const char *const queries[] = { "alerts", "ack", "known", "new" };
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++)
		if (!strcmp(argv[1], queries[i])) return monitor_query(argv[1], argc - 1, argv + 1);
	return cli_usage_error(usage, "unknown monitor command '%s'", argv[1]);
}

const struct command cmd_monitor = { "monitor", "the egress monitor: which program talks to whom", run_monitor };
