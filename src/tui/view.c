/* tui/view.c — the capture TUI on screen: filter bar, packet list, detail tree, hex dump and
 * status bar over the model (tui/model.h), driven by the keyboard. Work on the file
 * (indexing, filtering) is done in slices between keystrokes, so the screen answers while
 * a large capture loads. */
#include "tui/tui.h"

#include <ctype.h>
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture/capture.h"
#include "capture/writer.h"
#include "filter/filter.h"
#include "output/output.h"
#include "pipeline/config.h"
#include "tui/model.h"
#include "tui/widgets.h"
#include "analysis/flowrec.h"
#include "egress/annotate.h"
#include "pipeline/pipeline.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define SLICE_PACKETS 4096  /* indexed or filtered between two looks at the keyboard */
#define LINE_BUF 4096
#define TREE_LABEL 512
#define FILTER_HISTORY 64

enum focus { FOCUS_LIST, FOCUS_TREE, FOCUS_HEX };
enum pair { P_TCP = 1, P_UDP, P_ARP, P_ICMP, P_DNS, P_TLS, P_HTTP, P_QUIC, P_BAD, P_BAR, P_BAR_OK, P_BAR_ERR, P_HIGHLIGHT };

struct view {
	struct tui_model *m;
	const struct tui_opts *o;
	struct pipeline *ann_pl;       /* live: decodes each packet for its process before it is written */
	struct field_mask ann_mask;
	uint64_t ann_n;
	bool color;
	enum focus focus;
	uint64_t sel, top;             /* positions in the displayed list */
	bool follow_end;               /* G was pressed while loading: stay on the last row */
	/* the selected packet, decoded */
	uint64_t frame;                /* 0: none decoded */
	const struct packet *pkt;
	char derr[256];
	uint16_t nodes[PKT_MAX_FIELDS]; /* the tree's visible lines: field indexes */
	uint8_t depth[PKT_MAX_FIELDS];
	int nnodes, tsel, ttop;
	bool expanded[F__COUNT];       /* by field id, kept from packet to packet */
	int hex_top;
	/* the filter bar */
	bool editing;
	char input[DF_MAX_LEN + 1];
	size_t ilen, icur;
	bool ivalid;
	struct df_error ierr;
	bool going;                    /* Ctrl-G: typing a packet number */
	char go[24];
	char msg[300];
	bool msg_err;
	bool help;
	/* the filters applied, newest last, for Up/Down in the bar */
	char *history[FILTER_HISTORY];
	int nhistory, hpos;
	/* live capture */
	bool capturing, paused;
	uint64_t drop_kernel, drop_ring;
	uint64_t over_budget;          /* packets not kept: the file reached its disk budget */
	/* an overlay: a text (a table, a stream) scrolled over the list, or the bookmarks */
	enum overlay { OV_NONE, OV_TEXT, OV_BOOKMARKS, OV_LIST } ov;
	int ov_key;                    /* the key that opened it (again: closes it) */
	char ov_title[160];
	char *ov_buf;                  /* OV_TEXT: the text, and where its lines start */
	size_t ov_len;
	size_t *ov_lines;
	uint8_t *ov_dir;               /* a followed stream: 1 client, 2 server, per line */
	int ov_nlines, ov_top;
	struct frow *flows;            /* F and T: the per-flow records, copied */
	size_t nflows;
	int flow_sort;                 /* F: the column it is sorted by (1-6) */
	uint64_t *ov_frames;           /* OV_LIST: the packets listed, and the one selected */
	uint64_t ov_nframes;
	int ov_sel;
	uint8_t follow_proto;          /* the stream shown by f, for h (hex) to show it again */
	int64_t follow_stream;
	bool follow_hex;
	/* bookmarks: frame numbers, sorted */
	uint64_t *marks;
	size_t nmarks, marks_cap;
	int mark_sel;
	/* a one-line prompt: the name to save to, the regex to search */
	enum prompt { PR_NONE, PR_SAVE_SHOWN, PR_SAVE_MARKED, PR_SEARCH } prompt;
	char pbuf[512];
	size_t plen;
	pcre2_code *re;                /* the search, for n and N */
	pcre2_match_data *md;
	/* layout */
	int list_y, list_h, tree_y, tree_h, hex_y, hex_h;
};

static void status(struct view *v, bool err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void status(struct view *v, bool err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof v->msg, fmt, ap);
	va_end(ap);
	v->msg_err = err;
}

static attr_t pair(const struct view *v, int p) { return v->color ? COLOR_PAIR(p) : 0; }

static void layout(struct view *v)
{
	int h = LINES - 3; /* the filter bar above, the sparkline and the status bar below */
	v->hex_h = h >= 30 ? 8 : h >= 20 ? 6 : 4;
	int rest = h - v->hex_h;
	v->tree_h = rest * 2 / 5;
	v->list_h = rest - v->tree_h;
	if (v->list_h < 3) v->list_h = 3;
	v->list_y = 1;
	v->tree_y = v->list_y + v->list_h;
	v->hex_y = v->tree_y + v->tree_h;
}

/* ---- the selected packet ---- */

static uint64_t shown(const struct view *v) { return tui_model_shown(v->m); }

static uint64_t selected_frame(const struct view *v)
{
	return shown(v) ? tui_model_shown_frame(v->m, v->sel) : 0;
}

static void build_tree(struct view *v)
{
	v->nnodes = 0;
	const struct packet *p = v->pkt;
	if (!p) return;
	/* children by parent pointer, in record order */
	static int16_t first[PKT_MAX_FIELDS], next[PKT_MAX_FIELDS], last[PKT_MAX_FIELDS];
	int16_t roots_first = -1, roots_last = -1;
	for (int i = 0; i < p->nfields; i++) first[i] = next[i] = last[i] = -1;
	for (int i = 0; i < p->nfields; i++) {
		uint16_t par = p->fields[i].parent;
		if (par < i) {
			if (last[par] < 0) first[par] = (int16_t)i;
			else next[last[par]] = (int16_t)i;
			last[par] = (int16_t)i;
		} else {
			if (roots_last < 0) roots_first = (int16_t)i;
			else next[roots_last] = (int16_t)i;
			roots_last = (int16_t)i;
		}
	}
	/* depth-first over what is expanded */
	int16_t stack[64];
	uint8_t dstack[64];
	int sp = 0;
	for (int16_t r = roots_first; r >= 0; r = next[r]) {
		stack[0] = r;
		dstack[0] = 0;
		sp = 1;
		while (sp) {
			int16_t i = stack[--sp];
			uint8_t d = dstack[sp];
			v->nodes[v->nnodes] = (uint16_t)i;
			v->depth[v->nnodes++] = d;
			if (first[i] < 0 || !v->expanded[p->fields[i].id]) continue;
			int16_t kids[PKT_MAX_FIELDS];
			int nk = 0;
			for (int16_t c = first[i]; c >= 0; c = next[c]) kids[nk++] = c;
			for (int k = nk - 1; k >= 0 && sp < 64; k--) { /* pushed last first: popped in order */
				stack[sp] = kids[k];
				dstack[sp++] = (uint8_t)(d + 1);
			}
		}
	}
	if (v->tsel >= v->nnodes) v->tsel = v->nnodes ? v->nnodes - 1 : 0;
}

static bool has_children(const struct packet *p, int i)
{
	for (int k = i + 1; k < p->nfields; k++)
		if (p->fields[k].parent == i) return true;
	return false;
}

static void decode_selected(struct view *v)
{
	uint64_t f = selected_frame(v);
	if (f == v->frame) return;
	v->frame = f;
	v->pkt = f ? tui_model_decode(v->m, f, v->derr, sizeof v->derr) : NULL;
	v->tsel = v->ttop = v->hex_top = 0;
	build_tree(v);
}

static void field_label(const struct packet *p, const struct fval *f, char *buf, size_t cap)
{
	const struct field_def *d = &field_defs[f->id];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, cap - 1);
	if (d->type == FT_PROTO) {
		sb_puts(&sb, d->title);
	} else {
		sb_puts(&sb, d->title);
		if (d->type != FT_NONE) {
			sb_puts(&sb, ": ");
			out_field_text(&sb, p, f);
			if (d->vals && (d->type == FT_UINT || d->type == FT_BOOL)) {
				const char *name = vn_name(d->vals, (uint32_t)f->v.u, NULL);
				if (name) sb_printf(&sb, " (%s)", name);
			}
		}
	}
	sb_cstr(&sb);
}

static void validate_input(struct view *v);

/* ---- bookmarks ---- */

static size_t mark_pos(const struct view *v, uint64_t frame)
{
	size_t lo = 0, hi = v->nmarks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->marks[mid] < frame) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

static bool marked(const struct view *v, uint64_t frame)
{
	size_t i = mark_pos(v, frame);
	return i < v->nmarks && v->marks[i] == frame;
}

