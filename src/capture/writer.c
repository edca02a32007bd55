/* capture/writer.c — -w for read and capture: pcap, or pcapng with --pcapng or a .pcapng
 * name. */
#include "capture/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>
#include "util/xalloc.h"

bool pwriter_wants_pcapng(const char *path)
{
	size_t n = strlen(path);
	return n >= 7 && !strcmp(path + n - 7, ".pcapng");
}

static const char *cur_name(const struct packet_writer *ws) { return ws->ring_bytes ? ws->cur : ws->path; }

static int writer_fail(struct packet_writer *ws, const char *err)
{
	snprintf(ws->err, sizeof ws->err, "%s: %s", cur_name(ws), err);
	ws->failed = true;
	return -1;
}

int pwriter_ring_option(struct packet_writer *ws, const char *opt)
{
	char *end;
	errno = 0;
	if (!strncmp(opt, "filesize:", 9)) {
		unsigned long long kb = strtoull(opt + 9, &end, 10);
		if (errno || end == opt + 9 || *end || kb == 0 || kb > (1ull << 40)) return -1;
		ws->ring_bytes = kb * 1000; /* dumpcap's kB */
		return 0;
	}
	if (!strncmp(opt, "files:", 6)) {
		unsigned long n = strtoul(opt + 6, &end, 10);
		if (errno || end == opt + 6 || *end || n == 0 || n > 100000) return -1;
		ws->ring_files = (unsigned)n;
		return 0;
	}
	return -1;
}

/* The ring's next file name: PREFIX_NNNNN_YYYYmmddHHMMSS.EXT, as dumpcap names them. */
static void next_name(struct packet_writer *ws)
{
	const char *slash = strrchr(ws->path, '/'), *dot = strrchr(ws->path, '.');
	if (dot && slash && dot < slash) dot = NULL;
	size_t stem = dot ? (size_t)(dot - ws->path) : strlen(ws->path);
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	strftime(when, sizeof when, "%Y%m%d%H%M%S", localtime_r(&t, &tm));
	snprintf(ws->cur, sizeof ws->cur, "%.*s_%05u_%s%s", (int)(stem > 4000 ? 4000 : stem), ws->path, ++ws->seq, when,
		 dot ? dot : "");
}

int pwriter_open(struct packet_writer *ws, int linktype, char *err, size_t errlen)
{
	if (ws->ring_bytes) {
		next_name(ws);
		if (ws->ring_files && ws->nkept == ws->ring_files) { /* the oldest goes */
			unlink(ws->kept[0]);
			free(ws->kept[0]);
			memmove(ws->kept, ws->kept + 1, (ws->nkept - 1) * sizeof *ws->kept);
			ws->nkept--;
		}
		if (ws->nkept == ws->cap_kept) {
			ws->cap_kept = ws->cap_kept ? ws->cap_kept * 2 : ws->ring_files ? ws->ring_files : 16;
			ws->kept = xrealloc(ws->kept, ws->cap_kept * sizeof *ws->kept);
		}
		ws->kept[ws->nkept++] = xstrdup(ws->cur);
	}
	const char *name = cur_name(ws);
	if (ws->pcapng) {
		char app[64];
		snprintf(app, sizeof app, "pktscope %s", PKTSCOPE_VERSION);
		ws->ng = pcapng_writer_open(name, app, err, errlen);
		ws->nifs = 0; /* a new section describes its interfaces again */
		if (!ws->ng) return -1;
		for (size_t i = 0; i < ws->nsecrets; i++) /* a ring's next file can be decrypted too */
			if (pcapng_writer_secrets(ws->ng, ws->secrets[i].type, ws->secrets[i].data, ws->secrets[i].n, err,
						  errlen) < 0)
				return -1;
		return 0;
	}
	ws->w = pw_open(name, linktype, err, errlen);
	return ws->w ? 0 : -1;
}

/* Ring output: the current file is full, close it and start the next. */
static int rotate(struct packet_writer *ws, int linktype)
{
	char err[300];
	ws->closed_bytes += ws->ng ? pcapng_writer_bytes(ws->ng) : pw_bytes(ws->w);
	int rc = ws->ng ? pcapng_writer_close(ws->ng, err, sizeof err) : pw_close(ws->w, err, sizeof err);
	ws->ng = NULL;
	ws->w = NULL;
	if (rc < 0) return writer_fail(ws, err);
	if (pwriter_open(ws, linktype, err, sizeof err) < 0) return writer_fail(ws, err);
	return 0;
}

int pwriter_iface(struct packet_writer *ws, uint32_t in, int linktype, const char *name)
{
	char err[300];
	for (int i = 0; i < ws->nifs; i++)
		if (ws->ifs[i].in == in && ws->ifs[i].linktype == linktype) return ws->ifs[i].out;
	if (ws->nifs == WRITER_MAX_IFS) return writer_fail(ws, "more than 64 interfaces");
	int out = pcapng_writer_add_interface(ws->ng, name, linktype, ws->snaplen, ws->filter, err, sizeof err);
	if (out < 0) return writer_fail(ws, err);
	ws->ifs[ws->nifs].in = in;
	ws->ifs[ws->nifs].linktype = linktype;
	ws->ifs[ws->nifs++].out = out;
	return out;
}

