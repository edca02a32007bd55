/* pipeline/pipeline.h — the one place the engine is assembled for a run.
 *
 * A front end (read, capture, and later the TUI and the monitor) says what the run needs —
 * a display filter, the fields it prints, columns, statistics, pcapng comments — and the
 * pipeline decides from that alone which fields are recorded, whether flows are tracked
 * with TCP analysis, and whether the application decoders run. Two front ends given the
 * same needs decode the same way: the same filter selects the same frames whether its
 * packets are printed, written or counted.
 *
 * A pipeline is an instance: two can run in one process (a background filter beside a
 * display, the monitor beside a capture). It owns its packet record and its flow tracker.
 */
#ifndef PKTSCOPE_PIPELINE_PIPELINE_H
#define PKTSCOPE_PIPELINE_PIPELINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/packet.h"
#include "filter/filter.h"
#include "flow/flow.h"

struct pkt_source;
struct keylog;

/* A name the traffic itself gave a destination, for naming it passively (the egress
 * monitor): a DNS answer gives an address a name, a TLS or QUIC ClientHello's SNI and an
 * HTTP request's Host name the server the packet goes to. */
enum name_source { NAME_DNS, NAME_SNI, NAME_HTTP_HOST };
struct name_event {
	enum name_source source;
	const uint8_t *name;      /* not NUL-terminated; valid during the call */
	uint32_t len;
	const uint8_t *query;     /* DNS: the name asked for (a CNAME chain's start), else NULL */
	uint32_t query_len;
	uint8_t family;           /* 4 or 6 */
	uint8_t addr[16];         /* DNS: the answer's address; SNI, Host: the server's */
	uint16_t port;            /* SNI, Host: the server's port; DNS: 0 */
	uint32_t ttl;             /* DNS: the answer's TTL in seconds */
};
typedef void (*pipeline_name_fn)(void *ctx, const struct packet *p, const struct name_event *e);

/* What a run needs from the engine. Zero means "not needed". */
struct pipeline_needs {
	const struct df_filter *filter;  /* -Y: its fields are recorded, its matches kept */
	const int *fields;               /* fields printed one by one (-T fields -e) */
	int nfields;
	bool all_fields;     /* every field (NDJSON, a detail view, on-demand decoding) */
	bool columns;        /* Source, Destination, Protocol and Info for a text line */
	bool stats;          /* conversation, endpoint and I/O statistics */
	bool hierarchy;      /* the protocol hierarchy: application layers count too */
	bool comments;       /* pcapng output: pktscope's packet comments (TCP analysis, malformed) */
	bool layer_bytes;    /* layers' bytes are read (a hex view): messages decoded outside the
			      * frame are kept with the packet (a filter that slices one asks by itself) */
	bool quiet_packets;  /* some packets are decoded without their line (pipeline_decode_quiet) */
	const struct frame_links *links; /* answers a first pass found (-2), or NULL */
	struct packet_index *index;      /* to fill as packets are decoded (pindex_new), or NULL */
	pipeline_name_fn names;          /* called for each name a decoded packet gives, or NULL */
	void *names_ctx;
	const struct flow_limits *limits; /* NULL: flow_limits_default */
	const struct flow_observer *observer; /* another observer of the run's flows (per-flow
					       * records), or NULL */
	const struct field_mask *extra;  /* fields a consumer of the packets reads, or NULL */
	/* called with each decoded packet before anything reads it; may record fields (the
	 * anomaly rules), or NULL */
	void (*post)(void *ctx, struct packet *p);
	void *post_ctx;
	/* TLS secrets (a --tls-keylog file, the capture's Decryption Secrets Blocks: give the
	 * source's to it with src_set_secrets), or NULL: TLS and QUIC are decrypted with them */
	const struct keylog *keylog;
};

struct pipeline;

/* Assembles the engine for `needs` (copied; the filter, fields and links must outlive
 * the pipeline). dissect_init must have run. */
struct pipeline *pipeline_new(const struct pipeline_needs *needs);
/* Finishes the flows still open (pipeline_finish) if that was not done, and frees. */
void pipeline_free(struct pipeline *pl);

/* Decodes one packet (meta->number set by the caller) and returns its record, valid until
 * the next call. The first packet decoded sets the time frame.time_relative counts from. */
struct packet *pipeline_decode(struct pipeline *pl, const struct pkt_meta *meta, const uint8_t *data);
/* Decodes a packet whose line is not shown (a first pass found it does not match, but its
 * conversation's state is needed for the lines that follow): no columns are built. */
struct packet *pipeline_decode_quiet(struct pipeline *pl, const struct pkt_meta *meta, const uint8_t *data);
/* A packet the run passes over without decoding it: it still counts as the first one for
 * frame.time_relative. */
void pipeline_skip(struct pipeline *pl, const struct pkt_meta *meta);
/* Whether the decoded packet passes the run's filter (true without one). */
bool pipeline_match(const struct pipeline *pl, const struct packet *p);
/* Ends every flow: reassembly delivers what it holds, followers see their close. */
void pipeline_finish(struct pipeline *pl);
/* A live run with no packets for a while: flows idle or closed for longer than the limits
 * allow as of the wall clock now_ns (ns since the epoch, as packet times) end now. */
void pipeline_tick(struct pipeline *pl, int64_t now_ns);

