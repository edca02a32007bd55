/* output/stats.c — statistics tables in tshark's layouts (-z conv, -z endpoints, -z io,phs,
 * -z io,stat) and as JSON (one object per table per line). */
#define _GNU_SOURCE /* qsort_r */
#include "output/output.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rule80[] =
	"================================================================================\n";
static const char *titles[] = { "Ethernet", "IPv4", "IPv6", "TCP", "UDP" };

static bool has_ports(enum stats_kind k) { return k == STATS_TCP || k == STATS_UDP; }

/* An endpoint of a row as tshark names it: address, or address:port (no brackets). */
static void endpoint_text(struct sbuf *sb, const uint8_t *e, enum stats_kind k)
{
	if (e[0] == 6) sb_mac(sb, e + 1);
	else if (e[0] == 4) sb_ipv4(sb, e + 1);
	else sb_ipv6(sb, e + 1);
	if (has_ports(k)) {
		sb_putc(sb, ':');
		sb_u64(sb, (uint64_t)e[17] << 8 | e[18]);
	}
}

static const char *endpoint_cstr(const uint8_t *e, enum stats_kind k, char *buf, size_t cap)
{
	struct sbuf sb;
	sb_init_fixed(&sb, buf, cap - 1);
	endpoint_text(&sb, e, k);
	return sb_cstr(&sb);
}

/* Wireshark's format_size for these tables: bytes below 10000, then kB, MB, GB (SI). */
static const char *size_text(uint64_t v, char *buf, size_t cap)
{
	static const char *units[] = { "bytes", "kB", "MB", "GB", "TB" };
	int u = 0;
	while (v >= 10000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, cap, "%llu %s", (unsigned long long)v, units[u]);
	return buf;
}

/* Row indices sorted by total frames, largest first, ties in order of appearance: the
 * order tshark prints. */