static void toggle_mark(struct view *v, uint64_t frame)
{
	size_t i = mark_pos(v, frame);
	if (i < v->nmarks && v->marks[i] == frame) {
		memmove(v->marks + i, v->marks + i + 1, (v->nmarks - i - 1) * sizeof *v->marks);
		v->nmarks--;
		status(v, false, "bookmark removed from packet %llu", (unsigned long long)frame);
		return;
	}
	if (v->nmarks == v->marks_cap) {
		v->marks_cap = v->marks_cap ? v->marks_cap * 2 : 64;
		v->marks = xrealloc(v->marks, v->marks_cap * sizeof *v->marks);
	}
	memmove(v->marks + i + 1, v->marks + i, (v->nmarks - i) * sizeof *v->marks);
	v->marks[i] = frame;
	v->nmarks++;
	status(v, false, "packet %llu bookmarked (%zu)", (unsigned long long)frame, v->nmarks);
}

/* ---- overlays ---- */

#define OV_MAX_TEXT (8u << 20) /* a table or stream shown: the rest is cut */

static void close_overlay(struct view *v)
{
	free(v->ov_buf);
	free(v->ov_lines);
	free(v->ov_dir);
	free(v->ov_frames);
	v->ov_buf = NULL;
	v->ov_lines = NULL;
	v->ov_dir = NULL;
	v->ov_frames = NULL;
	v->ov_nframes = 0;
	v->ov_sel = 0;
	v->ov_nlines = v->ov_top = 0;
	v->ov = OV_NONE;
}

/* Opens a text overlay: fill() writes its text. */
static void open_text(struct view *v, int key, const char *title, void (*fill)(struct view *, struct sbuf *))
{
	close_overlay(v);
	v->ov_buf = xmalloc(OV_MAX_TEXT + 1);
	struct sbuf sb;
	sb_init_fixed(&sb, v->ov_buf, OV_MAX_TEXT);
	fill(v, &sb);
	v->ov_len = sb.len;
	size_t cap = 256;
	v->ov_lines = xmalloc(cap * sizeof *v->ov_lines);
	for (size_t i = 0; i < v->ov_len || !v->ov_nlines;) {
		if ((size_t)v->ov_nlines == cap) v->ov_lines = xrealloc(v->ov_lines, (cap *= 2) * sizeof *v->ov_lines);
		v->ov_lines[v->ov_nlines++] = i;
		const char *nl = i < v->ov_len ? memchr(v->ov_buf + i, '\n', v->ov_len - i) : NULL;
		if (!nl) break;
		i = (size_t)(nl - v->ov_buf) + 1;
	}
	if (key == 'f') { /* who sent each line: a chunk starts with its length, the server's indented */
		v->ov_dir = xcalloc((size_t)v->ov_nlines, 1);
		uint8_t d = 0;
		for (int k = 0; k < v->ov_nlines; k++) {
			const char *l = v->ov_buf + v->ov_lines[k];
			size_t n = (k + 1 < v->ov_nlines ? v->ov_lines[k + 1] - 1 : v->ov_len) - v->ov_lines[k];
			size_t i = 0;
			bool server = n && l[0] == '\t';
			i = server;
			while (i < n && l[i] >= '0' && l[i] <= '9') i++;
			if (!v->follow_hex && i == n && n > (size_t)server) {
				d = server ? 2 : 1; /* ASCII: "517", "\t1284": a chunk's size starts it */
			} else if (v->follow_hex) { /* hex: each row "OFFSET  xx xx…", the server's indented */
				size_t h = server;
				while (h < n && h < (size_t)server + 8 && isxdigit((unsigned char)l[h])) h++;
				if (h == (size_t)server + 8 && h + 1 < n && l[h] == ' ') d = server ? 2 : 1;
			}
			v->ov_dir[k] = d;
		}
	}
	v->ov = OV_TEXT;
	v->ov_key = key;
	snprintf(v->ov_title, sizeof v->ov_title, "%s%s — j/k scroll, Esc closes", title,
		 tui_model_done(v->m) ? "" : " (still loading: so far)");
}

static enum tui_table table_for(int key)
{
	switch (key) {
	case 't': return TT_TALKERS;
	case 'P': return TT_PHS;
	case 'F': return TT_FLOWS;
	case 'T': return TT_CONVERSATIONS;
	case 'A': return TT_ANOMALIES;
	default: return TT_IO;
	}
}

static int table_key;
static void fill_table(struct view *v, struct sbuf *sb) { tui_model_table(v->m, table_for(table_key), sb); }

static void open_table(struct view *v, int key)
{
	static const char *const titles[TT__COUNT] = { "Top talkers", "Protocol hierarchy", "Flows",
						       "Conversations (relative start, duration)", "Anomalies",
						       "I/O, 1 s intervals" };
	table_key = key;
	open_text(v, key, titles[table_for(key)], fill_table);
}

/* ---- F, T and I: flows sortable, the timeline and the I/O graph drawn ---- */

struct frow {
	char label[112];   /* "tcp 10.0.0.1:33516 → 10.0.0.2:443" */
	char name[64];     /* SNI, HTTP host or DNS name */
	char app[12], state[8];
	int64_t first_ns, last_ns, rtt_ns;
	uint64_t packets[2], bytes[2];
	uint32_t retrans;
};

static void addr_port(struct sbuf *sb, uint8_t family, const uint8_t *a, uint16_t port, bool ports)
{
	if (family == 6 && ports) sb_putc(sb, '[');
	if (family == 6) sb_ipv6(sb, a);
	else sb_ipv4(sb, a);
	if (family == 6 && ports) sb_putc(sb, ']');
	if (ports) sb_printf(sb, ":%u", port);
}

static void load_flows(struct view *v)
{
	free(v->flows);
	struct flow_records *fr = tui_model_flows(v->m);
	size_t n = flowrec_count(fr);
	v->flows = xcalloc(n ? n : 1, sizeof *v->flows);
	v->nflows = 0;
	struct flowrec_view fv;
	static const char *const pnames[256] = { [1] = "icmp", [6] = "tcp", [17] = "udp", [58] = "icmpv6", [132] = "sctp" };
	for (size_t i = 0; i < n && flowrec_get(fr, i, &fv); i++) {
		struct frow *r = &v->flows[v->nflows++];
		bool ports = fv.proto == 6 || fv.proto == 17 || fv.proto == 132;
		struct sbuf lb;
		sb_init_fixed(&lb, r->label, sizeof r->label - 1);
		sb_puts(&lb, pnames[fv.proto] ? pnames[fv.proto] : "ip");
		sb_putc(&lb, ' ');
		addr_port(&lb, fv.family, fv.client, fv.client_port, ports);
		sb_puts(&lb, " → ");
		addr_port(&lb, fv.family, fv.server, fv.server_port, ports);
		sb_cstr(&lb);
		const char *name = fv.sni && *fv.sni ? fv.sni : fv.http_host && *fv.http_host ? fv.http_host : fv.dns_name ? fv.dns_name : "";
		snprintf(r->name, sizeof r->name, "%s", name);
		snprintf(r->app, sizeof r->app, "%s", fv.app ? fv.app : "");
		snprintf(r->state, sizeof r->state, "%s", fv.state ? fv.state : "");
		r->first_ns = fv.first_ns;
		r->last_ns = fv.last_ns;
		r->rtt_ns = fv.srtt_ns > 0 ? fv.srtt_ns : fv.initial_rtt_ns;
		memcpy(r->packets, fv.packets, sizeof r->packets);
		memcpy(r->bytes, fv.bytes, sizeof r->bytes);
		r->retrans = fv.counts.retransmissions + fv.counts.fast_retransmissions + fv.counts.spurious_retransmissions;
	}
	flowrec_free(fr);
}

static int sort_key;
static int64_t flow_value(const struct frow *r)
{
	switch (sort_key) {
	case 1: return r->first_ns;
	case 2: return (int64_t)(r->packets[0] + r->packets[1]);
	case 4: return r->last_ns - r->first_ns;
	case 5: return r->rtt_ns;
	case 6: return r->retrans;
	default: return (int64_t)(r->bytes[0] + r->bytes[1]);
	}
}
static int cmp_flow(const void *a, const void *b)
{
	int64_t x = flow_value(a), y = flow_value(b);
	if (sort_key == 1) return x < y ? -1 : x > y; /* the start: earliest first */
	return x > y ? -1 : x < y;                     /* the others: largest first */
}

