/* capture/source.c — opening capture files and reading packets from them. The first four
 * bytes decide the format: pcap goes to libpcap, pcapng to our reader, anything else is
 * refused with a message naming what it looks like. */
#define _GNU_SOURCE
#include "capture/capture.h"
#include "capture/decompress.h"
#include "util/xalloc.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct pkt_source {
	FILE *f;
	bool close_f;
	pcap_t *pcap;              /* pcap files */
	struct pcapng_reader *ng;  /* pcapng files */
	int linktype;
	uint8_t ts_digits;
	uint64_t offset;           /* pcap: offset of the next record */
	uint64_t rec_offset;       /* of the record last read or failed */
	char err[PCAP_ERRBUF_SIZE + 64];
	/* A pcap file on disk is read from a memory map (no copy through stdio): libpcap
	 * opens it and checks its header, the records are walked here while they are plain;
	 * from the first one that is not (longer than the snapshot length, cut short) libpcap
	 * reads on, from that record. */
	FILE *pfile;               /* libpcap's stream */
	const uint8_t *map;
	size_t map_len;
	size_t released;           /* the map's bytes before this were given back */
	uint32_t snaplen;
	bool swapped;
	/* A capture filter (-f) on a file: compiled once per link type met. */
	char *bpf_expr;
	struct bpf_for_link { int linktype; bool usable; struct bpf_program prog; } bpf[SRC_MAX_BPF_LINKS];
	int nbpf;
	struct zstream *z;         /* a compressed file's decompressor (its FILE is f), or NULL */
	enum compression comp;
	struct src_chain *chain;   /* ring files read as one capture, or NULL */
};

/* Ring files (-b) read one after another as one capture. A record's offset is its file's
 * number in the top bits and its offset in that file below, so the packet index keeps one
 * number per packet whatever file it is in. */
#define CHAIN_SHIFT 40
#define CHAIN_CACHE 8
struct src_chain {
	struct src_files files;
	uint32_t seq;              /* the file src_next reads */
	struct pkt_source *cur;    /* it, open (NULL until it exists) */
	struct { uint32_t seq; struct pkt_source *src; } at[CHAIN_CACHE]; /* for src_read_at */
	unsigned at_next;
	bool tail;
	void (*secrets)(void *ctx, uint32_t type, const uint8_t *b, size_t n);
	void *secrets_ctx;
};

/* A FILE that first returns the bytes we already read to sniff the format, then the rest
 * of the underlying stream: standard input cannot seek back. */
struct prefix_cookie {
	FILE *under;
	uint8_t head[4];
	size_t head_len, head_pos;
};

static ssize_t prefix_read(void *cookie, char *buf, size_t n)
{
	struct prefix_cookie *pc = cookie;
	size_t k = 0;
	while (k < n && pc->head_pos < pc->head_len) buf[k++] = (char)pc->head[pc->head_pos++];
	if (k < n) k += fread(buf + k, 1, n - k, pc->under);
	if (k == 0 && ferror(pc->under)) return -1;
	return (ssize_t)k;
}

static int prefix_close(void *cookie)
{
	free(cookie);
	return 0;
}

static FILE *rewound(FILE *f, const uint8_t *head, size_t n)
{
	if (fseeko(f, 0, SEEK_SET) == 0) return f;
	struct prefix_cookie *pc = xcalloc(1, sizeof *pc);
	pc->under = f;
	memcpy(pc->head, head, n);
	pc->head_len = n;
	cookie_io_functions_t io = { .read = prefix_read, .close = prefix_close };
	FILE *g = fopencookie(pc, "r", io);
	if (!g) free(pc);
	return g;
}

static const char *describe_magic(const uint8_t *m, size_t n)
{
	if (n >= 4 && !memcmp(m, "\x0a\x0d\x0d\x0a", 4)) return "pcapng";
	if (n >= 2 && m[0] == 'P' && m[1] == 'K') return "a zip archive, not a capture file";
	return "not a capture file (no pcap or pcapng magic number)";
}

