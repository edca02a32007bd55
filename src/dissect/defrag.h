/* dissect/defrag.h — IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5).
 *
 * The IP decoders hand each fragment here and, when one completes its datagram, decode the
 * transport layer from the whole datagram in that frame, as Wireshark does. This state
 * lives beside the decoders rather than in flow/: a fragment has no ports, so it belongs
 * to no flow, and reassembly must also happen in runs that track no flows (a packet-local
 * filter's first pass), where `udp.srcport` of a reassembled datagram is still asked for.
 *
 * Everything is bounded: bytes per datagram (an IP datagram's largest size), pieces per
 * datagram, datagrams held and bytes held in total, and time. What a bound refuses or
 * evicts is counted (defrag_stats), never fatal.
 */
#ifndef PKTSCOPE_DISSECT_DEFRAG_H
#define PKTSCOPE_DISSECT_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

/* The largest reassembled payload: IPv4's total length is 16 bits, and so is IPv6's
 * payload length (a jumbogram cannot be fragmented, RFC 2675 §3). */
#define DEFRAG_MAX_DATAGRAM 65535u
/* Pieces of one datagram: 64 KiB in 8-byte pieces is 8192; more than that is a tool
 * overlapping on purpose, and each piece costs a record. */
#define DEFRAG_MAX_PIECES 8192u
/* Datagrams waiting for pieces, and the bytes they hold (with each piece's record). */
#define DEFRAG_MAX_HELD 16384u
#define DEFRAG_MAX_BYTES (64u << 20)
/* A datagram whose first piece is older than this (by the capture's clock) is dropped:
 * hosts give up sooner (Linux's ipfrag_time is 30 s, RFC 791 suggests 15 s to start), so
 * nothing a host reassembled is lost. */
#define DEFRAG_TIMEOUT_NS (INT64_C(60) * 1000000000)

struct defrag;

struct defrag_key {
	uint8_t family;      /* 4 or 6 */
	uint8_t proto;       /* IPv4's protocol (part of its key, RFC 791); 0 for IPv6 */
	uint8_t pad[2];
	uint32_t id;         /* IPv4 Identification or IPv6 fragment header Identification */
	uint8_t src[16], dst[16];
};

/* What Wireshark marks on a piece when it puts the datagram together. */
enum defrag_piece_flag {
	DEFRAG_OVERLAP = 1,        /* some of its bytes were already held */
	DEFRAG_CONFLICT = 2,       /* ... and they differ */
	DEFRAG_TOOLONG = 4,        /* it runs past the end the last piece gave */
	DEFRAG_MULTITAIL = 8,      /* a second last piece that ends elsewhere */
};

struct defrag_piece {
	uint64_t frame;
	uint32_t off, len;   /* in the datagram's payload */
	uint8_t flags;       /* enum defrag_piece_flag */
};

struct defrag_done {
	const uint8_t *data; /* the datagram's payload: valid until a fragment of a later frame
			      * is added, or defrag_free */
	uint32_t len;
	const struct defrag_piece *pieces; /* in offset order (ties: arrival order) */
	uint32_t npieces;
	bool errors;         /* any piece conflicts, runs too long or is a second tail */
};

enum defrag_status {
	DEFRAG_HELD,         /* kept, the datagram is not complete */
	DEFRAG_DONE,         /* this piece completed it: *out describes the datagram */
	DEFRAG_REFUSED,      /* over a bound (offset past 64 KiB, too many pieces or bytes) */
};

struct defrag_stats {
	uint64_t completed, refused, expired, evicted; /* evicted: by DEFRAG_MAX_HELD/_BYTES */
	uint32_t held;       /* datagrams waiting now */
	uint64_t held_bytes;
};

struct defrag *defrag_new(void);
void defrag_free(struct defrag *d);

/* Adds the piece `data` (len bytes at byte offset `off` of the payload; `more`: the IP
 * header's more-fragments flag) seen in `frame` at `now_ns`. The bytes are copied. On
 * DEFRAG_DONE, *out describes the datagram until the next call for a later frame. */
enum defrag_status defrag_add(struct defrag *d, const struct defrag_key *k, int64_t now_ns, uint64_t frame,
			      uint32_t off, bool more, const uint8_t *data, uint32_t len, struct defrag_done *out);

struct defrag_stats defrag_stats(const struct defrag *d);

/* The datagrams the pieces of `frame` completed (the frame last given to defrag_add), as
 * their pieces' frames: calls fn once per piece of each. For an index that must read
 * those frames again to decode `frame` again. */
void defrag_completed_in(const struct defrag *d, uint64_t frame, void (*fn)(void *ctx, uint64_t piece_frame),
			 void *ctx);

#endif