static int by_frames_desc(const void *a, const void *b, void *rows)
{
	const struct stats_row *r = rows;
	const struct stats_row *x = &r[*(const size_t *)a], *y = &r[*(const size_t *)b];
	uint64_t fx = x->frames[0] + x->frames[1], fy = y->frames[0] + y->frames[1];
	if (fx != fy) return fx < fy ? 1 : -1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static size_t *sorted_rows(const struct stats_row *rows, size_t n)
{
	size_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
	for (size_t i = 0; i < n; i++) idx[i] = i;
	qsort_r(idx, n, sizeof *idx, by_frames_desc, (void *)rows);
	return idx;
}

static void conv_text(struct sbuf *sb, const struct stats *s, enum stats_kind k)
{
	size_t n;
	uint64_t overflow;
	const struct stats_row *rows = stats_rows(s, STATS_CONV, k, &n, &overflow);
	int64_t first, last;
	uint64_t frames, bytes;
	stats_span(s, &first, &last, &frames, &bytes);
	const char *pad = has_ports(k) ? "            " : "";
	sb_puts(sb, rule80);
	sb_printf(sb, "%s Conversations\nFilter:<No Filter>\n", titles[k]);
	sb_printf(sb, "%s                                               |       <-      | |       ->      | |     Total     |    Relative    |   Duration   |\n", pad);
	sb_printf(sb, "%s                                               | Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |\n", pad);
	size_t *idx = sorted_rows(rows, n);
	int w = has_ports(k) ? 26 : 20;
	for (size_t i = 0; i < n; i++) {
		const struct stats_row *r = &rows[idx[i]];
		const uint8_t *a = r->key + 19 * r->a_is_first, *b = r->key + 19 * !r->a_is_first;
		char ab[64], bb[64], s1[32], s2[32], s3[32];
		sb_printf(sb, "%-*s <-> %-*s  %6llu %-9s  %6llu %-9s  %6llu %-9s  %14.9f   %12.4f\n",
			  w, endpoint_cstr(a, k, ab, sizeof ab), w, endpoint_cstr(b, k, bb, sizeof bb),
			  (unsigned long long)r->frames[1], size_text(r->bytes[1], s1, sizeof s1),
			  (unsigned long long)r->frames[0], size_text(r->bytes[0], s2, sizeof s2),
			  (unsigned long long)(r->frames[0] + r->frames[1]),
			  size_text(r->bytes[0] + r->bytes[1], s3, sizeof s3), (double)(r->first_ns - first) / 1e9,
			  (double)(r->last_ns - r->first_ns) / 1e9);
	}
	free(idx);
	sb_puts(sb, rule80);
	if (overflow) sb_printf(sb, "(%llu frames not tabulated: the table reached its limit)\n", (unsigned long long)overflow);
}

static void endpoints_text(struct sbuf *sb, const struct stats *s, enum stats_kind k)
{
	size_t n;
	uint64_t overflow;
	const struct stats_row *rows = stats_rows(s, STATS_ENDPOINTS, k, &n, &overflow);
	sb_puts(sb, rule80);
	sb_printf(sb, "%s Endpoints\nFilter:<No Filter>\n", titles[k]);
	sb_printf(sb, "                       |  %sPackets  | |  Bytes  | | Tx Packets | | Tx Bytes | | Rx Packets | | Rx Bytes |\n",
		  has_ports(k) ? "Port  ||  " : "");
	size_t *idx = sorted_rows(rows, n);
	for (size_t i = 0; i < n; i++) {
		const struct stats_row *r = &rows[idx[i]];
		char addr[64];
		struct sbuf a;
		sb_init_fixed(&a, addr, sizeof addr - 1);
		if (r->key[0] == 6) sb_mac(&a, r->key + 1);
		else if (r->key[0] == 4) sb_ipv4(&a, r->key + 1);
		else sb_ipv6(&a, r->key + 1);
		sb_cstr(&a);
		unsigned long long tp = r->frames[0], rp = r->frames[1], tb = r->bytes[0], rb = r->bytes[1];
		if (has_ports(k)) {
			char port[8];
			snprintf(port, sizeof port, "%u", (unsigned)(r->key[17] << 8 | r->key[18]));
			sb_printf(sb, "%-20s      %5s     %6llu     %9llu     %6llu       %9llu      %6llu       %9llu   \n",
				  addr, port, tp + rp, tb + rb, tp, tb, rp, rb);
		} else {
			sb_printf(sb, "%-20s      %6llu     %9llu     %6llu       %9llu      %6llu       %9llu   \n", addr,
				  tp + rp, tb + rb, tp, tb, rp, rb);
		}
	}
	free(idx);
	sb_puts(sb, rule80);
	if (overflow) sb_printf(sb, "(%llu frames not tabulated: the table reached its limit)\n", (unsigned long long)overflow);
}

static void phs_children(struct sbuf *sb, const struct phs_node *nodes, size_t n, int parent, int depth)
{
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].parent != parent) continue;
		char label[128];
		snprintf(label, sizeof label, "%*s%s", depth * 2, "", field_defs[nodes[i].proto].name);
		sb_printf(sb, "%-40s frames:%llu bytes:%llu\n", label, (unsigned long long)nodes[i].frames,
			  (unsigned long long)nodes[i].bytes);
		phs_children(sb, nodes, n, (int)i, depth + 1);
	}
}

static void phs_text(struct sbuf *sb, const struct stats *s)
{
	size_t n;
	const struct phs_node *nodes = stats_phs(s, &n);
	sb_puts(sb, "\n===================================================================\n");
	sb_puts(sb, "Protocol Hierarchy Statistics\nFilter: \n\n");
	/* the root "frame" node is implicit, as in tshark: its children start the tree */
	for (size_t i = 0; i < n; i++)
		if (nodes[i].parent == -1) phs_children(sb, nodes, n, (int)i, 0);
	sb_puts(sb, "===================================================================\n");
}

