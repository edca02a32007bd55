/* capture/capture.h — packet sources: every way pktscope gets packets, behind one
 * interface. Offline pcap files are read through libpcap; pcapng files through our own
 * block reader, because libpcap refuses a pcapng file whose interfaces have different link
 * types (and our writer needs the same block code). Live capture is a later source.
 */
#ifndef PKTSCOPE_CAPTURE_CAPTURE_H
#define PKTSCOPE_CAPTURE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/packet.h"

struct pkt_source;

enum src_status { SRC_OK = 1, SRC_EOF = 0, SRC_ERROR = -1 };

/* Opens a capture file ("-" for standard input). Returns NULL and writes the reason
 * ("not a capture file", "No such file or directory"…) into err. */
struct pkt_source *src_open_file(const char *path, char *err, size_t errlen);

/* Reads the next packet. On SRC_OK, *meta and *data describe it until the next call
 * (meta->number is set by the caller). On SRC_ERROR, src_error() says why and
 * src_offset() gives the byte offset of the record that could not be read. */
enum src_status src_next(struct pkt_source *s, struct pkt_meta *meta, const uint8_t **data);

/* Keeps only the packets that pass the BPF capture filter `expr` (tcpdump's syntax), as
 * if the file had been captured with it: src_next skips the others. Returns 0, or -1 with
 * libpcap's reason in err. */
#define SRC_MAX_BPF_LINKS 8
int src_set_bpf(struct pkt_source *s, const char *expr, char *err, size_t errlen);

/* Reads again the packet whose record starts at `offset` (src_offset after the src_next
 * that returned it), for showing one packet of a large file without keeping it: the
 * packet src_next returned last is no longer valid, the next src_next goes on where it
 * would have. Files only: standard input cannot be read again (SRC_ERROR). The capture
 * filter is not applied again. */
enum src_status src_read_at(struct pkt_source *s, uint64_t offset, struct pkt_meta *meta, const uint8_t **data);

const char *src_error(const struct pkt_source *s);
/* Reads a pcapng file another process (or this one) is still writing: at its end,
 * src_next returns SRC_EOF and a later call goes on with what was added; a block cut
 * short is read again whole. False when the file is not pcapng (libpcap cannot). */
bool src_set_tail(struct pkt_source *s, bool on);
/* Hands the secrets of the file's Decryption Secrets Blocks (pcapng) to fn as src_next
 * reaches them; pcap files have none. */
void src_set_secrets(struct pkt_source *s, void (*fn)(void *ctx, uint32_t type, const uint8_t *b, size_t n),
		     void *ctx);
/* Ring files (-b) read as one capture, from file number `first` on. At the end of a file
 * the next is read when there is a newer one; a file removed before it was reached is
 * skipped, one removed after reads as an error at src_read_at. Offsets carry the file's
 * number (src_chain_file). Every file is read as src_open_file reads it. */
struct src_files {
	const char *(*path_of)(void *ctx, uint32_t seq); /* NULL: removed, or not written yet */
	uint32_t (*newest)(void *ctx);                   /* the number of the file being written */
	void *ctx;
};
struct pkt_source *src_open_chain(const struct src_files *files, uint32_t first); /* files: copied */
uint32_t src_chain_file(uint64_t offset);
uint64_t src_chain_start(uint32_t seq); /* the offset before file seq's first record */
/* The byte offset of the record src_next read last (or failed at). */
uint64_t src_offset(const struct pkt_source *s);
/* "pcap" or "pcapng". */
const char *src_format(const struct pkt_source *s);
void src_close(struct pkt_source *s);

/* ---- pcap writer (capture/pcap_write.c) ----
 * Writes packets to a pcap file with nanosecond timestamps. One link type per file (pcap
 * has one); pcapng output, which can hold several, comes with its writer. */
struct pcap_writer;
/* Creates path ("-" for standard output). NULL with the reason in err. */
struct pcap_writer *pw_open(const char *path, int linktype, char *err, size_t errlen);
/* 0, or -1 with the reason in err (a full disk, a second link type). Packets written
 * before a failure stay in a valid file. */
int pw_write(struct pcap_writer *w, const struct pkt_meta *m, const uint8_t *data, char *err, size_t errlen);
/* Flushes and closes; 0, or -1 with the reason in err. */
int pw_close(struct pcap_writer *w, char *err, size_t errlen);
/* Bytes written so far (header included). */
uint64_t pw_bytes(const struct pcap_writer *w);

/* ---- pcapng writer (capture/pcapng_write.c) ----
 * Section header (application, OS), interface descriptions, enhanced packet blocks with an
 * optional comment, interface statistics. Nanosecond timestamps. Every call writes whole
 * blocks: what was written before a failure stays a valid file. */
struct pcapng_writer;
/* Creates path ("-": standard output) with its section header; NULL with the reason. */
struct pcapng_writer *pcapng_writer_open(const char *path, const char *app, char *err, size_t errlen);
/* Describes an interface; returns its id for the packets, or -1. */
int pcapng_writer_add_interface(struct pcapng_writer *w, const char *name, int linktype, uint32_t snaplen,
				const char *filter, char *err, size_t errlen);
/* One packet of interface ifid, with an optional comment (not NUL-terminated, the
 * input's) and an optional note (a C string, pktscope's), each an opt_comment. */
int pcapng_writer_packet(struct pcapng_writer *w, int ifid, const struct pkt_meta *m, const uint8_t *data,
			 const char *comment, size_t comment_len, const char *note, char *err, size_t errlen);
