/* dissect/packet.h — the per-packet record: what decoders fill and every consumer reads.
 *
 * A decoder reads the frame only through a bounded cursor (util/cursor.h) and records each
 * value it parses as (field id, typed value, offset, length, the buffer the offset refers
 * to, the layer or subtree it belongs to). Every consumer — text summaries, NDJSON,
 * `-T fields`, the display filter, the detail tree — reads that one record. Nothing here
 * allocates per packet: the record lives in a `struct packet` that the caller reuses, with
 * a small bump arena for strings a decoder builds. Also here: the interface the flow
 * module implements to give decoders conversation state, and -2's forward links.
 */
#ifndef PKTSCOPE_DISSECT_PACKET_H
#define PKTSCOPE_DISSECT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cursor.h"
#include "util/sbuf.h"
#include "dissect/registry.h"

/* Caps on what one packet can make us record: a hostile frame made of 1-byte options
 * must not turn into unbounded work. Overflow is marked on the packet, never fatal. */
#define PKT_MAX_FIELDS 1024
#define PKT_MAX_PROTOS 48
#define PKT_MAX_DEPTH 24     /* nested encapsulations (VLAN stacks, IP-in-IP, ext headers) */
#define PKT_ARENA_SIZE 65536 /* strings a decoder builds or copies (tcp.flags.str, DNS names,
			      * HTTP headers, TLS strings from reassembled streams) */
#define PKT_INFO_MAX 480

union fvalue {
	uint64_t u;
	int64_t i;
	uint8_t addr[16];
	struct { const uint8_t *p; uint32_t n; } b;   /* bytes and strings, not NUL-terminated */
	struct { int64_t sec; uint32_t nsec; } t;
	double d;
};

/* Which bytes a field's (off, len) describes: one of the packet's buffers. Buffer 0 is the
 * frame; a message decoded from bytes the frame does not hold in one piece — a TCP message
 * reassembled from several segments, a decrypted QUIC payload, a DoH body — is a buffer of
 * its own (pk_msg_begin). A message that lies within the frame is described in frame
 * offsets, as Wireshark's tree does. */
enum pkt_buf_kind { PB_FRAME, PB_REASSEMBLED, PB_DECRYPTED };
#define PKT_MAX_BUFS 32      /* messages of other buffers in one packet; more are PKT_BUF_NONE */
#define PKT_BUF_NONE 0xff    /* a field whose bytes are in no buffer the packet describes */
#define PKT_NO_PARENT 0xffff /* a layer of the packet itself, or a parent that was not recorded */

struct fval {
	uint16_t id;
	uint8_t nest;     /* 0, or 1+ inside a quoted packet (ICMP error) */
	uint8_t neg;      /* FT_RELTIME: the difference is negative (sec and nsec are its size) */
	uint32_t off;     /* byte range (offset, length) in buffer `buf`, for slices and the hex view */
	uint32_t len;
	union {
		struct {
			uint8_t buf;      /* index into packet.bufs, or PKT_BUF_NONE */
			uint8_t unused;
			uint16_t parent;  /* index into packet.fields of the layer or subtree holding
					   * this value (a DNS answer's fields, one TLS extension's), or
					   * PKT_NO_PARENT */
		};
		uint32_t where;   /* the three at once, copied from packet.cur_where */
	};
	union fvalue v;
};
_Static_assert(sizeof(struct fval) == 32, "the per-value record stays 32 bytes");

struct pkt_buf {
	const uint8_t *p;  /* the bytes; NULL when the run keeps no layer bytes (keep_bufs) */
	uint32_t n;
	uint8_t kind;      /* enum pkt_buf_kind */
};
#define PKT_STORE_SIZE (1u << 20) /* bytes of reassembled/decrypted messages kept per packet */

enum pk_work_kind { PK_WORK_TLS_HELLO, PK_WORK_QUIC_HEADER, PK_WORK_KINDS };

enum addr_type { AT_NONE, AT_ETHER, AT_IPV4, AT_IPV6, AT_OTHER };

/* How a column names an 802.11 address that is only a receiver or transmitter: "(RA)". */
enum addr_role { ADDR_ROLE_NONE, ADDR_ROLE_RA, ADDR_ROLE_TA };