static void set_err(char *err, size_t errlen, const char *msg) { snprintf(err, errlen, "%s", msg); }

static int open_pcap(struct pkt_source *s, FILE *f, const uint8_t *magic, char *err, size_t errlen)
{
	uint32_t m = (uint32_t)magic[0] << 24 | (uint32_t)magic[1] << 16 | (uint32_t)magic[2] << 8 | magic[3];
	bool ns = m == 0xa1b23c4du || m == 0x4d3cb2a1u;
	char perr[PCAP_ERRBUF_SIZE];
	s->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!s->pcap) {
		snprintf(err, errlen, "%s", perr);
		return -1;
	}
	s->ts_digits = ns ? 9 : 6;
	s->linktype = pcap_datalink(s->pcap);
	/* libpcap hands back DLT values; report the file's LINKTYPE for raw IP. */
	if (s->linktype == 12 || s->linktype == 14) s->linktype = 101;
	s->offset = 24;
	s->pfile = f;
	s->swapped = pcap_is_swapped(s->pcap);
	s->snaplen = (uint32_t)pcap_snapshot(s->pcap);
	struct stat st;
	bool plain = m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || ns; /* not the modified formats */
	if (plain && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 24) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
		if (map != MAP_FAILED) {
			madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
			s->map = map;
			s->map_len = (size_t)st.st_size;
		}
	}
	return 0;
}

#define SRC_MAP_RELEASE (2u << 20) /* bytes read between two releases of the pages behind */

static uint32_t rec_u32(const struct pkt_source *s, const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, 4);
	return s->swapped ? __builtin_bswap32(v) : v;
}

/* The record at byte off of the map: SRC_OK, SRC_EOF, or SRC_ERROR when it is not plain
 * (libpcap then reads it and reports the problem in its words). */
static inline __attribute__((always_inline)) enum src_status map_record(const struct pkt_source *s, size_t off,
									   struct pkt_meta *m, const uint8_t **data)
{
	if (off == s->map_len) return SRC_EOF;
	if (off > s->map_len || s->map_len - off < 16) return SRC_ERROR;
	const uint8_t *h = s->map + off;
	uint32_t caplen = rec_u32(s, h + 8), len = rec_u32(s, h + 12);
	if (caplen > s->snaplen || caplen > s->map_len - off - 16) return SRC_ERROR;
	memset(m, 0, sizeof *m);
	m->ts_sec = rec_u32(s, h);
	uint32_t frac = rec_u32(s, h + 4);
	m->ts_nsec = s->ts_digits == 9 ? frac : frac * 1000u; /* as libpcap at NANO precision */
	m->ts_digits = s->ts_digits;
	m->caplen = caplen;
	m->wirelen = len < caplen ? caplen : len;
	m->linktype = s->linktype;
	*data = h + 16;
	return SRC_OK;
}

/* The next record from the map. */
static enum src_status map_next(struct pkt_source *s, struct pkt_meta *m, const uint8_t **data)
{
	size_t off = (size_t)s->offset;
	enum src_status st = map_record(s, off, m, data);
	if (st != SRC_OK) return st;
	s->offset += 16 + m->caplen;
	/* Pages before this record are not read again (a packet's bytes are valid until the
	 * next call): give them back, so a big file does not count as our memory. */
	if (off - s->released >= SRC_MAP_RELEASE) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t upto = off - off % page;
		madvise((void *)(s->map + s->released), upto - s->released, MADV_DONTNEED);
		s->released = upto;
	}
	return SRC_OK;
}

static void map_drop(struct pkt_source *s)
{
	munmap((void *)s->map, s->map_len);
	s->map = NULL;
}

