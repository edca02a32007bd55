/* cli/cmd_geoip.c — `pktscope geoip update`: fetches the free DB-IP lite country and ASN
 * databases (CC BY 4.0) into the monitor's state directory, where `monitor run` finds them.
 * Only when the user asks: nothing in pktscope downloads by itself. The transfer is curl's
 * (the program, run without a shell: HTTPS, redirects and proxies as the user has them
 * set up); the file is decompressed here (zlib), checked to be the database it should be
 * (libmaxminddb), and only then renamed over the old one, so a failed or wrong download
 * never replaces a good database. */
#include "cli/cli.h"
#include "egress/geo.h"
#include "pipeline/config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define GEOIP_DEFAULT_URL "https://download.db-ip.com/free/dbip-{db}-lite-{month}.mmdb.gz"
#define GEOIP_MAX_BYTES (2ull << 30) /* a database bigger than this (decompressed) is refused */

extern char **environ;

static const char usage[] =
	"usage: pktscope geoip update [--state-dir DIR] [--url TEMPLATE] [--config FILE]\n"
	"  Downloads the free DB-IP lite country and ASN databases (CC BY 4.0, https://db-ip.com)\n"
	"  into the state directory as dbip-country-lite.mmdb and dbip-asn-lite.mmdb, where\n"
	"  `pktscope monitor run` finds them. Needs curl. Nothing is downloaded unless asked here.\n"
	"  --state-dir DIR   where to put them (default /var/lib/pktscope for root, else\n"
	"                    $XDG_DATA_HOME/pktscope; or [monitor] state_dir)\n"
	"  --url TEMPLATE    where from: {db} becomes country or asn, {month} YYYY-MM (this\n"
	"                    month's, else last month's); default [monitor] geoip_url, else\n"
	"                    " GEOIP_DEFAULT_URL "\n"
	"  --config FILE     the configuration file\n"
	"  -h, --help        this text\n";

/* The template with {db} and {month} replaced; false when it does not fit. */
static bool expand(const char *tmpl, const char *db, const char *month, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *s = tmpl; *s;) {
		const char *rep = NULL;
		size_t skip = 1;
		if (!strncmp(s, "{db}", 4)) rep = db, skip = 4;
		else if (!strncmp(s, "{month}", 7)) rep = month, skip = 7;
		size_t len = rep ? strlen(rep) : 1;
		if (n + len >= cap) return false;
		memcpy(out + n, rep ? rep : s, len);
		n += len;
		s += skip;
	}
	out[n] = '\0';
	return true;
}

/* curl URL -o path: 0, 1 when the server said no (HTTP 4xx/5xx: worth another month), or
 * -1 (said). */
static int fetch(const char *url, const char *path)
{
	char *argv[] = { "curl", "--fail", "--silent", "--show-error", "--location", "--max-time", "900",
			 "--max-filesize", "2147483648", "--output", (char *)path, "--", (char *)url, NULL };
	pid_t pid;
	int rc = posix_spawnp(&pid, "curl", NULL, NULL, argv, environ);
	if (rc) {
		cli_error("running curl: %s%s", strerror(rc), rc == ENOENT ? " (geoip update needs the curl program)" : "");
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 22) return 1; /* curl: the server answered >= 400 */
	cli_error("downloading %s failed (curl exit status %d)", url, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return -1;
}

/* Copies src to dst, gunzipping it when it is gzip; bounded by GEOIP_MAX_BYTES. */
static int unpack(const char *src, const char *dst, char *err, size_t errlen)
{
	gzFile in = gzopen(src, "rb"); /* zlib reads a file that is not gzip as it is */
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!in || out < 0) {
		snprintf(err, errlen, "%s: %s", !in ? src : dst, strerror(errno));
		if (in) gzclose(in);
		if (out >= 0) close(out);
		return -1;
	}
	static char buf[1 << 16];
	unsigned long long total = 0;
	int n, rc = 0;
	while ((n = gzread(in, buf, sizeof buf)) > 0) {
		total += (unsigned)n;
		if (total > GEOIP_MAX_BYTES) {
			snprintf(err, errlen, "larger than %llu bytes decompressed: not a GeoIP database", GEOIP_MAX_BYTES);
			rc = -1;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			snprintf(err, errlen, "%s: %s", dst, strerror(errno));
			rc = -1;
			break;
		}
	}
	if (n < 0 && rc == 0) {
		int e;
		snprintf(err, errlen, "not a valid gzip file (%s)", gzerror(in, &e));
		rc = -1;
	}
	gzclose(in);
	if (rc == 0 && fsync(out) < 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		rc = -1;
	}
	close(out);
	return rc;
}