static int digits(uint64_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static void io_text(struct sbuf *sb, const struct stats *s)
{
	size_t n;
	int64_t iv;
	const struct io_bucket *b = stats_io(s, &n, &iv);
	int64_t first, last;
	uint64_t frames, bytes;
	stats_span(s, &first, &last, &frames, &bytes);
	uint64_t maxf = 0, maxb = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i].frames > maxf) maxf = b[i].frames;
		if (b[i].bytes > maxb) maxb = b[i].bytes;
	}
	int fw = digits(maxf) > 6 ? digits(maxf) : 6, bw = digits(maxb) > 5 ? digits(maxb) : 5;
	double ivs = (double)iv / 1e9;
	int lw = digits((uint64_t)((double)n * ivs)) * 2 + 4; /* "a <> b" */
	if (lw < 8) lw = 8;
	int width = lw + 2 + fw + 3 + bw + 2; /* between the outer bars */
	char line[256];
	memset(line, '=', (size_t)width + 2);
	line[width + 2] = '\0';
	sb_printf(sb, "\n%s\n", line);
	sb_printf(sb, "| %-*s|\n", width - 1, "IO Statistics");
	sb_printf(sb, "| %-*s|\n", width - 1, "");
	char tmp[96];
	snprintf(tmp, sizeof tmp, "Duration: %.6f secs", (double)(last - first) / 1e9);
	sb_printf(sb, "| %-*s|\n", width - 1, tmp);
	snprintf(tmp, sizeof tmp, "Interval: %g secs", ivs);
	sb_printf(sb, "| %-*s|\n", width - 1, tmp);
	sb_printf(sb, "| %-*s|\n", width - 1, "");
	sb_printf(sb, "| %-*s|\n", width - 1, "Col 1: Frames and bytes");
	memset(line, '-', (size_t)width);
	line[width] = '\0';
	sb_printf(sb, "|%s|\n", line);
	sb_printf(sb, "|%*s|%-*s|\n", lw + 2, "", width - lw - 3, "1");
	sb_printf(sb, "| %-*s | %*s | %*s |\n", lw, "Interval", fw, "Frames", bw, "Bytes");
	sb_printf(sb, "|%s|\n", line);
	for (size_t i = 0; i < n; i++) {
		char lab[48];
		bool rest = i + 1 == n && ((double)(i + 1) * ivs > (double)(last - first) / 1e9 || n == IO_MAX_INTERVALS);
		if (rest)
			snprintf(lab, sizeof lab, "%.9g <> Dur", (double)i * ivs);
		else
			snprintf(lab, sizeof lab, "%.9g <> %.9g", (double)i * ivs, (double)(i + 1) * ivs);
		sb_printf(sb, "| %-*s | %*llu | %*llu |\n", lw, lab, fw, (unsigned long long)b[i].frames, bw,
			  (unsigned long long)b[i].bytes);
	}
	memset(line, '=', (size_t)width + 2);
	line[width + 2] = '\0';
	sb_printf(sb, "%s\n", line);
}

/* Top talkers: IPv4 and IPv6 endpoints by bytes, with their share of all bytes. */
static void talkers_text(struct sbuf *sb, const struct stats *s, bool json)
{
	int64_t first, last;
	uint64_t frames, bytes;
	stats_span(s, &first, &last, &frames, &bytes);
	struct tk { const struct stats_row *r; uint64_t b; } top[20];
	int nt = 0;
	for (int k = STATS_IP; k <= STATS_IPV6; k++) {
		size_t n;
		const struct stats_row *rows = stats_rows(s, STATS_ENDPOINTS, (enum stats_kind)k, &n, NULL);
		for (size_t i = 0; i < n; i++) {
			uint64_t b = rows[i].bytes[0] + rows[i].bytes[1];
			int pos;
			if (nt < 20) {
				pos = nt++;
			} else {
				if (top[19].b >= b) continue; /* not among the top 20 */
				pos = 19;
			}
			top[pos] = (struct tk){ &rows[i], b };
			while (pos > 0 && top[pos - 1].b < top[pos].b) {
				struct tk t = top[pos - 1];
				top[pos - 1] = top[pos];
				top[pos] = t;
				pos--;
			}
		}
	}
	if (json) {
		sb_puts(sb, "{\"stats\":\"talkers\",\"rows\":[");
	} else {
		sb_puts(sb, rule80);
		sb_puts(sb, "Top Talkers (IPv4 and IPv6 endpoints by bytes)\n");
		sb_printf(sb, "%-4s %-40s %10s %14s %8s\n", "#", "Address", "Packets", "Bytes", "Share");
	}
	for (int i = 0; i < nt; i++) {
		const struct stats_row *r = top[i].r;
		char addr[64];
		struct sbuf a;
		sb_init_fixed(&a, addr, sizeof addr - 1);
		if (r->key[0] == 4) sb_ipv4(&a, r->key + 1);
		else sb_ipv6(&a, r->key + 1);
		sb_cstr(&a);
		double share = bytes ? 100.0 * (double)top[i].b / (double)bytes : 0;
		unsigned long long pk = r->frames[0] + r->frames[1];
		if (json) {
			if (i) sb_putc(sb, ',');
			sb_printf(sb, "{\"address\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"share\":%.2f}", addr, pk,
				  (unsigned long long)top[i].b, share);
		} else {
			sb_printf(sb, "%-4d %-40s %10llu %14llu %7.2f%%\n", i + 1, addr, pk, (unsigned long long)top[i].b, share);
		}
	}
	if (json) sb_puts(sb, "]}\n");
	else sb_puts(sb, rule80);
}

