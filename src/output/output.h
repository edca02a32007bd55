/* output/output.h — what pktscope prints for a decoded packet: the one-line summary
 * (tshark's columns), NDJSON, and `-T fields` lines. All write into an sbuf; none writes
 * to a file descriptor per field.
 *
 * NDJSON shape: one object per packet. Keys follow field names, split at the dots:
 * `ip.src` is at .ip.src, `tcp.flags.syn` at .tcp.flags.syn. A field that also has
 * children (tcp.flags) becomes an object whose own value is under "_value". A field that
 * occurs more than once is an array (in a merged object when it has children). The
 * invoking packet inside an ICMP/ICMPv6 error nests under that message (.icmp.ip.src).
 * "protocols" lists the layers in order. Integers are numbers, addresses and byte strings
 * are strings ("aa:bb:cc"), booleans are true/false, times are RFC 3339 strings
 * (frame.time) or decimal seconds (frame.time_epoch, frame.time_relative).
 */
#ifndef PKTSCOPE_OUTPUT_OUTPUT_H
#define PKTSCOPE_OUTPUT_OUTPUT_H

#include "dissect/packet.h"
#include "flow/flow.h"
#include "flow/stats.h"
#include "util/sbuf.h"

void out_text_line(struct sbuf *sb, const struct packet *p);
void out_json_packet(struct sbuf *sb, const struct packet *p);

/* `-T fields`: the values of fields[0..n-1] separated by `sep`, occurrences joined by ','
 * as tshark does; ids < 0 print nothing (an unknown field is refused before this). */
void out_fields_line(struct sbuf *sb, const struct packet *p, const int *ids, int n, char sep);

/* One value as `-T fields` shows it (tshark's formatting). */
void out_field_text(struct sbuf *sb, const struct packet *p, const struct fval *f);

/* ---- statistics (output/stats.c) ---- */

enum stats_what { SR_CONV, SR_ENDPOINTS, SR_PHS, SR_IO, SR_TALKERS,
		  SR_FLOWS /* per-flow records: analysis/flowrec.h prints them */,
		  SR_ANOMALIES /* analysis/anomaly.h prints them */ };

struct stats_request {
	enum stats_what what;
	enum stats_kind kind;  /* conv, endpoints */
	int64_t interval_ns;   /* io */
};

/* Parses "conv,tcp", "endpoints,ip", "phs", "io,0.5", "talkers", "flows", "anomalies"; -1 with the reason. */
int stats_request_parse(struct stats_request *rq, const char *spec, char *err, size_t errlen);
void stats_request_apply(const struct stats_request *rq, struct stats *s);
/* Prints one table, in tshark's layout or as one JSON object on one line. */
void stats_print(struct sbuf *sb, const struct stats *s, const struct stats_request *rq, bool json);

/* ---- follow-stream (output/follow.c) ---- */

enum follow_mode { FOLLOW_ASCII, FOLLOW_HEX, FOLLOW_RAW };

struct follow {
	uint8_t proto;          /* 6 or 17 */
	enum follow_mode mode;
	int64_t stream;         /* -1: not given (the -Y filter chooses it) */
	struct sbuf *out;
	bool found;
	uint64_t offset[2]; /* per direction, for hex offsets (gaps advance it too) */
};

/* Parses "tcp,ascii,3"; 0, or -1 with the reason in err. */
int follow_parse(struct follow *fo, const char *spec, char *err, size_t errlen);
/* Makes the tracker hand stream fo->stream to the follower, which writes to out. */
void follow_attach(struct follow *fo, struct flow_tracker *tr, struct sbuf *out);
/* Closes the output (call after flow_tracker_finish). */
void follow_finish(struct follow *fo);

#endif
