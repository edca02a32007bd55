/* capture/pcapng_read.c — pcapng reader (draft-ietf-opsawg-pcapng): sections of either
 * byte order, any number of interfaces each with its own link type and timestamp
 * resolution (if_tsresol, if_tsoffset), enhanced, simple and obsolete packet blocks,
 * packet comments; custom blocks and systemd journal export entries, which Wireshark
 * shows as frames of their own. Other blocks are skipped by their length.
 *
 * Every length comes from the file, so each is checked before use: a block is at least 12
 * bytes, a multiple of 4, and at most PCAPNG_MAX_BLOCK; captured lengths fit inside their
 * block; the interface table is capped.
 */
#include "capture/capture.h"
#include "util/cursor.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpcap's own limit for a block is 16 MiB; a larger one is a broken or hostile file. */
#define PCAPNG_MAX_BLOCK (16u * 1024 * 1024)
/* Interfaces per section: far above any real capture, small enough to never matter. */
#define PCAPNG_MAX_IFACES 4096

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BT_JOURNAL 0x00000009u    /* systemd journal export block (spec §4.7) */
#define BT_DSB 0x0000000Au        /* Decryption Secrets Block */
#define BT_CB_COPY 0x00000BADu    /* custom block that may be copied (spec §4.8) */
#define BT_CB_NOCOPY 0x40000BADu  /* ... that must not be */
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

struct iface {
	int linktype;
	uint32_t snaplen;
	uint64_t units_per_sec; /* from if_tsresol, default 10^6 */
	int64_t tsoffset;       /* if_tsoffset, seconds */
	uint8_t digits;         /* 6 or 9 for display */
	char *name;
};

/* A section read before the current one: what its packets need to be read again. */
struct old_section {
	uint64_t off;          /* of its section header block */
	bool swap;
	struct iface *ifaces;  /* owned */
	uint32_t nifaces;
};

struct pcapng_reader {
	FILE *f;
	uint64_t offset;       /* of the block being read */
	uint64_t section_off;  /* of the current section's header block */
	struct old_section *old; /* earlier sections, in file order (pcapng_read_at) */
	uint32_t nold, cap_old;
	uint64_t pos;          /* bytes consumed so far (works on pipes, unlike ftello) */
	bool swap;             /* section is in the other byte order */
	bool have_section;
	struct iface *ifaces;
	uint32_t nifaces, cap_ifaces;
	uint8_t *block;
	size_t block_cap;
	uint8_t first4[4];
	bool first_pending;
	bool tail;             /* a file still being written: a block cut short is read again
				* later, not an error */
	pcapng_secrets_fn secrets; /* called with each decryption secrets block, or NULL */
	void *secrets_ctx;
	char err[256];
};

static uint32_t rd32(const struct pcapng_reader *r, const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return r->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct pcapng_reader *r, const uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);
	return r->swap ? __builtin_bswap16(v) : v;
}

static void clear_ifaces(struct pcapng_reader *r)
{
	for (uint32_t i = 0; i < r->nifaces; i++) free(r->ifaces[i].name);
	r->nifaces = 0;
}

struct pcapng_reader *pcapng_open(FILE *f, const uint8_t first4[4])
{
	struct pcapng_reader *r = xcalloc(1, sizeof *r);
	r->f = f;
	memcpy(r->first4, first4, 4);
	r->first_pending = true;
	return r;
}

void pcapng_close(struct pcapng_reader *r)
{
	if (!r) return;
	clear_ifaces(r);
	free(r->ifaces);
	for (uint32_t i = 0; i < r->nold; i++) {
		for (uint32_t k = 0; k < r->old[i].nifaces; k++) free(r->old[i].ifaces[k].name);
		free(r->old[i].ifaces);
	}
	free(r->old);
	free(r->block);
	free(r);
}

const char *pcapng_error(const struct pcapng_reader *r) { return r->err; }
uint64_t pcapng_offset(const struct pcapng_reader *r) { return r->offset; }