static void rows_json(struct sbuf *sb, const struct stats *s, enum stats_table t, enum stats_kind k)
{
	size_t n;
	uint64_t overflow;
	const struct stats_row *rows = stats_rows(s, t, k, &n, &overflow);
	int64_t first, last;
	uint64_t frames, bytes;
	stats_span(s, &first, &last, &frames, &bytes);
	sb_printf(sb, "{\"stats\":\"%s\",\"type\":\"%s\",\"not_tabulated_frames\":%llu,\"rows\":[",
		  t == STATS_CONV ? "conv" : "endpoints", stats_kind_name(k), (unsigned long long)overflow);
	size_t *idx = sorted_rows(rows, n);
	for (size_t i = 0; i < n; i++) {
		const struct stats_row *r = &rows[idx[i]];
		char x[64], y[64];
		if (i) sb_putc(sb, ',');
		if (t == STATS_CONV) {
			const uint8_t *a = r->key + 19 * r->a_is_first, *b = r->key + 19 * !r->a_is_first;
			sb_printf(sb, "{\"a\":\"%s\",\"b\":\"%s\",\"frames_a_to_b\":%llu,\"bytes_a_to_b\":%llu,"
				  "\"frames_b_to_a\":%llu,\"bytes_b_to_a\":%llu,\"frames\":%llu,\"bytes\":%llu,"
				  "\"start\":%.9f,\"duration\":%.9f}",
				  endpoint_cstr(a, k, x, sizeof x), endpoint_cstr(b, k, y, sizeof y),
				  (unsigned long long)r->frames[0], (unsigned long long)r->bytes[0],
				  (unsigned long long)r->frames[1], (unsigned long long)r->bytes[1],
				  (unsigned long long)(r->frames[0] + r->frames[1]), (unsigned long long)(r->bytes[0] + r->bytes[1]),
				  (double)(r->first_ns - first) / 1e9, (double)(r->last_ns - r->first_ns) / 1e9);
		} else {
			endpoint_cstr(r->key, k, x, sizeof x);
			sb_printf(sb, "{\"endpoint\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"tx_packets\":%llu,"
				  "\"tx_bytes\":%llu,\"rx_packets\":%llu,\"rx_bytes\":%llu}",
				  x, (unsigned long long)(r->frames[0] + r->frames[1]), (unsigned long long)(r->bytes[0] + r->bytes[1]),
				  (unsigned long long)r->frames[0], (unsigned long long)r->bytes[0],
				  (unsigned long long)r->frames[1], (unsigned long long)r->bytes[1]);
		}
	}
	free(idx);
	sb_puts(sb, "]}\n");
}

static void phs_json(struct sbuf *sb, const struct stats *s)
{
	size_t n;
	const struct phs_node *nodes = stats_phs(s, &n);
	sb_puts(sb, "{\"stats\":\"phs\",\"nodes\":[");
	for (size_t i = 0; i < n; i++) {
		if (i) sb_putc(sb, ',');
		sb_printf(sb, "{\"id\":%zu,\"parent\":%d,\"protocol\":\"%s\",\"frames\":%llu,\"bytes\":%llu}", i,
			  nodes[i].parent, field_defs[nodes[i].proto].name, (unsigned long long)nodes[i].frames,
			  (unsigned long long)nodes[i].bytes);
	}
	sb_puts(sb, "]}\n");
}

