/* tui/model.c — the capture TUI's model: indexing in slices, lines on disk, the filtered
 * subset, one packet decoded on demand (see model.h). */
#include "tui/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/anomaly.h"
#include "analysis/flowrec.h"
#include "capture/writer.h"
#include "flow/stats.h"
#include "capture/capture.h"
#include "dissect/decoders.h"
#include "dissect/keylog.h"
#include "filter/filter.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

#define LINE_MAX_BYTES 4096 /* a text line is cut here (Info is far shorter) */

struct tui_model {
	char *path;
	struct keylog *keys;
	struct pkt_source *src;      /* read in order by the indexer, and at offsets on demand */
	struct packet_index *ix;
	struct pipeline *pl;         /* the indexing run: every packet's line and its index record */
	struct anomaly_engine *anomalies;
	struct field_mask extra;
	FILE *lines;                 /* the packets' text lines (an unlinked temporary file) */
	uint64_t lines_end;
	struct tui_row *rows;        /* by frame - 1 */
	uint64_t nrows, cap;
	bool done;
	bool live;                   /* the file is still being written */
	char err[600];
	uint64_t file_size;
	/* the display filter and its pass over the file */
	struct df_filter *filter;
	char *filter_text;
	struct pkt_source *fsrc;
	struct pipeline *fpl;        /* a filter over conversation fields: a full run */
	struct packet *fp;           /* a packet-local one: each packet alone */
	struct field_mask fmask;
	uint64_t fdone;              /* frames the filter has judged */
	int64_t first_sec;           /* the filter pass's first packet (relative times) */
	uint32_t first_nsec;
	bool first_set;
	bool filtering;
	uint64_t *shown;             /* frames that match, in order (unused without a filter) */
	uint64_t nshown, shown_cap;
	/* on demand */
	struct pipeline_needs dneeds;
	/* ring files: read as a chain, a packet's number found by its offset */
	bool ring;
	struct src_files ring_files;
	uint32_t ring_oldest;        /* no file before it is on disk */
	/* packets per second of capture time */
	uint32_t *rate;
	uint64_t nrate, rate_cap;
	/* the Process column: the names the capture's proc.name fields gave (row.proc - 1) */
	char (*procs)[PROC_COL_NAME];
	uint32_t nprocs;
};
#define RATE_MAX_SECONDS (1u << 24) /* 194 days of capture: later seconds count in the last */

struct tui_model *tui_model_open(const char *path, struct keylog *keys, bool anomalies, char *err, size_t errlen)
{
	struct pkt_source *src = src_open_file(path, err, errlen);
	if (!src) return NULL;
	struct tui_model *m = xcalloc(1, sizeof *m);
	m->path = xstrdup(path);
	m->keys = keys;
	m->src = src;
	if (keys) src_set_secrets(src, keylog_dsb, keys);
	struct stat st;
	if (stat(path, &st) == 0) m->file_size = (uint64_t)st.st_size;
	m->lines = tmpfile();
	if (!m->lines) {
		snprintf(err, errlen, "a temporary file for the packet lines: %s", strerror(errno));
		tui_model_free(m);
		return NULL;
	}
	m->ix = pindex_new(NULL);
	/* what colours a row: TCP analysis, anomalies, malformed packets */
	for (int id = F_TCP_ANALYSIS_RETRANSMISSION; id <= F_TCP_ANALYSIS_SPURIOUS_RETRANSMISSION; id++)
		field_mask_add(&m->extra, id);
	field_mask_add(&m->extra, F_WS_MALFORMED);
	field_mask_add(&m->extra, F_PROC); /* the Process column (a live capture's, or a file's pktscope notes) */
	field_mask_add(&m->extra, F_PROC_NAME);
	struct pipeline_needs needs = { .columns = true, .index = m->ix, .keylog = keys, .extra = &m->extra };
	if (anomalies) {
		m->anomalies = anomaly_new();
		anomaly_mask_add(&m->extra);
		needs.post = anomaly_post;
		needs.post_ctx = m->anomalies;
	}
	m->pl = pipeline_new(&needs);
	m->dneeds = (struct pipeline_needs){ .all_fields = true, .columns = true, .layer_bytes = true, .keylog = keys };
	return m;
}