/* Reads exactly n bytes; 1 on success, 0 at a clean end of file (nothing read), -1 cut. */
static int read_exact(struct pcapng_reader *r, uint8_t *dst, size_t n)
{
	size_t got = 0;
	if (r->first_pending && n >= 4) {
		memcpy(dst, r->first4, 4);
		got = 4;
		r->first_pending = false;
	}
	got += fread(dst + got, 1, n - got, r->f);
	r->pos += got;
	if (got == n) return 1;
	if (ferror(r->f)) {
		snprintf(r->err, sizeof r->err, "read error: %s", strerror(errno));
		return -1;
	}
	if (got == 0) return 0;
	if (r->tail) return -2; /* the rest is not written yet */
	snprintf(r->err, sizeof r->err, "file ends in the middle of a block (%zu of %zu bytes)", got, n);
	return -1;
}

/* A file being written ended inside the block at r->offset: back to its start, to read it
 * whole when the writer has added the rest. */
static int tail_rewind(struct pcapng_reader *r)
{
	clearerr(r->f);
	if (fseeko(r->f, (off_t)r->offset, SEEK_SET) < 0) {
		snprintf(r->err, sizeof r->err, "cannot go back in the file: %s", strerror(errno));
		return -1;
	}
	r->pos = r->offset;
	r->err[0] = '\0';
	return 0;
}

/* The next option, pcapng §3.5: code(2) length(2) value padded to 4; false at
 * opt_endofopt (0), at the end, or at an option longer than what is left. */
static bool next_option(const struct pcapng_reader *r, struct cur *o, uint16_t *code, const uint8_t **v, uint16_t *len)
{
	const uint8_t *h = cur_bytes(o, 4);
	if (!h) return false;
	*code = rd16(r, h);
	*len = rd16(r, h + 2);
	if (*code == 0 || !(*v = cur_bytes(o, *len))) return false;
	cur_skip(o, (4 - *len % 4) % 4);
	return true;
}

static void idb_options(struct pcapng_reader *r, struct cur *o, struct iface *ifc)
{
	uint16_t code, len;
	const uint8_t *v;
	while (next_option(r, o, &code, &v, &len)) {
		if (code == 2 && !ifc->name) { /* if_name */
			ifc->name = xmalloc((size_t)len + 1);
			memcpy(ifc->name, v, len);
			ifc->name[len] = '\0';
		} else if (code == 9 && len >= 1) { /* if_tsresol: 10^-n, or 2^-n with the high bit */
			uint8_t res = v[0];
			uint8_t exp = res & 0x7f;
			if (res & 0x80) {
				ifc->units_per_sec = exp < 64 ? (uint64_t)1 << exp : 0;
				ifc->digits = 9;
			} else {
				uint64_t u = 1;
				for (uint8_t i = 0; i < exp && i < 19; i++) u *= 10;
				ifc->units_per_sec = exp <= 19 ? u : 0;
				ifc->digits = exp <= 6 ? 6 : 9;
			}
			if (!ifc->units_per_sec) ifc->units_per_sec = 1000000;
		} else if (code == 14 && len == 8) { /* if_tsoffset */
			uint64_t lo = rd32(r, v), hi = rd32(r, v + 4);
			ifc->tsoffset = (int64_t)(r->swap ? (lo << 32 | hi) : (hi << 32 | lo));
		}
	}
}

static int handle_idb(struct pcapng_reader *r, struct cur *b)
{
	const uint8_t *h = cur_bytes(b, 8);
	if (!h) {
		snprintf(r->err, sizeof r->err, "interface description block is too short");
		return -1;
	}
	if (r->nifaces >= PCAPNG_MAX_IFACES) {
		snprintf(r->err, sizeof r->err, "more than %u interfaces in one section", PCAPNG_MAX_IFACES);
		return -1;
	}
	if (r->nifaces == r->cap_ifaces) {
		r->cap_ifaces = r->cap_ifaces ? r->cap_ifaces * 2 : 4;
		r->ifaces = xrealloc(r->ifaces, r->cap_ifaces * sizeof *r->ifaces);
	}
	struct iface *ifc = &r->ifaces[r->nifaces++];
	*ifc = (struct iface){ .linktype = rd16(r, h), .snaplen = rd32(r, h + 4),
			       .units_per_sec = 1000000, .digits = 6 };
	idb_options(r, b, ifc);
	return 0;
}