struct addr {
	uint8_t type;
	uint8_t len;
	uint8_t role;         /* enum addr_role */
	uint8_t a[16];
};

/* Link types (LINKTYPE_* values as stored in pcap and pcapng files). */
enum {
	LT_NULL = 0, LT_ETHERNET = 1, LT_RAW_DLT12 = 12, LT_RAW_DLT14 = 14, LT_RAW = 101,
	LT_FDDI = 10, LT_PPP = 9, LT_PPP_HDLC = 50, LT_C_HDLC = 104, LT_LOOP = 108, LT_LINUX_SLL = 113,
	LT_IEEE802_11 = 105, LT_IEEE802_11_RADIOTAP = 127, LT_PPI = 192, LT_IPNET = 226, LT_IPV4 = 228, LT_IPV6 = 229, LT_NFLOG = 239,
	LT_PKTAP = 258, LT_LINUX_SLL2 = 276,
};

struct pkt_meta {
	uint64_t number;      /* from 1 */
	int64_t ts_sec;
	uint32_t ts_nsec;
	uint8_t ts_digits;    /* 6 (µs) or 9 (ns): the capture's precision */
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t ifindex;
	int linktype;         /* LINKTYPE_* value as in the file */
	const char *ifname;   /* may be NULL */
	const uint8_t *comment;
	uint32_t comment_len;
	const uint8_t *note;  /* a comment pktscope wrote ("pktscope: ..."), the first comment or another */
	uint32_t note_len;
	uint64_t offset;      /* the record's byte offset in its file (src_read_at), 0 live */
	/* A pcapng record that is not a packet is a frame too, numbered as Wireshark numbers
	 * it: a custom block (data: its bytes after the enterprise number) or a systemd
	 * journal export entry. Such records, and simple packet blocks, may have no time. */
	uint8_t record;       /* enum pkt_record */
	bool no_time;         /* ts_sec/ts_nsec are 0 and mean nothing (an SPB, a custom block) */
	bool copy_ok;         /* a custom block that may be copied to a new file */
	uint32_t pen;         /* a custom block's private enterprise number */
};
enum pkt_record { PKT_RECORD_PACKET, PKT_RECORD_CUSTOM, PKT_RECORD_JOURNAL };

/* A packet's time in nanoseconds since the epoch, for differences and timeouts. A file
 * may hold any 64-bit timestamp (pcapng's are 64-bit counts of its units): times are
 * clamped to ±2^62 ns (years 1824 to 2116) so that the difference of any two, and its
 * negation, fits in 64 bits. */
#define PK_TIME_MAX_NS (INT64_C(1) << 62)
static inline int64_t pk_time_ns(const struct pkt_meta *m)
{
	const int64_t max_sec = PK_TIME_MAX_NS / 1000000000;
	if (m->ts_sec >= max_sec) return PK_TIME_MAX_NS;
	if (m->ts_sec <= -max_sec) return -PK_TIME_MAX_NS;
	return m->ts_sec * 1000000000 + m->ts_nsec;
}

struct packet;
struct defrag;

/* ---- conversation tracking: an interface the flow module implements ----
 *
 * The TCP and UDP decoders describe each segment here and, when the packet has a tracker,
 * hand it over before writing Info. The tracker records its fields (tcp.stream, relative
 * numbers, tcp.analysis.*) into the packet and fills the `out` part. Without a tracker
 * (no flow state wanted) the decoders print raw numbers. Quoted packets are never tracked. */
/* TCP header flags (RFC 9293 §3.1; AE is RFC 3540's, ECE and CWR RFC 3168's). */
enum tcp_flag {
	TCP_FIN = 0x001, TCP_SYN = 0x002, TCP_RST = 0x004, TCP_PSH = 0x008, TCP_ACK = 0x010,
	TCP_URG = 0x020, TCP_ECE = 0x040, TCP_CWR = 0x080, TCP_AE = 0x100, TCP_RESERVED = 0xe00,
};

