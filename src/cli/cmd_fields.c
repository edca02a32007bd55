/* cli/cmd_fields.c — `pktscope fields`: the field registry, one line a field, as
 * `tshark -G fields` lists Wireshark's: what -e, -Y and the configuration's columns take
 * (and what the shell completions offer). */
#include "cli/cli.h"
#include "dissect/decoders.h"
#include "dissect/registry.h"
#include "util/sbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: pktscope fields [--names] [PREFIX]\n"
	"  Every field pktscope decodes, one a line, tab-separated:\n"
	"    P  name  protocol  -       title      a protocol (its fields follow it)\n"
	"    F  name  type      parent  title      a field (type: uint, int, bool, ipv4, ipv6,\n"
	"                                          ether, bytes, string, time, epoch, reltime,\n"
	"                                          float, none)\n"
	"    A  name  type      -       the fields it stands for   ip.addr, tcp.port…\n"
	"  PREFIX      only the names that begin with it (tcp. lists TCP's fields)\n"
	"  --names     the names alone\n"
	"  -h, --help  this text\n";

static int run_fields(int argc, char **argv)
{
	bool names = false;
	static const struct option longs[] = { { "names", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 'n': names = true; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	if (argc - optind > 1) return cli_usage_error(usage, "unexpected argument '%s'", argv[optind + 1]);
	const char *prefix = optind < argc ? argv[optind] : "";
	size_t plen = strlen(prefix);
	dissect_init();
	struct sbuf out;
	sb_init_fd(&out, STDOUT_FILENO, 1u << 16);
	for (int i = 0; i < F__COUNT; i++) {
		const struct field_def *f = &field_defs[i];
		if (strncmp(f->name, prefix, plen)) continue;
		if (names) {
			sb_printf(&out, "%s\n", f->name);
			continue;
		}
		if (f->type == FT_PROTO)
			sb_printf(&out, "P\t%s\tprotocol\t-\t%s\n", f->name, f->title);
		else
			sb_printf(&out, "F\t%s\t%s\t%s\t%s\n", f->name, ftype_name(f->type), f->parent < F__COUNT ? field_defs[f->parent].name : "-",
				  f->title);
	}
	uint16_t ids[2];
	const char *a;
	for (size_t i = 0; (a = field_pseudo_at(i, ids)); i++) {
		if (strncmp(a, prefix, plen) || field_by_name(a, strlen(a)) >= 0) continue; /* ip.version: a field of its own too */
		if (names) sb_printf(&out, "%s\n", a);
		else
			sb_printf(&out, "A\t%s\t%s\t-\t%s or %s\n", a, ftype_name(field_defs[ids[0]].type), field_defs[ids[0]].name,
				  field_defs[ids[1]].name);
	}
	int rc = sb_flush(&out) < 0 ? EXIT_INPUT : EXIT_OK; /* standard output failed (a full disk) */
	sb_free(&out);
	return rc;
}

const struct command cmd_fields = { "fields", "every field pktscope decodes (-e, -Y): name, type, title", run_fields };