/* Ring files: the oldest still on disk (the indexer is at or after it). */
static uint32_t ring_oldest(struct tui_model *m)
{
	uint32_t newest = m->ring_files.newest(m->ring_files.ctx);
	while (m->ring_oldest < newest && !m->ring_files.path_of(m->ring_files.ctx, m->ring_oldest)) m->ring_oldest++;
	return m->ring_oldest;
}

void tui_model_set_ring(struct tui_model *m, const struct src_files *files)
{
	m->ring = true;
	m->ring_files = *files;
	m->ring_oldest = 1;
	src_close(m->src);
	m->src = src_open_chain(files, 1);
	if (m->keys) src_set_secrets(m->src, keylog_dsb, m->keys);
	src_set_tail(m->src, m->live);
}

uint64_t tui_model_first_kept(struct tui_model *m)
{
	if (!m->ring || !m->nrows) return 1;
	uint64_t n = pindex_frame_from(m->ix, src_chain_start(ring_oldest(m)));
	return n > m->nrows ? m->nrows : n;
}

/* The capture once more, for a pass of its own (a filter, a table, a stream, a save), with
 * the run's TLS secrets. */
static struct pkt_source *open_again(struct tui_model *m, char *err, size_t errlen)
{
	struct pkt_source *src = m->ring ? src_open_chain(&m->ring_files, ring_oldest(m))
					      : src_open_file(m->path, err, errlen);
	if (src && m->keys) src_set_secrets(src, keylog_dsb, m->keys);
	return src;
}

/* The next packet of a pass over what is indexed (a table, a stream, a save), numbered
 * (meta->number): its number, or 0 at the end. In a file read whole the packets are counted
 * (*read); ring files, whose first ones may be gone, number a packet by its offset. */
static uint64_t pass_next(const struct tui_model *m, struct pkt_source *src, uint64_t *read, struct pkt_meta *meta,
			  const uint8_t **data)
{
	if (!m->ring && *read >= m->nrows) return 0;
	if (src_next(src, meta, data) != SRC_OK) return 0;
	uint64_t n = m->ring ? pindex_frame_at(m->ix, meta->offset) : ++*read;
	if (!n || n > m->nrows) return 0;
	meta->number = n;
	return n;
}

static void filter_close(struct tui_model *m)
{
	if (m->fsrc) src_close(m->fsrc);
	m->fsrc = NULL;
	pipeline_free(m->fpl);
	m->fpl = NULL;
	packet_free(m->fp);
	m->fp = NULL;
	m->filtering = false;
}

void tui_model_set_live(struct tui_model *m, bool live)
{
	m->live = live;
	src_set_tail(m->src, live);
	if (m->fsrc) src_set_tail(m->fsrc, live);
}

void tui_model_free(struct tui_model *m)
{
	if (!m) return;
	filter_close(m);
	df_free(m->filter);
	free(m->filter_text);
	free(m->shown);
	pipeline_free(m->pl);
	anomaly_free(m->anomalies);
	pindex_free(m->ix);
	if (m->src) src_close(m->src);
	if (m->lines) fclose(m->lines);
	free(m->rows);
	free(m->rate);
	free(m->procs);
	free(m->path);
	free(m);
}

static enum row_class class_of(const char *proto)
{
	if (!proto) return RC_OTHER;
	static const struct { const char *prefix; enum row_class c; } map[] = {
		{ "TCP", RC_TCP }, { "UDP", RC_UDP }, { "ARP", RC_ARP }, { "ICMP", RC_ICMP }, { "DNS", RC_DNS },
		{ "MDNS", RC_DNS }, { "LLMNR", RC_DNS }, { "TLS", RC_TLS }, { "SSL", RC_TLS }, { "DTLS", RC_TLS },
		{ "HTTP", RC_HTTP }, { "QUIC", RC_QUIC },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strncmp(proto, map[i].prefix, strlen(map[i].prefix))) return map[i].c;
	return RC_OTHER;
}

