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
#include "egress/client.h"
#include "egress/geo.h"
#include "egress/ident.h"
#include "egress/monitor.h"
#include "egress/proc.h"
#include "egress/report.h"
#include "egress/server.h"
#include "egress/service.h"
#include "egress/store.h"
#include "pipeline/config.h"
#include "util/duration.h"
#include "util/jsonr.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/capability.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: pktscope monitor run [-i IF]... [-r FILE] [-f BPF] [-s SNAPLEN] [-B MB] [--state-dir DIR] [--json]\n"
	"                            [--geoip-country-db FILE] [--geoip-asn-db FILE] [--no-ebpf]\n"
	"                            [--learning DURATION | --demo] [--no-journal] [--config FILE]\n"
	"                            [--daemonize] [--socket PATH] [--group NAME] [--no-notify]\n"
	"       pktscope monitor status [--json] [--state-dir DIR | --socket PATH] [--config FILE]\n"
	"       pktscope monitor stop [--state-dir DIR | --socket PATH] [--config FILE]\n"
	"       pktscope monitor events [--events LIST] [--program TEXT] [--state-dir DIR | --socket PATH] [--config FILE]\n"
	"       pktscope monitor notify [--command PROG] [--severity LEVEL] [--program TEXT] [--state-dir DIR | --socket PATH] [--config FILE]\n"
	"       pktscope monitor alerts [--since T] [--all] [--json] [--state-dir DIR] [--config FILE]\n"
	"       pktscope monitor ack ID [--state-dir DIR] [--config FILE]\n"
	"       pktscope monitor known add|remove PROGRAM [DESTINATION] | list [--state-dir DIR] [--config FILE]\n"
	"       pktscope monitor new [--since T] [--json] [--state-dir DIR] [--config FILE]\n"
	"  (T: a length of time back, such as 30m, 24h or 7d, or a date, 2026-11-30 or\n"
	"  2026-11-30T18:00, local time)\n\n"
	"monitor run:\n"
	"  -i, --interface IF     an interface to watch (repeatable; default: every interface\n"
	"                         that is up, loopback included)\n"
	"  -r FILE                a capture file instead: its connections, names and places (no\n"
	"                         processes), its packets' times the clock (retention too)\n"
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
	"  --daemonize            run in the background (its log: monitor.log in the state\n"
	"                         directory); the command returns once it is capturing\n"
	"  --socket PATH          the socket clients talk to (default: monitor.sock in the state\n"
	"                         directory)\n"
	"  --group NAME           members of this group may read what the monitor knows\n"
	"                         (default pktscope; root and the monitor's user may do anything)\n"
	"  --no-notify            accepted for the old pktscope's sake: the monitor never notifies\n"
	"                         the desktop itself (`pktscope monitor notify` does, as the user)\n"
	"  --config FILE          the configuration file; its [monitor] table gives interfaces,\n"
	"                         capture_filter, state_dir, geoip_country_db, geoip_asn_db,\n"
	"                         retention_days (default 30), max_db_mb (default 1024), ebpf,\n"
	"                         learning (7d), volume_interval (60s), volume_window (1440\n"
	"                         intervals), volume_min_samples (30), volume_floor_mb (8),\n"
	"                         cooldown (1h), journal (true) (options given here win)\n"
	"  -h, --help             this text\n"
	"\nmonitor alerts: the alerts raised (not yet acknowledged; --all: every one)\n"
	"monitor ack ID: acknowledges an alert\n"
	"monitor known: a program (its path, or a name seen), or a program and a destination (a\n"
	"  registrable domain, AS number as AS15169, or address), marked known: never alerted on\n"
	"monitor new: what is new since T (default 24h): programs, destinations, countries and\n"
	"  networks, binaries that changed and how, alerts\n"
	"monitor status: the running monitor's state (--json: its status object)\n"
	"monitor stop: stops the running monitor (everything stored first)\n"
	"monitor events: the running monitor's events as NDJSON on standard output, as\n"
	"  `monitor run --json` writes them (LIST: open,update,close,alert,info; TEXT: a part of\n"
	"  the program's path)\n"
	"monitor notify: each new alert as a desktop notification (notify-send), sent from your\n"
	"  own session, never by the daemon (--help: its options)\n"
	"\nthe clients (status, stop, events, alerts, ack, known, new):\n"
	"  --state-dir DIR        the monitor's state directory\n"
	"  --socket PATH          its socket (status, stop, events)\n"
	"  (a client finds the monitor by --socket, --state-dir, the user's own state directory,\n"
	"  then root's, " CLIENT_ROOT_STATE_DIR ")\n"
	"  --json                 status: its status object; alerts: one alert a line; new: one object\n"
	"  --events LIST          events: the kinds, of open,update,close,alert,info\n"
	"  --program TEXT         events: the programs whose path holds TEXT\n"
	"  --since T              alerts, new: since a length of time back or a date\n"
	"  --all                  alerts: the acknowledged ones too\n"
	"  --config FILE          the configuration file (its [monitor] state_dir)\n"
	"  -h, --help             this text\n";

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
	bool json, want_ebpf, journal, daemonize;
	const char *socket_path, *group;
	int64_t retention_ms;
	uint64_t max_bytes;
	struct bl_config bl;
};
static int monitor_main(struct mrun *r);

