/* flow/flow.h — the flow module: bidirectional conversations and the state that turns
 * single packets into them.
 *
 * The flow table keys TCP, UDP and other IP traffic by its 5-tuple in canonical order,
 * numbers TCP and UDP conversations as Wireshark's tcp.stream and udp.stream do, keeps
 * per-direction counters and TCP analysis state, and evicts idle, closed and (at its hard
 * cap) least recently used flows, handing each evicted flow to a callback first. The
 * tracker (flow_tracker) plugs the table into decoding through dissect's `struct tracker`.
 */
#ifndef PKTSCOPE_FLOW_FLOW_H
#define PKTSCOPE_FLOW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/packet.h"
#include "dissect/app.h"
#include "util/hash.h"

/* Unacknowledged segments remembered per direction for RTT samples. The list grows with
 * the data in flight, up to this cap; past it the oldest are forgotten (only RTT samples
 * are lost). */
#define FLOW_MAX_UNACKED 4096
/* ... and across all flows: 1M entries (32 MB). Past it no new segment is remembered. */
#define FLOW_MAX_UNACKED_TOTAL (1u << 20)

struct flow_key {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IP protocol */
	uint16_t port[2];
	uint8_t addr[2][16];
};

struct tcp_unacked {
	uint32_t seq, nextseq;
	uint64_t frame;
	int64_t time_ns;
	bool retransmitted; /* Karn's rule: no SRTT sample from it */
};

struct tcp_side {
	bool base_set, nextseq_set, lastack_set, syn_seen, fin_seen;
	bool bif_off;               /* bytes in flight unknown: a segment was lost, no ACK since */
	int8_t wscale_opt;          /* shift from this side's SYN, -1 when it had none */
	uint32_t base_seq;
	uint32_t nextseq;           /* highest seq + len seen */
	int64_t nextseq_time;
	uint32_t maxseqtobeacked;
	uint32_t lastack;
	int64_t lastack_time;
	uint64_t lastnondupack;
	int32_t dupacknum;          /* -1: an ACKed-unseen was reported while this side stalled */
	uint32_t window;            /* last window, scaled when the scale is known */
	bool window_set;
	uint32_t last_flags;        /* analysis flags of this side's previous segment */
	struct tcp_unacked *unacked; /* owned; freed with the flow */
	uint32_t nunacked, cap_unacked;
};

/* Zeek's conn.log history letters, one bit each per direction (uppercase for the client,
 * lowercase for the server when printed): what this side sent at least once. */
enum flow_history {
	FH_SYN = 1u << 0,        /* S: a SYN without ACK */
	FH_SYNACK = 1u << 1,     /* H: a SYN with ACK */
	FH_ACK = 1u << 2,        /* A: a pure ACK */
	FH_DATA = 1u << 3,       /* D: payload */
	FH_FIN = 1u << 4,        /* F */
	FH_RST = 1u << 5,        /* R */
	FH_RETRANS = 1u << 6,    /* T: a retransmission */
	FH_ZEROWIN = 1u << 7,    /* W: a zero window */
};

struct flow_side {
	uint64_t packets, bytes;  /* bytes: on the wire (frame lengths) */
	uint64_t payload;         /* TCP segment or UDP datagram payload bytes */
	uint8_t history;          /* enum flow_history */
};

/* TCP analysis events counted per flow (the per-flow record shows them). */
struct flow_counts {
	uint32_t retransmissions, fast_retransmissions, spurious_retransmissions, out_of_order, lost_segments,
		 dup_acks, zero_windows, keep_alives;
};

#define FLOW_NO_TIME INT64_MIN
#define COMMUNITY_ID_LEN 31 /* "1:" + 28 base64 characters + NUL */