static void fill_flows(struct view *v, struct sbuf *sb)
{
	static const char *const by[] = { "", "start", "packets", "bytes", "duration", "RTT", "retransmissions" };
	sort_key = v->flow_sort;
	qsort(v->flows, v->nflows, sizeof *v->flows, cmp_flow);
	sb_printf(sb, "%zu flows, by %s (1 start, 2 packets, 3 bytes, 4 duration, 5 RTT, 6 retransmissions)\n",
		  v->nflows, by[v->flow_sort]);
	sb_puts(sb, "   Start   Duration  Pkts→  Pkts←    Bytes→    Bytes←   RTT ms Retr App    State Flow\n");
	int64_t t0 = v->nflows ? INT64_MAX : 0;
	for (size_t i = 0; i < v->nflows; i++) t0 = v->flows[i].first_ns < t0 ? v->flows[i].first_ns : t0;
	for (size_t i = 0; i < v->nflows && !sb->trunc; i++) {
		const struct frow *r = &v->flows[i];
		sb_printf(sb, "%8.3f %10.3f %6llu %6llu %9llu %9llu %8.2f %4u %-6.6s %-5.5s %s%s%s\n",
			  (double)(r->first_ns - t0) / 1e9, (double)(r->last_ns - r->first_ns) / 1e9,
			  (unsigned long long)r->packets[0], (unsigned long long)r->packets[1], (unsigned long long)r->bytes[0],
			  (unsigned long long)r->bytes[1], r->rtt_ns > 0 ? (double)r->rtt_ns / 1e6 : 0.0, r->retrans, r->app,
			  r->state, r->label, r->name[0] ? "  " : "", r->name);
	}
}

/* T: each flow a bar over the capture's span, in start order. */
static void fill_timeline(struct view *v, struct sbuf *sb)
{
	sort_key = 1;
	qsort(v->flows, v->nflows, sizeof *v->flows, cmp_flow);
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	for (size_t i = 0; i < v->nflows; i++) {
		if (v->flows[i].first_ns < t0) t0 = v->flows[i].first_ns;
		if (v->flows[i].last_ns > t1) t1 = v->flows[i].last_ns;
	}
	int width = COLS > 100 ? 60 : 40;
	double span = t1 > t0 ? (double)(t1 - t0) : 1.0;
	sb_printf(sb, "%zu flows over %.3f s; each bar from the flow's first packet to its last\n", v->nflows, span / 1e9);
	for (size_t i = 0; i < v->nflows && !sb->trunc; i++) {
		const struct frow *r = &v->flows[i];
		int a = (int)((double)(r->first_ns - t0) / span * (width - 1));
		int b = (int)((double)(r->last_ns - t0) / span * (width - 1));
		for (int x = 0; x < width; x++) sb_puts(sb, x < a || x > b ? " " : "▇");
		sb_printf(sb, " %s%s%s\n", r->label, r->name[0] ? "  " : "", r->name);
	}
}

/* I: packets per second as columns of blocks, the busiest second full height. */
static void fill_io(struct view *v, struct sbuf *sb)
{
	uint64_t n;
	const uint32_t *rate = tui_model_rate(v->m, &n);
	int width = COLS - 10, height = LINES - 8;
	if (width < 10 || height < 3 || !n) {
		sb_puts(sb, "no packets\n");
		return;
	}
	uint64_t per = (n + (uint64_t)width - 1) / (uint64_t)width;
	int cols = (int)((n + per - 1) / per);
	uint32_t col[1024], top = 1;
	if (cols > 1024) cols = 1024;
	for (int c = 0; c < cols; c++) {
		uint32_t mx = 0;
		for (uint64_t k = (uint64_t)c * per; k < (uint64_t)(c + 1) * per && k < n; k++) mx = rate[k] > mx ? rate[k] : mx;
		col[c] = mx;
		if (mx > top) top = mx;
	}
	sb_printf(sb, "Packets per second, %llu s of capture, %llu s a column; the busiest: %u pkt/s\n",
		  (unsigned long long)n, (unsigned long long)per, top);
	for (int row = height; row >= 1; row--) {
		sb_printf(sb, "%8u ", (unsigned)((uint64_t)top * (uint64_t)row / (uint64_t)height));
		for (int c = 0; c < cols; c++) sb_puts(sb, (uint64_t)col[c] * (uint64_t)height >= (uint64_t)top * (uint64_t)row ? "█" : " ");
		sb_putc(sb, '\n');
	}
	sb_printf(sb, "%8s 0 s%*s%llu s\n", "", cols > 12 ? cols - 8 : 1, "", (unsigned long long)n);
}

static void open_flows(struct view *v, int key)
{
	load_flows(v);
	if (!v->flow_sort) v->flow_sort = 3;
	if (key == 'F') open_text(v, 'F', "Flows", fill_flows);
	else open_text(v, 'T', "Connection timeline", fill_timeline);
}

/* A: the packets the anomaly rules flagged, their lines (the finding in brackets at the
 * end), Enter jumps to one; the table of kinds in the title. */
static void open_anomalies(struct view *v)
{
	close_overlay(v);
	uint64_t n = tui_model_packets(v->m), k = 0, cap = 64;
	v->ov_frames = xmalloc(cap * sizeof *v->ov_frames);
	for (uint64_t f = 1; f <= n; f++) {
		const struct tui_row *r = tui_model_row(v->m, f);
		if (!(r->flags & RF_ANOMALY)) continue;
		if (k == cap) v->ov_frames = xrealloc(v->ov_frames, (cap *= 2) * sizeof *v->ov_frames);
		v->ov_frames[k++] = f;
	}
	v->ov_nframes = k;
	v->ov = OV_LIST;
	v->ov_key = 'A';
	snprintf(v->ov_title, sizeof v->ov_title, "Anomalies: %llu packets%s — Enter jumps, Esc closes",
		 (unsigned long long)k, tui_model_done(v->m) ? "" : " (still loading: so far)");
}

static void fill_follow(struct view *v, struct sbuf *sb)
{
	tui_model_follow(v->m, v->follow_proto, v->follow_stream, v->follow_hex, sb);
}

/* f: the stream of the selected packet, both directions as read --follow shows them. */
static void decode_selected(struct view *v);

static void open_follow(struct view *v)
{
	decode_selected(v); /* keys may have moved the selection since the last drawing */
	if (!v->pkt) return;
	int64_t tcp = -1, udp = -1;
	for (uint16_t i = 0; i < v->pkt->nfields; i++) {
		const struct fval *f = &v->pkt->fields[i];
		if (f->nest) continue;
		if (f->id == F_TCP_STREAM) tcp = (int64_t)f->v.u;
		else if (f->id == F_UDP_STREAM) udp = (int64_t)f->v.u;
	}
	if (tcp < 0 && udp < 0) {
		status(v, true, "packet %llu is in no TCP or UDP stream", (unsigned long long)v->frame);
		return;
	}
	v->follow_proto = tcp >= 0 ? 6 : 17;
	v->follow_stream = tcp >= 0 ? tcp : udp;
	char title[96];
	snprintf(title, sizeof title, "Follow %s stream %lld (%s; h toggles hex, / filters on it)",
		 v->follow_proto == 6 ? "TCP" : "UDP", (long long)v->follow_stream, v->follow_hex ? "hex" : "ASCII");
	open_text(v, 'f', title, fill_follow);
}

/* Frame f's row as the lists show it: a Process column first once the capture has said which
 * process a packet is of (the name as the kernel keeps it: printable bytes only, padded),
 * then the packet's line. Its length; the column's width in *pw. */
static size_t row_text(struct view *v, uint64_t f, char *line, size_t cap, int *pw)
{
	*pw = tui_model_has_procs(v->m) ? PROC_COL_NAME : 0;
	if (*pw) {
		const char *pn = tui_model_proc(v->m, f);
		int k = 0;
		for (; pn && pn[k] && k < PROC_COL_NAME - 1; k++) line[k] = (unsigned char)pn[k] < 0x20 || pn[k] == 0x7f ? '?' : pn[k];
		memset(line + k, ' ', (size_t)(*pw - k));
	}
	return (size_t)*pw + tui_model_line(v->m, f, line + *pw, cap - (size_t)*pw);
}

/* An overlay's list of frames, *sel (kept in range) highlighted, the others in attr. */
static void draw_frames(struct view *v, int top, int rows, const uint64_t *frames, int n, int *sel, attr_t attr)
{
	char line[LINE_BUF];
	int pw;
	if (*sel >= n) *sel = n ? n - 1 : 0;
	int first = *sel >= rows - 1 ? *sel - rows + 2 : 0;
	for (int r = 0; r < rows - 1; r++) {
		int k = first + r;
		if (k >= n) {
			tw_line(top + 1 + r, "", 0, 0);
			continue;
		}
		size_t len = row_text(v, frames[k], line, sizeof line, &pw);
		tw_line(top + 1 + r, line, len, k == *sel ? A_REVERSE : attr);
	}
}