/* A record that is not a packet (pkt_meta.record): a journal export entry, or a custom
 * block that may be copied (the caller skips those that may not, as the spec says). */
int pcapng_writer_record(struct pcapng_writer *w, const struct pkt_meta *m, const uint8_t *data, char *err,
			 size_t errlen);
/* A Decryption Secrets Block (type: 0x544c534b for a TLS key log): keys for the packets
 * after it. */
int pcapng_writer_secrets(struct pcapng_writer *w, uint32_t type, const uint8_t *data, size_t n, char *err,
			  size_t errlen);
/* Packets received and dropped on interface ifid, as of the given time. */
int pcapng_writer_stats(struct pcapng_writer *w, int ifid, int64_t sec, uint32_t nsec, uint64_t received,
			uint64_t dropped, char *err, size_t errlen);
/* Writes out what is buffered (a reader of the file sees every whole block); 0 or -1. */
int pcapng_writer_flush(struct pcapng_writer *w, char *err, size_t errlen);
/* Flushes and closes; 0, or -1 with the reason (err may be NULL). */
int pcapng_writer_close(struct pcapng_writer *w, char *err, size_t errlen);
/* Bytes written so far. */
uint64_t pcapng_writer_bytes(const struct pcapng_writer *w);

/* ---- live capture (capture/live.c) ----
 * One libpcap handle per interface, each read by a thread that only copies packets into
 * one bounded ring (a full ring drops the packet and counts it). Nanosecond timestamps. */
#define LIVE_MAX_IFS 16
enum { LIVE_ERR_INPUT = 1, LIVE_ERR_USAGE = 2 }; /* as the exit statuses */
struct live_opts {
	const char *ifaces[LIVE_MAX_IFS];
	int nifs;
	const char *bpf;   /* capture filter, or NULL */
	int snaplen;       /* 0: 262144 */
	int buffer_mb;     /* kernel buffer; 0: 4 */
	int ring_mb;       /* our ring; 0: 32 */
	bool no_promisc;
	bool immediate;    /* packets handed over as they come, not a block at a time (the
			    * monitor: a short-lived socket must still be there when it looks) */
	int block_ms;      /* otherwise a block is handed over when full or this old; 0: 100 */
};
struct live_stats {
	uint64_t captured;        /* packets the thread took from libpcap */
	uint64_t ring_dropped;    /* of which the ring had no room for */
	uint64_t kernel_received, kernel_dropped, if_dropped; /* pcap_stats */
	bool have_kernel;
	const char *error;        /* why the interface stopped early, or NULL */
};
struct live;
/* Opens every interface (a permission error says what to run); NULL with the reason and
 * *why = LIVE_ERR_INPUT or LIVE_ERR_USAGE (a bad capture filter). No thread runs yet. */
struct live *live_open(const struct live_opts *o, char *err, size_t errlen, int *why);
int live_start(struct live *l, char *err, size_t errlen);
/* The next packet, waiting up to timeout_ms (negative: for ever). SRC_EOF with *timed_out
 * set when the wait ended, without it when capture stopped and the ring is drained. The
 * packet is valid until the next call. */
enum src_status live_next(struct live *l, struct pkt_meta *m, const uint8_t **data, int timeout_ms, bool *timed_out);
/* Stops the threads and waits for them; what the ring holds is still returned by
 * live_next. */
void live_stop(struct live *l);
/* A descriptor for poll(2) beside others (the monitor's socket): readable while live_next
 * has a packet to give or a capture thread has ended. Take packets with timeout 0 until
 * it times out; it is readable again when the next packet comes. */
int live_fd(const struct live *l);
int live_count(const struct live *l);
const char *live_ifname(const struct live *l, int i);
int live_linktype(const struct live *l, int i);
void live_stats(struct live *l, int i, struct live_stats *s);
void live_close(struct live *l);

/* ---- privileges (capture/privs.c) ----
 * After the capture handles and output files are open: as root, become `user` (NULL:
 * "nobody"; "root" keeps root); in every case but -Z root, clear all capabilities.
 * 0, or -1 with the reason. */
int priv_drop(const char *user, char *err, size_t errlen);
/* The user priv_drop(user) will become: 1 with its ids, 0 when it will stay who it is
 * (not root, or -Z root), -1 for an unknown user. For files that user must own. */
#include <sys/types.h>
int priv_target(const char *user, uid_t *uid, gid_t *gid);

/* ---- pcapng reader (capture/pcapng_read.c), used by src_open_file ---- */

struct pcapng_reader;
struct pcapng_reader *pcapng_open(FILE *f, const uint8_t first4[4]);
enum src_status pcapng_next(struct pcapng_reader *r, struct pkt_meta *meta, const uint8_t **data);
/* The packet block at offset, read before by pcapng_next; the position is kept. */
enum src_status pcapng_read_at(struct pcapng_reader *r, uint64_t offset, struct pkt_meta *meta, const uint8_t **data);
const char *pcapng_error(const struct pcapng_reader *r);
/* Called with the secrets of each Decryption Secrets Block pcapng_next passes (type:
 * the block's secrets type), before the packets after it are returned. */
typedef void (*pcapng_secrets_fn)(void *ctx, uint32_t type, const uint8_t *b, size_t n);
void pcapng_set_tail(struct pcapng_reader *r, bool on);
void pcapng_set_secrets(struct pcapng_reader *r, pcapng_secrets_fn fn, void *ctx);
uint64_t pcapng_offset(const struct pcapng_reader *r);
void pcapng_close(struct pcapng_reader *r);

#endif
