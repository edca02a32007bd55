/* cli/writer.h — the packets a command keeps (-w). */
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
};

/* Whether a -w name asks for pcapng (it ends in .pcapng). */
bool pwriter_wants_pcapng(const char *path);
/* Creates the file now (pcap takes linktype); 0, or -1 with the reason in err. */
int pwriter_open(struct packet_writer *ws, int linktype, char *err, size_t errlen);
/* pcapng: the output interface for input interface `in` (described at first use); -1
 * after printing why. */
int pwriter_iface(struct packet_writer *ws, uint32_t in, int linktype, const char *name);
/* pcapng: an interface statistics block (nothing for pcap); 0, or -1 after printing why. */
int pwriter_iface_stats(struct packet_writer *ws, uint32_t in, int linktype, const char *name, int64_t sec, uint32_t nsec,
			uint64_t received, uint64_t dropped);
/* Writes one packet (opening the file at the first); 0, or -1 after printing why. */
int pwriter_packet(struct packet_writer *ws, const struct pkt_meta *m, const uint8_t *data);
/* Flushes and closes (an empty file gets linktype_if_empty); 0, or -1 after printing why. */
int pwriter_close(struct packet_writer *ws, int linktype_if_empty);

#endif