struct tcp_segment {
	/* in */
	uint8_t family;            /* 4 or 6 */
	const uint8_t *src, *dst;  /* network addresses (4 or 16 bytes) */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags;
	uint16_t window;           /* as on the wire */
	int8_t wscale;             /* window scale option's shift, -1 when absent */
	uint32_t len;              /* payload bytes by the IP length */
	uint32_t captured;         /* of which present in the frame */
	const uint8_t *payload;
	uint32_t payload_off;      /* frame offset of the payload */
	uint32_t hdr_off;          /* frame offset of the TCP header */
	bool quoted;               /* inside an ICMP error: numbered, not counted or analysed */
	/* out */
	bool relative;             /* seq/ack below are relative */
	uint32_t rel_seq, rel_ack, nxtseq;
	int64_t window_scaled;     /* -1: scale unknown, Info shows the raw window */
	char note[64];             /* Info prefix, e.g. "[TCP Retransmission] " */
};

struct udp_datagram {
	bool quoted;
	uint8_t family;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t len;
	const uint8_t *payload;
};

/* Any other IP protocol (ICMP and ICMPv6 with their type and code as "ports", else 0). */
struct ip_datagram {
	uint8_t family;
	const uint8_t *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
};

struct tracker {
	void (*tcp)(void *ctx, struct packet *p, struct tcp_segment *s);
	/* After the TCP layer is recorded and its Info written: the segment's payload, for
	 * reassembly and the application decoders (which may replace Protocol and Info). */
	void (*tcp_payload)(void *ctx, struct packet *p, const struct tcp_segment *s);
	void (*udp)(void *ctx, struct packet *p, struct udp_datagram *d);
	void (*other)(void *ctx, struct packet *p, struct ip_datagram *d);
	void *ctx;
};


/* Forward references a first pass over a file found (tshark's -2): the frame that
 * answered a DNS query or an HTTP request, which one pass cannot know when it decodes the
 * question. At most FRAME_LINKS_MAX are kept (16 bytes each); past that the rest are not. */
enum link_kind { LINK_DNS, LINK_HTTP, LINK_ECHO, LINK_IPFRAG }; /* IPFRAG's key: 4 or 6 */
#define FRAME_LINKS_MAX (4u << 20)
struct frame_links;
struct frame_links *frame_links_new(void);
/* key tells apart several questions in one frame: the DNS ID (0 for HTTP). */
void frame_links_add(struct frame_links *l, enum link_kind kind, uint64_t frame, uint32_t key, uint64_t answer);
/* Sorts what was added; call before frame_links_get. */
void frame_links_seal(struct frame_links *l);
/* The first answer to the question `key` in `frame`, or 0. */
uint64_t frame_links_get(const struct frame_links *l, enum link_kind kind, uint64_t frame, uint32_t key);
void frame_links_free(struct frame_links *l);

struct keylog;
struct pk_chunk;
struct packet {
	struct pkt_meta meta;
	const struct tracker *tracker; /* NULL: stateless decoding */
	const struct frame_links *links; /* NULL: one pass, no forward references */
	bool links_pass;      /* this is the first of two passes: answers found are all recorded */
	const struct field_mask *mask; /* NULL: record every field */
	bool no_columns;               /* nothing prints Source/Protocol/Info: skip building them */
	bool skip_apps;                /* a packet-local run (field_is_packet_local): application
					* layers over UDP are not decoded at all */
	bool keep_bufs;                /* the run reads layers' bytes (a slice of `http`, a hex
					* view): messages outside the frame are copied to `store` */
	const uint8_t *data;
	int64_t rel_sec;      /* time since the first packet */
	uint32_t rel_nsec;
	bool rel_neg;

	struct fval fields[PKT_MAX_FIELDS];
	uint16_t nfields;
	bool fields_overflow;

	uint16_t protos[PKT_MAX_PROTOS]; /* protocol field ids in decode order */
	uint8_t nprotos;

	/* the buffers fields' offsets refer to ([0]: the frame), and where recording is now */
	struct pkt_buf bufs[PKT_MAX_BUFS];
	uint8_t nbufs;
	uint32_t buf_bias;    /* added to new fields' offsets (a message that starts inside a buffer) */
	union {               /* where new fields go, laid out as fval's buf, unused, parent */
		struct {
			uint8_t cur_buf;     /* the buffer their ranges are in */
			uint8_t cur_unused;
			uint16_t cur_parent; /* their layer or open subtree */
		};
		uint32_t cur_where;
	};
	uint8_t *store;       /* PKT_STORE_SIZE bytes for kept messages, allocated on first use */
	uint32_t store_used;
	/* parents: the current layer at each quoted depth, and the open subtrees in it */
	uint16_t layer[PKT_MAX_DEPTH];
	uint16_t trees[16];
	uint8_t ntrees;