static int monitor_run(int argc, char **argv)
{
	struct live_opts lo = { .snaplen = MONITOR_SNAPLEN, .buffer_mb = MONITOR_BUFFER_MB };
	const char *state_arg = NULL, *cdb = NULL, *adb = NULL, *read_path = NULL;
	bool json = false, no_ebpf = false, no_journal = false, daemonize = false;
	const char *config_path = NULL, *socket_path = NULL, *group = NULL;
	int64_t learning_ms = 0;
	static const struct option longs[] = {
		{ "no-ebpf", no_argument, NULL, 'E' }, { "config", required_argument, NULL, 'c' },
		{ "learning", required_argument, NULL, 'L' }, { "demo", no_argument, NULL, 'D' },
		{ "no-journal", no_argument, NULL, 'N' }, { "daemonize", no_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 'k' }, { "group", required_argument, NULL, 'g' },
		{ "no-notify", no_argument, NULL, 'n' },
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
		case 'd': daemonize = true; break;
		case 'k': socket_path = optarg; break;
		case 'g': group = optarg; break;
		case 'n': break; /* the daemon never notifies by itself */
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
	if (read_path && daemonize) return cli_usage_error(usage, "%s", "-r reads a file in the foreground: it cannot be combined with --daemonize");
	if (daemonize && json) return cli_usage_error(usage, "%s", "--json writes to standard output: with --daemonize, `pktscope monitor events` gives the events");
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
			  .journal = !no_journal && cfg.mon.journal >= 0, .daemonize = daemonize, .socket_path = socket_path,
			  .group = group };
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
#define PIDFILE_NAME "monitor.pid"
#define LOGFILE_NAME "monitor.log"

/* One monitor per state directory: an exclusive flock on its pidfile, held for the
 * monitor's life (the kernel lets it go when the process ends, however it ends). The
 * descriptor, or -1 with the reason said. */
static int lock_state(const char *state_dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/" PIDFILE_NAME, state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (errno == EWOULDBLOCK)
			cli_error("another monitor%s%s%s is running with the state directory %s: `pktscope monitor stop%s%s` stops it",
				  *pid ? " (pid " : "", pid, *pid ? ")" : "", state_dir, strcmp(state_dir, CLIENT_ROOT_STATE_DIR) ? " --state-dir " : "",
				  strcmp(state_dir, CLIENT_ROOT_STATE_DIR) ? state_dir : "");
		else
			cli_error("%s: cannot lock it: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void write_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* the lock matters, the text is a courtesy */
	}
}

/* --daemonize: fork, setsid, fork; standard input from /dev/null, output to the log. The
 * first process waits until the monitor says it is capturing (a byte on *ready) or gives up
 * (the pipe closes), so that `monitor run --daemonize && monitor status` works. Returns in
 * the daemon only; -1 when the log cannot be opened. */
static int daemonize(const char *state_dir, int *ready)
{
	char log[4200];
	snprintf(log, sizeof log, "%s/" LOGFILE_NAME, state_dir);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		cli_error("%s: %s", log, strerror(errno));
		return -1;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		cli_error("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		cli_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) { /* the command the user ran */
		close(p[1]);
		char buf[32] = "";
		ssize_t n;
		while ((n = read(p[0], buf, sizeof buf - 1)) < 0 && errno == EINTR) {
		}
		buf[n > 0 ? n : 0] = '\0';
		int st;
		waitpid(pid, &st, 0); /* the middle process, gone at once */
		if (n > 0 && buf[0] == 'R') {
			fprintf(stderr, "pktscope: monitor: running in the background (pid %s); log %s\n", buf + 1, log);
			_exit(EXIT_OK);
		}
		fprintf(stderr, "pktscope: monitor: it did not start; the end of %s says:\n", log);
		FILE *f = fopen(log, "r");
		if (f) { /* its last lines: what went wrong */
			char lines[8][512];
			int k = 0;
			while (fgets(lines[k % 8], sizeof lines[0], f)) k++;
			for (int i = k > 8 ? k - 8 : 0; i < k; i++) fputs(lines[i % 8], stderr);
			fclose(f);
		}
		_exit(EXIT_INPUT);
	}
	close(p[0]);
	setsid();
	pid = fork();
	if (pid < 0) _exit(EXIT_INPUT);
	if (pid > 0) _exit(EXIT_OK);
	if (chdir("/") < 0) { /* / is there */
	}
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nul >= 0) dup2(nul, STDIN_FILENO);
	dup2(logfd, STDOUT_FILENO);
	dup2(logfd, STDERR_FILENO);
	if (nul > STDERR_FILENO) close(nul);
	close(logfd);
	setvbuf(stderr, NULL, _IOLBF, 0);
	*ready = p[1];
	return 0;
}