struct flow {
	struct flow_key key;
	struct flow *hnext;                 /* hash chain */
	uint64_t hash;                      /* of key: growing and evicting hash nothing again */
	struct flow *lru_prev, *lru_next;   /* least recently used first */
	uint64_t serial;                    /* creation order, from 0 */
	int64_t stream;                     /* tcp.stream / udp.stream, -1 for other protocols */
	int64_t first_ns, last_ns;
	uint64_t first_frame;
	struct flow_side side[2];           /* [i]: sent by key endpoint i */
	/* TCP: allocated for TCP flows only (UDP and other flows do not pay for it) */
	struct tcp_side *tcp;
	bool rst_seen;
	int64_t syn_ns, synack_ns;          /* handshake times, FLOW_NO_TIME when not seen */
	int64_t initial_rtt_ns;             /* SYN to the ACK that completes the handshake, -1 */
	int64_t srtt_ns;                    /* smoothed RTT (RFC 6298), -1 before a sample */
	struct flow_counts counts;          /* TCP analysis events, when the run analyses */
	char community_id[COMMUNITY_ID_LEN];
	int8_t client_dir;                  /* which key endpoint sent the first packet */
	struct reasm *reasm;                /* set when a consumer follows this TCP flow */
	const struct stream_consumer *consumer; /* a follower of this flow's bytes, or NULL */
	void *consumer_ctx;
	struct app_flow *app;               /* application decoders' state (dissect/app.h) */
	bool app_off;                       /* nothing here for them: no more bytes fed */
};

struct flow_limits {
	size_t max_flows;          /* hard cap; the least recently used flow goes first */
	int64_t idle_ns;           /* flows idle this long (capture time) are evicted */
	int64_t closed_linger_ns;  /* closed TCP flows are kept this long for late segments */
};

/* Defaults: 262144 flows (≈ 110 MB at most), 10 minutes idle, 2 minutes after closing. */
void flow_limits_default(struct flow_limits *l);

struct flow_table;
typedef void (*flow_evict_fn)(void *ctx, const struct flow *f);

struct flow_table *flow_table_new(const struct flow_limits *limits, flow_evict_fn on_evict, void *ctx);
/* Evicts (reporting) every flow still in the table, then frees it. */
void flow_table_free(struct flow_table *t);

/* Builds the canonical key for a packet between (a, aport) and (b, bport); *dir is 0 when
 * a is the key's endpoint 0, else 1. */
void flow_key_make(struct flow_key *k, uint8_t family, uint8_t proto, const uint8_t *a, uint16_t aport,
		   const uint8_t *b, uint16_t bport, int *dir);
/* Finds the flow, or creates it (evicting to stay under the cap). *created says which. */
struct flow *flow_lookup_or_insert(struct flow_table *t, const struct flow_key *k, int64_t now_ns, bool *created);
/* Removes a flow now (reporting it), e.g. when its 5-tuple is reused for a new stream. */
void flow_evict(struct flow_table *t, struct flow *f);
/* Evicts flows idle or closed for longer than the limits allow, as of now_ns. */
void flow_expire(struct flow_table *t, int64_t now_ns);

struct flow_stats {
	uint64_t flows_created, flows_evicted_idle, flows_evicted_closed, flows_evicted_cap;
	size_t flows_now, buckets;
	size_t unacked_now;  /* unacknowledged segments remembered for RTT, all flows */
};
void flow_table_stats(const struct flow_table *t, struct flow_stats *out);
/* Evicts (reporting) every flow. */
void flow_table_evict_all(struct flow_table *t);

/* The next stream number for a new conversation of this protocol (tcp.stream, udp.stream). */
int64_t flow_next_stream(struct flow_table *t, uint8_t proto);
/* The stream number an evicted flow with this key had, or -1. Evicted flows leave only
 * (key hash, stream) behind, in a bounded map (FLOW_RETIRED_MAX entries, 16 bytes each),
 * so a 5-tuple that comes back keeps its number as tshark's does. */
int64_t flow_retired_stream(struct flow_table *t, const struct flow_key *k);

#define FLOW_RETIRED_MAX (1u << 22)

