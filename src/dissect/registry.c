/* dissect/registry.c — the field table from fields.def, parent links and name lookup. */
#include "dissect/registry.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/xalloc.h"
#include <string.h>

struct field_def field_defs[F__COUNT] = {
#define FIELD(id, name, type, base, vals, title) { name, title, type, base, vals, 0, 0, false },
#include "dissect/fields.def"
#undef FIELD
};

/* Names the seed used, kept working as aliases of the Wireshark names. */
static const struct { const char *alias; enum field_id id; } aliases[] = {
	{ "ipv4", F_IP },
	{ "ipv4.src", F_IP_SRC },
	{ "ipv4.dst", F_IP_DST },
	{ "frame.time_relative_s", F_FRAME_TIME_RELATIVE },
	{ "tls.sni", F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME },
	{ "dns.qname", F_DNS_QRY_NAME },
};

/* Wireshark's fields that stand for two others at once (the filter's `ip.addr == X` is
 * "either address"): each reads the values of both, in packet order. */
static const struct { const char *name; enum field_id ids[2]; } pseudo_fields[] = {
	{ "ip.addr", { F_IP_SRC, F_IP_DST } },
	/* Wireshark's IPv6 layer carries a hidden ip.version too: `ip.version == 6` */
	{ "ip.version", { F_IP_VERSION, F_IPV6_VERSION } },
	{ "ipv6.addr", { F_IPV6_SRC, F_IPV6_DST } },
	{ "tcp.port", { F_TCP_SRCPORT, F_TCP_DSTPORT } },
	{ "udp.port", { F_UDP_SRCPORT, F_UDP_DSTPORT } },
	{ "eth.addr", { F_ETH_SRC, F_ETH_DST } },
};

static uint16_t sorted_ids[F__COUNT];
static bool registry_ready;

/* Number of leading dot-separated components two names share. */
static int common_components(const char *a, const char *b)
{
	int n = 0;
	for (size_t i = 0;; i++) {
		bool end_a = a[i] == '\0' || a[i] == '.', end_b = b[i] == '\0' || b[i] == '.';
		if (end_a || end_b) {
			if (end_a && end_b) n++;
			if (!end_a || !end_b || a[i] == '\0' || b[i] == '\0') return n;
		} else if (a[i] != b[i]) {
			return n;
		}
	}
}

/* The JSON writer and the detail tree need every subtree contiguous in table order: for
 * each field, the components it shares with later fields may only shrink. A table that
 * breaks this is a programmer error, caught at start-up rather than as a duplicate key. */
static void check_tree_order(void)
{
	for (int i = 0; i < F__COUNT; i++) {
		int prev = 99;
		for (int k = i + 1; k < F__COUNT; k++) {
			int c = common_components(field_defs[i].name, field_defs[k].name);
			if (c > prev) {
				char msg[200];
				snprintf(msg, sizeof msg, "fields.def: %s is separated from %s by another subtree",
					 field_defs[k].name, field_defs[i].name);
				xfatal(msg);
			}
			prev = c;
		}
	}
}

static int cmp_by_name(const void *a, const void *b)
{
	return strcmp(field_defs[*(const uint16_t *)a].name, field_defs[*(const uint16_t *)b].name);
}

void field_registry_init(void)
{
	if (registry_ready) return;
	for (int i = 0; i < F__COUNT; i++) {
		field_defs[i].name_len = (uint16_t)strlen(field_defs[i].name);
		field_defs[i].parent = F__COUNT;
		sorted_ids[i] = (uint16_t)i;
	}
	/* The parent is the registered field with the longest dotted prefix of the name. */
	for (int i = 0; i < F__COUNT; i++) {
		const struct field_def *f = &field_defs[i];
		size_t best = 0;
		for (int j = 0; j < F__COUNT; j++) {
			const struct field_def *g = &field_defs[j];
			if (g->name_len < f->name_len && g->name_len > best &&
			    f->name[g->name_len] == '.' && !memcmp(f->name, g->name, g->name_len)) {
				best = g->name_len;
				field_defs[i].parent = (uint16_t)j;
			}
		}
		uint16_t parent = field_defs[i].parent;
		if (parent == F__COUNT) continue;
		if (parent > i) {
			char msg[200];
			snprintf(msg, sizeof msg, "fields.def: %s must come before its child %s",
				 field_defs[parent].name, f->name);
			xfatal(msg);
		}
		field_defs[parent].has_children = true;
	}
	check_tree_order();
	qsort(sorted_ids, F__COUNT, sizeof sorted_ids[0], cmp_by_name);
	registry_ready = true;
}

