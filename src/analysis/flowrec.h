/* analysis/flowrec.h — per-flow records: one row per conversation, as Zeek's conn.log
 * keeps them, from the flow table (counters, handshake and smoothed RTT, TCP analysis
 * counts, history) and from the packets' application fields (SNI, HTTP host, DNS name,
 * JA4/JA4S, the application protocol). `pktscope read --stats flows` prints them; the TUI
 * shows them.
 *
 * Feed it two ways: its flow observer on the run's tracker (pipeline_needs.observer), and
 * each decoded packet (flowrec_packet) with the fields flowrec_mask_add names recorded.
 * Records are bounded (FLOWREC_MAX); flows past it are counted, not kept.
 */
#ifndef PKTSCOPE_ANALYSIS_FLOWREC_H
#define PKTSCOPE_ANALYSIS_FLOWREC_H

#include <stdbool.h>
#include <stdint.h>

#include "flow/flow.h"
#include "util/sbuf.h"

/* Records kept: about 200 bytes each plus their names, so 1M flows is ~250 MB at most. */
#define FLOWREC_MAX (1u << 20)
#define FLOWREC_NAME_MAX 255  /* a name longer than this is cut */

/* The JSON schema's version (README, "Per-flow records"): bump it when a key changes. */
#define FLOWREC_SCHEMA 1

struct flow_records;

struct flow_records *flowrec_new(void);
void flowrec_free(struct flow_records *fr);
/* The observer to add to the run's tracker. */
const struct flow_observer *flowrec_observer(struct flow_records *fr);
/* The fields flowrec_packet reads: add them to the run's mask. */
void flowrec_mask_add(struct field_mask *m);
/* A decoded packet: its application fields go to its flow's record. When `matched` is
 * false (a -Y filter did not select it) it only feeds names; flows none of whose packets
 * matched are left out of the table. */
void flowrec_packet(struct flow_records *fr, const struct packet *p, bool matched);
/* Whether a filter selects flows (only matched flows are printed). */
void flowrec_set_filtered(struct flow_records *fr, bool filtered);

/* After pipeline_finish (every flow ended): the table in text, or one JSON object per
 * flow per line (schema FLOWREC_SCHEMA). */
void flowrec_print(struct flow_records *fr, struct sbuf *sb, bool json);

/* One record, for tests and the TUI: by position in start order; false past the end. Its
 * strings are valid until the next call. */
struct flowrec_view {
	uint8_t proto, family;
	const uint8_t *client, *server;  /* addresses (4 or 16 bytes) */
	uint16_t client_port, server_port;
	int64_t stream;                  /* tcp.stream / udp.stream, -1 for other protocols */
	uint64_t first_frame;
	int64_t first_ns, last_ns;
	uint64_t packets[2], bytes[2], payload[2]; /* [0]: client to server */
	const char *state, *history, *app, *sni, *http_host, *dns_name, *ja4, *ja4s, *community_id;
	int64_t initial_rtt_ns, srtt_ns;
	struct flow_counts counts;
};
size_t flowrec_count(const struct flow_records *fr);
bool flowrec_get(struct flow_records *fr, size_t i, struct flowrec_view *v);

#endif