static int handle_shb(struct pcapng_reader *r, const uint8_t *hdr, uint32_t *len)
{
	/* The byte-order magic decides how to read everything in the section, including
	 * this block's own length. */
	uint32_t bom = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 | (uint32_t)hdr[11] << 24;
	bool swap = r->swap; /* the section before's */
	if (bom == BYTE_ORDER_MAGIC) r->swap = false;
	else if (bom == __builtin_bswap32(BYTE_ORDER_MAGIC)) r->swap = true;
	else {
		snprintf(r->err, sizeof r->err, "section header has a bad byte-order magic");
		return -1;
	}
	*len = rd32(r, hdr + 4);
	if (r->have_section) { /* the section before is kept: its packets may be read again */
		if (r->nold == r->cap_old) {
			r->cap_old = r->cap_old ? r->cap_old * 2 : 2;
			r->old = xrealloc(r->old, r->cap_old * sizeof *r->old);
		}
		r->old[r->nold++] = (struct old_section){ r->section_off, swap, r->ifaces, r->nifaces };
		r->ifaces = NULL;
		r->nifaces = r->cap_ifaces = 0;
	}
	r->section_off = r->offset;
	r->have_section = true;
	return 0;
}

/* Packet comments, opt_comment (1) in an EPB's options: the first is frame.comment; one
 * pktscope wrote is also kept apart (its proc.* fields are read back from it). */
static void epb_comment(struct pcapng_reader *r, struct cur *o, struct pkt_meta *m)
{
	uint16_t code, len;
	const uint8_t *v;
	while (next_option(r, o, &code, &v, &len)) {
		if (code != 1) continue;
		if (!m->comment) {
			m->comment = v;
			m->comment_len = len;
		}
		if (len >= 10 && !memcmp(v, "pktscope: ", 10)) {
			m->note = v;
			m->note_len = len;
		}
	}
}

static void set_time(const struct iface *ifc, uint64_t ts, struct pkt_meta *m)
{
	uint64_t ups = ifc->units_per_sec;
	m->ts_sec = (int64_t)(ts / ups) + ifc->tsoffset;
	uint64_t frac = ts % ups;
	/* frac < ups <= 2^63; scale to ns without overflow for every resolution up to 10^19. */
	m->ts_nsec = (uint32_t)(ups <= 1000000000ull ? frac * (1000000000ull / ups)
						   : frac / (ups / 1000000000ull));
	m->ts_digits = ifc->digits;
}

static int handle_packet(struct pcapng_reader *r, uint32_t type, struct cur *b,
			 struct pkt_meta *m, const uint8_t **data)
{
	memset(m, 0, sizeof *m);
	uint32_t ifid = 0, caplen, wirelen;
	uint64_t ts = 0;
	if (type == BT_EPB || type == BT_PB) {
		const uint8_t *h = cur_bytes(b, 20);
		if (!h) goto short_block;
		ifid = type == BT_EPB ? rd32(r, h) : rd16(r, h);
		uint64_t hi = rd32(r, h + 4), lo = rd32(r, h + 8);
		ts = hi << 32 | lo;
		caplen = rd32(r, h + 12);
		wirelen = rd32(r, h + 16);
	} else { /* SPB: the captured length is what fits in the block, bounded by snaplen */
		const uint8_t *h = cur_bytes(b, 4);
		if (!h) goto short_block;
		wirelen = rd32(r, h);
		caplen = wirelen;
		if (caplen > cur_left(b)) caplen = (uint32_t)cur_left(b);
	}
	if (ifid >= r->nifaces) {
		snprintf(r->err, sizeof r->err, "packet refers to interface %u, but the section has %u", ifid, r->nifaces);
		return -1;
	}
	const struct iface *ifc = &r->ifaces[ifid];
	if (type == BT_SPB && ifc->snaplen && caplen > ifc->snaplen) caplen = ifc->snaplen;
	*data = cur_bytes(b, caplen);
	if (!*data) {
		snprintf(r->err, sizeof r->err, "captured length %u exceeds its block", caplen);
		return -1;
	}
	cur_skip(b, (4 - caplen % 4) % 4);
	if (type != BT_SPB) epb_comment(r, b, m);
	m->caplen = caplen;
	m->wirelen = wirelen < caplen ? caplen : wirelen;
	m->ifindex = ifid;
	m->ifname = ifc->name;
	m->linktype = ifc->linktype;
	if (type == BT_SPB) { /* an SPB has no time (spec §4.4) */
		m->ts_digits = ifc->digits;
		m->no_time = true;
	} else {
		set_time(ifc, ts, m);
	}
	return 1;
short_block:
	snprintf(r->err, sizeof r->err, "packet block is too short");
	return -1;
}

