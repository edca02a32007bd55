/* capture/bfile.h — the output file under the pcap and pcapng writers (capture module
 * internal). Whole records are gathered in a buffer and written with write(2); when a
 * write fails (a full disk, a revoked file) the file is cut back to the end of the last
 * record that was written whole, so what is on disk always reads as a valid capture. */
#ifndef PKTSCOPE_CAPTURE_BFILE_H
#define PKTSCOPE_CAPTURE_BFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BFILE_BUF (1u << 20) /* gathered before a write; more than the largest record
			      * (262,144 bytes of packet, two 4 KiB comments, headers) */

struct bfile {
	int fd;
	bool is_stdout;
	uint8_t *buf;
	size_t len;
	uint64_t committed;   /* bytes on disk, all of them whole records */
	int err;              /* the first write error (errno) */
};

/* "-" is standard output. 0, or -1 with errno set. */
int bf_open(struct bfile *f, const char *path);
/* Adds one whole record (a file header, a pcap record, a pcapng block). 0, or -1 with
 * f->err set when a write failed; the records before it stay on disk. */
int bf_record(struct bfile *f, const void *rec, size_t n);
/* Adds one record given in two parts (a pcap record header and its bytes). */
int bf_record2(struct bfile *f, const void *a, size_t an, const void *b, size_t bn);
/* Writes what is gathered; 0, or -1. */
int bf_flush(struct bfile *f);
/* Flushes and closes; 0, or -1 with f->err. */
int bf_close(struct bfile *f);

#endif