	bool udp_cut;         /* the innermost UDP datagram is longer than what was captured of it */
	uint16_t udp_sport, udp_dport; /* the innermost UDP header's ports (set before its payload
				* is decoded, whether or not the run records udp.*) */
	/* the innermost TCP header (not a quoted one), whether or not the run records tcp.*:
	 * for consumers that look at every segment (the anomaly rules) */
	struct { bool seen; uint16_t flags, dport; uint32_t seq, len; } tcp_hdr; /* seq: relative
				* when the tracker numbers the stream */
	uint8_t nest;         /* current quoted-packet depth */
	uint8_t depth;        /* current encapsulation depth */

	/* columns (set by the outermost decoder that has them; quoted packets never do) */
	struct addr dl_src, dl_dst, net_src, net_dst;
	struct addr l3_src, l3_dst; /* the latest IP header's addresses, quoted ones included */
	const char *proto_col;
	struct sbuf info;
	char info_buf[PKT_INFO_MAX + 1];
	/* The TCP layer's Info is formatted only when the line is printed (most packets of a
	 * filtered run never are): what it needs is kept here, and `info` holds what later
	 * layers appended after it. pk_col and any reset drop it. pk_info_write joins them. */
	struct tcp_info_rec {
		bool pending;
		uint16_t sport, dport, flags, urg;
		uint32_t seq, ack, len;
		uint64_t win;
		uint32_t opts_off, opts_len; /* the options' bytes in the frame */
		uint8_t note_len;
		char note[64];
	} tcp_info;
	bool info_locked;     /* a lower layer's Info that upper layers must not replace */
	uint16_t ip_ttl;      /* for ICMP echo Info (ttl=) */
	uint32_t ip_end;      /* frame offset where the innermost IP datagram ends by its own
			       * length field (may be past the captured bytes), 0 if none; for a
			       * reassembled datagram, its length */
	/* IP fragments held for reassembly (dissect/defrag.h), made with the first fragment and
	 * kept from packet to packet: a packet record decodes one run's packets in order */
	struct defrag *defrag;
	bool ip_fragment;     /* this packet carried an IP fragment that reassembly took */

	/* Application state of the packet's TCP/UDP flow, set by the tracker (NULL without
	 * one): DNS matching and QUIC keep theirs here, created on first use. */
	struct app_flow **app;
	uint8_t app_dir;      /* 0 when sent by the flow's client (its first packet's sender) */
	/* the run of bytes the stream driver hands a decoder in one piece (a segment's payload
	 * from where whole messages start, or one collected message), and the layer a decoder
	 * that shows one layer per run (TLS, as tshark) recorded for it, or -1 */
	const uint8_t *app_run;
	int app_run_layer;
	uint8_t app_msgs;     /* application messages recorded in this packet (Info joins them) */
	bool decrypted;       /* application data of this packet was decrypted (TLS with a key
			       * log): what it carries did not cross the network in the clear */

	bool malformed;
	bool short_frame;
	/* Layers whose own header could not be decoded (not a payload cut short), for
	 * consumers that, like tshark's taps, skip such a layer: up to 4, by name. */
	const char *hdr_broken[4];
	uint8_t nhdr_broken;

	uint8_t arena[PKT_ARENA_SIZE];
	uint32_t arena_used;

	/* TLS secrets for decryption (a key log file, the capture's own), or NULL */
	const struct keylog *keylog;
	/* bytes made while decoding (decrypted records) that fields point into: kept until the
	 * next packet (pk_keep) */
	struct pk_chunk *keep, *keep_more;

	/* decoders' work buffers, one per kind, allocated on first use and kept for the next
	 * packet (pk_work): what was a static buffer is one per packet record, so two decoder
	 * instances never share one */
	void *work[PK_WORK_KINDS];
};

/* A packet record for one decoder instance (zeroed: no tracker, no mask); free with
 * packet_free. It is large (the field array and the arena) and reused packet after packet. */
