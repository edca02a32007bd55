/* cli/cmd_inspect.c — `pktscope inspect`: the running monitor's inspector on a terminal
 * (tui/inspect.c), or with --json what it knows in one JSON object: its status, the
 * connections it follows, the programs and destinations of the last day, and the alerts
 * waiting. */
#include "cli/cli.h"
#include "egress/client.h"
#include "egress/server.h"
#include "tui/tui.h"
#include "util/jsonr.h"
#include "util/sbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: pktscope inspect [--json] [--state-dir DIR | --socket PATH] [--config FILE]\n"
	"  (without --json: the inspector's screen; ? there lists its keys)\n"
	"  --json            one JSON object: status, connections (live), processes and\n"
	"                    destinations (the last 24 hours), alerts (not yet acknowledged)\n"
	"  --state-dir DIR   the monitor's state directory (its socket: monitor.sock there)\n"
	"  --socket PATH     the monitor's socket\n"
	"  --config FILE     the configuration file (its [monitor] state_dir)\n"
	"  -h, --help        this text\n"
	"  (without either: the user's own state directory when a monitor runs there, else root's,\n"
	"  " CLIENT_ROOT_STATE_DIR ")\n";

static int run_inspect(int argc, char **argv)
{
	const char *state_arg = NULL, *socket_arg = NULL, *config_path = NULL;
	bool json = false;
	static const struct option longs[] = {
		{ "state-dir", required_argument, NULL, 'S' }, { "socket", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'S': state_arg = optarg; break;
		case 'k': socket_arg = optarg; break;
		case 'c': config_path = optarg; break;
		case 'J': json = true; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	if (optind < argc) return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	int status = EXIT_OK;
	if (!json) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
			return cli_usage_error(usage, "%s", "the inspector needs a terminal: --json writes what it knows instead");
		char path[4200];
		if (!cli_monitor_socket(socket_arg, state_arg, config_path, path, sizeof path, &status)) return status;
		return tui_inspect(&(struct inspect_opts){ .socket = path }) ? EXIT_INPUT : EXIT_OK;
	}
	char err[1024];
	struct monitor_client *c = cli_monitor_connect(socket_arg, state_arg, config_path, &status);
	if (!c) return status;
	static const struct { const char *key, *req; } parts[] = {
		{ "status", "{\"type\":\"status\"}" },
		{ "connections", "{\"type\":\"connections\"}" },
		{ "processes", "{\"type\":\"processes\"}" },
		{ "destinations", "{\"type\":\"destinations\"}" },
		{ "alerts", "{\"type\":\"alerts\"}" },
	};
	struct sbuf line, out;
	sb_init_grow(&line, 1 << 16, SERVER_MAX_REPLY);
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		struct jobj o;
		const struct jv *d;
		err[0] = '\0';
		if (client_call(c, parts[i].req, &line, err, sizeof err) < 0 || jsonr_object(line.buf, line.len, &o, err, sizeof err) < 0 ||
		    !(d = jsonr_get(&o, "data"))) {
			cli_error("%s", *err ? err : "a reply without data");
			status = EXIT_INPUT;
			break;
		}
		sb_printf(&out, "%s\"%s\":", i ? "," : "{", parts[i].key);
		sb_put(&out, d->raw, d->rawlen);
	}
	if (status == EXIT_OK) sb_puts(&out, "}\n");
	sb_flush(&out);
	sb_free(&out);
	sb_free(&line);
	client_close(c);
	return status;
}

const struct command cmd_inspect = { "inspect", "the running egress monitor's inspector (--json: one JSON object)", run_inspect };