/* ---- Community ID v1 (flow/community_id.c) ---- */

/* The Community ID of a flow from saddr:sport to daddr:dport (either direction gives the
 * same ID); for ICMP/ICMPv6 sport is the type and dport the code. */
void community_id_v1(char out[COMMUNITY_ID_LEN], uint16_t seed, uint8_t family, const uint8_t *saddr,
		     const uint8_t *daddr, uint8_t proto, uint16_t sport, uint16_t dport);

/* ---- stream reassembly (flow/reassembly.c) ----
 *
 * A consumer registered for a flow receives each direction's bytes in order, once, as
 * chunks from the frames that carried them, plus gap and close events. Policy for
 * overlapping data: the first bytes received for a sequence range win; a retransmission
 * only contributes bytes beyond what was already delivered. Out-of-order segments are
 * held (copied) until the hole before them fills; if the hole stays open past the caps
 * below, it is reported as a gap and skipped, so one lost segment cannot stall a stream.
 * UDP datagrams of a flow with a consumer arrive as one chunk each. */
#define REASM_MAX_HELD_PER_DIR (1u << 20)   /* 1 MiB of out-of-order data per direction */
#define REASM_MAX_SEGS_PER_DIR 1024         /* held segments per direction */
#define REASM_MAX_HELD_TOTAL (64u << 20)    /* 64 MiB held across all streams */

struct stream_consumer {
	/* n bytes of direction dir (0: the flow's client, the sender of its first packet) */
	void (*data)(void *cctx, const struct flow *f, int dir, const uint8_t *p, size_t n, uint64_t frame);
	/* len bytes of direction dir that were never captured and are skipped */
	void (*gap)(void *cctx, const struct flow *f, int dir, uint64_t len, uint64_t frame);
	/* the flow ended (FIN/RST both ways done, evicted, or end of input) */
	void (*close)(void *cctx, const struct flow *f);
};

/* Chooses a consumer for a new TCP or UDP flow (return NULL for none). */
typedef const struct stream_consumer *(*flow_select_fn)(void *ctx, const struct flow *f, void **cctx);

/* One tracker's reassembly: its counts, and the bytes it holds out of order now, which
 * REASM_MAX_HELD_TOTAL caps (every reasm_* call of one tracker is given the same one). */
struct reasm_stats {
	uint64_t bytes_delivered, gaps, gap_bytes, overlap_bytes, dropped_cap_bytes;
	size_t held_now;
};

struct reasm;
struct reasm *reasm_new(const struct stream_consumer *c, void *cctx);
/* One TCP segment of direction dir: seq is raw, len the segment length by IP, captured
 * the bytes present (a snapshot length may cut them; the rest becomes a gap). */
void reasm_tcp(struct reasm *r, const struct flow *f, int dir, uint32_t seq, uint16_t flags,
	       const uint8_t *payload, uint32_t len, uint32_t captured, uint64_t frame, struct reasm_stats *st);
/* Delivers what is held (with gaps), reports close and frees r. */
void reasm_finish(struct reasm *r, const struct flow *f, struct reasm_stats *st);

/* ---- the tracker: flow state for decoding (flow/tracker.c) ---- */

struct flow_tracker;
struct flow_tracker *flow_tracker_new(const struct flow_limits *limits, flow_evict_fn on_evict, void *ctx);
void flow_tracker_free(struct flow_tracker *tr);
/* The dissect-side interface to set as packet->tracker. */
const struct tracker *flow_tracker_iface(struct flow_tracker *tr);
struct flow_table *flow_tracker_table(struct flow_tracker *tr);
/* Sets who may follow new flows' bytes (one selector per tracker). */
void flow_tracker_set_selector(struct flow_tracker *tr, flow_select_fn select, void *ctx);
/* Turns the application decoders (DNS matching, TLS, HTTP, HTTP/2, QUIC) on or off;
 * off, TCP flows are reassembled only for a follower. */
