/* cli/cmd_notify.c — `pktscope monitor notify`: the monitor's alerts as desktop
 * notifications, sent from the user's own session. The daemon never starts a GUI program:
 * this client subscribes to its alerts over the socket and runs notify-send (or --command)
 * itself, as the user, with the title and the program as arguments (no shell). It waits
 * for the monitor when there is none yet and follows it across restarts. */
#include "cli/cli.h"
#include "egress/client.h"
#include "egress/server.h"
#include "util/jsonr.h"
#include "util/sbuf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
	"usage: pktscope monitor notify [--command PROG] [--severity LEVEL] [--program TEXT]\n"
	"                               [--state-dir DIR | --socket PATH] [--config FILE]\n"
	"  Each new alert of the running monitor as a desktop notification, from your own\n"
	"  session (start it with your desktop session; it waits for the monitor and follows\n"
	"  it across restarts). Ctrl-C stops it.\n"
	"  --command PROG    what is run for each alert (default notify-send, Debian's\n"
	"                    libnotify-bin): PROG -a pktscope -u URGENCY SUMMARY BODY\n"
	"  --severity LEVEL  the least severe alert notified: notice (default), warning, critical\n"
	"  --program TEXT    only the alerts of programs whose path holds TEXT\n"
	"  --state-dir DIR   the monitor's state directory\n"
	"  --socket PATH     the monitor's socket\n"
	"  --config FILE     the configuration file (its [monitor] state_dir)\n"
	"  -h, --help        this text\n";

static volatile sig_atomic_t notify_stop;
static void on_stop(int sig) { notify_stop = sig; }

static int severity_rank(const char *s)
{
	return !strcmp(s, "critical") ? 3 : !strcmp(s, "warning") ? 2 : !strcmp(s, "notice") ? 1 : 0;
}

/* Whether prog can be run: a path, or found on PATH. */
static bool runnable(const char *prog)
{
	if (strchr(prog, '/')) return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	char dirs[4096], file[4400];
	snprintf(dirs, sizeof dirs, "%s", path ? path : "/usr/bin:/bin");
	for (char *p = dirs, *d; (d = strsep(&p, ":"));) {
		snprintf(file, sizeof file, "%s/%s", *d ? d : ".", prog);
		if (access(file, X_OK) == 0) return true;
	}
	return false;
}

static void run_notifier(const char *prog, const char *urgency, const char *summary, const char *body)
{
	char *argv[] = { (char *)prog, "-a", "pktscope", "-u", (char *)urgency, (char *)summary, (char *)body, NULL };
	pid_t pid;
	int e = posix_spawnp(&pid, prog, NULL, NULL, argv, environ);
	if (e) {
		cli_error("%s: %s", prog, strerror(e));
		return;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) cli_error("%s exited with status %d", prog, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* One event line: an alert notified (when severe enough), a loss said. */
static void on_event(const char *line, size_t len, const char *prog, int min_rank)
{
	struct jobj o, p;
	char err[200], event[16], sev[16] = "", kind[48] = "", title[1024] = "", name[256] = "", exe[1024] = "";
	if (jsonr_object(line, len, &o, err, sizeof err) < 0 || jsonr_str(jsonr_get(&o, "event"), event, sizeof event) < 0) return;
	if (!strcmp(event, "lost")) {
		int64_t n = 0;
		jsonr_i64(jsonr_get(&o, "count"), &n);
		snprintf(title, sizeof title, "%lld events were lost before they reached this notifier: `pktscope monitor alerts` lists every alert",
			 (long long)n);
		run_notifier(prog, "normal", "pktscope: alerts may be missing", title);
		return;
	}
	if (strcmp(event, "alert")) return;
	jsonr_str(jsonr_get(&o, "severity"), sev, sizeof sev);
	jsonr_str(jsonr_get(&o, "kind"), kind, sizeof kind);
	jsonr_str(jsonr_get(&o, "title"), title, sizeof title);
	if (jsonr_sub(jsonr_get(&o, "program"), &p, err, sizeof err) == 0) {
		jsonr_str(jsonr_get(&p, "name"), name, sizeof name);
		jsonr_str(jsonr_get(&p, "exe"), exe, sizeof exe);
	}
	if (severity_rank(sev) < min_rank) return;
	char summary[300], body[2400];
	snprintf(summary, sizeof summary, "pktscope: %s%s%s", sev, name[0] ? " — " : "", name);
	snprintf(body, sizeof body, "%s\n%s%s(%s)", title, exe, exe[0] ? " " : "", kind);
	run_notifier(prog, !strcmp(sev, "critical") ? "critical" : "normal", summary, body);
	printf("notified: [%s] %s\n", sev, title);
	fflush(stdout);
}

int cli_monitor_notify(int argc, char **argv)
{
	const char *state_arg = NULL, *socket_arg = NULL, *config_path = NULL, *prog = "notify-send", *program = NULL, *min = "notice";
	static const struct option longs[] = {
		{ "state-dir", required_argument, NULL, 'S' }, { "socket", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' }, { "command", required_argument, NULL, 'C' },
		{ "severity", required_argument, NULL, 's' }, { "program", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'S': state_arg = optarg; break;
		case 'k': socket_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case 'C': prog = optarg; break;
		case 's': min = optarg; break;
		case 'p': program = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	if (optind < argc) return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	int min_rank = severity_rank(min);
	if (!min_rank) return cli_usage_error(usage, "--severity: '%s' is not notice, warning or critical", min);
	if (!runnable(prog)) {
		cli_error("%s cannot be run%s", prog,
			  strcmp(prog, "notify-send") ? "" : " (Debian and Ubuntu have it in libnotify-bin; --command names another program)");
		return EXIT_INPUT;
	}
	int status = EXIT_OK;
	char path[4200], err[4400], req[1200];
	if (!cli_monitor_socket(socket_arg, state_arg, config_path, path, sizeof path, &status)) return status;
	struct sbuf rb;
	sb_init_fixed(&rb, req, sizeof req);
	sb_puts(&rb, "{\"type\":\"subscribe\",\"events\":[\"alert\"]");
	if (program) {
		sb_puts(&rb, ",\"program\":");
		sb_json_str(&rb, program, strlen(program));
	}
	sb_puts(&rb, "}");
	if (rb.trunc) return cli_usage_error(usage, "%s", "--program is too long");
	sb_cstr(&rb);
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct sbuf line;
	sb_init_grow(&line, 1 << 16, SERVER_MAX_REPLY);
	bool waiting = false;
	while (!notify_stop) {
		struct monitor_client *c = client_connect(path, err, sizeof err);
		if (c && client_call(c, req, &line, err, sizeof err) < 0) {
			client_close(c);
			c = NULL;
		}
		if (!c) {
			if (!waiting) fprintf(stderr, "pktscope: waiting for the monitor: %s\n", err);
			waiting = true;
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
			continue;
		}
		fprintf(stderr, "pktscope: notifying the alerts of the monitor at %s\n", path);
		waiting = false;
		int rc;
		while (!notify_stop && (rc = client_read(c, &line, -1, err, sizeof err)) != 0) {
			if (rc == 2) continue;
			if (rc < 0) break;
			on_event(line.buf, line.len, prog, min_rank);
		}
		client_close(c);
		if (!notify_stop) snprintf(err, sizeof err, "the monitor at %s went away", path);
	}
	sb_free(&line);
	return EXIT_OK;
}
