/* cli/main.c — pktscope's entry point: picks the subcommand. */
#include "cli/cli.h"
#include "egress/ebpf.h"
#include "egress/report.h"

#include <curses.h>
#include <libpsl.h>
#include <lz4.h>
#include <maxminddb.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <sqlite3.h>
#include <zlib.h>
#include <zstd.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PKTSCOPE_VERSION
#define PKTSCOPE_VERSION "0.1.0"
#endif

static const struct command *commands[] = { &cmd_read, &cmd_capture, &cmd_diff, &cmd_list_interfaces, &cmd_fields, &cmd_monitor, &cmd_inspect, &cmd_geoip };

__attribute__((format(printf, 1, 0))) static void say(const char *fmt, va_list ap)
{
	fputs("pktscope: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *usage_text, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

void cli_state_dir(char *out, size_t cap)
{
	if (geteuid() == 0) {
		snprintf(out, cap, "/var/lib/pktscope");
		return;
	}
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	if (x && *x) snprintf(out, cap, "%s/pktscope", x);
	else snprintf(out, cap, "%s/.local/share/pktscope", home ? home : ".");
}

int cli_mkdirs(const char *path)
{
	char p[4096];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) return -1;
			*s = '/';
		}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int cli_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) return -1;
	*out = v;
	return 0;
}

/* The version, and the libraries' as they run (the shared ones may be newer than the
 * headers pktscope was built with). */
static void version(void)
{
	char pcre[64] = "?";
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	const char *bpf = ebpf_library();
	printf("pktscope %s\n", PKTSCOPE_VERSION);
	printf("  libpcap        %s\n", pcap_lib_version());
	printf("  OpenSSL        %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  nghttp2        %s\n", nghttp2_version(0)->version_str);
	printf("  SQLite         %s\n", sqlite3_libversion());
	printf("  PCRE2          %s\n", pcre);
	printf("  zlib           %s\n", zlibVersion());
	printf("  zstd           %s\n", ZSTD_versionString());
	printf("  LZ4            %s\n", LZ4_versionString());
	printf("  libmaxminddb   %s\n", MMDB_lib_version());
	printf("  libpsl         %s\n", psl_get_version());
	printf("  ncurses        %s\n", curses_version());
	printf("  libbpf         %s\n", bpf ? bpf : "(not built with it: attribution by the socket table only)");
	printf("  journal        %s\n", report_has_journal() ? "libsystemd (sd_journal_send)" : "(not built with libsystemd: syslog)");
}

static void usage(FILE *out)
{
	fputs("usage: pktscope COMMAND [OPTIONS]\n\ncommands:\n", out);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-16s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n  --version        the version, and the libraries' it runs with\n"
	      "  -h, --help       this text\n"
	      "\n'pktscope COMMAND --help' describes a command's options; man pktscope, the manual.\n", out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		version();
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i]->name, name)) return commands[i]->run(argc - 1, argv + 1);
	cli_error("unknown command '%s'", name);
	usage(stderr);
	return EXIT_USAGE;
}
