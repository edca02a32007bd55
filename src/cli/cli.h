/* cli/cli.h — subcommands: one file each, declared by one descriptor (tmux's cmd-*.c). */
#ifndef PKTSCOPE_CLI_CLI_H
#define PKTSCOPE_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses, DESIGN.md "Two kinds of failure". */
enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

extern const struct command cmd_read, cmd_capture, cmd_diff, cmd_list_interfaces, cmd_monitor, cmd_inspect, cmd_geoip, cmd_fields;

/* Prints "pktscope: " + message and then the command's usage text to stderr; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *usage_text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The monitor's state directory when none is given: /var/lib/pktscope for root, else
 * $XDG_DATA_HOME/pktscope (~/.local/share/pktscope). */
void cli_state_dir(char *out, size_t cap);
/* mkdir -p, the last component 0700; 0 or -1 (errno). */
int cli_mkdirs(const char *path);
/* A decimal number in [lo, hi] (no sign, nothing after it): 0, or -1. */
int cli_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* Prints "pktscope: " + message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct monitor_client;
/* The running egress monitor, found by --socket, --state-dir, the configuration's
 * state_dir, the user's own state directory, then root's (egress/client.h): NULL with the
 * reason said and *status set. */
struct monitor_client *cli_monitor_connect(const char *socket_arg, const char *state_arg, const char *config_path, int *status);
/* `pktscope monitor notify` (cmd_notify.c). */
int cli_monitor_notify(int argc, char **argv);
/* The socket path alone (for a client that reconnects): false with *status set. */
bool cli_monitor_socket(const char *socket_arg, const char *state_arg, const char *config_path, char *path, size_t cap, int *status);

#endif