void flow_tracker_set_app(struct flow_tracker *tr, bool on);
/* Ends every flow (consumers see their close), e.g. at the end of the input. */
void flow_tracker_finish(struct flow_tracker *tr);
/* Evicts the flows idle or closed for longer than the limits allow as of now_ns: a live
 * run calls it on the wall clock when packets stop coming, so quiet flows still end. */
void flow_tracker_expire(struct flow_tracker *tr, int64_t now_ns);

/* What the tracker tells an observer (the packet index, the egress monitor): a flow is
 * created (its stream number set), a packet of it is tracked (quoted copies inside ICMP
 * errors are not packets of the flow), a flow leaves the table. Any callback may be NULL. */
struct flow_observer {
	void (*flow_new)(void *ctx, const struct flow *f, const struct packet *p);
	void (*flow_packet)(void *ctx, const struct flow *f, const struct packet *p);
	void (*flow_end)(void *ctx, const struct flow *f);
	void *ctx;
};
/* Adds an observer (up to FLOW_MAX_OBSERVERS; the packet index, per-flow records, the
 * monitor); the struct must outlive the tracker's use. */
#define FLOW_MAX_OBSERVERS 4
void flow_tracker_add_observer(struct flow_tracker *tr, const struct flow_observer *o);
/* Stream numbers decided elsewhere, for decoding a packet again with only the packets its
 * conversations need: the tcp.stream / udp.stream the flow keyed k, created by packet
 * `frame`, had in the first pass, or -1 for the usual numbering. */
typedef int64_t (*flow_stream_fn)(void *ctx, const struct flow_key *k, uint64_t frame);
void flow_tracker_set_streams(struct flow_tracker *tr, flow_stream_fn fn, void *ctx);
const struct reasm_stats *flow_tracker_reasm_stats(const struct flow_tracker *tr);

/* ---- TCP analysis (flow/tcp_analysis.c) ---- */

enum tcp_analysis_flag {
	TA_RETRANSMISSION = 1u << 0,
	TA_FAST_RETRANSMISSION = 1u << 1,
	TA_SPURIOUS_RETRANSMISSION = 1u << 2,
	TA_OUT_OF_ORDER = 1u << 3,
	TA_LOST_SEGMENT = 1u << 4,
	TA_ACK_LOST_SEGMENT = 1u << 5,
	TA_DUPLICATE_ACK = 1u << 6,
	TA_ZERO_WINDOW = 1u << 7,
	TA_ZERO_WINDOW_PROBE = 1u << 8,
	TA_WINDOW_FULL = 1u << 9,
	TA_WINDOW_UPDATE = 1u << 10,
	TA_KEEP_ALIVE = 1u << 11,
	TA_KEEP_ALIVE_ACK = 1u << 12,
	TA_REUSED_PORTS = 1u << 13,
};

struct tcp_analysis {
	uint32_t flags;
	int32_t dupack_num;
	uint64_t dupack_frame;
	uint64_t acks_frame;     /* 0: none */
	bool in_flight_known;    /* a data segment whose bytes in flight are known */
	int64_t ack_rtt_ns;
};

/* The flow table's account of unacknowledged segments remembered across its flows (against
 * FLOW_MAX_UNACKED_TOTAL): tcp_analyze and tcp_side_release keep it. */
size_t *flow_table_unacked(struct flow_table *t);
/* Frees a side's unacknowledged-segment list (when its flow goes), keeping the account. */
void tcp_side_release(struct tcp_side *side, size_t *unacked_total);

/* Runs Wireshark's sequence analysis for one segment sent by side `dir` of flow f.
 * `window` is the segment's window already scaled (or raw when the scale is unknown). */
void tcp_analyze(struct flow *f, int dir, const struct tcp_segment *s, uint32_t window, uint64_t frame,
		 int64_t now_ns, size_t *unacked_total, struct tcp_analysis *out);

#endif