static void io_json(struct sbuf *sb, const struct stats *s)
{
	size_t n;
	int64_t iv;
	const struct io_bucket *b = stats_io(s, &n, &iv);
	sb_printf(sb, "{\"stats\":\"io\",\"interval\":%.9f,\"rows\":[", (double)iv / 1e9);
	for (size_t i = 0; i < n; i++) {
		if (i) sb_putc(sb, ',');
		sb_printf(sb, "{\"start\":%.9f,\"frames\":%llu,\"bytes\":%llu}", (double)i * (double)iv / 1e9,
			  (unsigned long long)b[i].frames, (unsigned long long)b[i].bytes);
	}
	sb_puts(sb, "]}\n");
}

int stats_request_parse(struct stats_request *rq, const char *spec, char *err, size_t errlen)
{
	char what[16], arg[32];
	memset(rq, 0, sizeof *rq);
	int n = sscanf(spec, "%15[a-z],%31s", what, arg);
	if (n >= 1 && !strcmp(what, "phs") && n == 1) {
		rq->what = SR_PHS;
		return 0;
	}
	if (n >= 1 && !strcmp(what, "talkers") && n == 1) {
		rq->what = SR_TALKERS;
		return 0;
	}
	if (n >= 1 && !strcmp(what, "flows") && n == 1) {
		rq->what = SR_FLOWS;
		return 0;
	}
	if (n >= 1 && !strcmp(what, "anomalies") && n == 1) {
		rq->what = SR_ANOMALIES;
		return 0;
	}
	if (n == 2 && (!strcmp(what, "conv") || !strcmp(what, "endpoints"))) {
		int k = stats_kind_parse(arg);
		if (k < 0) {
			snprintf(err, errlen, "--stats %s: the type must be eth, ip, ipv6, tcp or udp, not '%s'", what, arg);
			return -1;
		}
		rq->what = !strcmp(what, "conv") ? SR_CONV : SR_ENDPOINTS;
		rq->kind = (enum stats_kind)k;
		return 0;
	}
	if (n == 2 && !strcmp(what, "io")) {
		char *end;
		double secs = strtod(arg, &end);
		if (*end || !(secs >= 0.000001) || secs > 86400.0 * 365) {
			snprintf(err, errlen, "--stats io needs an interval in seconds (e.g. io,1 or io,0.1), not '%s'", arg);
			return -1;
		}
		rq->what = SR_IO;
		rq->interval_ns = (int64_t)(secs * 1e9 + 0.5);
		return 0;
	}
	snprintf(err, errlen, "--stats takes conv,TYPE, endpoints,TYPE, phs, io,SECONDS, talkers, flows or anomalies, not '%s'", spec);
	return -1;
}

void stats_request_apply(const struct stats_request *rq, struct stats *s)
{
	switch (rq->what) {
	case SR_CONV: stats_want(s, STATS_CONV, rq->kind); break;
	case SR_ENDPOINTS: stats_want(s, STATS_ENDPOINTS, rq->kind); break;
	case SR_PHS: stats_want_phs(s); break;
	case SR_IO: stats_want_io(s, rq->interval_ns); break;
	case SR_TALKERS:
		stats_want(s, STATS_ENDPOINTS, STATS_IP);
		stats_want(s, STATS_ENDPOINTS, STATS_IPV6);
		break;
	case SR_FLOWS: case SR_ANOMALIES: break; /* analysis/ keeps them */
	}
}

void stats_print(struct sbuf *sb, const struct stats *s, const struct stats_request *rq, bool json)
{
	switch (rq->what) {
	case SR_CONV: json ? rows_json(sb, s, STATS_CONV, rq->kind) : conv_text(sb, s, rq->kind); break;
	case SR_ENDPOINTS: json ? rows_json(sb, s, STATS_ENDPOINTS, rq->kind) : endpoints_text(sb, s, rq->kind); break;
	case SR_PHS: json ? phs_json(sb, s) : phs_text(sb, s); break;
	case SR_IO: json ? io_json(sb, s) : io_text(sb, s); break;
	case SR_TALKERS: talkers_text(sb, s, json); break;
	case SR_FLOWS: case SR_ANOMALIES: break; /* printed by analysis/ */
	}
}
