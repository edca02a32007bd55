/* capture/pcap_write.c — writes the classic pcap format (nanosecond variant, magic
 * 0xa1b23c4d, as in libpcap's savefile format description): a 24-byte file header, then
 * a 16-byte record header before each packet's captured bytes. Records go out whole
 * (capture/bfile.c): after a failed write the file still ends at a record boundary. */
#include "capture/capture.h"
#include "capture/bfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define PW_SNAPLEN 262144 /* libpcap's MAXIMUM_SNAPLEN: what readers accept */

struct pcap_writer {
	struct bfile f;
	int linktype;
};

static void set_err(const struct bfile *f, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s%s", strerror(f->err ? f->err : EIO),
		 f->err == ENOSPC ? " (the packets written before are kept, the file is valid)" : "");
}

struct pcap_writer *pw_open(const char *path, int linktype, char *err, size_t errlen)
{
	struct pcap_writer *w = xcalloc(1, sizeof *w);
	if (bf_open(&w->f, path) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		free(w);
		return NULL;
	}
	uint32_t hdr[6] = { 0xa1b23c4du, 0, 0, 0, PW_SNAPLEN, (uint32_t)linktype };
	/* version 2.4 as two uint16 in host order (the magic tells readers the byte order) */
	uint16_t ver[2] = { 2, 4 };
	memcpy(&hdr[1], ver, sizeof ver);
	w->linktype = linktype;
	if (bf_record(&w->f, hdr, sizeof hdr) < 0 || bf_flush(&w->f) < 0) {
		set_err(&w->f, err, errlen);
		bf_close(&w->f);
		free(w);
		return NULL;
	}
	return w;
}

int pw_write(struct pcap_writer *w, const struct pkt_meta *m, const uint8_t *data, char *err, size_t errlen)
{
	if (m->linktype != w->linktype) {
		snprintf(err, errlen, "packet %llu has link type %d but the file holds link type %d: a pcap file has one",
			 (unsigned long long)m->number, m->linktype, w->linktype);
		return -1;
	}
	uint32_t caplen = m->caplen < PW_SNAPLEN ? m->caplen : PW_SNAPLEN;
	uint32_t rec[4] = { (uint32_t)m->ts_sec, m->ts_nsec, caplen, m->wirelen };
	if (bf_record2(&w->f, rec, sizeof rec, data, caplen) < 0) {
		set_err(&w->f, err, errlen);
		return -1;
	}
	return 0;
}

uint64_t pw_bytes(const struct pcap_writer *w) { return w->f.committed + w->f.len; }

int pw_close(struct pcap_writer *w, char *err, size_t errlen)
{
	if (!w) return 0;
	int rc = bf_close(&w->f);
	if (rc < 0) set_err(&w->f, err, errlen);
	free(w);
	return rc;
}