static void draw_overlay(struct view *v)
{
	int top = 1, rows = LINES - 2;
	tw_line(top, v->ov_title, strlen(v->ov_title), A_BOLD | A_REVERSE);
	if (v->ov == OV_LIST) {
		draw_frames(v, top, rows, v->ov_frames, (int)v->ov_nframes, &v->ov_sel, pair(v, P_BAD));
		return;
	}
	if (v->ov == OV_BOOKMARKS) {
		draw_frames(v, top, rows, v->marks, (int)v->nmarks, &v->mark_sel, 0);
		return;
	}
	if (v->ov_top > v->ov_nlines - (rows - 1)) v->ov_top = v->ov_nlines - (rows - 1);
	if (v->ov_top < 0) v->ov_top = 0;
	for (int r = 0; r < rows - 1; r++) {
		int k = v->ov_top + r;
		if (k >= v->ov_nlines) {
			tw_line(top + 1 + r, "", 0, 0);
			continue;
		}
		size_t from = v->ov_lines[k], to = k + 1 < v->ov_nlines ? v->ov_lines[k + 1] - 1 : v->ov_len;
		attr_t a = !v->ov_dir || !v->ov_dir[k] ? 0 : v->ov_dir[k] == 1 ? pair(v, P_BAD) : pair(v, P_TLS);
		tw_line(top + 1 + r, v->ov_buf + from, to > from ? to - from : 0, a);
	}
}

static bool overlay_key(struct view *v, int ch)
{
	int page = LINES - 4;
	if (ch == 27 || ch == 'q' || ch == v->ov_key) {
		close_overlay(v);
		return true;
	}
	if (v->ov == OV_LIST) {
		if ((ch == 'j' || ch == KEY_DOWN) && v->ov_sel + 1 < (int)v->ov_nframes) v->ov_sel++;
		else if ((ch == 'k' || ch == KEY_UP) && v->ov_sel > 0) v->ov_sel--;
		else if (ch == KEY_NPAGE) v->ov_sel = v->ov_sel + page < (int)v->ov_nframes ? v->ov_sel + page : (int)v->ov_nframes - 1;
		else if (ch == KEY_PPAGE) v->ov_sel = v->ov_sel > page ? v->ov_sel - page : 0;
		else if ((ch == '\n' || ch == KEY_ENTER) && v->ov_nframes) { /* jump to it */
			uint64_t f = v->ov_frames[v->ov_sel], pos = tui_model_position_of(v->m, f);
			close_overlay(v);
			if (pos < tui_model_shown(v->m) && tui_model_shown_frame(v->m, pos) == f) v->sel = pos;
			else status(v, true, "packet %llu is not displayed (the filter hides it)", (unsigned long long)f);
			v->follow_end = false;
		}
		return true;
	}
	if (v->ov == OV_BOOKMARKS) {
		if ((ch == 'j' || ch == KEY_DOWN) && v->mark_sel + 1 < (int)v->nmarks) v->mark_sel++;
		else if ((ch == 'k' || ch == KEY_UP) && v->mark_sel > 0) v->mark_sel--;
		else if ((ch == '\n' || ch == KEY_ENTER) && v->nmarks) { /* jump to it */
			uint64_t f = v->marks[v->mark_sel], pos = tui_model_position_of(v->m, f);
			close_overlay(v);
			if (pos < tui_model_shown(v->m) && tui_model_shown_frame(v->m, pos) == f) v->sel = pos;
			else status(v, true, "packet %llu is not displayed (the filter hides it)", (unsigned long long)f);
			v->follow_end = false;
		} else if (ch == 'm' && v->nmarks) {
			toggle_mark(v, v->marks[v->mark_sel]);
		}
		return true;
	}
	switch (ch) {
	case 'j': case KEY_DOWN: v->ov_top++; break;
	case 'k': case KEY_UP: if (v->ov_top > 0) v->ov_top--; break;
	case KEY_NPAGE: case ' ': v->ov_top += page; break;
	case KEY_PPAGE: v->ov_top = v->ov_top > page ? v->ov_top - page : 0; break;
	case 'g': case KEY_HOME: v->ov_top = 0; break;
	case 'G': case KEY_END: v->ov_top = v->ov_nlines; break;
	case '1': case '2': case '3': case '4': case '5': case '6':
		if (v->ov_key == 'F') { /* sort the flows again (open_text clears the records: kept aside) */
			v->flow_sort = ch - '0';
			struct frow *keep = v->flows;
			size_t nkeep = v->nflows;
			v->flows = NULL;
			close_overlay(v);
			v->flows = keep;
			v->nflows = nkeep;
			open_text(v, 'F', "Flows", fill_flows);
		}
		break;
	case 'h':
		if (v->ov_key == 'f') {
			v->follow_hex = !v->follow_hex;
			open_follow(v);
		}
		break;
	case '/':
		if (v->ov_key == 'f') { /* "filter on this stream" */
			close_overlay(v);
			snprintf(v->input, sizeof v->input, "%s.stream == %lld", v->follow_proto == 6 ? "tcp" : "udp",
				 (long long)v->follow_stream);
			v->ilen = v->icur = strlen(v->input);
			v->editing = true;
			validate_input(v);
		}
		break;
	default: break;
	}
	return true;
}

/* ---- search and save ---- */

/* The next (dir 1) or previous (-1) displayed row whose line the search matches, from the
 * selection on, wrapping. */
static void search_next(struct view *v, int dir)
{
	if (!v->re) {
		status(v, true, "no search: Ctrl-F sets one");
		return;
	}
	uint64_t n = tui_model_shown(v->m);
	char line[LINE_BUF];
	for (uint64_t k = 1; k <= n; k++) {
		uint64_t i = dir > 0 ? (v->sel + k) % n : (v->sel + n - k % n) % n;
		int pw;
		size_t len = row_text(v, tui_model_shown_frame(v->m, i), line, sizeof line, &pw);
		if (pcre2_match(v->re, (PCRE2_SPTR)line, len, 0, 0, v->md, NULL) >= 0) {
			v->sel = i;
			v->follow_end = false;
			status(v, false, "match in packet %llu", (unsigned long long)tui_model_shown_frame(v->m, i));
			return;
		}
	}
	status(v, true, "no displayed packet matches");
}

static void prompt_done(struct view *v)
{
	v->pbuf[v->plen] = '\0';
	enum prompt kind = v->prompt;
	v->prompt = PR_NONE;
	if (!v->plen) return;
	if (kind == PR_SEARCH) {
		int code;
		PCRE2_SIZE at;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->pbuf, v->plen, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &at, NULL);
		if (!re) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(code, msg, sizeof msg);
			status(v, true, "bad regex at %zu: %s", (size_t)at + 1, (const char *)msg);
			return;
		}
		pcre2_match_data_free(v->md);
		pcre2_code_free(v->re);
		v->re = re;
		v->md = pcre2_match_data_create_from_pattern(re, NULL);
		search_next(v, 1);
		return;
	}
	/* save: the displayed packets, or the bookmarked ones */
	uint64_t n = kind == PR_SAVE_MARKED ? v->nmarks : tui_model_shown(v->m);
	uint64_t *frames = xmalloc((n ? n : 1) * sizeof *frames);
	for (uint64_t i = 0; i < n; i++) frames[i] = kind == PR_SAVE_MARKED ? v->marks[i] : tui_model_shown_frame(v->m, i);
	char err[600];
	if (tui_model_save(v->m, v->pbuf, frames, n, err, sizeof err) < 0) status(v, true, "%s", err);
	else status(v, false, "%llu packets written to %s", (unsigned long long)n, v->pbuf);
	free(frames);
}

static void prompt_key(struct view *v, int ch)
{
	if (ch == 27) {
		v->prompt = PR_NONE;
	} else if (ch == '\n' || ch == KEY_ENTER) {
		prompt_done(v);
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		while (v->plen > 0 && ((unsigned char)v->pbuf[--v->plen] & 0xc0) == 0x80) {}
	} else if (ch >= 0x20 && ch <= 0xff && v->plen < sizeof v->pbuf - 1) {
		v->pbuf[v->plen++] = (char)ch;
	}
}

/* ---- the screen ---- */

static attr_t row_attr(const struct view *v, const struct tui_row *r)
{
	if (r->flags & (RF_ANOMALY | RF_MALFORMED)) return pair(v, P_BAD) | A_BOLD;
	if (r->flags & RF_RETRANSMISSION) return pair(v, P_BAD);
	static const int pairs[RC__COUNT] = { 0, P_TCP, P_UDP, P_ARP, P_ICMP, P_DNS, P_TLS, P_HTTP, P_QUIC };
	return pairs[r->cls] ? pair(v, pairs[r->cls]) : 0;
}

