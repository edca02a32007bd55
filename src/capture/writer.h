/* capture/writer.h — the packets a command keeps (-w). */
#ifndef PKTSCOPE_CLI_WRITER_H
#define PKTSCOPE_CLI_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"

/* Packets to a file (-w). pcap: opened at the first packet, whose link type the file
 * takes. pcapng (--pcapng or a .pcapng name): one interface block per interface of the
 * input (its name and link type) as its first packet comes, the capture filter on each,
 * and the input's packet comments kept. */

#define WRITER_MAX_IFS 64
struct packet_writer {
	const char *path;
	bool pcapng;
	const char *filter;  /* -f, recorded in the interface blocks */
	uint32_t snaplen;    /* recorded in the interface blocks; 0: 262144 */
	struct pcap_writer *w;
	struct pcapng_writer *ng;
	struct { uint32_t in; int linktype; int out; } ifs[WRITER_MAX_IFS];
	int nifs;
	bool failed;
	/* ring output (-b filesize:KB -b files:N, as dumpcap): a new file PREFIX_NNNNN_TIME.EXT
	 * when the current one reaches ring_bytes; only the newest ring_files are kept */
	uint64_t ring_bytes;       /* 0: one file */
	unsigned ring_files;       /* 0: keep them all */
	unsigned seq;
	char cur[4096];            /* the file being written */
	char **kept;               /* the ring's files still on disk, oldest first; the last is cur */
	unsigned nkept, cap_kept;
	uint64_t closed_bytes;     /* the ring's files written before cur, whether kept or not */
	char err[4400];            /* why the last call failed: "FILE: reason" */
	/* decryption secrets written so far (pcapng): each ring file gets them again */
	struct pwriter_secret { uint32_t type; uint8_t *data; size_t n; } *secrets;
	size_t nsecrets;
	size_t secrets_bytes;      /* at most WRITER_MAX_SECRETS kept */
};
#define WRITER_MAX_SECRETS (16u << 20)

/* Whether a -w name asks for pcapng (it ends in .pcapng). */
bool pwriter_wants_pcapng(const char *path);
/* Creates the file now (pcap takes linktype); 0, or -1 with the reason in err. */
int pwriter_open(struct packet_writer *ws, int linktype, char *err, size_t errlen);
/* pcapng: the output interface for input interface `in` (described at first use); -1
 * with the reason in ws->err. */
int pwriter_iface(struct packet_writer *ws, uint32_t in, int linktype, const char *name);
/* pcapng: an interface statistics block (nothing for pcap); 0, or -1 (ws->err). */
int pwriter_iface_stats(struct packet_writer *ws, uint32_t in, int linktype, const char *name, int64_t sec, uint32_t nsec,
			uint64_t received, uint64_t dropped);
/* Writes one packet (opening the file at the first); 0, or -1 (ws->err). p, when
 * the packet was decoded, gives pcapng a comment of pktscope's own: its TCP analysis
 * flags and why it is malformed (the run must record those fields: pwriter_mask_add). */
int pwriter_packet(struct packet_writer *ws, const struct pkt_meta *m, const uint8_t *data, const struct packet *p);
/* pcapng: the input's decryption secrets (a Decryption Secrets Block), kept in the file
 * before the packets that follow (pcap has no place for them); 0, or -1 (ws->err). */
int pwriter_secrets(struct packet_writer *ws, uint32_t type, const uint8_t *data, size_t n);
/* Writes out what is buffered, so a reader of the file sees every packet written so far
 * (the TUI indexing the file live capture writes); 0, or -1 (ws->err). */
int pwriter_flush(struct packet_writer *ws);
/* The file number `seq` of the output (ring files count from 1; without a ring the one
 * file is 1), or NULL when it was removed (-b files:N) or is not written yet. */
const char *pwriter_ring_path(const struct packet_writer *ws, uint32_t seq);
/* The number of the file being written (1 without a ring). */
uint32_t pwriter_ring_newest(const struct packet_writer *ws);
/* Bytes written to every file of the output so far. */
uint64_t pwriter_bytes_total(const struct packet_writer *ws);
/* Adds the fields pwriter_packet's comments use to m. */
void pwriter_mask_add(struct field_mask *m);
/* Parses one -b option (filesize:KB or files:N) into ws; 0, or -1. */
int pwriter_ring_option(struct packet_writer *ws, const char *opt);
/* Flushes and closes (an empty file gets linktype_if_empty); 0, or -1 (ws->err; a
 * failure ws->err already holds is not replaced). */
int pwriter_close(struct packet_writer *ws, int linktype_if_empty);

#endif