struct packet *packet_new(void);
void packet_free(struct packet *p);
/* The frame's own bytes are buffer 0 of every packet. */
/* Whether b[0..n) lies within start[0..len). */
static inline bool pk_within(const uint8_t *b, size_t n, const uint8_t *start, size_t len)
{
	uintptr_t x = (uintptr_t)b, s = (uintptr_t)start;
	return start && x >= s && x - s <= len && n <= len - (x - s);
}
static inline bool pk_in_frame(const struct packet *p, const uint8_t *b, size_t n)
{
	return pk_within(b, n, p->data, p->meta.caplen);
}
/* Resets p for a new frame (keeps nothing from the previous one). */
void packet_begin(struct packet *p, const struct pkt_meta *meta, const uint8_t *data);
/* Sets the time since the first packet (first_sec.first_nsec), as tshark's
 * frame.time_relative: negative when packets are out of order. Call after packet_begin. */
void pk_set_relative(struct packet *p, int64_t first_sec, uint32_t first_nsec);

/* ---- recording (for decoders) ---- */

/* Adds a field and returns its slot; NULL when this run does not record the field or
 * PKT_MAX_FIELDS is reached (marked on the packet). Inline: a decoder calls these for
 * every value it parses, and a masked-out field must cost no more than a test. */
struct fval *pk_add_slow(struct packet *p, enum field_id id, uint32_t off, uint32_t len);
static inline struct fval *pk_add(struct packet *p, enum field_id id, uint32_t off, uint32_t len)
{
	if (p->mask && !(p->mask->bits[id >> 3] & (1u << (id & 7)))) return NULL;
	return pk_add_slow(p, id, off, len);
}

static inline void pk_uint(struct packet *p, enum field_id id, uint64_t v, uint32_t off, uint32_t len)
{
	struct fval *f = pk_add(p, id, off, len);
	if (f) f->v.u = v;
}

static inline void pk_int(struct packet *p, enum field_id id, int64_t v, uint32_t off, uint32_t len)
{
	struct fval *f = pk_add(p, id, off, len);
	if (f) f->v.i = v;
}

static inline void pk_bool(struct packet *p, enum field_id id, bool v, uint32_t off, uint32_t len)
{
	struct fval *f = pk_add(p, id, off, len);
	if (f) f->v.u = v;
}
void pk_bytes(struct packet *p, enum field_id id, const uint8_t *b, uint32_t n, uint32_t off);
/* A time difference in nanoseconds (FT_RELTIME; negative kept as its sign). */
void pk_reltime(struct packet *p, enum field_id id, int64_t ns);
void pk_float(struct packet *p, enum field_id id, double d, uint32_t off, uint32_t len);
void pk_addr(struct packet *p, enum field_id id, const uint8_t *a, uint32_t off);
/* Bytes copied into the packet arena (for values from buffers that do not outlive the call:
 * reassembled streams, decrypted payloads); cut at what the arena has left. */
void pk_bytes_copy(struct packet *p, enum field_id id, const uint8_t *b, uint32_t n, uint32_t off, uint32_t len);
/* A string in the packet arena (copied; cut at what the arena has left). */
void pk_string(struct packet *p, enum field_id id, const char *s, size_t n, uint32_t off, uint32_t len);
/* Starts a protocol layer at the cursor's position; returns its slot index for pk_proto_end.
 * The fields recorded after it are its children. */
int pk_proto(struct packet *p, enum field_id id, const struct cur *c);
/* The same, for a layer that follows one of its own kind (several TLS records in one
 * segment): frame.protocols names the run once. */
int pk_proto_again(struct packet *p, enum field_id id, const struct cur *c);
/* Starts a subtree that is not a protocol (an option, one TLS handshake message); the
 * fields recorded until pk_proto_end closes it are its children. */
int pk_tree(struct packet *p, enum field_id id, const struct cur *c);
/* Sets the layer's or subtree's length from where the cursor stopped (closing a subtree). */
void pk_proto_end(struct packet *p, int slot, const struct cur *c);

/* A repeated structure whose first value heads it (a DNS resource record under its name, a
 * TLS extension under its type, as the rows of Wireshark's tree): pk_open makes the
 * recorded field at slot the parent of the values after it, until the scope saved before
 * is restored. slot < 0 (not recorded): nothing changes. */