static void draw_filter_bar(struct view *v)
{
	char buf[DF_MAX_LEN + 64];
	if (v->editing) {
		snprintf(buf, sizeof buf, "Filter: %.*s", (int)v->ilen, v->input);
		attr_t a = v->ilen == 0 ? pair(v, P_BAR) : v->ivalid ? pair(v, P_BAR_OK) : pair(v, P_BAR_ERR);
		tw_line(0, buf, strlen(buf), a | (v->color ? 0 : A_UNDERLINE));
		if (v->ilen && !v->ivalid) { /* the caret: what the message is about, marked */
			size_t from = v->ierr.pos < v->ilen ? v->ierr.pos : v->ilen;
			int x0 = 8 + (int)tw_columns(v->input, from);
			int w = v->ierr.len ? (int)tw_columns(v->input + from, v->ierr.len < v->ilen - from ? v->ierr.len : v->ilen - from) : 1;
			if (w < 1) w = 1;
			if (x0 < COLS) mvchgat(0, x0, w, A_REVERSE | A_BOLD, v->color ? P_BAR_ERR : 0, NULL);
		}
		int x = 8 + (int)tw_columns(v->input, v->icur); /* the cursor */
		move(0, x < COLS ? x : COLS - 1);
		return;
	}
	if (v->going) {
		snprintf(buf, sizeof buf, "Go to packet: %s", v->go);
		tw_line(0, buf, strlen(buf), pair(v, P_BAR));
		return;
	}
	if (v->prompt) {
		static const char *const what[] = { "", "Save the displayed packets to (.pcap or .pcapng): ",
						    "Save the bookmarked packets to (.pcap or .pcapng): ", "Search (regex): " };
		snprintf(buf, sizeof buf, "%s%.*s", what[v->prompt], (int)v->plen, v->pbuf);
		tw_line(0, buf, strlen(buf), pair(v, P_BAR));
		curs_set(1);
		move(0, (int)tw_columns(buf, strlen(buf)) < COLS ? (int)tw_columns(buf, strlen(buf)) : COLS - 1);
		return;
	}
	const char *t = tui_model_filter_text(v->m);
	if (t) snprintf(buf, sizeof buf, "Filter: %s [Applied]", t);
	else snprintf(buf, sizeof buf, "Filter: (press / to filter)");
	tw_line(0, buf, strlen(buf), t ? pair(v, P_BAR_OK) : pair(v, P_BAR));
}

static void keep_selection_visible(struct view *v)
{
	uint64_t n = shown(v);
	if (!n) {
		v->sel = v->top = 0;
		return;
	}
	if (v->follow_end || v->sel >= n) v->sel = n - 1;
	int rows = v->list_h - 1;
	if (rows < 1) rows = 1;
	if (v->sel < v->top) v->top = v->sel;
	if (v->sel >= v->top + (uint64_t)rows) v->top = v->sel - (uint64_t)rows + 1;
}

static void draw_list(struct view *v)
{
	char line[LINE_BUF];
	const char *head = "   No. Time         Source                  Destination             Protocol Length Info";
	/* a Process column first, once the capture has said which process a packet is of */
	char phead[160];
	if (tui_model_has_procs(v->m)) {
		snprintf(phead, sizeof phead, "%-*s %s", PROC_COL_NAME - 1, "Process", head);
		head = phead;
	}
	tw_line(v->list_y, head, strlen(head), A_BOLD | (v->focus == FOCUS_LIST ? A_UNDERLINE : 0));
	keep_selection_visible(v);
	uint64_t n = shown(v);
	for (int r = 0; r < v->list_h - 1; r++) {
		uint64_t i = v->top + (uint64_t)r;
		int y = v->list_y + 1 + r;
		if (i >= n) {
			tw_line(y, "", 0, 0);
			continue;
		}
		uint64_t f = tui_model_shown_frame(v->m, i);
		int pw;
		size_t len = row_text(v, f, line, sizeof line, &pw);
		attr_t a = row_attr(v, tui_model_row(v->m, f));
		if (i == v->sel) a = A_REVERSE | (v->focus == FOCUS_LIST ? A_BOLD : 0);
		tw_line(y, line, len, a);
		if (marked(v, f) && len > (size_t)pw && line[pw] == ' ') mvaddstr(y, pw, "★");
	}
}

static void draw_tree(struct view *v)
{
	char title[64];
	snprintf(title, sizeof title, "─ Packet %llu details ", (unsigned long long)v->frame);
	tw_line(v->tree_y, title, strlen(title), A_BOLD | (v->focus == FOCUS_TREE ? A_UNDERLINE : 0));
	int rows = v->tree_h - 1;
	if (!v->pkt) {
		for (int r = 0; r < rows; r++)
			tw_line(v->tree_y + 1 + r, r == 0 && v->frame ? v->derr : "", r == 0 && v->frame ? strlen(v->derr) : 0, 0);
		return;
	}
	if (v->tsel < v->ttop) v->ttop = v->tsel;
	if (v->tsel >= v->ttop + rows) v->ttop = v->tsel - rows + 1;
	char label[TREE_LABEL], line[TREE_LABEL + 160];
	for (int r = 0; r < rows; r++) {
		int k = v->ttop + r, y = v->tree_y + 1 + r;
		if (k >= v->nnodes) {
			tw_line(y, "", 0, 0);
			continue;
		}
		int i = v->nodes[k];
		const struct fval *f = &v->pkt->fields[i];
		field_label(v->pkt, f, label, sizeof label);
		bool kids = has_children(v->pkt, i);
		snprintf(line, sizeof line, "%*s%s %s", v->depth[k] * 2, "", kids ? (v->expanded[f->id] ? "▾" : "▸") : " ", label);
		attr_t a = field_defs[f->id].type == FT_PROTO ? A_BOLD : 0;
		if (k == v->tsel && v->focus == FOCUS_TREE) a = A_REVERSE;
		tw_line(y, line, strlen(line), a);
	}
}

static void draw_hex(struct view *v)
{
	tw_line(v->hex_y, "─ Bytes", strlen("─ Bytes"), A_BOLD | (v->focus == FOCUS_HEX ? A_UNDERLINE : 0));
	int rows = v->hex_h - 1;
	const struct packet *p = v->pkt;
	uint32_t hl_off = 0, hl_len = 0; /* the selected field's bytes, when they are the frame's */
	if (p && v->focus == FOCUS_TREE && v->tsel < v->nnodes) {
		const struct fval *f = &p->fields[v->nodes[v->tsel]];
		if (f->buf == 0) {
			hl_off = f->off;
			hl_len = f->len;
			int want = (int)(hl_off / 16);
			if (want < v->hex_top || want >= v->hex_top + rows) v->hex_top = want;
		}
	}
	uint32_t n = p ? p->meta.caplen : 0;
	int lines = (int)((n + 15) / 16);
	if (v->hex_top > lines - rows) v->hex_top = lines - rows > 0 ? lines - rows : 0;
	for (int r = 0; r < rows; r++) {
		int y = v->hex_y + 1 + r;
		uint32_t off = (uint32_t)(v->hex_top + r) * 16;
		tw_line(y, "", 0, 0);
		if (!p || off >= n) continue;
		move(y, 0);
		printw("%04x  ", off);
		for (uint32_t k = 0; k < 16; k++) {
			uint32_t o = off + k;
			bool hl = o >= hl_off && o < hl_off + hl_len;
			if (hl) attron(A_REVERSE | pair(v, P_HIGHLIGHT));
			if (o < n) printw("%02x", p->data[o]);
			else addstr("  ");
			if (hl) attroff(A_REVERSE | pair(v, P_HIGHLIGHT));
			addstr(k == 7 ? "  " : " ");
		}
		addstr(" ");
		for (uint32_t k = 0; k < 16 && off + k < n; k++) {
			uint8_t c = p->data[off + k];
			bool hl = off + k >= hl_off && off + k < hl_off + hl_len;
			if (hl) attron(A_REVERSE);
			addch(c >= 0x20 && c < 0x7f ? c : '.');
			if (hl) attroff(A_REVERSE);
		}
	}
}

/* Packets per second: the last seconds while capturing, else the whole capture squeezed
 * into the width (each column the busiest second it covers). */