/* What the monitor keeps once its capture, eBPF and netlink handles are open: reading other
 * users' /proc/PID/fd and exe (CAP_SYS_PTRACE) and their binaries to hash them
 * (CAP_DAC_READ_SEARCH). Every other capability goes, from the bounding set too, and no
 * exec can give any back (no_new_privs). The mask kept, or 0 when it was not root. */
#define KEPT_CAPS ((1ull << CAP_SYS_PTRACE) | (1ull << CAP_DAC_READ_SEARCH))
static int drop_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	uint64_t have = (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
	for (int cap = 0; cap <= 63; cap++)
		if (!(KEPT_CAPS >> cap & 1) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	uint64_t keep = have & KEPT_CAPS;
	memset(d, 0, sizeof d);
	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d) != 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

/* A root monitor's state directory made reachable by the readers' group (0750), when it is
 * the monitor's own (created 0700 by it) — never a directory the user pointed at that is
 * someone else's or open to all. */
static void open_to_group(const char *state_dir, const char *group)
{
	struct group *g = getgrnam(group ? group : "pktscope");
	struct stat st;
	if (!g || geteuid() != 0 || stat(state_dir, &st) < 0 || st.st_uid != 0 || (st.st_mode & 07777) != 0700) return;
	if (chown(state_dir, 0, g->gr_gid) == 0) chmod(state_dir, 0750);
}

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
	umask(077); /* what the monitor records is private: the store, its log, its socket (0660 itself) */
	if (cli_mkdirs(state_dir) < 0) {
		cli_error("state directory %s: %s", state_dir, strerror(errno));
		return EXIT_INPUT;
	}
	if (!r->read_path) open_to_group(state_dir, r->group);
	int lockfd = lock_state(state_dir), ready = -1;
	if (lockfd < 0) return EXIT_INPUT;
	/* before any thread starts: a fork keeps only the thread that called it */
	if (r->daemonize && daemonize(state_dir, &ready) < 0) {
		close(lockfd);
		return EXIT_INPUT;
	}
	write_pid(lockfd);
	static const char *const cnames[] = { "dbip-country-lite.mmdb", "GeoLite2-Country.mmdb", "GeoLite2-City.mmdb", NULL };
	static const char *const anames[] = { "dbip-asn-lite.mmdb", "GeoLite2-ASN.mmdb", NULL };
	if (!cdb) cdb = find_db(state_dir, cnames, cbuf, sizeof cbuf);
	if (!adb) adb = find_db(state_dir, anames, abuf, sizeof abuf);
	int status = EXIT_OK, why = 0;
	struct server *srv = NULL;
	struct service svc = { .dbpath = dbpath, .state_dir = state_dir };
	char ifnames[LIVE_MAX_IFS][64], sock[4200], iftext[LIVE_MAX_IFS * 20] = "", pidfile[4200];
	struct geo *geo = geo_open(cdb, adb, err, sizeof err);
	if (!geo) {
		cli_error("%s", err);
		status = EXIT_INPUT;
		goto unlock;
	}
	if (!r->read_path && !lo.nifs && all_up(&lo, ifnames, err, sizeof err) < 0) {
		cli_error("%s", err);
		geo_close(geo);
		status = EXIT_INPUT;
		goto unlock;
	}
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
	store_set_retention(store, retention_ms, max_bytes); /* -r: counted on the file's clock */
	if (r->read_path) {
		store_set_clock(store, -1);
		store_set_wait(store, true);
	}
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
	struct report_out ro = { .store = store, .json = json ? &out : NULL, .to_stderr = true, .to_journal = r->journal,
				 .event = service_event, .event_ctx = &svc };
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
	struct monitor_opts mo = { .json = json ? &out : NULL, .store = store, .geo = geo, .proc = pa, .baseline = bl, .ident = ident,
				   .event = service_event, .event_ctx = &svc };
	struct monitor *mon = monitor_new(&mo);
	const char *attribution = !pa ? "off" : proc_attr_kernel(pa) ? "by eBPF, then the socket table" : "by the socket table and process events";
	for (int k = 0; k < live_count(l); k++)
		snprintf(iftext + strlen(iftext), sizeof iftext - strlen(iftext), "%s%s", k ? " " : "", live_ifname(l, k));
	fprintf(stderr, "pktscope: monitor: attribution %s; store %s; watching %s\n", attribution, dbpath, iftext);
	/* the socket, last: a client that can connect finds the monitor capturing */
	svc = (struct service){ .mon = mon, .bl = bl, .store = store, .live = l, .dbpath = dbpath, .state_dir = state_dir,
				.socket_path = sock, .attribution = attribution, .interfaces = iftext, .started_ms = now_ms };
	client_socket_path(r->socket_path, state_dir, NULL, sock, sizeof sock);
	struct server_opts so = { .path = sock, .group = r->group, .version = PKTSCOPE_VERSION, .handle = service_handle, .ctx = &svc };
	if (!(srv = server_open(&so, err, sizeof err))) {
		cli_error("%s", err);
		monitor_free(mon);
		sb_free(&out);
		status = EXIT_INPUT;
		goto done;
	}
	svc.srv = srv;
	if (geteuid() == 0) {
		if (drop_privileges(err, sizeof err) < 0) fprintf(stderr, "pktscope: monitor: keeping its privileges: %s\n", err);
		else fprintf(stderr, "pktscope: monitor: privileges dropped: only CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH kept\n");
	}
	fprintf(stderr, "pktscope: monitor: socket %s (pid %d)\n", sock, (int)getpid());
	if (ready >= 0) { /* the first process may go: the monitor is capturing and answering */
		char msg[32];
		int n = snprintf(msg, sizeof msg, "R%d", (int)getpid());
		if (write(ready, msg, (size_t)n) < 0) { /* it went already */
		}
		close(ready);
		ready = -1;
	}
	bool stopping = false;
	int64_t known_ms = now_ms;
	uint32_t since_service = 0;
	struct pollfd pfd[3 + SERVER_MAX_CLIENTS + 1];
	for (;;) {
		if (!stopping && (stop_signal || svc.stop)) {
			server_unlisten(srv);
			live_stop(l);
			stopping = true;
		}
		struct pkt_meta m;
		const uint8_t *data;
		bool timed_out;
		enum src_status st = live_next(l, &m, &data, 0, &timed_out);
		if (st == SRC_OK) {
			monitor_packet(mon, &m, data);
			if (++since_service == 512) { /* a busy link: clients are answered between packets too */
				since_service = 0;
				int n = server_pollfds(srv, pfd);
				if (poll(pfd, (nfds_t)n, 0) > 0) server_service(srv, pfd, n);
			}
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
		pfd[0] = (struct pollfd){ .fd = live_fd(l), .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = pa ? proc_attr_fd(pa) : -1, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = ident_fd(ident), .events = POLLIN };
		int n = stopping ? 0 : server_pollfds(srv, pfd + 3);
		if (poll(pfd, (nfds_t)(3 + n), 200) > 0 && n) server_service(srv, pfd + 3, n);
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
	server_unlisten(srv); /* no new client finds a monitor half gone */
	service_close(&svc);
	if (l) live_close(l);
	if (store && store_close(store, err, sizeof err) < 0) {
		cli_error("%s: %s", dbpath, err);
		status = EXIT_INPUT;
	}
	snprintf(pidfile, sizeof pidfile, "%s/" PIDFILE_NAME, state_dir);
	unlink(pidfile); /* still locked: no other monitor can have written it */
	server_close(srv); /* everything stored: `monitor stop` returns */
	proc_attr_close(pa);
	ident_close(ident);
	baseline_free(bl);
	geo_close(geo);
unlock:
	if (ready >= 0) close(ready); /* not started: the first process says so */
	snprintf(pidfile, sizeof pidfile, "%s/" PIDFILE_NAME, state_dir);
	unlink(pidfile);
	close(lockfd);
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
/* monitor alerts|new|ack|known through a running monitor's socket: what the store gives,
 * in the same form. */
static int query_socket(struct monitor_client *c, const char *cmd, int64_t since_ms, bool json, bool all, uint64_t id, char **arg,
			int nargs)
{
	char req[3000], err[1024];
	struct sbuf rq;
	sb_init_fixed(&rq, req, sizeof req);
	if (!strcmp(cmd, "ack")) {
		sb_printf(&rq, "{\"type\":\"ack\",\"id\":%llu}", (unsigned long long)id);
	} else if (!strcmp(cmd, "known")) {
		sb_puts(&rq, "{\"type\":\"known\",\"format\":\"text\",\"op\":");
		sb_json_str(&rq, arg[0], strlen(arg[0]));
		for (int i = 1; i < nargs; i++) {
			sb_puts(&rq, i == 1 ? ",\"program\":" : ",\"destination\":");
			sb_json_str(&rq, arg[i], strlen(arg[i]));
		}
		sb_putc(&rq, '}');
	} else {
		sb_printf(&rq, "{\"type\":\"%s\",\"since_ms\":%lld,\"format\":\"%s\"%s}", cmd, (long long)since_ms, json ? "json" : "text",
			  all ? ",\"all\":true" : "");
	}
	if (rq.trunc) {
		cli_error("%s", "the program or destination is too long");
		return EXIT_USAGE;
	}
	sb_cstr(&rq);
	struct sbuf line, out;
	sb_init_grow(&line, 1 << 16, SERVER_MAX_REPLY);
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	int status = EXIT_OK;
	struct jobj o;
	const struct jv *d;
	if (client_call(c, req, &line, err, sizeof err) < 0 || jsonr_object(line.buf, line.len, &o, err, sizeof err) < 0 ||
	    !(d = jsonr_get(&o, "data"))) {
		cli_error("%s", err);
		status = EXIT_INPUT;
	} else if (d->type == JV_STR) { /* the text the store would have given */
		size_t n = d->rawlen;
		char *text = xmalloc(n + 1);
		if (jsonr_str(d, text, n + 1) == 0) sb_puts(&out, text);
		free(text);
	} else if (d->type == JV_ARR) { /* alerts --json: one a line */
		size_t pos = 0;
		struct jv el;
		while (jsonr_next(d, &pos, &el)) {
			sb_put(&out, el.raw, el.rawlen);
			sb_putc(&out, '\n');
		}
	} else if (!strcmp(cmd, "ack")) {
		sb_printf(&out, "alert #%llu acknowledged\n", (unsigned long long)id);
	} else if (!strcmp(cmd, "known")) { /* {"message": …} */
		struct jobj m;
		char msg[2000];
		if (jsonr_sub(d, &m, err, sizeof err) == 0 && jsonr_str(jsonr_get(&m, "message"), msg, sizeof msg) == 0) sb_printf(&out, "%s\n", msg);
	} else {
		sb_put(&out, d->raw, d->rawlen);
		sb_putc(&out, '\n');
	}
	sb_flush(&out);
	sb_free(&out);
	sb_free(&line);
	return status;
}

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
	/* no store of the user's own and no directory named: root's monitor's */
	if (!state_arg && access(dbpath, F_OK) < 0) {
		snprintf(state_dir, sizeof state_dir, "%s", CLIENT_ROOT_STATE_DIR);
		snprintf(dbpath, sizeof dbpath, "%s/monitor.db", state_dir);
	}
	/* a monitor running there answers through its socket (a reader of group pktscope too);
	 * else the store is read and written directly */
	char sock[4200];
	snprintf(sock, sizeof sock, "%s/" CLIENT_SOCKET_NAME, state_dir);
	struct monitor_client *c = client_connect(sock, err, sizeof err);
	if (c) {
		int status = query_socket(c, cmd, since_ms, json, all, id, arg, nargs);
		client_close(c);
		config_free(&cfg);
		return status;
	}
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

/* `monitor status|stop|events`: through the running monitor's socket. */
static volatile sig_atomic_t client_stop;
static void on_client_signal(int sig) { client_stop = sig; }

static void status_text(const char *line, struct sbuf *out)
{
	struct jobj o, d, b;
	char e[200];
	if (jsonr_object(line, strlen(line), &o, e, sizeof e) < 0 || jsonr_sub(jsonr_get(&o, "data"), &d, e, sizeof e) < 0) {
		sb_printf(out, "%s\n", line);
		return;
	}
	char state[16] = "?", ifs[512] = "", attr[128] = "", store[4200] = "", sock[4200] = "", learn[64];
	int64_t pid = 0, up = 0, ends = 0, v;
	if (jsonr_sub(jsonr_get(&d, "baseline"), &b, e, sizeof e) == 0) {
		jsonr_str(jsonr_get(&b, "state"), state, sizeof state);
		jsonr_i64(jsonr_get(&b, "learning_ends_ms"), &ends);
	}
	jsonr_i64(jsonr_get(&d, "pid"), &pid);
	jsonr_i64(jsonr_get(&d, "uptime_s"), &up);
	jsonr_str(jsonr_get(&d, "interfaces"), ifs, sizeof ifs);
	jsonr_str(jsonr_get(&d, "attribution"), attr, sizeof attr);
	jsonr_str(jsonr_get(&d, "store"), store, sizeof store);
	jsonr_str(jsonr_get(&d, "socket"), sock, sizeof sock);
	sb_printf(out, "pktscope monitor — %s (pid %lld)\n", state, (long long)pid);
	if (!strcmp(state, "learning")) {
		if (ends) {
			time_t t = (time_t)(ends / 1000);
			struct tm tm;
			char when[64];
			localtime_r(&t, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
			sb_printf(out, "  learning until %s (%s more)\n", when, format_duration_ms(ends - wall_ms(), learn, sizeof learn));
		} else {
			sb_puts(out, "  learning: from the first connection\n");
		}
	}
	sb_printf(out, "  uptime:        %s\n", format_duration_ms(up * 1000, learn, sizeof learn));
	sb_printf(out, "  interfaces:    %s\n  attribution:   %s\n  store:         %s\n  socket:        %s\n", ifs, attr, store, sock);
	static const struct { const char *key, *label; } nums[] = {
		{ "live_connections", "live connections" }, { "live_processes", "live processes" }, { "programs", "programs seen" },
		{ "destinations", "destinations" }, { "stored_connections", "stored connections" }, { "alerts", "alerts" },
		{ "alerts_unacknowledged", "unacknowledged" }, { "packets", "packets" }, { "clients", "clients" },
	};
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		if (jsonr_i64(jsonr_get(&d, nums[i].key), &v) == 0) sb_printf(out, "  %-19s %lld\n", nums[i].label, (long long)v);
	struct jobj x;
	if (jsonr_sub(jsonr_get(&d, "dropped"), &x, e, sizeof e) == 0) {
		int64_t k = 0, p = 0, st = 0;
		jsonr_i64(jsonr_get(&x, "kernel"), &k);
		jsonr_i64(jsonr_get(&x, "pktscope"), &p);
		jsonr_i64(jsonr_get(&x, "store_rows"), &st);
		sb_printf(out, "  dropped:       %lld by the kernel, %lld by pktscope, %lld store rows\n", (long long)k, (long long)p, (long long)st);
	}
	if (jsonr_sub(jsonr_get(&d, "evicted"), &x, e, sizeof e) == 0) {
		int64_t c = 0, n = 0, p = 0;
		jsonr_i64(jsonr_get(&x, "connections"), &c);
		jsonr_i64(jsonr_get(&x, "names"), &n);
		jsonr_i64(jsonr_get(&x, "processes"), &p);
		sb_printf(out, "  evicted:       %lld connections, %lld names, %lld processes\n", (long long)c, (long long)n, (long long)p);
	}
}

bool cli_monitor_socket(const char *socket_arg, const char *state_arg, const char *config_path, char *path, size_t cap, int *status)
{
	char err[1024], own[4096];
	struct config cfg;
	dissect_init();
	if (config_load(config_path, &cfg, err, sizeof err) < 0) {
		cli_error("%s", err);
		*status = EXIT_USAGE;
		return false;
	}
	if (!state_arg) state_arg = cfg.mon.state_dir;
	cli_state_dir(own, sizeof own);
	client_socket_path(socket_arg, state_arg, own, path, cap);
	config_free(&cfg);
	return true;
}

struct monitor_client *cli_monitor_connect(const char *socket_arg, const char *state_arg, const char *config_path, int *status)
{
	char err[1024], path[4200];
	if (!cli_monitor_socket(socket_arg, state_arg, config_path, path, sizeof path, status)) return NULL;
	struct monitor_client *c = client_connect(path, err, sizeof err);
	if (!c) {
		cli_error("%s", err);
		*status = EXIT_INPUT;
	}
	return c;
}

static int monitor_client_cmd(const char *cmd, int argc, char **argv)
{
	const char *state_arg = NULL, *config_path = NULL, *socket_arg = NULL, *events = NULL, *program = NULL;
	bool json = false;
	static const struct option longs[] = {
		{ "state-dir", required_argument, NULL, 'S' }, { "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 'k' }, { "json", no_argument, NULL, 'J' },
		{ "events", required_argument, NULL, 'e' }, { "program", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'S': state_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case 'k': socket_arg = optarg; break;
		case 'J':
		case 'e':
		case 'p':
			if ((ch == 'J' && strcmp(cmd, "status")) || (ch != 'J' && strcmp(cmd, "events")))
				return cli_usage_error(usage, "monitor %s takes no %s", cmd, argv[optind - 1]);
			if (ch == 'J') json = true;
			else if (ch == 'e') events = optarg;
			else program = optarg;
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	if (optind < argc) return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	char req[2048];
	if (events || program) { /* the subscription's filter, checked by the monitor */
		struct sbuf rb;
		sb_init_fixed(&rb, req, sizeof req - 1);
		sb_puts(&rb, "{\"type\":\"subscribe\"");
		if (events) {
			sb_puts(&rb, ",\"events\":[");
			char list[256];
			snprintf(list, sizeof list, "%s", events);
			int n = 0;
			for (char *p = list, *tok; (tok = strsep(&p, ","));)
				if (*tok) {
					if (n++) sb_putc(&rb, ',');
					sb_json_str(&rb, tok, strlen(tok));
				}
			sb_putc(&rb, ']');
		}
		if (program) {
			sb_puts(&rb, ",\"program\":");
			sb_json_str(&rb, program, strlen(program));
		}
		sb_putc(&rb, '}');
		if (rb.trunc) return cli_usage_error(usage, "%s", "--events or --program is too long");
		sb_cstr(&rb);
	} else {
		snprintf(req, sizeof req, "{\"type\":\"%s\"}", !strcmp(cmd, "events") ? "subscribe" : cmd);
	}
	int status = EXIT_OK;
	char err[1024];
	struct monitor_client *c = cli_monitor_connect(socket_arg, state_arg, config_path, &status);
	if (!c) return status;
	struct sbuf line, out;
	sb_init_grow(&line, 1 << 16, SERVER_MAX_REPLY);
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	if (client_call(c, req, &line, err, sizeof err) < 0) {
		cli_error("%s", err);
		status = EXIT_INPUT;
	} else if (!strcmp(cmd, "status")) {
		if (json) {
			struct jobj o;
			const struct jv *d;
			char e[200];
			if (jsonr_object(line.buf, line.len, &o, e, sizeof e) == 0 && (d = jsonr_get(&o, "data"))) sb_put(&out, d->raw, d->rawlen);
			sb_putc(&out, '\n');
		} else {
			status_text(line.buf, &out);
		}
	} else if (!strcmp(cmd, "stop")) {
		/* stopped once the monitor closes the connection, everything stored */
		int rc;
		while ((rc = client_read(c, &line, 60000, err, sizeof err)) == 1) {
		}
		if (rc == 2) {
			cli_error("the monitor said it would stop but is still there after 60 s");
			status = EXIT_INPUT;
		} else {
			sb_puts(&out, "monitor stopped\n");
		}
	} else { /* events: until the monitor goes or we are stopped */
		struct sigaction sa = { .sa_handler = on_client_signal };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		int rc;
		while (!client_stop && (rc = client_read(c, &line, -1, err, sizeof err)) != 0) {
			if (rc == 2) continue;
			if (rc < 0) {
				cli_error("%s", err);
				status = EXIT_INPUT;
				break;
			}
			sb_put(&out, line.buf, line.len);
			sb_putc(&out, '\n');
			if (sb_flush(&out) < 0) break; /* the reader went */
		}
		if (!client_stop && status == EXIT_OK) {
			cli_error("the monitor went away");
			status = EXIT_INPUT;
		}
	}
	sb_flush(&out);
	sb_free(&out);
	sb_free(&line);
	client_close(c);
	return status;
}

static int run_monitor(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "run")) return monitor_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "notify")) return cli_monitor_notify(argc - 1, argv + 1);
	static const char *const clients[] = { "status", "stop", "events" };
	for (size_t i = 0; i < sizeof clients / sizeof *clients; i++)
		if (!strcmp(argv[1], clients[i])) return monitor_client_cmd(argv[1], argc - 1, argv + 1);
	static const char *const queries[] = { "alerts", "ack", "known", "new" };
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++)
		if (!strcmp(argv[1], queries[i])) return monitor_query(argv[1], argc - 1, argv + 1);
	return cli_usage_error(usage, "unknown monitor command '%s'", argv[1]);
}

const struct command cmd_monitor = { "monitor", "the egress monitor: which program talks to whom", run_monitor };