int field_by_name(const char *name, size_t len)
{
	size_t lo = 0, hi = F__COUNT;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct field_def *f = &field_defs[sorted_ids[mid]];
		int c = strncmp(f->name, name, len);
		if (c == 0 && f->name_len != len) c = f->name_len < len ? -1 : 1;
		if (c == 0) return sorted_ids[mid];
		if (c < 0) lo = mid + 1;
		else hi = mid;
	}
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strlen(aliases[i].alias) == len && !memcmp(aliases[i].alias, name, len))
			return aliases[i].id;
	return -1;
}

/* Levenshtein distance, capped: only small distances matter for a suggestion. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63) return 99;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++) row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = diag + cost;
			if (row[j] + 1 < v) v = row[j] + 1;
			if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
		}
	}
	return row[lb];
}

bool field_is_packet_local(int id)
{
	switch (id) {
	case F_FRAME_PROTOCOLS: /* names the application layers */
	case F_TCP_STREAM: case F_TCP_SEQ: case F_TCP_ACK: case F_TCP_NXTSEQ: case F_TCP_WINDOW_SIZE:
	case F_TCP_WINDOW_SIZE_SCALEFACTOR: case F_TCP_PAYLOAD:
	case F_UDP_STREAM: case F_ICMP_RESP_IN: case F_ICMP_RESP_TO: case F_ICMPV6_RESP_IN: case F_ICMPV6_RESP_TO:
		return false;
	default:
		break;
	}
	if (id >= F_TCP_ANALYSIS && id <= F_TCP_ANALYSIS_KEEP_ALIVE_ACK) return false;
	/* the application decoders and everything after them in the table (community_id,
	 * data, _ws.*) depend on what reassembly and per-flow state made of the payload */
	return id < F_DNS;
}

bool field_needs_app(int id)
{
	switch (id) {
	case F_FRAME_PROTOCOLS:
	case F_ICMP_RESP_IN: case F_ICMP_RESP_TO: case F_ICMPV6_RESP_IN: case F_ICMPV6_RESP_TO:
		return true;
	default:
		return id >= F_DNS && id <= F_HTTP2_HEADERS_USER_AGENT; /* the registry keeps them contiguous */
	}
}

int field_pseudo(const char *name, size_t len, uint16_t ids[2])
{
	for (size_t i = 0; i < sizeof pseudo_fields / sizeof pseudo_fields[0]; i++)
		if (strlen(pseudo_fields[i].name) == len && !memcmp(pseudo_fields[i].name, name, len)) {
			ids[0] = (uint16_t)pseudo_fields[i].ids[0];
			ids[1] = (uint16_t)pseudo_fields[i].ids[1];
			return 0;
		}
	return -1;
}

static void consider(const char *name, const char *candidate, const char **best, size_t *best_d)
{
	size_t d = edit_distance(name, candidate);
	if (d < *best_d) {
		*best_d = d;
		*best = candidate;
	}
}

const char *field_suggest(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3; /* at most two edits away */
	for (size_t i = 0; i < sizeof pseudo_fields / sizeof pseudo_fields[0]; i++)
		consider(name, pseudo_fields[i].name, &best, &best_d);
	for (int i = 0; i < F__COUNT; i++) consider(name, field_defs[i].name, &best, &best_d);
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) consider(name, aliases[i].alias, &best, &best_d);
	return best;
}