static int update_one(const char *dir, const char *tmpl, const char *db)
{
	char months[2][8], url[2048], dl[4200], tmp[4200], final[4200], err[4600], desc[256];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(months[0], sizeof months[0], "%Y-%m", &tm);
	tm.tm_mday = 1;
	tm.tm_mon -= 1; /* normalised by timegm: December of the year before, in January */
	time_t prev = timegm(&tm);
	gmtime_r(&prev, &tm);
	strftime(months[1], sizeof months[1], "%Y-%m", &tm);
	snprintf(dl, sizeof dl, "%s/.dbip-%s-lite.download", dir, db);
	snprintf(tmp, sizeof tmp, "%s/.dbip-%s-lite.mmdb.new", dir, db);
	snprintf(final, sizeof final, "%s/dbip-%s-lite.mmdb", dir, db);
	int rc = 1;
	for (int m = 0; m < 2 && rc == 1; m++) {
		if (!expand(tmpl, db, months[m], url, sizeof url)) {
			cli_error("the URL template is too long");
			return -1;
		}
		rc = fetch(url, dl);
		if (rc == 1) fprintf(stderr, "pktscope: geoip: %s: not there%s\n", url, m == 0 && strstr(tmpl, "{month}") ? ", trying last month's" : "");
		if (!strstr(tmpl, "{month}")) break;
	}
	if (rc != 0) {
		if (rc == 1) cli_error("no %s database could be downloaded", db);
		unlink(dl);
		return -1;
	}
	if (unpack(dl, tmp, err, sizeof err) < 0 || geo_verify(tmp, db, desc, sizeof desc, err, sizeof err) < 0) {
		cli_error("%s: %s; %s is left as it was", url, err, final);
		unlink(dl);
		unlink(tmp);
		return -1;
	}
	unlink(dl);
	if (rename(tmp, final) < 0) {
		cli_error("%s: %s", final, strerror(errno));
		unlink(tmp);
		return -1;
	}
	printf("%s: %s (%s)\n", final, url, desc);
	return 0;
}

static int geoip_update(int argc, char **argv)
{
	const char *dir_arg = NULL, *url = NULL, *config_path = NULL;
	static const struct option longs[] = {
		{ "state-dir", required_argument, NULL, 'S' }, { "url", required_argument, NULL, 'U' },
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
		switch (ch) {
		case 'S': dir_arg = optarg; break;
		case 'U': url = optarg; break;
		case 'c': config_path = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error(usage, "%s", "unknown option");
		}
	}
	if (optind < argc) return cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	struct config cfg;
	char err[1024], dir[4096];
	if (config_load(config_path, &cfg, err, sizeof err) < 0) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	if (!dir_arg) dir_arg = cfg.mon.state_dir;
	if (!url) url = cfg.mon.geoip_url ? cfg.mon.geoip_url : GEOIP_DEFAULT_URL;
	if (dir_arg) snprintf(dir, sizeof dir, "%s", dir_arg);
	else cli_state_dir(dir, sizeof dir);
	int status = EXIT_OK;
	if (cli_mkdirs(dir) < 0) {
		cli_error("state directory %s: %s", dir, strerror(errno));
		status = EXIT_INPUT;
	} else if (update_one(dir, url, "country") < 0 || update_one(dir, url, "asn") < 0) {
		status = EXIT_INPUT;
	} else {
		printf("IP geolocation by DB-IP (https://db-ip.com), licensed CC BY 4.0\n");
	}
	config_free(&cfg);
	return status;
}

static int run_geoip(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "update")) return geoip_update(argc - 1, argv + 1);
	return cli_usage_error(usage, "unknown geoip command '%s'", argv[1]);
}

const struct command cmd_geoip = { "geoip", "fetch the free DB-IP country and ASN databases for the monitor", run_geoip };