static void draw_sparkline(struct view *v)
{
	static const char *const bars[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	uint64_t n;
	const uint32_t *rate = tui_model_rate(v->m, &n);
	int y = LINES - 2, width = COLS - 24;
	move(y, 0);
	attrset(A_NORMAL);
	if (width < 8 || !rate || !n) {
		tw_line(y, "", 0, 0);
		return;
	}
	uint64_t from = 0, per = 1;
	if (v->o->live) from = n > (uint64_t)width ? n - (uint64_t)width : 0;
	else per = (n + (uint64_t)width - 1) / (uint64_t)width;
	uint32_t cols[512], top = 1;
	int nc = 0;
	for (uint64_t s = from; s < n && nc < width && nc < 512; s += per, nc++) {
		uint32_t mx = 0;
		for (uint64_t k = s; k < s + per && k < n; k++) mx = rate[k] > mx ? rate[k] : mx;
		cols[nc] = mx;
		if (mx > top) top = mx;
	}
	char head[32];
	snprintf(head, sizeof head, "%8u pkt/s max ", top);
	addstr(head);
	attron(pair(v, P_UDP));
	for (int i = 0; i < nc; i++) addstr(bars[(cols[i] * 8 + top - 1) / top]);
	attroff(pair(v, P_UDP));
	clrtoeol();
}

static void draw_status(struct view *v)
{
	char buf[600];
	char pct[48] = "", drops[200] = "";
	const char *state;
	if (v->o->live) {
		state = v->paused ? "PAUSED" : v->capturing ? "CAPTURING" : "STOPPED";
		int k0 = snprintf(drops, sizeof drops, " │ Dropped: %llu kernel, %llu pktscope", (unsigned long long)v->drop_kernel,
				  (unsigned long long)v->drop_ring);
		if (v->over_budget && k0 > 0 && (size_t)k0 < sizeof drops)
			snprintf(drops + k0, sizeof drops - (size_t)k0, " │ DISK BUDGET FULL (%llu MB): %llu not kept",
				 (unsigned long long)(v->o->budget >> 20), (unsigned long long)v->over_budget);
		else if (v->o->ws && v->o->ws->ring_bytes && v->o->ws->ring_files && k0 > 0 && (size_t)k0 < sizeof drops)
			snprintf(drops + k0, sizeof drops - (size_t)k0, " │ Ring: %u files, from packet %llu", v->o->ws->nkept,
				 (unsigned long long)tui_model_first_kept(v->m));
	} else {
		state = !tui_model_done(v->m) ? "READING" : tui_model_filtering(v->m) ? "FILTERING" : "READY";
		if (!tui_model_done(v->m)) { /* the progress bar: ten cells */
			int p = tui_model_percent(v->m), k0 = snprintf(pct, sizeof pct, " %d%% ", p);
			for (int c = 0; c < 10 && k0 > 0 && (size_t)k0 + 4 < sizeof pct; c++) k0 += snprintf(pct + k0, sizeof pct - (size_t)k0, "%s", c < p / 10 ? "█" : "░");
		}
	}
	int k = snprintf(buf, sizeof buf, " %s%s │ Packets: %llu │ Displayed: %llu%s │ %s", state, pct,
			 (unsigned long long)tui_model_packets(v->m), (unsigned long long)shown(v), drops,
			 v->msg[0] ? v->msg : "? for help");
	tw_line(LINES - 1, buf, (size_t)k, (v->msg_err ? pair(v, P_BAR_ERR) : pair(v, P_BAR)) | A_REVERSE);
}

static const char *const help_lines[] = {
	"pktscope — keys",
	"",
	"  q, Ctrl-C          quit",
	"  j/k, Down/Up       next / previous packet (or tree line, hex row: Tab moves focus)",
	"  PgDn/PgUp          a page down / up",
	"  g/Home, G/End      first / last packet",
	"  Tab                focus: packet list → detail tree → bytes",
	"  Enter, Space, l/h  in the tree: expand / collapse (Right/Left too)",
	"  /                  edit the display filter (Wireshark's language): checked as you type;",
	"                     Enter applies (empty: no filter; :name a saved filter), Esc cancels;",
	"                     Tab completes a field name, Up/Down walk the filters applied before",
	"  Ctrl-G, :          go to a packet by number",
	"  Ctrl-F, n, N       search the displayed lines (a regex); next, previous match",
	"  m, '               bookmark the packet (★); the bookmarks (Enter jumps)",
	"  f                  follow the packet's TCP/UDP stream (h: hex; /: filter on it)",
	"  t P F T I          top talkers, protocol hierarchy, flows, conversations, I/O per",
	"                     second (the same key or Esc closes; j/k scroll)",
	"  A                  the packets the anomaly rules flagged (Enter jumps)",
	"  Esc                cancels a filter still running",
	"  s, w               save the displayed (s) or bookmarked (w) packets to a file",
	"  ?                  this help (any key closes it)",
};

static void draw_help(void)
{
	int n = (int)(sizeof help_lines / sizeof help_lines[0]);
	for (int r = 0; r < LINES - 1; r++) {
		const char *s = r < n ? help_lines[r] : "";
		tw_line(r, s, strlen(s), r == 0 ? A_BOLD : 0);
	}
}

static void draw(struct view *v)
{
	layout(v);
	if (v->help) {
		draw_help();
		draw_status(v);
		refresh();
		return;
	}
	curs_set(v->editing || v->prompt ? 1 : 0);
	if (v->ov) {
		draw_overlay(v);
		draw_status(v);
		draw_filter_bar(v);
		refresh();
		return;
	}
	draw_list(v);
	decode_selected(v);
	draw_tree(v);
	draw_hex(v);
	draw_sparkline(v);
	draw_status(v);
	draw_filter_bar(v); /* last: its cursor is where typing goes */
	refresh();
}

/* ---- keys ---- */

static void move_selection(struct view *v, int64_t delta)
{
	uint64_t n = shown(v);
	v->follow_end = false;
	if (!n) return;
	int64_t s = (int64_t)v->sel + delta;
	if (s < 0) s = 0;
	if ((uint64_t)s >= n) s = (int64_t)n - 1;
	v->sel = (uint64_t)s;
}

static void validate_input(struct view *v)
{
	v->input[v->ilen] = '\0';
	if (!v->ilen || v->input[0] == ':') {
		v->ivalid = true;
		v->msg[0] = '\0';
		return;
	}
	struct df_filter *f = df_compile(v->input, &v->ierr);
	v->ivalid = f != NULL;
	df_free(f);
	if (v->ivalid) {
		status(v, false, "valid filter: Enter applies it");
	} else {
		/* the message; the bar marks where (draw_filter_bar) */
		status(v, true, "%s (at %u)", v->ierr.msg, v->ierr.pos + 1);
	}
}

/* Keeps an applied filter for Up/Down (the oldest goes past FILTER_HISTORY; a repeat
 * moves to the end). */
static void remember(struct view *v, const char *text)
{
	for (int i = 0; i < v->nhistory; i++)
		if (!strcmp(v->history[i], text)) {
			char *h = v->history[i];
			memmove(v->history + i, v->history + i + 1, (size_t)(v->nhistory - i - 1) * sizeof *v->history);
			v->history[v->nhistory - 1] = h;
			return;
		}
	if (v->nhistory == FILTER_HISTORY) {
		free(v->history[0]);
		memmove(v->history, v->history + 1, (FILTER_HISTORY - 1) * sizeof *v->history);
		v->nhistory--;
	}
	v->history[v->nhistory++] = xstrdup(text);
}

/* Tab in the bar: the field name before the cursor completed as far as the registry's
 * names agree; the candidates on the status line when several remain. */
static void complete_field(struct view *v)
{
	size_t start = v->icur;
	while (start > 0) {
		char c = v->input[start - 1];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			break;
		start--;
	}
	size_t plen = v->icur - start;
	if (!plen) return;
	const char *prefix = v->input + start, *first = NULL;
	size_t common = 0;
	int n = 0;
	char shown_names[200] = "";
	for (int id = 0; id < F__COUNT; id++) {
		const char *name = field_defs[id].name;
		if (strncmp(name, prefix, plen)) continue;
		if (!first) {
			first = name;
			common = strlen(name);
		} else {
			size_t k = 0;
			while (k < common && name[k] == first[k]) k++;
			common = k;
		}
		if (strlen(shown_names) + strlen(name) + 2 < sizeof shown_names) {
			if (n) strcat(shown_names, " ");
			strcat(shown_names, name);
		}
		n++;
	}
	if (!n) {
		status(v, true, "no field begins with \"%.*s\"", (int)plen, prefix);
		return;
	}
	size_t add = common - plen;
	if (add && v->ilen + add < DF_MAX_LEN) {
		memmove(v->input + v->icur + add, v->input + v->icur, v->ilen - v->icur);
		memcpy(v->input + v->icur, first + plen, add);
		v->icur += add;
		v->ilen += add;
	}
	validate_input(v);
	if (n > 1) status(v, false, "%d fields: %s%s", n, shown_names, n > 8 ? " …" : "");
}

static void apply_filter(struct view *v)
{
	const char *text = v->input;
	v->input[v->ilen] = '\0';
	if (!v->ilen) {
		tui_model_set_filter(v->m, NULL, NULL);
		status(v, false, "filter cleared");
		v->sel = v->top = 0;
		v->frame = (uint64_t)-1;
		return;
	}
	if (text[0] == ':') {
		const char *saved = v->o->cfg ? config_filter(v->o->cfg, text + 1) : NULL;
		if (!saved) {
			status(v, true, "no saved filter '%s'", text);
			return;
		}
		text = saved;
	}
	struct df_error err;
	struct df_filter *f = df_compile(text, &err);
	if (!f) {
		status(v, true, "filter error: %s", err.msg);
		return;
	}
	tui_model_set_filter(v->m, f, text);
	status(v, false, "filter applied: %s", text);
	remember(v, v->input);
	v->sel = v->top = 0;
	v->frame = (uint64_t)-1;
}

/* Removes the UTF-8 character before the cursor (all its bytes). */
static void backspace(struct view *v)
{
	if (!v->icur) return;
	size_t start = v->icur - 1;
	while (start > 0 && ((unsigned char)v->input[start] & 0xc0) == 0x80) start--;
	memmove(v->input + start, v->input + v->icur, v->ilen - v->icur);
	v->ilen -= v->icur - start;
	v->icur = start;
}

static void edit_key(struct view *v, int ch)
{
	switch (ch) {
	case 27: /* Esc */
		v->editing = false;
		v->msg[0] = '\0';
		return;
	case '\n': case KEY_ENTER:
		v->editing = false;
		apply_filter(v);
		return;
	case KEY_BACKSPACE: case 127: case 8:
		backspace(v);
		break;
	case KEY_LEFT:
		while (v->icur > 0 && ((unsigned char)v->input[--v->icur] & 0xc0) == 0x80) {}
		return;
	case KEY_RIGHT:
		if (v->icur < v->ilen) v->icur++;
		while (v->icur < v->ilen && ((unsigned char)v->input[v->icur] & 0xc0) == 0x80) v->icur++;
		return;
	case KEY_HOME: case 1: v->icur = 0; return;
	case KEY_END: case 5: v->icur = v->ilen; return;
	case '\t':
		complete_field(v);
		return;
	case KEY_UP: case KEY_DOWN: { /* the history, newest first */
		if (!v->nhistory) return;
		if (ch == KEY_UP && v->hpos > 0) v->hpos--;
		else if (ch == KEY_DOWN && v->hpos < v->nhistory) v->hpos++;
		const char *h = v->hpos < v->nhistory ? v->history[v->hpos] : "";
		size_t n = strlen(h);
		if (n > DF_MAX_LEN) n = DF_MAX_LEN;
		memcpy(v->input, h, n);
		v->ilen = v->icur = n;
		break;
	}
	default:
		if (ch < 0x20 || ch > 0xff || v->ilen >= DF_MAX_LEN) return; /* keys and control bytes */
		memmove(v->input + v->icur + 1, v->input + v->icur, v->ilen - v->icur);
		v->input[v->icur++] = (char)ch;
		v->ilen++;
		break;
	}
	validate_input(v);
}

static void go_key(struct view *v, int ch)
{
	size_t n = strlen(v->go);
	if (ch == 27) {
		v->going = false;
	} else if (ch == '\n' || ch == KEY_ENTER) {
		v->going = false;
		unsigned long long f = strtoull(v->go, NULL, 10);
		if (!f || f > tui_model_packets(v->m)) {
			status(v, true, "there is no packet %s", v->go);
			return;
		}
		uint64_t pos = tui_model_position_of(v->m, f);
		if (pos >= shown(v)) {
			status(v, true, "packet %llu is not displayed (the filter hides it)", f);
			return;
		}
		v->sel = pos;
		v->follow_end = false;
		if (tui_model_shown_frame(v->m, pos) != f) status(v, false, "packet %llu is not displayed: the next one is", f);
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
		v->go[n - 1] = '\0';
	} else if (ch >= '0' && ch <= '9' && n < sizeof v->go - 1) {
		v->go[n] = (char)ch;
		v->go[n + 1] = '\0';
	}
}

static void tree_key(struct view *v, int ch)
{
	if (!v->pkt || !v->nnodes) return;
	const struct fval *f = &v->pkt->fields[v->nodes[v->tsel]];
	switch (ch) {
	case 'j': case KEY_DOWN: if (v->tsel + 1 < v->nnodes) v->tsel++; break;
	case 'k': case KEY_UP: if (v->tsel > 0) v->tsel--; break;
	case KEY_NPAGE: v->tsel = v->tsel + v->tree_h < v->nnodes ? v->tsel + v->tree_h : v->nnodes - 1; break;
	case KEY_PPAGE: v->tsel = v->tsel > v->tree_h ? v->tsel - v->tree_h : 0; break;
	case '\n': case KEY_ENTER: case ' ':
		v->expanded[f->id] = !v->expanded[f->id];
		build_tree(v);
		break;
	case 'l': case KEY_RIGHT:
		v->expanded[f->id] = true;
		build_tree(v);
		break;
	case 'h': case KEY_LEFT:
		if (v->expanded[f->id]) {
			v->expanded[f->id] = false;
		} else { /* to the parent line */
			for (int k = v->tsel - 1; k >= 0; k--)
				if (v->depth[k] < v->depth[v->tsel]) {
					v->tsel = k;
					break;
				}
		}
		build_tree(v);
		break;
	default: break;
	}
}

static void hex_key(struct view *v, int ch)
{
	int lines = v->pkt ? (int)((v->pkt->meta.caplen + 15) / 16) : 0;
	if ((ch == 'j' || ch == KEY_DOWN) && v->hex_top + 1 < lines) v->hex_top++;
	else if ((ch == 'k' || ch == KEY_UP) && v->hex_top > 0) v->hex_top--;
	else if (ch == KEY_NPAGE) v->hex_top += v->hex_h - 1;
	else if (ch == KEY_PPAGE) v->hex_top = v->hex_top > v->hex_h ? v->hex_top - v->hex_h + 1 : 0;
}

/* false: quit */
static bool key(struct view *v, int ch)
{
	if (v->help) {
		v->help = false;
		return true;
	}
	if (v->editing) {
		edit_key(v, ch);
		return true;
	}
	if (v->going) {
		go_key(v, ch);
		return true;
	}
	if (v->prompt) {
		prompt_key(v, ch);
		return true;
	}
	if (v->ov) return overlay_key(v, ch);
	int page = v->list_h > 2 ? v->list_h - 2 : 1;
	switch (ch) {
	case 'q': case 'Q': return false;
	case '?': v->help = true; return true;
	case '\t': v->focus = (enum focus)((v->focus + 1) % 3); return true;
	case KEY_BTAB: v->focus = (enum focus)((v->focus + 2) % 3); return true;
	case '/':
		v->editing = true;
		v->hpos = v->nhistory;
		v->ilen = v->icur = 0;
		if (tui_model_filter_text(v->m)) { /* the applied filter, to change */
			size_t n = strlen(tui_model_filter_text(v->m));
			if (n > DF_MAX_LEN) n = DF_MAX_LEN;
			memcpy(v->input, tui_model_filter_text(v->m), n);
			v->ilen = v->icur = n;
		}
		validate_input(v);
		return true;
	case 7: case ':': /* Ctrl-G */
		v->going = true;
		v->go[0] = '\0';
		return true;
	case KEY_RESIZE: return true;
	case KEY_MOUSE: {
		MEVENT ev;
		if (getmouse(&ev) != OK) return true;
		if (ev.bstate & BUTTON4_PRESSED) {
			move_selection(v, -3);
		} else if (ev.bstate & BUTTON5_PRESSED) {
			move_selection(v, 3);
		} else if (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)) {
			if (ev.y > v->list_y && ev.y < v->list_y + v->list_h) { /* a row of the list */
				uint64_t i = v->top + (uint64_t)(ev.y - v->list_y - 1);
				if (i < shown(v)) {
					v->sel = i;
					v->follow_end = false;
				}
				v->focus = FOCUS_LIST;
			} else if (ev.y > v->tree_y && ev.y < v->tree_y + v->tree_h) { /* a line of the tree */
				int k = v->ttop + (ev.y - v->tree_y - 1);
				if (k < v->nnodes) {
					if (k == v->tsel && v->focus == FOCUS_TREE) tree_key(v, '\n'); /* again: expand */
					v->tsel = k;
				}
				v->focus = FOCUS_TREE;
			} else if (ev.y > v->hex_y && ev.y < v->hex_y + v->hex_h) {
				v->focus = FOCUS_HEX;
			}
		}
		return true;
	}
	case 't': case 'P': open_table(v, ch); return true;
	case 'F': case 'T': open_flows(v, ch); return true;
	case 'I': open_text(v, 'I', "I/O graph", fill_io); return true;
	case 'A': open_anomalies(v); return true;
	case 27: /* Esc: a filter still running is cancelled */
		if (tui_model_filtering(v->m)) {
			tui_model_set_filter(v->m, NULL, NULL);
			status(v, false, "filter cancelled: every packet is shown");
			v->sel = v->top = 0;
		}
		return true;
	case 'f': open_follow(v); return true;
	case 'm':
		if (shown(v)) toggle_mark(v, selected_frame(v));
		return true;
	case '\'':
		close_overlay(v);
		v->ov = OV_BOOKMARKS;
		v->ov_key = '\'';
		snprintf(v->ov_title, sizeof v->ov_title, "Bookmarks (%zu) — Enter jumps, m removes, Esc closes", v->nmarks);
		return true;
	case 's': case 'w':
		v->prompt = ch == 's' ? PR_SAVE_SHOWN : PR_SAVE_MARKED;
		v->plen = 0;
		return true;
	case 6: /* Ctrl-F */
		v->prompt = PR_SEARCH;
		v->plen = 0;
		return true;
	case 'n': search_next(v, 1); return true;
	case 'N': search_next(v, -1); return true;
	default: break;
	}
	if (v->focus == FOCUS_TREE && ch != 'g' && ch != 'G' && ch != KEY_HOME && ch != KEY_END) {
		tree_key(v, ch);
		return true;
	}
	if (v->focus == FOCUS_HEX) {
		hex_key(v, ch);
		return true;
	}
	switch (ch) {
	case 'j': case KEY_DOWN: move_selection(v, 1); break;
	case 'k': case KEY_UP: move_selection(v, -1); break;
	case ' ':
		if (v->o->live) {
			v->paused = !v->paused;
			status(v, false, v->paused ? "paused: the capture goes on into the file" : "resumed");
		} else {
			move_selection(v, page);
		}
		break;
	case KEY_NPAGE: move_selection(v, page); break;
	case KEY_PPAGE: move_selection(v, -page); break;
	case 'g': case KEY_HOME: v->sel = 0; v->follow_end = false; break;
	case 'G': case KEY_END:
		v->sel = shown(v) ? shown(v) - 1 : 0;
		v->follow_end = !tui_model_done(v->m);
		break;
	default: break;
	}
	return true;
}