static uint8_t flags_of(const struct packet *p)
{
	uint8_t f = 0;
	for (uint16_t i = 0; i < p->nfields; i++) {
		uint16_t id = p->fields[i].id;
		if (p->fields[i].nest) continue;
		if (id >= F_TCP_ANALYSIS_RETRANSMISSION && id <= F_TCP_ANALYSIS_SPURIOUS_RETRANSMISSION)
			f |= RF_RETRANSMISSION;
		else if (id == F_ANOMALY_KIND) f |= RF_ANOMALY;
		else if (id == F_WS_MALFORMED) f |= RF_MALFORMED;
	}
	return f;
}
/* The packet's process name as a Process column index (from 1; 0 for none). Names are few
 * (one per program), so a linear look at the last ones and a bounded table do. */
static uint32_t proc_of(struct tui_model *m, const struct packet *p)
{
	const struct fval *f = pk_find(p, F_PROC_NAME);
	if (!f) return 0;
	char name[PROC_COL_NAME];
	size_t n = f->v.b.n < sizeof name - 1 ? f->v.b.n : sizeof name - 1;
	memcpy(name, f->v.b.p, n);
	name[n] = '\0';
	for (uint32_t i = m->nprocs; i-- > 0;)
		if (!strcmp(m->procs[i], name)) return i + 1;
	if (m->nprocs == PROC_COL_MAX) return 0;
	if (!(m->nprocs & (m->nprocs - 1)) || !m->nprocs)
		m->procs = xrealloc(m->procs, (m->nprocs ? m->nprocs * 2 : 16) * sizeof *m->procs);
	memcpy(m->procs[m->nprocs++], name, n + 1);
	return m->nprocs;
}

const char *tui_model_proc(const struct tui_model *m, uint64_t frame)
{
	const struct tui_row *r = tui_model_row(m, frame);
	return r && r->proc && r->proc <= m->nprocs ? m->procs[r->proc - 1] : NULL;
}

bool tui_model_has_procs(const struct tui_model *m) { return m->nprocs > 0; }


bool tui_model_index(struct tui_model *m, uint64_t budget)
{
	if (m->done) return false;
	char line[LINE_MAX_BYTES + 1];
	for (uint64_t k = 0; k < budget; k++) {
		struct pkt_meta meta;
		const uint8_t *data;
		enum src_status st = src_next(m->src, &meta, &data);
		if (st == SRC_EOF && m->live) break; /* all that is written so far */
		if (st != SRC_OK) {
			if (st == SRC_ERROR)
				snprintf(m->err, sizeof m->err, "%s: %s (after %llu packets)", m->path, src_error(m->src),
					 (unsigned long long)m->nrows);
			m->done = true;
			pipeline_finish(m->pl);
			break;
		}
		meta.number = m->nrows + 1;
		struct packet *p = pipeline_decode(m->pl, &meta, data);
		uint64_t sec = p->rel_neg ? 0 : (uint64_t)p->rel_sec;
		if (sec >= RATE_MAX_SECONDS) sec = RATE_MAX_SECONDS - 1;
		if (sec >= m->rate_cap) {
			uint64_t cap = m->rate_cap ? m->rate_cap : 64;
			while (cap <= sec) cap *= 2;
			m->rate = xrealloc(m->rate, cap * sizeof *m->rate);
			memset(m->rate + m->rate_cap, 0, (cap - m->rate_cap) * sizeof *m->rate);
			m->rate_cap = cap;
		}
		m->rate[sec]++;
		if (sec >= m->nrate) m->nrate = sec + 1;
		struct sbuf sb;
		sb_init_fixed(&sb, line, LINE_MAX_BYTES);
		out_text_line(&sb, p);
		size_t n = sb.len;
		if (n && line[n - 1] == '\n') n--;
		if (n > UINT16_MAX) n = UINT16_MAX;
		if (m->nrows == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 4096;
			m->rows = xrealloc(m->rows, m->cap * sizeof *m->rows);
		}
		struct tui_row *r = &m->rows[m->nrows++];
		*r = (struct tui_row){ .line_off = m->lines_end, .line_len = (uint16_t)n, .cls = (uint8_t)class_of(p->proto_col),
				       .flags = flags_of(p), .proc = proc_of(m, p) };
		if (fwrite(line, 1, n, m->lines) != n) {
			snprintf(m->err, sizeof m->err, "writing the packet lines: %s", strerror(errno));
			m->done = true;
			break;
		}
		m->lines_end += n;
	}
	fflush(m->lines);
	return !m->done;
}