/* The value of `key` (e.g. "__REALTIME_TIMESTAMP=") in a journal export entry: a line
 * of it, not the binary field format (which names no key the time is in). */
static bool journal_value(const uint8_t *b, size_t n, const char *key, const uint8_t **v, size_t *vn)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n;) {
		const uint8_t *nl = memchr(b + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - b) : n;
		if (end - i > kl && !memcmp(b + i, key, kl)) {
			*v = b + i + kl;
			*vn = end - i - kl;
			return true;
		}
		i = end + 1;
	}
	return false;
}

/* A record that is not a packet (custom block, journal entry): a frame of its own, as
 * Wireshark numbers them. 1, or -1 with r->err. */
static int handle_record(struct pcapng_reader *r, uint32_t type, struct cur *b, struct pkt_meta *m,
			 const uint8_t **data)
{
	memset(m, 0, sizeof *m);
	m->ts_digits = 6;
	m->no_time = true;
	if (type == BT_JOURNAL) {
		m->record = PKT_RECORD_JOURNAL;
		size_t n = cur_left(b);
		*data = cur_bytes(b, n);
		while (n && (*data)[n - 1] == 0) n--; /* the block's padding */
		const uint8_t *v;
		size_t vn;
		uint64_t us = 0;
		if (journal_value(*data, n, "__REALTIME_TIMESTAMP=", &v, &vn) && vn && vn <= 19) {
			size_t i = 0;
			while (i < vn && v[i] >= '0' && v[i] <= '9') us = us * 10 + (v[i++] - '0');
			if (i == vn) {
				m->no_time = false;
				m->ts_sec = (int64_t)(us / 1000000);
				m->ts_nsec = (uint32_t)(us % 1000000) * 1000;
			}
		}
		m->caplen = m->wirelen = (uint32_t)n;
		return 1;
	}
	const uint8_t *h = cur_bytes(b, 4);
	if (!h) {
		snprintf(r->err, sizeof r->err, "custom block is too short");
		return -1;
	}
	m->record = PKT_RECORD_CUSTOM;
	m->pen = rd32(r, h);
	m->copy_ok = type == BT_CB_COPY;
	size_t n = cur_left(b);
	*data = cur_bytes(b, n);
	m->caplen = m->wirelen = (uint32_t)n;
	return 1;
}

/* Reads the block at the current position into r->block: its type, and a cursor over its
 * body. 1, 0 at a clean end of file, -1 with r->err. */
static int read_block(struct pcapng_reader *r, uint32_t *type_out, struct cur *body)
{
	uint8_t hdr[12];
	r->offset = r->pos;
	if (r->tail) clearerr(r->f); /* what was written since the last end of file */
	int rc = read_exact(r, hdr, 8);
	if (rc == -2 || (rc == 0 && r->tail)) return tail_rewind(r);
	if (rc <= 0) return rc;
	uint32_t type = rd32(r, hdr);
	uint32_t len;
	if (type == BT_SHB) { /* the SHB type reads the same in both byte orders */
		if (read_exact(r, hdr + 8, 4) != 1) {
			if (!r->err[0]) snprintf(r->err, sizeof r->err, "file ends in a section header");
			return -1;
		}
		if (handle_shb(r, hdr, &len) < 0) return -1;
		type = BT_SHB;
	} else {
		if (!r->have_section) {
			snprintf(r->err, sizeof r->err, "file does not start with a section header block");
			return -1;
		}
		len = rd32(r, hdr + 4);
	}
	if (len < 12 || len % 4 || len > PCAPNG_MAX_BLOCK) {
		snprintf(r->err, sizeof r->err, "bad block length %u", len);
		return -1;
	}
	size_t have = type == BT_SHB ? 12 : 8;
	if (r->block_cap < len) {
		r->block = xrealloc(r->block, len);
		r->block_cap = len;
	}
	memcpy(r->block, hdr, have);
	rc = read_exact(r, r->block + have, len - have);
	if (r->tail && (rc == -2 || rc == 0)) return tail_rewind(r);
	if (rc != 1) {
		if (rc == 0) snprintf(r->err, sizeof r->err, "file ends in the middle of a block");
		return -1;
	}
	if (rd32(r, r->block + len - 4) != len) {
		snprintf(r->err, sizeof r->err, "block length %u does not match its trailer", len);
		return -1;
	}
	*type_out = type;
	*body = cur_make(r->block + 8, len - 12);
	return 1;
}