struct pk_scope { uint16_t parent; uint8_t ntrees; };
static inline struct pk_scope pk_scope_save(const struct packet *p) { return (struct pk_scope){ p->cur_parent, p->ntrees }; }
static inline void pk_scope_restore(struct packet *p, struct pk_scope s)
{
	p->cur_parent = s.parent;
	p->ntrees = s.ntrees;
}
static inline void pk_open(struct packet *p, int slot)
{
	if (slot >= 0) p->cur_parent = (uint16_t)slot;
}
/* The slot of the value just recorded when it is of field id, else -1. */
static inline int pk_last(const struct packet *p, enum field_id id)
{
	return p->nfields && p->fields[p->nfields - 1].id == id ? p->nfields - 1 : -1;
}

/* A message decoded from bytes b[0..n) that are not read from the frame's own cursor — a
 * reassembled stream message, a decrypted payload, a buffer a decoder collected: the
 * fields recorded until pk_msg_end have offsets within it (cursors made with cur_make(b,
 * …)). When b lies in the frame, or in the message being decoded, offsets are moved to
 * that buffer's; otherwise the message becomes a buffer of the packet. pk_msg_end gives
 * the bytes the message used (a shorter length than n) and restores what begin returned;
 * the bytes are kept with the packet when the run asked for them (keep_bufs). */
struct pk_msg { uint8_t buf, opened; uint32_t bias; };
struct pk_msg pk_msg_begin_slow(struct packet *p, const uint8_t *b, size_t n, enum pkt_buf_kind kind);
void pk_msg_end_slow(struct packet *p, struct pk_msg saved, size_t used);
/* Inline for the common case, a message that lies in the frame (most TCP messages fit one
 * segment): its offsets become the frame's, nothing is registered or copied. */
static inline struct pk_msg pk_msg_begin(struct packet *p, const uint8_t *b, size_t n, enum pkt_buf_kind kind)
{
	if (pk_in_frame(p, b, n)) {
		struct pk_msg saved = { p->cur_buf, 0xff, p->buf_bias };
		p->cur_buf = 0;
		p->buf_bias = (uint32_t)(b - p->data);
		return saved;
	}
	return pk_msg_begin_slow(p, b, n, kind);
}
static inline void pk_msg_end(struct packet *p, struct pk_msg saved, size_t used)
{
	if (saved.opened != 0xff) {
		pk_msg_end_slow(p, saved, used);
		return;
	}
	p->cur_buf = saved.buf;
	p->buf_bias = saved.bias;
}
/* The packet record's work buffer of kind k, of n bytes (the same n for a kind on every
 * call): allocated zeroed on first use, then reused as it is, freed by packet_free. Its
 * contents last until the decoder that owns the kind uses it again. */
void *pk_work(struct packet *p, enum pk_work_kind k, size_t n);
/* n bytes that stay valid until the next packet is begun (decrypted bytes fields point
 * into). What one packet keeps is bounded by the bytes it carries and completes. */
uint8_t *pk_keep(struct packet *p, size_t n);
/* The bytes a field describes: its layer's buffer from its offset to the buffer's end for a
 * protocol (as Wireshark slices `tcp` with its payload), else (off, len). false when they
 * are not known (a buffer the run did not keep). */
bool pk_field_bytes(const struct packet *p, const struct fval *f, const uint8_t **b, uint32_t *n);

/* Reads and records in one step: the value at the cursor, with its offset and size.
 * Inline: the header decoders call these for most fields of every packet. */
static inline uint8_t pk_u8(struct packet *p, struct cur *c, enum field_id id)
{
	uint32_t off = cur_off(c);
	uint8_t v = cur_u8(c);
	if (!c->err) pk_uint(p, id, v, off, 1);
	return v;
}

static inline uint16_t pk_be16(struct packet *p, struct cur *c, enum field_id id)
{
	uint32_t off = cur_off(c);
	uint16_t v = cur_be16(c);
	if (!c->err) pk_uint(p, id, v, off, 2);
	return v;
}

static inline uint32_t pk_be24(struct packet *p, struct cur *c, enum field_id id)
{
	uint32_t off = cur_off(c);
	uint32_t v = cur_be24(c);
	if (!c->err) pk_uint(p, id, v, off, 3);
	return v;
}