uint64_t tui_model_packets(const struct tui_model *m) { return m->nrows; }
bool tui_model_done(const struct tui_model *m) { return m->done; }
const char *tui_model_error(const struct tui_model *m) { return m->err[0] ? m->err : NULL; }

int tui_model_percent(const struct tui_model *m)
{
	if (m->done || m->live) return 100;
	if (!m->file_size) return 0;
	uint64_t off = src_offset(m->src);
	int pct = (int)(off * 100 / m->file_size);
	return pct > 99 ? 99 : pct;
}

size_t tui_model_line(struct tui_model *m, uint64_t frame, char *buf, size_t cap)
{
	if (!frame || frame > m->nrows || !cap) return 0;
	const struct tui_row *r = &m->rows[frame - 1];
	size_t n = r->line_len < cap - 1 ? r->line_len : cap - 1;
	ssize_t got = pread(fileno(m->lines), buf, n, (off_t)r->line_off);
	if (got < 0) got = 0;
	buf[got] = '\0';
	return (size_t)got;
}

const struct tui_row *tui_model_row(const struct tui_model *m, uint64_t frame)
{
	return frame && frame <= m->nrows ? &m->rows[frame - 1] : NULL;
}

void tui_model_set_filter(struct tui_model *m, struct df_filter *f, const char *text)
{
	filter_close(m);
	df_free(m->filter);
	free(m->filter_text);
	m->filter = f;
	m->filter_text = f ? xstrdup(text) : NULL;
	m->nshown = 0;
	m->fdone = 0;
	m->first_set = false;
	if (!f) return;
	char err[512];
	m->fsrc = open_again(m, err, sizeof err);
	if (!m->fsrc) {
		snprintf(m->err, sizeof m->err, "%s: %s", m->path, err);
		return;
	}
	src_set_tail(m->fsrc, m->live);
	if (df_is_packet_local(f)) { /* each packet alone, as read's prefilter */
		m->fp = packet_new();
		memset(&m->fmask, 0, sizeof m->fmask);
		df_mask_add(f, &m->fmask);
		m->fp->mask = &m->fmask;
		m->fp->no_columns = true;
		m->fp->skip_apps = true;
	} else {
		struct pipeline_needs needs = { .filter = f, .keylog = m->keys };
		m->fpl = pipeline_new(&needs);
	}
	m->filtering = true;
}

