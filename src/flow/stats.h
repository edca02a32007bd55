/* flow/stats.h — capture statistics (part of the flow module): conversations and
 * endpoints per layer, the protocol hierarchy and I/O per interval. The TUI of a later
 * issue draws the same numbers; output/stats.c prints them as tshark does and as JSON. */
#ifndef PKTSCOPE_FLOW_STATS_H
#define PKTSCOPE_FLOW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/packet.h"

enum stats_kind { STATS_ETH, STATS_IP, STATS_IPV6, STATS_TCP, STATS_UDP, STATS_KINDS };
enum stats_table { STATS_CONV, STATS_ENDPOINTS };

/* two endpoints of (length, 16-byte address, port), then for TCP conversations the stream
 * number: tshark gives a reused 5-tuple (a new tcp.stream) a row of its own */
#define STATS_KEY_LEN 46

struct stats_row {
	uint8_t key[STATS_KEY_LEN]; /* endpoint i at key + 19 * i: len, addr[16], port (BE) */
	uint8_t a_is_first;         /* conversations: the key endpoint that sent first (A) */
	uint64_t frames[2], bytes[2]; /* conv: [0] A->B, [1] B->A; endpoints: [0] tx, [1] rx */
	int64_t first_ns, last_ns;
};

struct phs_node {
	uint16_t proto;   /* field id of the protocol */
	int parent;       /* index, -1 at the root */
	uint64_t frames, bytes;
};

/* I/O statistics keep at most this many intervals; the last one takes the rest. */
#define IO_MAX_INTERVALS (1u << 20)

struct io_bucket {
	uint64_t frames, bytes;
};

struct stats;
struct stats *stats_new(void);
void stats_free(struct stats *s);
void stats_want(struct stats *s, enum stats_table t, enum stats_kind k);
void stats_want_phs(struct stats *s);
void stats_want_io(struct stats *s, int64_t interval_ns);
/* Counts one decoded packet into every table asked for. */
void stats_packet(struct stats *s, const struct packet *p);

const char *stats_kind_name(enum stats_kind k);
int stats_kind_parse(const char *s);
/* Rows in order of first appearance; *overflow counts packets a full table left out. */
const struct stats_row *stats_rows(const struct stats *s, enum stats_table t, enum stats_kind k, size_t *n,
				   uint64_t *overflow);
const struct phs_node *stats_phs(const struct stats *s, size_t *n);
const struct io_bucket *stats_io(const struct stats *s, size_t *n, int64_t *interval_ns);
void stats_span(const struct stats *s, int64_t *first_ns, int64_t *last_ns, uint64_t *frames, uint64_t *bytes);

#endif
