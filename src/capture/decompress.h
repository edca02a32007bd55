/* capture/decompress.h — compressed capture files (gzip, zstd, lz4) read as a stream of
 * their decompressed bytes; part of the capture module, used by its file source. */
#ifndef PKTSCOPE_CAPTURE_DECOMPRESS_H
#define PKTSCOPE_CAPTURE_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum compression { COMP_NONE, COMP_GZIP, COMP_ZSTD, COMP_LZ4 };

/* The compression a file's first bytes announce (gzip 1f 8b, zstd 28 b5 2f fd, LZ4 frame
 * 04 22 4d 18), or COMP_NONE. */
enum compression compression_of(const uint8_t *magic, size_t n);
const char *compression_name(enum compression c);

struct zstream;
/* A stream of the decompressed bytes of `in`, whose first n bytes (read to sniff the
 * format, at most 8) are head. Closing it closes `in` when close_in. *zs is for
 * zstream_error. NULL with the reason in err (in is then left open). */
FILE *zstream_open(FILE *in, bool close_in, enum compression c, const uint8_t *head, size_t n, struct zstream **zs,
		   char *err, size_t errlen);
/* Why the stream stopped early (cut or corrupt data), or NULL. Valid until it is closed. */
const char *zstream_error(const struct zstream *zs);

#endif
