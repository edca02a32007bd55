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

/* The JSON writer and the detail tree need every subtree contiguous in table order: each
 * dotted prefix (`ip`, `ip.flags`) is opened by the first field that has it and closed by
 * the first that does not, so a prefix opened twice is a subtree split by another. A
 * table that breaks this is a programmer error, caught at start-up rather than as a
 * duplicate key. Linear in the table (sorting the prefixes), as start-up cost counts. */
struct prefix { const char *s; uint16_t len, field; };

static int cmp_prefix(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	uint16_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);
	return c ? c : (int)x->len - (int)y->len;
}

static void check_tree_order(void)
{
	size_t cap = 0;
	for (int i = 0; i < F__COUNT; i++) cap += 1 + (size_t)field_defs[i].name_len / 2;
	struct prefix *opened = xmalloc(cap * sizeof *opened);
	size_t n = 0;
	for (int i = 0; i < F__COUNT; i++) {
		const char *name = field_defs[i].name;
		int keep = i ? common_components(field_defs[i - 1].name, name) : 0;
		int comp = 0;
		for (uint16_t k = 0; k <= field_defs[i].name_len; k++) {
			if (name[k] != '.' && name[k] != '\0') continue;
			if (++comp > keep && n < cap) opened[n++] = (struct prefix){ name, k, (uint16_t)i };
		}
	}
	qsort(opened, n, sizeof *opened, cmp_prefix);
	for (size_t k = 1; k < n; k++)
		if (!cmp_prefix(&opened[k - 1], &opened[k])) {
			char msg[200];
			snprintf(msg, sizeof msg, "fields.def: the %.*s subtree is split (at %s and %s)", (int)opened[k].len,
				 opened[k].s, field_defs[opened[k - 1].field].name, field_defs[opened[k].field].name);
			xfatal(msg);
		}
	free(opened);
}

static int cmp_by_name(const void *a, const void *b)
{
	return strcmp(field_defs[*(const uint16_t *)a].name, field_defs[*(const uint16_t *)b].name);
}

/* The id of the registered field named by name[0..len) among the sorted names, or -1. */
static int lookup_sorted(const char *name, size_t len)
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
	return -1;
}

void field_registry_init(void)
{
	if (registry_ready) return;
	for (int i = 0; i < F__COUNT; i++) {
		field_defs[i].name_len = (uint16_t)strlen(field_defs[i].name);
		field_defs[i].parent = F__COUNT;
		sorted_ids[i] = (uint16_t)i;
	}
	qsort(sorted_ids, F__COUNT, sizeof sorted_ids[0], cmp_by_name);
	/* The parent is the registered field with the longest dotted prefix of the name. */
	for (int i = 0; i < F__COUNT; i++) {
		const struct field_def *f = &field_defs[i];
		for (size_t k = f->name_len; k-- > 0;) {
			if (f->name[k] != '.') continue;
			int parent = lookup_sorted(f->name, k);
			if (parent < 0) continue;
			if (parent > i) {
				char msg[200];
				snprintf(msg, sizeof msg, "fields.def: %s must come before its child %s",
					 field_defs[parent].name, f->name);
				xfatal(msg);
			}
			field_defs[i].parent = (uint16_t)parent;
			field_defs[parent].has_children = true;
			break;
		}
	}
	check_tree_order();
	registry_ready = true;
}

int field_by_name(const char *name, size_t len)
{
	int id = lookup_sorted(name, len);
	if (id >= 0) return id;
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
		return id >= F_DNS && id <= F_ANOMALY_REASON; /* the registry keeps them contiguous */
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

const char *field_pseudo_at(size_t i, uint16_t ids[2])
{
	if (i >= sizeof pseudo_fields / sizeof pseudo_fields[0]) return NULL;
	ids[0] = (uint16_t)pseudo_fields[i].ids[0];
	ids[1] = (uint16_t)pseudo_fields[i].ids[1];
	return pseudo_fields[i].name;
}

const char *ftype_name(enum ftype t)
{
	static const char *const names[] = {
		[FT_PROTO] = "protocol", [FT_NONE] = "none", [FT_BOOL] = "bool", [FT_UINT] = "uint", [FT_INT] = "int",
		[FT_IPV4] = "ipv4", [FT_IPV6] = "ipv6", [FT_ETHER] = "ether", [FT_BYTES] = "bytes", [FT_STRING] = "string",
		[FT_ABSTIME] = "time", [FT_EPOCH] = "epoch", [FT_RELTIME] = "reltime", [FT_FLOAT] = "float",
	};
	return (size_t)t < sizeof names / sizeof *names && names[t] ? names[t] : "?";
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
