/* capture/pcapng_write.c — writes pcapng (draft-ietf-opsawg-pcapng): a Section Header
 * Block naming the application and OS, one Interface Description Block per interface
 * (name, link type, snapshot length, nanosecond timestamps, capture filter), Enhanced
 * Packet Blocks with an optional comment, and Interface Statistics Blocks (packets
 * received and dropped). Blocks are written in the host's byte order, which the section
 * header's byte-order magic tells readers. libpcap cannot write pcapng, hence our own.
 * Blocks go out whole (capture/bfile.c): after a failed write the file still ends at a
 * block boundary. */
#include "capture/capture.h"
#include "capture/bfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/xalloc.h"

enum { BT_SHB = 0x0A0D0D0A, BT_IDB = 1, BT_SPB = 3, BT_ISB = 5, BT_EPB = 6, BT_JOURNAL = 9, BT_DSB = 10 };
#define BT_CB_COPY 0x00000BADu
enum { OPT_END = 0, OPT_COMMENT = 1, SHB_OS = 3, SHB_USERAPPL = 4, IF_NAME = 2, IF_TSRESOL = 9, IF_FILTER = 11,
       ISB_ENDTIME = 3, ISB_IFRECV = 4, ISB_IFDROP = 5 };

#define PNW_SNAPLEN 262144
#define PNW_MAX_COMMENT 4096 /* a packet comment longer than this is cut */

struct pcapng_writer {
	struct bfile f;
	uint32_t nifs;
	/* a block is built here, then written whole: a failed write never leaves half a
	 * block behind a flushed one */
	uint8_t *buf;
	size_t len, cap;
};

static void set_err(const struct bfile *f, char *err, size_t errlen)
{
	if (!err) return;
	snprintf(err, errlen, "%s%s", strerror(f->err ? f->err : EIO),
		 f->err == ENOSPC ? " (the packets written before are kept, the file is valid)" : "");
}

static void put(struct pcapng_writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		while (w->len + n > w->cap) w->cap = w->cap ? w->cap * 2 : 1024;
		w->buf = xrealloc(w->buf, w->cap);
	}
	if (n) memcpy(w->buf + w->len, p, n); /* an empty option has no value (p NULL) */
	w->len += n;
}

static void put_u16(struct pcapng_writer *w, uint16_t v) { put(w, &v, 2); }
static void put_u32(struct pcapng_writer *w, uint32_t v) { put(w, &v, 4); }

static void pad4(struct pcapng_writer *w)
{
	static const uint8_t zero[4];
	put(w, zero, (4 - w->len % 4) % 4);
}

static void option(struct pcapng_writer *w, uint16_t code, const void *v, size_t n)
{
	if (n > 0xffff) n = 0xffff;
	put_u16(w, code);
	put_u16(w, (uint16_t)n);
	put(w, v, n);
	pad4(w);
}

static void begin(struct pcapng_writer *w, uint32_t type)
{
	w->len = 0;
	put_u32(w, type);
	put_u32(w, 0); /* total length, set by finish */
}

/* Closes the options and the block, then writes it. */
static int finish(struct pcapng_writer *w, bool options, char *err, size_t errlen)
{
	if (options) option(w, OPT_END, NULL, 0);
	uint32_t total = (uint32_t)w->len + 4;
	memcpy(w->buf + 4, &total, 4);
	put_u32(w, total);
	if (bf_record(&w->f, w->buf, w->len) < 0) {
		set_err(&w->f, err, errlen);
		return -1;
	}
	return 0;
}

uint64_t pcapng_writer_bytes(const struct pcapng_writer *w) { return w->f.committed + w->f.len; }

struct pcapng_writer *pcapng_writer_open(const char *path, const char *app, char *err, size_t errlen)
{
	struct pcapng_writer *w = xcalloc(1, sizeof *w);
	if (bf_open(&w->f, path) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(w);
		return NULL;
	}
	begin(w, BT_SHB);
	put_u32(w, 0x1A2B3C4D);
	put_u16(w, 1);
	put_u16(w, 0);
	int64_t section_len = -1; /* not known in advance */
	put(w, &section_len, 8);
	struct utsname u;
	if (uname(&u) == 0) {
		char os[200];
		snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
		option(w, SHB_OS, os, strlen(os));
	}
	option(w, SHB_USERAPPL, app, strlen(app));
	if (finish(w, true, err, errlen) < 0 || bf_flush(&w->f) < 0) {
		set_err(&w->f, err, errlen);
		pcapng_writer_close(w, NULL, 0);
		return NULL;
	}
	return w;
}