/* The flow tracker, for consumers that attach to flows (follow-stream) or read the table. */
struct flow_tracker *pipeline_tracker(struct pipeline *pl);
/* What was decided, for tests and for consumers that must agree with it. */
bool pipeline_runs_apps(const struct pipeline *pl);
const struct field_mask *pipeline_mask(const struct pipeline *pl); /* NULL: every field */

/* The fields a need implies, added to m: what the application decoders produce is
 * decided from this mask too. */
void pipeline_mask_for(const struct pipeline_needs *needs, struct field_mask *m);

/* ---- the packet index and on-demand decoding (pipeline/index.c) ----
 *
 * A run over a file that will show packets again later (the TUI) gives its pipeline an
 * index: per packet its record's offset and its flows, per flow its packets and stream
 * number (about 28 bytes a packet). pindex_decode then decodes packet N again — reading
 * it and the earlier packets of its conversations from the file — into the fields the
 * streaming pass gave it, flow-dependent ones included (tcp.stream, relative numbers,
 * tcp.analysis.*, application fields of reassembled messages). The indexed run decodes
 * every packet of the file, in order (no prefilter). */
struct packet_index;
/* links: the -2 answers the run uses (kept by pointer), or NULL. */
struct packet_index *pindex_new(const struct frame_links *links);
void pindex_free(struct packet_index *ix);
/* Packets indexed so far. */
uint64_t pindex_count(const struct packet_index *ix);
/* The packet whose record is at `offset` (offsets grow with the packet number), or 0 when
 * none indexed is. */
uint64_t pindex_frame_at(const struct packet_index *ix, uint64_t offset);
/* The first packet whose record is at `offset` or after (pindex_count + 1 when none). */
uint64_t pindex_frame_from(const struct packet_index *ix, uint64_t offset);
/* Decodes packet n (from 1) again with `needs` (filter and index ignored), reading from src
 * — the source the indexed run read, still open, or the same file opened and read to its
 * end again. Returns the record (valid until the next call or pindex_free), or NULL with the
 * reason in err. */
const struct packet *pindex_decode(struct packet_index *ix, struct pkt_source *src, uint64_t n,
				   const struct pipeline_needs *needs, char *err, size_t errlen);
/* For the pipeline: what the tracker reports to the index, and each decoded packet. */
const struct flow_observer *pindex_observer(struct packet_index *ix);
void pindex_note(struct packet_index *ix, const struct packet *p);

/* ---- first passes over a file (pipeline/passes.c) ---- */

/* tshark's -2: decodes the file for DNS, HTTP and ICMP echo answers only and returns the
 * links from each question to its answer (NULL when the file cannot be read again).
 * bpf: the capture filter applied to the file, or NULL; count: 0 or the packets read;
 * keys: the run's TLS secrets (the file's own are added to them), or NULL, in this pass and
 * the two below. */
struct frame_links *pipeline_find_answers(const char *path, const char *bpf, uint64_t count, struct keylog *keys);
/* The reference packet of a filter's ${field} references (Wireshark's selected packet):
 * decodes the file up to frame `n` (its conversations tracked, as the run will) and gives
 * the filter that frame's values (df_set_reference). False when the file has fewer
 * frames or cannot be read again. */
bool pipeline_set_reference(const char *path, const char *bpf, uint64_t n, struct df_filter *filter,
			    struct keylog *keys);
/* The tcp.stream (proto 6) or udp.stream (17) of the first packet the filter matches
 * (decoded with its conversations, as a full run), or -1: what --follow follows when -Y
 * chooses the stream. At most `count` packets (0: all) are read. */
int64_t pipeline_first_stream(const char *path, const char *bpf, uint64_t count, const struct df_filter *filter,
			      uint8_t proto, struct keylog *keys);

/* A quick first pass for a filter over packet-local fields (df_is_packet_local): each
 * packet is judged from its own bytes, with no tracking, no application layers and no
 * columns. It gives the matching frames and, with by_conversation, every frame of the
 * conversations that hold a match: what a matched packet shows (relative sequence
 * numbers, TCP analysis, application Info) comes from its own conversation, so the full
 * pipeline need run only there. */
struct prefilter {
	uint8_t *matched;   /* bitmap by frame number */
	uint8_t *relevant;  /* frames the full pipeline must see (NULL: all) */
	uint64_t nframes, nmatched;
	int first_linktype;
};
/* Something else that looks at every packet of the quick pass, decoded without
 * conversations: the fields it reads, and its hook (the anomaly rules that must see every
 * packet, not just the conversations the full pass decodes). */
struct prefilter_hook {
	const struct field_mask *fields;
	void (*fn)(void *ctx, struct packet *p);
	void *ctx;
};
/* false when the file cannot be read to its end (the main pass reports why). stop: set
 * by a signal handler to end the pass early, or NULL; hook may be NULL. */
bool prefilter_run(const char *path, const char *bpf, uint64_t count, const struct df_filter *filter,
		   bool by_conversation, volatile const sig_atomic_t *stop, const struct prefilter_hook *hook,
		   struct prefilter *pf);
static inline bool prefilter_matched(const struct prefilter *pf, uint64_t frame)
{
	return pf->matched[frame >> 3] & (1u << (frame & 7));
}
static inline bool prefilter_relevant(const struct prefilter *pf, uint64_t frame)
{
	return !pf->relevant || (pf->relevant[frame >> 3] & (1u << (frame & 7)));
}
void prefilter_free(struct prefilter *pf);

#endif