bool tui_model_filter_step(struct tui_model *m, uint64_t budget)
{
	if (!m->filtering) return false;
	for (uint64_t k = 0; k < budget; k++) {
		struct pkt_meta meta;
		const uint8_t *data;
		/* ring files: no further than the indexer, which numbers the packets */
		if (m->ring && m->fdone >= m->nrows) return true;
		enum src_status st = src_next(m->fsrc, &meta, &data);
		if (st == SRC_EOF && m->live) return false; /* the rest when it is written */
		if (st != SRC_OK) {
			filter_close(m);
			return false;
		}
		uint64_t n = m->ring ? pindex_frame_at(m->ix, meta.offset) : m->fdone + 1;
		if (!n) continue; /* not indexed (ring files): the indexer numbers the packets */
		meta.number = m->fdone = n;
		bool match;
		if (m->fp) {
			if (!m->first_set) {
				m->first_set = true;
				m->first_sec = meta.ts_sec;
				m->first_nsec = meta.ts_nsec;
			}
			packet_begin(m->fp, &meta, data);
			pk_set_relative(m->fp, m->first_sec, m->first_nsec);
			dissect_frame(m->fp);
			match = df_match(m->filter, m->fp);
		} else {
			match = pipeline_match(m->fpl, pipeline_decode_quiet(m->fpl, &meta, data));
		}
		if (!match) continue;
		if (m->nshown == m->shown_cap) {
			m->shown_cap = m->shown_cap ? m->shown_cap * 2 : 1024;
			m->shown = xrealloc(m->shown, m->shown_cap * sizeof *m->shown);
		}
		m->shown[m->nshown++] = meta.number;
	}
	return true;
}

bool tui_model_filtering(const struct tui_model *m) { return m->filtering; }
const char *tui_model_filter_text(const struct tui_model *m) { return m->filter_text; }