struct pkt_source *src_open_file(const char *path, char *err, size_t errlen)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	bool own = !is_stdin; /* f is ours to close */
	uint8_t magic[4];
	size_t n = fread(magic, 1, 4, f);
	if (n < 4) {
		set_err(err, errlen, n == 0 ? (ferror(f) ? strerror(errno) : "empty file, not a capture")
					    : "file too short to be a capture");
		if (own) fclose(f);
		return NULL;
	}
	/* A compressed file (gzip, zstd, lz4, as Wireshark reads them, from a path or a pipe):
	 * the capture inside is read through the decompressor and its format sniffed again. */
	struct zstream *zs = NULL;
	enum compression comp = compression_of(magic, n);
	if (comp != COMP_NONE) {
		FILE *z = zstream_open(f, own, comp, magic, n, &zs, err, errlen);
		if (!z) {
			if (own) fclose(f);
			return NULL;
		}
		f = z;
		own = true;
		n = fread(magic, 1, 4, f);
		if (n < 4) {
			const char *why = zstream_error(zs);
			if (why) snprintf(err, errlen, "%s", why);
			else snprintf(err, errlen, "%s-compressed file with %s", compression_name(comp),
				      n == 0 ? "nothing inside" : "too little inside to be a capture");
			fclose(f);
			return NULL;
		}
	}
	struct pkt_source *s = xcalloc(1, sizeof *s);
	s->z = zs;
	s->comp = comp;
	uint32_t m = (uint32_t)magic[0] << 24 | (uint32_t)magic[1] << 16 | (uint32_t)magic[2] << 8 | magic[3];
	bool pcap = m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du || m == 0x4d3cb2a1u ||
		    m == 0xa1b2cd34u || m == 0x34cdb2a1u;
	if (m == 0x0a0d0d0au) {
		s->ng = pcapng_open(f, magic);
		s->f = f;
		s->close_f = own;
		s->ts_digits = 6;
		return s;
	}
	if (!pcap) {
		if (comp != COMP_NONE)
			snprintf(err, errlen, "%s-compressed, but what is inside is %s", compression_name(comp), describe_magic(magic, 4));
		else
			set_err(err, errlen, describe_magic(magic, 4));
		if (own) fclose(f);
		free(s);
		return NULL;
	}
	FILE *g = rewound(f, magic, 4);
	if (!g || open_pcap(s, g, magic, err, errlen) < 0) {
		if (g && g != f) fclose(g);
		if (own) fclose(f);
		free(s);
		return NULL;
	}
	/* pcap_close closes g (and through the cookie nothing else); f is ours when owned */
	s->f = g != f ? f : NULL;
	s->close_f = g != f && own;
	return s;
}

/* libpcap compiles for DLT values; the file holds LINKTYPE values, equal but for raw IP. */
static int dlt_of(int linktype) { return linktype == 101 ? DLT_RAW : linktype; }

static int bpf_compile_for(const char *expr, int linktype, struct bpf_program *prog, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(dlt_of(linktype), 262144);
	if (!dead) {
		snprintf(err, errlen, "cannot compile a capture filter for link type %d", linktype);
		return -1;
	}
	int rc = pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0) snprintf(err, errlen, "%s", pcap_geterr(dead));
	pcap_close(dead);
	return rc < 0 ? -1 : 0;
}

int src_set_bpf(struct pkt_source *s, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	/* A pcapng file names its link types as it goes: check the syntax for Ethernet now,
	 * each link type's program is made when its first packet comes. */
	int lt = s->ng ? LT_ETHERNET : s->linktype;
	if (bpf_compile_for(expr, lt, &prog, err, errlen) < 0) return -1;
	pcap_freecode(&prog);
	s->bpf_expr = xstrdup(expr);
	return 0;
}

/* Whether the packet passes the capture filter. A link type the filter cannot be compiled
 * for (an "ether" test on raw IP) passes nothing, as a capture with that filter would. */