/* ---- the loop ---- */

static void setup_colors(struct view *v)
{
	/* [display] color_scheme: auto and dark (colours for a dark background), light (for a
	 * light one), mono (none, as NO_COLOR) */
	const char *scheme = v->o->cfg && v->o->cfg->color_scheme ? v->o->cfg->color_scheme : "auto";
	v->color = has_colors() && !getenv("NO_COLOR") && strcmp(scheme, "mono");
	if (!v->color) return;
	start_color();
	use_default_colors();
	if (!strcmp(scheme, "light")) { /* darker colours: yellow and cyan are unreadable on white */
		init_pair(P_TCP, COLOR_BLUE, -1);
		init_pair(P_UDP, COLOR_GREEN, -1);
		init_pair(P_ARP, COLOR_MAGENTA, -1);
		init_pair(P_ICMP, COLOR_MAGENTA, -1);
		init_pair(P_DNS, COLOR_BLUE, -1);
		init_pair(P_TLS, COLOR_BLUE, -1);
		init_pair(P_HTTP, COLOR_GREEN, -1);
		init_pair(P_QUIC, COLOR_BLUE, -1);
		init_pair(P_BAD, COLOR_RED, -1);
		init_pair(P_BAR, COLOR_BLACK, -1);
		init_pair(P_BAR_OK, COLOR_GREEN, -1);
		init_pair(P_BAR_ERR, COLOR_RED, -1);
		init_pair(P_HIGHLIGHT, COLOR_BLUE, -1);
		return;
	}
	init_pair(P_TCP, COLOR_CYAN, -1);
	init_pair(P_UDP, COLOR_GREEN, -1);
	init_pair(P_ARP, COLOR_YELLOW, -1);
	init_pair(P_ICMP, COLOR_MAGENTA, -1);
	init_pair(P_DNS, COLOR_YELLOW, -1);
	init_pair(P_TLS, COLOR_BLUE, -1);
	init_pair(P_HTTP, COLOR_GREEN, -1);
	init_pair(P_QUIC, COLOR_BLUE, -1);
	init_pair(P_BAD, COLOR_RED, -1);
	init_pair(P_BAR, COLOR_WHITE, -1);
	init_pair(P_BAR_OK, COLOR_GREEN, -1);
	init_pair(P_BAR_ERR, COLOR_RED, -1);
	init_pair(P_HIGHLIGHT, COLOR_YELLOW, -1);
}