int pcapng_writer_add_interface(struct pcapng_writer *w, const char *name, int linktype, uint32_t snaplen,
				const char *filter, char *err, size_t errlen)
{
	begin(w, BT_IDB);
	put_u16(w, (uint16_t)linktype);
	put_u16(w, 0);
	put_u32(w, snaplen ? snaplen : PNW_SNAPLEN);
	if (name && *name) option(w, IF_NAME, name, strlen(name));
	uint8_t tsresol = 9; /* 10^-9 s */
	option(w, IF_TSRESOL, &tsresol, 1);
	if (filter && *filter) {
		size_t n = strlen(filter);
		uint8_t *v = xmalloc(n + 1);
		v[0] = 0; /* a libpcap filter string */
		memcpy(v + 1, filter, n);
		option(w, IF_FILTER, v, n + 1);
		free(v);
	}
	if (finish(w, true, err, errlen) < 0) return -1;
	return (int)w->nifs++;
}

static void put_time(struct pcapng_writer *w, int64_t sec, uint32_t nsec)
{
	uint64_t t = (uint64_t)sec * 1000000000u + nsec;
	put_u32(w, (uint32_t)(t >> 32));
	put_u32(w, (uint32_t)t);
}

int pcapng_writer_packet(struct pcapng_writer *w, int ifid, const struct pkt_meta *m, const uint8_t *data,
			 const char *comment, size_t comment_len, const char *note, char *err, size_t errlen)
{
	if (ifid < 0 || (uint32_t)ifid >= w->nifs) {
		snprintf(err, errlen, "packet for an interface that was not described");
		return -1;
	}
	uint32_t caplen = m->caplen < PNW_SNAPLEN ? m->caplen : PNW_SNAPLEN;
	if (m->no_time && ifid == 0 && !(comment && comment_len) && !(note && *note)) {
		/* a packet without a time stays one: a simple packet block (spec §4.4), which
		 * belongs to the first interface and carries no options */
		begin(w, BT_SPB);
		put_u32(w, m->wirelen);
		put(w, data, caplen);
		pad4(w);
		return finish(w, false, err, errlen);
	}
	begin(w, BT_EPB);
	put_u32(w, (uint32_t)ifid);
	put_time(w, m->ts_sec, m->ts_nsec);
	put_u32(w, caplen);
	put_u32(w, m->wirelen);
	put(w, data, caplen);
	pad4(w);
	bool any = false;
	if (comment && comment_len) {
		option(w, OPT_COMMENT, comment, comment_len < PNW_MAX_COMMENT ? comment_len : PNW_MAX_COMMENT);
		any = true;
	}
	if (note && *note) { /* what pktscope has to say, as a comment of its own */
		size_t n = strlen(note);
		option(w, OPT_COMMENT, note, n < PNW_MAX_COMMENT ? n : PNW_MAX_COMMENT);
		any = true;
	}
	return finish(w, any, err, errlen);
}

int pcapng_writer_record(struct pcapng_writer *w, const struct pkt_meta *m, const uint8_t *data, char *err,
			 size_t errlen)
{
	if (m->caplen > PNW_SNAPLEN) {
		snprintf(err, errlen, "record too large for the output (%u bytes)", m->caplen);
		return -1;
	}
	if (m->record == PKT_RECORD_JOURNAL) {
		begin(w, BT_JOURNAL);
	} else {
		begin(w, BT_CB_COPY);
		put_u32(w, m->pen);
	}
	put(w, data, m->caplen);
	pad4(w);
	return finish(w, false, err, errlen);
}

int pcapng_writer_secrets(struct pcapng_writer *w, uint32_t type, const uint8_t *data, size_t n, char *err,
			  size_t errlen)
{
	if (n > PNW_SNAPLEN) {
		snprintf(err, errlen, "decryption secrets too large for the output (%zu bytes)", n);
		return -1;
	}
	begin(w, BT_DSB);
	put_u32(w, type);
	put_u32(w, (uint32_t)n);
	put(w, data, n);
	pad4(w);
	return finish(w, false, err, errlen);
}

int pcapng_writer_stats(struct pcapng_writer *w, int ifid, int64_t sec, uint32_t nsec, uint64_t received,
			uint64_t dropped, char *err, size_t errlen)
{
	begin(w, BT_ISB);
	put_u32(w, (uint32_t)ifid);
	put_time(w, sec, nsec);
	uint8_t t[8];
	uint64_t ns = (uint64_t)sec * 1000000000u + nsec;
	uint32_t hi = (uint32_t)(ns >> 32), lo = (uint32_t)ns;
	memcpy(t, &hi, 4);
	memcpy(t + 4, &lo, 4);
	option(w, ISB_ENDTIME, t, 8);
	option(w, ISB_IFRECV, &received, 8);
	option(w, ISB_IFDROP, &dropped, 8);
	return finish(w, true, err, errlen);
}

int pcapng_writer_flush(struct pcapng_writer *w, char *err, size_t errlen)
{
	if (bf_flush(&w->f) < 0) {
		set_err(&w->f, err, errlen);
		return -1;
	}
	return 0;
}

int pcapng_writer_close(struct pcapng_writer *w, char *err, size_t errlen)
{
	if (!w) return 0;
	int rc = bf_close(&w->f);
	if (rc < 0) set_err(&w->f, err, errlen);
	free(w->buf);
	free(w);
	return rc;
}