static bool bpf_pass(struct pkt_source *s, const struct pkt_meta *m, const uint8_t *data)
{
	struct bpf_for_link *b = NULL;
	for (int i = 0; i < s->nbpf; i++)
		if (s->bpf[i].linktype == m->linktype) b = &s->bpf[i];
	if (!b) {
		if (s->nbpf == SRC_MAX_BPF_LINKS) return false;
		b = &s->bpf[s->nbpf++];
		char err[PCAP_ERRBUF_SIZE];
		b->linktype = m->linktype;
		b->usable = bpf_compile_for(s->bpf_expr, m->linktype, &b->prog, err, sizeof err) == 0;
	}
	if (!b->usable) return false;
	struct pcap_pkthdr h = { .caplen = m->caplen, .len = m->wirelen };
	return pcap_offline_filter(&b->prog, &h, data) != 0;
}

static enum src_status read_one(struct pkt_source *s, struct pkt_meta *m, const uint8_t **data);

static enum src_status chain_next(struct pkt_source *s, struct pkt_meta *m, const uint8_t **data);
static enum src_status chain_read_at(struct pkt_source *s, uint64_t offset, struct pkt_meta *m, const uint8_t **data);

enum src_status src_next(struct pkt_source *s, struct pkt_meta *m, const uint8_t **data)
{
	if (__builtin_expect(s->chain != NULL, 0)) return chain_next(s, m, data);
	for (;;) {
		enum src_status st = read_one(s, m, data);
		if (st == SRC_OK) m->offset = s->rec_offset;
		if (st != SRC_OK || !s->bpf_expr || bpf_pass(s, m, *data)) return st;
	}
}

static enum src_status read_one(struct pkt_source *s, struct pkt_meta *m, const uint8_t **data)
{
	if (s->ng) {
		enum src_status st = pcapng_next(s->ng, m, data);
		s->rec_offset = pcapng_offset(s->ng);
		if (st == SRC_ERROR) snprintf(s->err, sizeof s->err, "%s", zstream_error(s->z) ? zstream_error(s->z) : pcapng_error(s->ng));
		return st;
	}
	s->rec_offset = s->offset;
	if (s->map) {
		enum src_status st = map_next(s, m, data);
		if (st != SRC_ERROR) return st;
		/* libpcap reads on from this record */
		map_drop(s);
		if (fseeko(s->pfile, (off_t)s->offset, SEEK_SET) != 0) {
			snprintf(s->err, sizeof s->err, "%s", strerror(errno));
			return SRC_ERROR;
		}
	}
	struct pcap_pkthdr *h;
	int rc = pcap_next_ex(s->pcap, &h, data);
	if (rc == PCAP_ERROR_BREAK && !zstream_error(s->z)) return SRC_EOF;
	if (rc != 1) {
		snprintf(s->err, sizeof s->err, "%s", zstream_error(s->z) ? zstream_error(s->z) : pcap_geterr(s->pcap));
		return SRC_ERROR;
	}
	s->offset += 16 + h->caplen;
	memset(m, 0, sizeof *m);
	m->ts_sec = h->ts.tv_sec;
	m->ts_nsec = (uint32_t)h->ts.tv_usec; /* nanoseconds: opened with NANO precision */
	m->ts_digits = s->ts_digits;
	m->caplen = h->caplen;
	m->wirelen = h->len < h->caplen ? h->caplen : h->len;
	m->linktype = s->linktype;
	return SRC_OK;
}

/* libpcap's record at offset, its stream put back where the sequential reading is. */
static enum src_status pcap_read_at(struct pkt_source *s, uint64_t offset, struct pkt_meta *m, const uint8_t **data)
{
	if (fseeko(s->pfile, (off_t)offset, SEEK_SET) != 0) {
		snprintf(s->err, sizeof s->err, "cannot seek back: %s", strerror(errno));
		return SRC_ERROR;
	}
	struct pcap_pkthdr *h;
	int rc = pcap_next_ex(s->pcap, &h, data);
	enum src_status st = SRC_OK;
	if (rc != 1) {
		snprintf(s->err, sizeof s->err, "%s", rc == PCAP_ERROR_BREAK ? "no packet there" : pcap_geterr(s->pcap));
		st = SRC_ERROR;
	} else {
		memset(m, 0, sizeof *m);
		m->ts_sec = h->ts.tv_sec;
		m->ts_nsec = (uint32_t)h->ts.tv_usec;
		m->ts_digits = s->ts_digits;
		m->caplen = h->caplen;
		m->wirelen = h->len < h->caplen ? h->caplen : h->len;
		m->linktype = s->linktype;
	}
	if (!s->map && fseeko(s->pfile, (off_t)s->offset, SEEK_SET) != 0 && st == SRC_OK) {
		snprintf(s->err, sizeof s->err, "cannot seek: %s", strerror(errno));
		st = SRC_ERROR;
	}
	return st;
}