enum src_status pcapng_next(struct pcapng_reader *r, struct pkt_meta *m, const uint8_t **data)
{
	for (;;) {
		uint32_t type;
		struct cur b;
		int rc = read_block(r, &type, &b);
		if (rc == 0) return SRC_EOF;
		if (rc < 0) return SRC_ERROR;
		switch (type) {
		case BT_SHB:
			break;
		case BT_IDB:
			if (handle_idb(r, &b) < 0) return SRC_ERROR;
			break;
		case BT_EPB: case BT_SPB: case BT_PB:
			if (handle_packet(r, type, &b, m, data) < 0) return SRC_ERROR;
			return SRC_OK;
		case BT_JOURNAL: case BT_CB_COPY: case BT_CB_NOCOPY:
			if (handle_record(r, type, &b, m, data) < 0) return SRC_ERROR;
			return SRC_OK;
		case BT_DSB:
			/* secrets type (4), length (4), the secrets: keys for decryption, not a frame */
			if (r->secrets && cur_left(&b) >= 8) {
				uint32_t st = rd32(r, b.pos), sl = rd32(r, b.pos + 4);
				if (sl <= cur_left(&b) - 8) r->secrets(r->secrets_ctx, st, b.pos + 8, sl);
			}
			break;
		default:
			break; /* NRB, ISB and unknown blocks: skipped by length */
		}
	}
}

void pcapng_set_tail(struct pcapng_reader *r, bool on) { r->tail = on; }

void pcapng_set_secrets(struct pcapng_reader *r, pcapng_secrets_fn fn, void *ctx)
{
	r->secrets = fn;
	r->secrets_ctx = ctx;
}

enum src_status pcapng_read_at(struct pcapng_reader *r, uint64_t offset, struct pkt_meta *m, const uint8_t **data)
{
	if (!r->have_section || offset >= r->pos) {
		snprintf(r->err, sizeof r->err, "no packet was read at byte offset %llu", (unsigned long long)offset);
		return SRC_ERROR;
	}
	/* the packet's section: the current one, or one kept when the next began */
	struct iface *ifaces = r->ifaces;
	uint32_t nifaces = r->nifaces;
	bool swap = r->swap;
	for (uint32_t i = r->nold; offset < r->section_off && i-- > 0;) {
		if (r->old[i].off > offset) continue;
		ifaces = r->old[i].ifaces;
		nifaces = r->old[i].nifaces;
		swap = r->old[i].swap;
		break;
	}
	uint64_t pos = r->pos, block_off = r->offset;
	struct iface *cur_ifaces = r->ifaces;
	uint32_t cur_n = r->nifaces;
	bool cur_swap = r->swap;
	enum src_status st = SRC_ERROR;
	if (fseeko(r->f, (off_t)offset, SEEK_SET) != 0) {
		snprintf(r->err, sizeof r->err, "cannot seek back: %s", strerror(errno));
		return SRC_ERROR;
	}
	r->pos = offset;
	r->ifaces = ifaces;
	r->nifaces = nifaces;
	r->swap = swap;
	uint32_t type;
	struct cur b;
	if (read_block(r, &type, &b) == 1) {
		if (type == BT_EPB || type == BT_SPB || type == BT_PB) {
			st = handle_packet(r, type, &b, m, data) < 0 ? SRC_ERROR : SRC_OK;
		} else if (type == BT_JOURNAL || type == BT_CB_COPY || type == BT_CB_NOCOPY) {
			st = handle_record(r, type, &b, m, data) < 0 ? SRC_ERROR : SRC_OK;
		} else {
			snprintf(r->err, sizeof r->err, "no packet block at byte offset %llu", (unsigned long long)offset);
		}
	}
	r->ifaces = cur_ifaces;
	r->nifaces = cur_n;
	r->swap = cur_swap;
	r->pos = pos;
	r->offset = block_off;
	if (fseeko(r->f, (off_t)pos, SEEK_SET) != 0 && st == SRC_OK) {
		snprintf(r->err, sizeof r->err, "cannot seek: %s", strerror(errno));
		st = SRC_ERROR;
	}
	return st;
}
