/* analysis/diff.h — comparing two captures of the same traffic (taken at two points of a
 * path, or before and after a filter) packet by packet.
 *
 * Packets match by their bytes, timestamps excluded; with ignored fields (what routers
 * and NAT rewrite: ip.ttl, ip.checksum, eth.src…) the bytes those fields occupy are left
 * out. A 64-bit hash only finds candidates: a match is confirmed byte for byte. Copies of
 * one packet match as a multiset, in order: the first copy in A with the first in B.
 *
 * The caller feeds packets from either side in any interleaving (diff_add); a packet
 * whose twin has not come yet waits. Memory therefore grows with the packets waiting,
 * not with the files: feeding the side with fewer waiting packets keeps it small
 * (diff_next_side says which).
 */
#ifndef PKTSCOPE_ANALYSIS_DIFF_H
#define PKTSCOPE_ANALYSIS_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect/packet.h"

#define DIFF_MAX_IGNORE 32

struct diff;

/* ignore: field ids whose bytes are not compared (packet-local fields only). */
struct diff *diff_new(const int *ignore, int nignore);
void diff_free(struct diff *d);

/* Adds packet `m` (its number is its frame number in its file) of side 0 (A) or 1 (B). */
void diff_add(struct diff *d, int side, const struct pkt_meta *m, const uint8_t *data);
/* The side to read next (0 or 1) to keep the waiting packets few. */
int diff_next_side(const struct diff *d);

struct diff_totals {
	uint64_t packets[2];  /* added per side */
	uint64_t common;      /* matched pairs */
	uint64_t only[2];     /* left waiting at the end */
	uint64_t peak_waiting; /* the most packets waiting at once */
};
struct diff_totals diff_totals(const struct diff *d);

/* The packets only one side has, in frame order (after all were added): calls fn for
 * each, with its meta and bytes, up to `max` per side (0: all). */
typedef void (*diff_extra_fn)(void *ctx, int side, const struct pkt_meta *m, const uint8_t *data);
void diff_extras(struct diff *d, int side, uint64_t max, diff_extra_fn fn, void *ctx);

#endif