enum src_status src_read_at(struct pkt_source *s, uint64_t offset, struct pkt_meta *m, const uint8_t **data)
{
	if (s->chain) return chain_read_at(s, offset, m, data);
	if (s->z) {
		snprintf(s->err, sizeof s->err, "a %s-compressed capture cannot be read again at an offset: decompress it to a file",
			 compression_name(s->comp));
		return SRC_ERROR;
	}
	if (s->ng) {
		enum src_status st = pcapng_read_at(s->ng, offset, m, data);
		if (st != SRC_OK) snprintf(s->err, sizeof s->err, "%s", pcapng_error(s->ng));
		m->offset = offset;
		return st;
	}
	if (offset >= s->offset) {
		snprintf(s->err, sizeof s->err, "no packet was read at byte offset %llu", (unsigned long long)offset);
		return SRC_ERROR;
	}
	if (s->map && map_record(s, (size_t)offset, m, data) == SRC_OK) {
		m->offset = offset;
		return SRC_OK;
	}
	if (!s->pfile) {
		snprintf(s->err, sizeof s->err, "standard input cannot be read again");
		return SRC_ERROR;
	}
	enum src_status st = pcap_read_at(s, offset, m, data);
	m->offset = offset;
	return st;
}

const char *src_error(const struct pkt_source *s) { return s->err; }
uint64_t src_offset(const struct pkt_source *s) { return s->rec_offset; }
bool src_set_tail(struct pkt_source *s, bool on)
{
	if (s->chain) {
		s->chain->tail = on;
		return !s->chain->cur || src_set_tail(s->chain->cur, on);
	}
	if (!s->ng) return false;
	pcapng_set_tail(s->ng, on);
	return true;
}

void src_set_secrets(struct pkt_source *s, void (*fn)(void *ctx, uint32_t type, const uint8_t *b, size_t n),
		     void *ctx)
{
	if (s->chain) {
		s->chain->secrets = fn;
		s->chain->secrets_ctx = ctx;
		if (s->chain->cur) src_set_secrets(s->chain->cur, fn, ctx);
	}
	if (s->ng) pcapng_set_secrets(s->ng, fn, ctx);
}

const char *src_format(const struct pkt_source *s)
{
	if (s->chain) return s->chain->cur ? src_format(s->chain->cur) : "pcapng";
	return s->ng ? "pcapng" : "pcap";
}

void src_close(struct pkt_source *s)
{
	if (!s) return;
	if (s->chain) {
		src_close(s->chain->cur);
		for (int i = 0; i < CHAIN_CACHE; i++) src_close(s->chain->at[i].src);
		free(s->chain);
	}
	if (s->map) map_drop(s);
	if (s->pcap) pcap_close(s->pcap);
	if (s->ng) pcapng_close(s->ng);
	if (s->close_f && s->f) fclose(s->f);
	for (int i = 0; i < s->nbpf; i++)
		if (s->bpf[i].usable) pcap_freecode(&s->bpf[i].prog);
	free(s->bpf_expr);
	free(s);
}

struct pkt_source *src_open_chain(const struct src_files *files, uint32_t first)
{
	struct pkt_source *s = xcalloc(1, sizeof *s);
	s->chain = xcalloc(1, sizeof *s->chain);
	s->chain->files = *files;
	s->chain->seq = first;
	return s;
}