struct tui_prepared {
	struct tui_opts o;
	struct tui_model *m;
};

static const char *ring_path(void *ctx, uint32_t seq) { return pwriter_ring_path(ctx, seq); }
static uint32_t ring_newest(void *ctx) { return pwriter_ring_newest(ctx); }

struct tui_prepared *tui_prepare(const struct tui_opts *o, char *err, size_t errlen)
{
	struct tui_model *m = tui_model_open(o->path, o->keys, o->anomalies, err, errlen);
	if (!m) return NULL;
	struct tui_prepared *t = xcalloc(1, sizeof *t);
	t->o = *o;
	t->m = m;
	if (o->live) tui_model_set_live(m, true);
	if (o->ws && o->ws->ring_bytes) tui_model_set_ring(m, &(struct src_files){ ring_path, ring_newest, o->ws });
	return t;
}

void tui_run_prepared_free(struct tui_prepared *t)
{
	if (!t) return;
	tui_model_free(t->m);
	free(t);
}

/* Live capture: what the ring holds goes to the file the screen indexes. */
static void drain_live(struct view *v, const struct tui_opts *o, bool *ended)
{
	struct pkt_meta meta;
	const uint8_t *data;
	bool timed_out = false;
	for (int k = 0; k < 16384; k++) {
		if (live_next(o->live, &meta, &data, 0, &timed_out) != SRC_OK) {
			if (!timed_out) *ended = true; /* every capture thread has stopped */
			break;
		}
		/* -b files:N bounds the disk by itself: the oldest file goes */
		if (o->budget && !o->ws->ring_files && pwriter_bytes_total(o->ws) + meta.caplen + 64 > o->budget) {
			v->over_budget++; /* the scrollback is full: said on the status bar, never silent */
			continue;
		}
		/* with attribution, the packet's process goes into the file as its comment */
		const struct packet *p = NULL;
		if (o->procs) {
			if (!v->ann_pl) {
				pann_mask_add(&v->ann_mask);
				v->ann_pl = pipeline_new(&(struct pipeline_needs){ .extra = &v->ann_mask, .observer = pann_observer(o->procs),
										  .post = pann_post, .post_ctx = o->procs });
			}
			meta.number = ++v->ann_n;
			p = pipeline_decode(v->ann_pl, &meta, data);
		}
		if (pwriter_packet(o->ws, &meta, data, p) < 0) {
			status(v, true, "%s", o->ws->err);
			*ended = true;
			break;
		}
	}
	if (pwriter_flush(o->ws) < 0) status(v, true, "%s", o->ws->err);
}

static void live_drops(const struct tui_opts *o, uint64_t *kernel, uint64_t *ring)
{
	*kernel = *ring = 0;
	for (int i = 0; i < live_count(o->live); i++) {
		struct live_stats st;
		live_stats(o->live, i, &st);
		*kernel += st.kernel_dropped + st.if_dropped;
		*ring += st.ring_dropped;
	}
}

int tui_run(const struct tui_opts *o)
{
	char err[600];
	struct tui_prepared *t = tui_prepare(o, err, sizeof err);
	if (!t) {
		fprintf(stderr, "pktscope: %s: %s\n", o->path, err);
		return 1;
	}
	return tui_run_prepared(t);
}

int tui_run_prepared(struct tui_prepared *t)
{
	const struct tui_opts *o = &t->o;
	struct tui_model *m = t->m;
	static struct view v; /* large (the tree's arrays): not on the stack */
	memset(&v, 0, sizeof v);
	v.m = m;
	v.o = o;
	v.frame = (uint64_t)-1;
	if (o->filter) {
		struct df_error ferr;
		struct df_filter *f = df_compile(o->filter, &ferr);
		if (f) tui_model_set_filter(m, f, o->filter);
	}
	tw_begin();
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	setup_colors(&v);
	/* the first screen as soon as a first slice is decoded */
	tui_model_index(m, 512);
	bool running = true, ended = false;
	while (running && !tw_quit()) {
		if (o->live) {
			live_drops(o, &v.drop_kernel, &v.drop_ring);
			v.capturing = !ended;
		}
		draw(&v);
		bool busy = (!tui_model_done(m) && !o->live) || tui_model_filtering(m);
		timeout(busy ? 0 : o->live ? 50 : 250);
		int ch = getch();
		if (ch != ERR) {
			running = key(&v, ch);
			timeout(0); /* the rest of a burst of keys, without waiting for more */
			while (running && (ch = getch()) != ERR) running = key(&v, ch);
			if (!o->live) continue;
		}
		if (o->live && !ended) drain_live(&v, o, &ended);
		if (!tui_model_done(m) && !v.paused) {
			tui_model_index(m, SLICE_PACKETS);
			if (tui_model_done(m) && tui_model_error(m)) status(&v, true, "%s", tui_model_error(m));
		}
		if (tui_model_filtering(m) && !v.paused) tui_model_filter_step(m, SLICE_PACKETS);
	}
	tw_end();
	if (o->live) { /* what the kernel and the ring still hold is kept */
		live_stop(o->live);
		while (!ended) drain_live(&v, o, &ended);
	}
	close_overlay(&v);
	pipeline_free(v.ann_pl);
	free(v.flows);
	free(v.marks);
	for (int i = 0; i < v.nhistory; i++) free(v.history[i]);
	pcre2_match_data_free(v.md);
	pcre2_code_free(v.re);
	const char *e = tui_model_error(m);
	int rc = e ? 1 : 0;
	if (e) fprintf(stderr, "pktscope: %s\n", e);
	tui_model_free(m);
	free(t);
	return rc;
}