int pwriter_iface_stats(struct packet_writer *ws, uint32_t in, int linktype, const char *name, int64_t sec, uint32_t nsec,
			uint64_t received, uint64_t dropped)
{
	char err[300];
	if (!ws->ng) return 0;
	int out = pwriter_iface(ws, in, linktype, name);
	if (out < 0) return -1;
	if (pcapng_writer_stats(ws->ng, out, sec, nsec, received, dropped, err, sizeof err) < 0) return writer_fail(ws, err);
	return 0;
}

void pwriter_mask_add(struct field_mask *m)
{
	for (int id = F_TCP_ANALYSIS_RETRANSMISSION; id <= F_TCP_ANALYSIS_KEEP_ALIVE_ACK; id++) field_mask_add(m, id);
	field_mask_add(m, F_WS_MALFORMED);
	field_mask_add(m, F_WS_EXPERT_MESSAGE);
	for (int id = F_PROC; id <= F_PROC_CMDLINE; id++) field_mask_add(m, id); /* kept from a pktscope note */
}

/* A string value in double quotes, \" and \\ escaped, control bytes as '?'. */
static void note_quoted(struct sbuf *sb, const struct fval *f)
{
	sb_putc(sb, '"');
	for (uint32_t i = 0; i < f->v.b.n; i++) {
		uint8_t ch = f->v.b.p[i];
		if (ch == '"' || ch == '\\') sb_putc(sb, '\\');
		sb_putc(sb, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
	}
	sb_putc(sb, '"');
}

/* "pktscope: TCP retransmission, duplicate ACK; malformed: <why>" from the packet's
 * fields, or "" when it has nothing to say. */
static void packet_note(const struct packet *p, char *buf, size_t n)
{
	struct sbuf sb;
	sb_init_fixed(&sb, buf, n - 1);
	bool tcp = false;
	const struct fval *proc[F_PROC_CMDLINE - F_PROC_PID + 1] = { 0 };
	for (uint16_t i = 0; i < p->nfields; i++) {
		const struct fval *f = &p->fields[i];
		if (f->nest) continue;
		if (f->id >= F_TCP_ANALYSIS_RETRANSMISSION && f->id <= F_TCP_ANALYSIS_KEEP_ALIVE_ACK &&
		    field_defs[f->id].type == FT_NONE) {
			sb_puts(&sb, tcp ? ", " : "pktscope: TCP ");
			sb_puts(&sb, field_defs[f->id].title);
			tcp = true;
		} else if (f->id == F_WS_EXPERT_MESSAGE) {
			sb_puts(&sb, sb.len ? "; " : "pktscope: ");
			sb_puts(&sb, "malformed: ");
			sb_put(&sb, f->v.b.p, f->v.b.n);
		} else if (f->id >= F_PROC_PID && f->id <= F_PROC_CMDLINE) {
			proc[f->id - F_PROC_PID] = f;
		} else if (f->id == F_ANOMALY_KIND || f->id == F_ANOMALY_SEVERITY || f->id == F_ANOMALY_REASON) {
			/* "anomaly KIND (SEVERITY): REASON" */
			if (f->id == F_ANOMALY_KIND) sb_puts(&sb, sb.len ? "; anomaly " : "pktscope: anomaly ");
			else sb_puts(&sb, f->id == F_ANOMALY_SEVERITY ? " (" : "): ");
			sb_put(&sb, f->v.b.p, f->v.b.n);
		}
	}
	/* `process "NAME" pid N uid N exe "PATH" cmdline "ARGS"`: dissect/frame.c reads it back */
	const struct fval *pid = proc[F_PROC_PID - F_PROC_PID], *name = proc[F_PROC_NAME - F_PROC_PID];
	const struct fval *uid = proc[F_PROC_UID - F_PROC_PID], *exe = proc[F_PROC_EXE - F_PROC_PID];
	const struct fval *cmd = proc[F_PROC_CMDLINE - F_PROC_PID];
	if (pid && name && uid) {
		sb_puts(&sb, sb.len ? "; process " : "pktscope: process ");
		note_quoted(&sb, name);
		sb_printf(&sb, " pid %llu uid %llu", (unsigned long long)pid->v.u, (unsigned long long)uid->v.u);
		if (exe) {
			sb_puts(&sb, " exe ");
			note_quoted(&sb, exe);
		}
		if (cmd) {
			sb_puts(&sb, " cmdline ");
			note_quoted(&sb, cmd);
		}
	}
	sb_cstr(&sb);
}

int pwriter_packet(struct packet_writer *ws, const struct pkt_meta *m, const uint8_t *data, const struct packet *p)
{
	char err[300];
	/* Records that are not packets: pcap cannot hold them, and a custom block that says
	 * it must not be copied is not (pcapng spec §4.8). */
	if (m->record != PKT_RECORD_PACKET && (!ws->pcapng || (m->record == PKT_RECORD_CUSTOM && !m->copy_ok)))
		return 0;
	if (!ws->w && !ws->ng && pwriter_open(ws, m->linktype, err, sizeof err) < 0) return writer_fail(ws, err);
	if (ws->ring_bytes && (ws->ng ? pcapng_writer_bytes(ws->ng) : pw_bytes(ws->w)) >= ws->ring_bytes &&
	    rotate(ws, m->linktype) < 0)
		return -1;
	if (!ws->pcapng) return pw_write(ws->w, m, data, err, sizeof err) < 0 ? writer_fail(ws, err) : 0;
	if (m->record != PKT_RECORD_PACKET)
		return pcapng_writer_record(ws->ng, m, data, err, sizeof err) < 0 ? writer_fail(ws, err) : 0;
	int out = pwriter_iface(ws, m->ifindex, m->linktype, m->ifname);
	if (out < 0) return -1;
	char note[1280] = "";
	const uint8_t *comment = m->comment;
	uint32_t comment_len = m->comment_len;
	if (p) {
		packet_note(p, note, sizeof note);
		if (comment == m->note) comment = NULL, comment_len = 0; /* pktscope's own: said again, fresh */
	}
	if (pcapng_writer_packet(ws->ng, out, m, data, (const char *)comment, comment_len, note, err, sizeof err) < 0)
		return writer_fail(ws, err);
	return 0;
}

int pwriter_secrets(struct packet_writer *ws, uint32_t type, const uint8_t *data, size_t n)
{
	char err[300];
	if (!ws->path || !ws->pcapng || ws->failed) return 0;
	if (ws->secrets_bytes + n > WRITER_MAX_SECRETS) return writer_fail(ws, "more than 16 MiB of decryption secrets");
	ws->secrets = xrealloc(ws->secrets, (ws->nsecrets + 1) * sizeof *ws->secrets);
	struct pwriter_secret *s = &ws->secrets[ws->nsecrets++];
	s->type = type;
	s->n = n;
	s->data = xmalloc(n ? n : 1);
	memcpy(s->data, data, n);
	ws->secrets_bytes += n;
	if (!ws->ng) /* the file starts with them (pwriter_open writes what is kept) */
		return pwriter_open(ws, 0, err, sizeof err) < 0 ? writer_fail(ws, err) : 0;
	return pcapng_writer_secrets(ws->ng, type, data, n, err, sizeof err) < 0 ? writer_fail(ws, err) : 0;
}

const char *pwriter_ring_path(const struct packet_writer *ws, uint32_t seq)
{
	if (!ws->ring_bytes) return seq == 1 ? ws->path : NULL;
	uint32_t first = ws->seq - ws->nkept + 1;
	return seq >= first && seq <= ws->seq && ws->nkept ? ws->kept[seq - first] : NULL;
}

uint32_t pwriter_ring_newest(const struct packet_writer *ws) { return ws->ring_bytes ? ws->seq : 1; }

uint64_t pwriter_bytes_total(const struct packet_writer *ws)
{
	return ws->closed_bytes + (ws->ng ? pcapng_writer_bytes(ws->ng) : ws->w ? pw_bytes(ws->w) : 0);
}

int pwriter_flush(struct packet_writer *ws)
{
	char err[300];
	if (!ws->ng) return 0;
	return pcapng_writer_flush(ws->ng, err, sizeof err) < 0 ? writer_fail(ws, err) : 0;
}

static void free_secrets(struct packet_writer *ws)
{
	for (size_t i = 0; i < ws->nsecrets; i++) free(ws->secrets[i].data);
	free(ws->secrets);
	ws->secrets = NULL;
	ws->nsecrets = 0;
}

int pwriter_close(struct packet_writer *ws, int linktype_if_empty)
{
	char err[300];
	if (!ws->path || (ws->failed && !ws->w && !ws->ng)) {
		free_secrets(ws);
		return ws->failed ? -1 : 0;
	}
	if (!ws->w && !ws->ng && pwriter_open(ws, linktype_if_empty, err, sizeof err) < 0) return writer_fail(ws, err);
	int rc = ws->ng ? pcapng_writer_close(ws->ng, err, sizeof err) : pw_close(ws->w, err, sizeof err);
	for (unsigned i = 0; i < ws->nkept; i++) free(ws->kept[i]);
	free(ws->kept);
	ws->kept = NULL;
	ws->nkept = ws->cap_kept = 0;
	free_secrets(ws);
	if (rc < 0) {
		if (!ws->failed) writer_fail(ws, err); /* a write error is already in ws->err */
		return -1;
	}
	return ws->failed ? -1 : 0;
}