/* Matches beyond what is indexed are not shown yet (their lines are not written). */
static uint64_t shown_indexed(const struct tui_model *m)
{
	uint64_t lo = 0, hi = m->nshown;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (m->shown[mid] <= m->nrows) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

uint64_t tui_model_shown(const struct tui_model *m) { return m->filter ? shown_indexed(m) : m->nrows; }

uint64_t tui_model_shown_frame(const struct tui_model *m, uint64_t i)
{
	return m->filter ? m->shown[i] : i + 1;
}

uint64_t tui_model_position_of(const struct tui_model *m, uint64_t frame)
{
	if (!m->filter) return frame ? frame - 1 : 0;
	uint64_t lo = 0, hi = shown_indexed(m);
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (m->shown[mid] < frame) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

const struct packet *tui_model_decode(struct tui_model *m, uint64_t frame, char *err, size_t errlen)
{
	return pindex_decode(m->ix, m->src, frame, &m->dneeds, err, errlen);
}

/* The tables are made when asked for, by a pass over what is indexed: kept during indexing,
 * their per-conversation state would double the memory of a large capture. */
void tui_model_table(struct tui_model *m, enum tui_table t, struct sbuf *sb)
{
	if (t == TT_ANOMALIES) { /* the rules ran while indexing */
		if (m->anomalies) anomaly_print_stats(m->anomalies, sb, false);
		else sb_puts(sb, "The anomaly rules are off (--no-anomalies).\n");
		return;
	}
	static const char *const specs[TT__COUNT] = { "talkers", "phs", "flows", "conv,tcp", "anomalies", "io,1" };
	char err[512];
	struct stats_request rq, udp;
	if (stats_request_parse(&rq, specs[t], err, sizeof err) < 0 || stats_request_parse(&udp, "conv,udp", err, sizeof err) < 0) {
		sb_puts(sb, err);
		return;
	}
	struct pkt_source *src = open_again(m, err, sizeof err);
	if (!src) {
		sb_puts(sb, err);
		return;
	}
	struct stats *st = t == TT_FLOWS ? NULL : stats_new();
	struct flow_records *fr = t == TT_FLOWS ? flowrec_new() : NULL;
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	if (fr) flowrec_mask_add(&mask);
	if (st) {
		stats_request_apply(&rq, st);
		if (t == TT_CONVERSATIONS) stats_request_apply(&udp, st);
	}
	struct pipeline_needs needs = { .stats = st != NULL, .hierarchy = t == TT_PHS, .keylog = m->keys, .extra = &mask,
					.observer = fr ? flowrec_observer(fr) : NULL };
	struct pipeline *pl = pipeline_new(&needs);
	struct pkt_meta meta;
	const uint8_t *data;
	for (uint64_t read = 0; pass_next(m, src, &read, &meta, &data);) {
		struct packet *p = pipeline_decode_quiet(pl, &meta, data);
		if (st) stats_packet(st, p);
		if (fr) flowrec_packet(fr, p, true);
	}
	pipeline_finish(pl);
	if (fr) {
		flowrec_print(fr, sb, false);
	} else {
		stats_print(sb, st, &rq, false);
		if (t == TT_CONVERSATIONS) stats_print(sb, st, &udp, false);
	}
	pipeline_free(pl);
	stats_free(st);
	flowrec_free(fr);
	src_close(src);
}

struct flow_records *tui_model_flows(struct tui_model *m)
{
	char err[512];
	struct flow_records *fr = flowrec_new();
	struct pkt_source *src = open_again(m, err, sizeof err);
	if (!src) return fr;
	struct field_mask mask;
	memset(&mask, 0, sizeof mask);
	flowrec_mask_add(&mask);
	struct pipeline_needs needs = { .keylog = m->keys, .extra = &mask, .observer = flowrec_observer(fr) };
	struct pipeline *pl = pipeline_new(&needs);
	struct pkt_meta meta;
	const uint8_t *data;
	for (uint64_t read = 0; pass_next(m, src, &read, &meta, &data);) {
		flowrec_packet(fr, pipeline_decode_quiet(pl, &meta, data), true);
	}
	pipeline_free(pl); /* every flow ends: their records are complete */
	src_close(src);
	return fr;
}

void tui_model_follow(struct tui_model *m, uint8_t proto, int64_t stream, bool hex, struct sbuf *sb)
{
	char err[512], spec[64];
	snprintf(spec, sizeof spec, "%s,%s,%lld", proto == 6 ? "tcp" : "udp", hex ? "hex" : "ascii", (long long)stream);
	struct follow fo;
	if (follow_parse(&fo, spec, err, sizeof err) < 0) {
		sb_puts(sb, err);
		return;
	}
	struct pkt_source *src = open_again(m, err, sizeof err);
	if (!src) {
		sb_puts(sb, err);
		return;
	}
	struct pipeline_needs needs = { .keylog = m->keys };
	struct pipeline *pl = pipeline_new(&needs);
	follow_attach(&fo, pipeline_tracker(pl), sb);
	struct pkt_meta meta;
	const uint8_t *data;
	for (uint64_t read = 0; pass_next(m, src, &read, &meta, &data);) {
		pipeline_decode_quiet(pl, &meta, data);
		if (sb->trunc) break;
	}
	pipeline_finish(pl);
	follow_finish(&fo);
	pipeline_free(pl);
	src_close(src);
}

int tui_model_save(struct tui_model *m, const char *path, const uint64_t *frames, uint64_t n, char *err,
		   size_t errlen)
{
	struct pkt_source *src = open_again(m, err, errlen);
	if (!src) return -1;
	struct packet_writer ws = { .path = path, .pcapng = pwriter_wants_pcapng(path) };
	int rc = 0;
	uint64_t next = 0;
	struct pkt_meta meta;
	const uint8_t *data;
	/* in file order, reading on: the frames are sorted */
	uint64_t f, read = 0;
	while (next < n && (f = pass_next(m, src, &read, &meta, &data))) {
		while (next < n && frames[next] < f) next++; /* in a ring file removed since */
		if (next == n || f != frames[next]) continue;
		next++;
		if (pwriter_packet(&ws, &meta, data, NULL) < 0) {
			snprintf(err, errlen, "%s", ws.err);
			rc = -1;
			break;
		}
	}
	if (pwriter_close(&ws, LT_ETHERNET) < 0 && rc == 0) {
		snprintf(err, errlen, "%s", ws.err);
		rc = -1;
	}
	src_close(src);
	return rc;
}

const uint32_t *tui_model_rate(const struct tui_model *m, uint64_t *n)
{
	*n = m->nrate;
	return m->rate;
}