static inline uint32_t pk_be32(struct packet *p, struct cur *c, enum field_id id)
{
	uint32_t off = cur_off(c);
	uint32_t v = cur_be32(c);
	if (!c->err) pk_uint(p, id, v, off, 4);
	return v;
}

static inline uint32_t pk_le32(struct packet *p, struct cur *c, enum field_id id)
{
	uint32_t off = cur_off(c);
	uint32_t v = cur_le32(c);
	if (!c->err) pk_uint(p, id, v, off, 4);
	return v;
}
const uint8_t *pk_ipv4(struct packet *p, struct cur *c, enum field_id id);
const uint8_t *pk_ipv6(struct packet *p, struct cur *c, enum field_id id);
const uint8_t *pk_ether(struct packet *p, struct cur *c, enum field_id id);

/* Where an IP datagram of `len` bytes starting at the cursor really ends in the frame: by
 * its length field when a snapshot length cut the frame, else no further than what the
 * enclosing layer gave it (a PPPoE length, the frame's end). TCP takes its segment length
 * from this, as tshark takes it from the reported length. */
static inline uint32_t ip_reported_end(const struct packet *p, const struct cur *start, size_t len)
{
	size_t avail = cur_left(start);
	if (p->meta.caplen >= p->meta.wirelen && len > avail) len = avail;
	return cur_off(start) + (uint32_t)len;
}

/* Marks the packet as broken in layer `proto` (the name shown in _ws.malformed). A frame
 * cut short by the snapshot length is marked _ws.short instead. */
/* A layer that tshark's taps do not count although it decoded (an IPv6 fragment that
 * completes no datagram): listed as hdr_broken without marking the packet malformed. */
void pk_untapped(struct packet *p, const char *proto);
void pk_broken(struct packet *p, const char *proto, const char *why);
/* Records the rest of the cursor as undecoded `data`. */
void pk_data(struct packet *p, struct cur *c);

/* Columns: only the outermost packet (nest == 0) sets them. */
void pk_set_net(struct packet *p, enum addr_type t, const uint8_t *src, const uint8_t *dst);
void pk_set_dl(struct packet *p, const uint8_t *src, const uint8_t *dst);
/* 802.11's link columns: either may be NULL (an ACK has no transmitter), each with its role. */
void pk_set_wlan_cols(struct packet *p, const uint8_t *src, enum addr_role src_role, const uint8_t *dst,
		      enum addr_role dst_role);
/* Sets the Protocol column and starts a fresh Info text; NULL when quoted (nest > 0), in
 * which case the caller writes nothing. */
struct sbuf *pk_col(struct packet *p, const char *proto);
/* Whether the packet has Info text (a deferred TCP part counts). */
static inline bool pk_has_info(const struct packet *p) { return p->info.len || p->tcp_info.pending; }
/* Writes the packet's whole Info (at most PKT_INFO_MAX bytes) to out. */
void pk_info_write(struct sbuf *out, const struct packet *p);
/* The TCP layer's Info text from its record (tcp.c). */
void tcp_info_text(struct sbuf *sb, const struct packet *p);

/* Hands a non-TCP/UDP datagram to the tracker (not for quoted packets). */
void pk_track_other(struct packet *p, uint8_t proto, uint16_t sport, uint16_t dport);
/* ICMP/ICMPv6 echo pairing within the flow (tracked, unquoted packets): records resp_to
 * on a reply and returns the request's frame (0 if none); on a request, with two passes,
 * records resp_in and returns the reply's frame. Fields are the protocol's resp_in/resp_to. */
uint64_t pk_echo_pair(struct packet *p, bool reply, uint16_t id, uint16_t seq, enum field_id resp_in,
		      enum field_id resp_to);
/* Appends tshark's echo note to Info (icmp.c; ICMPv6 shares it). */
void echo_note(struct sbuf *sb, const struct packet *p, bool reply, uint64_t pair);

/* Whether this run records field id (no mask: every field). */
static inline bool pk_wants(const struct packet *p, enum field_id id)
{
	return !p->mask || (p->mask->bits[id >> 3] & (1u << (id & 7)));
}
/* Whether it records any field in [first, last] (ids in registry order). */
bool pk_wants_range(const struct packet *p, enum field_id first, enum field_id last);

/* Finds the first recorded value of a field, or NULL. */
const struct fval *pk_find(const struct packet *p, enum field_id id);

#endif