uint32_t src_chain_file(uint64_t offset) { return (uint32_t)(offset >> CHAIN_SHIFT); }
uint64_t src_chain_start(uint32_t seq) { return (uint64_t)seq << CHAIN_SHIFT; }

/* Opens file `seq` of the chain: NULL, with the reason in s->err, when it is gone. */
static struct pkt_source *chain_open(struct pkt_source *s, uint32_t seq)
{
	struct src_chain *c = s->chain;
	const char *path = c->files.path_of(c->files.ctx, seq);
	if (!path) {
		snprintf(s->err, sizeof s->err, "ring file %u was removed (-b files:N keeps only the newest)", seq);
		return NULL;
	}
	char err[sizeof s->err - 80];
	struct pkt_source *f = src_open_file(path, err, sizeof err);
	if (!f) {
		snprintf(s->err, sizeof s->err, "%s: %s", path, err);
		return NULL;
	}
	if (c->tail) src_set_tail(f, true);
	if (c->secrets) src_set_secrets(f, c->secrets, c->secrets_ctx);
	return f;
}

static enum src_status chain_next(struct pkt_source *s, struct pkt_meta *m, const uint8_t **data)
{
	struct src_chain *c = s->chain;
	for (;;) {
		/* whether the next file exists is asked before reading: a writer finishes a file
		 * before it begins the next, so an end met after is the file's real end */
		bool next_there = c->seq < c->files.newest(c->files.ctx);
		if (!c->cur) {
			if (!c->files.path_of(c->files.ctx, c->seq)) {
				if (!next_there) return SRC_EOF; /* not written yet */
				c->seq++; /* removed before it was read: the ring went on */
				continue;
			}
			if (!(c->cur = chain_open(s, c->seq))) return SRC_ERROR;
		}
		enum src_status st = src_next(c->cur, m, data);
		if (st == SRC_OK) {
			s->rec_offset = (uint64_t)c->seq << CHAIN_SHIFT | src_offset(c->cur);
			m->offset = s->rec_offset;
			return SRC_OK;
		}
		if (st == SRC_ERROR) {
			s->rec_offset = (uint64_t)c->seq << CHAIN_SHIFT | src_offset(c->cur);
			snprintf(s->err, sizeof s->err, "%s", src_error(c->cur));
			return SRC_ERROR;
		}
		if (!next_there) return SRC_EOF;
		src_close(c->cur);
		c->cur = NULL;
		c->seq++;
	}
}

static enum src_status chain_read_at(struct pkt_source *s, uint64_t offset, struct pkt_meta *m, const uint8_t **data)
{
	struct src_chain *c = s->chain;
	uint32_t seq = src_chain_file(offset);
	uint64_t off = offset & ((UINT64_C(1) << CHAIN_SHIFT) - 1);
	struct pkt_source *f = NULL;
	for (int i = 0; i < CHAIN_CACHE; i++) {
		if (!c->at[i].src) continue;
		if (!c->files.path_of(c->files.ctx, c->at[i].seq)) { /* removed: its disk space is let go */
			src_close(c->at[i].src);
			c->at[i].src = NULL;
		} else if (c->at[i].seq == seq) {
			f = c->at[i].src;
		}
	}
	if (!f) {
		if (!(f = chain_open(s, seq))) return SRC_ERROR;
		unsigned i = c->at_next++ % CHAIN_CACHE;
		src_close(c->at[i].src);
		c->at[i].seq = seq;
		c->at[i].src = f;
	}
	/* a file is read again only where it was read: up to the record first */
	struct pkt_meta skip;
	const uint8_t *skipped;
	while (src_offset(f) < off && src_next(f, &skip, &skipped) == SRC_OK) {}
	enum src_status st = src_read_at(f, off, m, data);
	if (st != SRC_OK) snprintf(s->err, sizeof s->err, "%s", src_error(f));
	m->offset = offset;
	return st;
}
