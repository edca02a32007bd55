/* capture/decompress.c — compressed captures read as a stream, as Wireshark reads them: gzip
 * (RFC 1952, any number of members, as `cat a.gz b.gz` makes), zstd (RFC 8878, any number
 * of frames) and LZ4 frames, through zlib, libzstd and liblz4. The decompressed bytes come
 * out of a stdio stream (fopencookie), so the pcap and pcapng readers read them like a
 * pipe; nothing is decompressed ahead of what they ask for, and memory is one input and
 * one decoder window whatever the file's size.
 *
 * Input that is cut short or corrupt ends the stream with an error whose reason
 * zstream_error gives ("gzip data is corrupt: invalid distance too far back").
 */
#define _GNU_SOURCE /* fopencookie */
#include "capture/decompress.h"
#include "util/xalloc.h"

#include <errno.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define ZIN_SIZE (64u << 10) /* compressed bytes read from the file at a time */

struct zstream {
	FILE *in;
	bool close_in;
	enum compression kind;
	uint8_t head[8];          /* the bytes read to sniff the format, given back first */
	size_t head_len, head_pos;
	uint8_t *inbuf;
	size_t in_len, in_pos;
	bool in_eof;
	bool at_boundary;         /* between members or frames: the input may end here */
	bool failed;
	char err[160];
	z_stream gz;
	ZSTD_DStream *zs;
	LZ4F_dctx *lz;
};

enum compression compression_of(const uint8_t *m, size_t n)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return COMP_GZIP;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return COMP_ZSTD;
	if (n >= 4 && m[0] == 0x04 && m[1] == 0x22 && m[2] == 0x4d && m[3] == 0x18) return COMP_LZ4;
	return COMP_NONE;
}

const char *compression_name(enum compression c)
{
	switch (c) {
	case COMP_GZIP: return "gzip";
	case COMP_ZSTD: return "zstd";
	case COMP_LZ4: return "lz4";
	default: return "uncompressed";
	}
}

/* Refills the input buffer when it is used up; false at the end of the file (or an error). */
static bool fill(struct zstream *z)
{
	if (z->in_pos < z->in_len) return true;
	if (z->in_eof) return false;
	size_t k = 0;
	while (k < ZIN_SIZE && z->head_pos < z->head_len) z->inbuf[k++] = z->head[z->head_pos++];
	if (k < ZIN_SIZE) k += fread(z->inbuf + k, 1, ZIN_SIZE - k, z->in);
	z->in_len = k;
	z->in_pos = 0;
	if (k == 0) {
		z->in_eof = true;
		if (ferror(z->in)) {
			snprintf(z->err, sizeof z->err, "reading the %s file: %s", compression_name(z->kind), strerror(errno));
			z->failed = true;
		}
		return false;
	}
	return true;
}

static ssize_t fail(struct zstream *z, const char *what, const char *detail)
{
	snprintf(z->err, sizeof z->err, "%s data %s%s%s", compression_name(z->kind), what, detail ? ": " : "",
		 detail ? detail : "");
	z->failed = true;
	errno = EIO;
	return -1;
}

/* Up to n decompressed bytes into buf: 0 at the end, -1 on bad or cut input. */
static ssize_t zread(void *cookie, char *buf, size_t n)
{
	struct zstream *z = cookie;
	if (z->failed) {
		errno = EIO;
		return -1;
	}
	size_t out = 0;
	while (out < n) {
		if (!fill(z)) {
			if (z->failed) return -1;
			if (!z->at_boundary) return fail(z, "ends early (the file is cut short)", NULL);
			break; /* a clean end between members or frames */
		}
		const uint8_t *src = z->inbuf + z->in_pos;
		size_t avail = z->in_len - z->in_pos, used = 0, made = 0;
		if (z->kind == COMP_GZIP) {
			z->gz.next_in = (Bytef *)(uintptr_t)src;
			z->gz.avail_in = (uInt)(avail < UINT32_MAX ? avail : UINT32_MAX);
			z->gz.next_out = (Bytef *)buf + out;
			z->gz.avail_out = (uInt)(n - out < UINT32_MAX ? n - out : UINT32_MAX);
			int rc = inflate(&z->gz, Z_NO_FLUSH);
			used = avail - z->gz.avail_in;
			made = (size_t)((char *)z->gz.next_out - (buf + out));
			z->at_boundary = false;
			if (rc == Z_STREAM_END) { /* one member done: another may follow */
				inflateReset(&z->gz);
				z->at_boundary = true;
			} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				return fail(z, "is corrupt", z->gz.msg ? z->gz.msg : zError(rc));
			}
		} else if (z->kind == COMP_ZSTD) {
			ZSTD_inBuffer ib = { src, avail, 0 };
			ZSTD_outBuffer ob = { buf + out, n - out, 0 };
			size_t rc = ZSTD_decompressStream(z->zs, &ob, &ib);
			if (ZSTD_isError(rc)) return fail(z, "is corrupt", ZSTD_getErrorName(rc));
			used = ib.pos;
			made = ob.pos;
			z->at_boundary = rc == 0; /* 0: a frame ended here */
		} else {
			size_t dst = n - out, srcn = avail;
			size_t rc = LZ4F_decompress(z->lz, buf + out, &dst, src, &srcn, NULL);
			if (LZ4F_isError(rc)) return fail(z, "is corrupt", LZ4F_getErrorName(rc));
			used = srcn;
			made = dst;
			z->at_boundary = rc == 0; /* 0: a frame ended here */
		}
		z->in_pos += used;
		out += made;
		if (!used && !made) { /* no progress: never a silent end of file */
			if (out) break;
			return fail(z, "cannot be decoded", "the decoder makes no progress");
		}
	}
	return (ssize_t)out;
}

static int zclose(void *cookie)
{
	struct zstream *z = cookie;
	if (z->kind == COMP_GZIP) inflateEnd(&z->gz);
	if (z->zs) ZSTD_freeDStream(z->zs);
	if (z->lz) LZ4F_freeDecompressionContext(z->lz);
	if (z->close_in) fclose(z->in);
	free(z->inbuf);
	free(z);
	return 0;
}

FILE *zstream_open(FILE *in, bool close_in, enum compression c, const uint8_t *head, size_t n, struct zstream **out,
		   char *err, size_t errlen)
{
	struct zstream *z = xcalloc(1, sizeof *z);
	z->in = in;
	z->kind = c;
	z->head_len = n < sizeof z->head ? n : sizeof z->head;
	memcpy(z->head, head, z->head_len);
	z->inbuf = xmalloc(ZIN_SIZE);
	bool ok = false;
	if (c == COMP_GZIP) ok = inflateInit2(&z->gz, 16 + MAX_WBITS) == Z_OK; /* 16: gzip's header and trailer */
	else if (c == COMP_ZSTD) ok = (z->zs = ZSTD_createDStream()) && !ZSTD_isError(ZSTD_initDStream(z->zs));
	else if (c == COMP_LZ4) ok = !LZ4F_isError(LZ4F_createDecompressionContext(&z->lz, LZ4F_VERSION));
	cookie_io_functions_t io = { .read = zread, .close = zclose };
	FILE *f = ok ? fopencookie(z, "r", io) : NULL;
	if (!f) {
		snprintf(err, errlen, "cannot start %s decompression", compression_name(c));
		z->close_in = false; /* the caller still owns in */
		zclose(z);
		return NULL;
	}
	z->close_in = close_in;
	*out = z;
	return f;
}

const char *zstream_error(const struct zstream *z) { return z && z->err[0] ? z->err : NULL; }
