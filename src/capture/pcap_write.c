/* capture/pcap_write.c — writes the classic pcap format (nanosecond variant, magic
 * 0xa1b23c4d, as in libpcap's savefile format description): a 24-byte file header, then
 * a 16-byte record header before each packet's captured bytes. */
#include "capture/capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define PW_SNAPLEN 262144 /* libpcap's MAXIMUM_SNAPLEN: what readers accept */

struct pcap_writer {
	FILE *f;
	bool is_stdout;
	int linktype;
	uint64_t bytes;
};

static int io_error(FILE *f, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
	clearerr(f);
	return -1;
}

struct pcap_writer *pw_open(const char *path, int linktype, char *err, size_t errlen)
{
	bool out = !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "wb");
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	uint32_t hdr[6] = { 0xa1b23c4du, 0, 0, 0, PW_SNAPLEN, (uint32_t)linktype };
	/* version 2.4 as two uint16 in host order (the magic tells readers the byte order) */
	uint16_t ver[2] = { 2, 4 };
	memcpy(&hdr[1], ver, sizeof ver);
	errno = 0;
	if (fwrite(hdr, sizeof hdr, 1, f) != 1) {
		io_error(f, err, errlen);
		if (!out) fclose(f);
		return NULL;
	}
	struct pcap_writer *w = xcalloc(1, sizeof *w);
	w->f = f;
	w->is_stdout = out;
	w->linktype = linktype;
	w->bytes = sizeof hdr;
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
	errno = 0;
	if (fwrite(rec, sizeof rec, 1, w->f) != 1 || (caplen && fwrite(data, caplen, 1, w->f) != 1))
		return io_error(w->f, err, errlen);
	w->bytes += sizeof rec + caplen;
	return 0;
}

uint64_t pw_bytes(const struct pcap_writer *w) { return w->bytes; }

int pw_close(struct pcap_writer *w, char *err, size_t errlen)
{
	if (!w) return 0;
	errno = 0;
	int rc = 0;
	if (fflush(w->f) != 0 || ferror(w->f)) {
		snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	if (!w->is_stdout && fclose(w->f) != 0 && rc == 0) {
		snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	free(w);
	return rc;
}
