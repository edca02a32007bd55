/* fuzz/fuzz_pipeline.c — libFuzzer harness for the whole pipeline over a whole capture
 * file, every consumer on at once: the -2 first pass, the packet-local prefilter, flow
 * tracking with TCP analysis, reassembly and the application decoders, a display filter
 * that slices application layers, text and NDJSON lines, every statistic, follow-stream
 * the pcapng writer with pktscope's comments, the anomaly rules and the per-flow records. The per-decoder harnesses never see file
 * timestamps or several packets of one flow; this one does (issue 11: a pcapng timestamp
 * far in the future overflowed the tracker's nanosecond time). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "fuzz_file.h"
#include "capture/writer.h"
#include "output/output.h"
#include "analysis/anomaly.h"
#include "analysis/flowrec.h"
#include "pipeline/pipeline.h"
#include "dissect/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const filters[] = {
	"tcp.analysis.flags or dns.qry.name contains \"a\" or http[0:4] == \"GET \" or tls[0] == 0x16 or "
	"tls.handshake.extensions_server_name or http2 or quic or frame.time_relative > 1",
	"tcp.port == 443 or udp.port == 53", /* packet-local: the prefilter runs */
};

static void run(const char *path, const char *filter_text, struct sbuf *out)
{
	struct df_error ferr;
	struct df_filter *filter = df_compile(filter_text, &ferr);
	if (!filter) abort(); /* the harness's own filters always compile */
	struct keylog *keys = keylog_new(); /* the Decryption Secrets Blocks' TLS secrets */
	struct frame_links *links = pipeline_find_answers(path, NULL, 0, keys);
	struct prefilter pf = { 0 };
	if (df_is_packet_local(filter)) prefilter_run(path, NULL, 0, filter, true, NULL, NULL, &pf);
	char err[512];
	struct pkt_source *src = src_open_file(path, err, sizeof err);
	if (!src) {
		prefilter_free(&pf);
		frame_links_free(links);
		df_free(filter);
		keylog_free(keys);
		return;
	}
	src_set_secrets(src, keylog_dsb, keys);
	struct pipeline_needs needs = { .filter = filter, .links = links, .all_fields = true, .columns = true,
					.stats = true, .hierarchy = true, .comments = true, .layer_bytes = true,
					.keylog = keys };
	/* the anomaly rules and the per-flow records, as read runs them */
	struct anomaly_engine *an = anomaly_new();
	struct flow_records *fr = flowrec_new();
	needs.post = anomaly_post;
	needs.post_ctx = an;
	needs.observer = flowrec_observer(fr);
	struct pipeline *pl = pipeline_new(&needs);
	struct follow fo;
	char ferr_text[160];
	if (follow_parse(&fo, "tcp,hex,0", ferr_text, sizeof ferr_text) == 0) follow_attach(&fo, pipeline_tracker(pl), out);
	struct stats *st = stats_new();
	static const char *const specs[] = { "conv,eth", "conv,ip", "conv,ipv6", "conv,tcp", "conv,udp", "endpoints,ip",
					     "endpoints,tcp", "phs", "io,0.5", "talkers" };
	struct stats_request rq[sizeof specs / sizeof specs[0]];
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		if (stats_request_parse(&rq[i], specs[i], err, sizeof err) < 0) abort();
		stats_request_apply(&rq[i], st);
	}
	struct packet_writer ws = { .path = "/dev/null", .pcapng = true };
	struct pkt_meta m;
	const uint8_t *d;
	uint64_t n = 0;
	while (src_next(src, &m, &d) == SRC_OK) {
		m.number = ++n;
		if (pf.matched && !prefilter_relevant(&pf, n)) {
			pipeline_skip(pl, &m);
			continue;
		}
		struct packet *p = pipeline_decode(pl, &m, d);
		stats_packet(st, p);
		bool match = pipeline_match(pl, p);
		flowrec_packet(fr, p, match);
		if (!match) continue;
		out_text_line(out, p);
		out_json_packet(out, p);
		pwriter_packet(&ws, &m, d, p);
		sb_reset(out);
	}
	pipeline_finish(pl);
	follow_finish(&fo);
	anomaly_print_stats(an, out, false);
	flowrec_print(fr, out, true);
	sb_reset(out);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		stats_print(out, st, &rq[i], i & 1);
		sb_reset(out);
	}
	pwriter_close(&ws, LT_ETHERNET);
	stats_free(st);
	pipeline_free(pl);
	anomaly_free(an);
	flowrec_free(fr);
	src_close(src);
	prefilter_free(&pf);
	frame_links_free(links);
	keylog_free(keys);
	df_free(filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dissect_init();
	char path[] = "/tmp/pktscope-fuzz-XXXXXX";
	if (!fuzz_write_file(path, data, size)) return 0;
	static int devnull = -1;
	if (devnull < 0) devnull = open("/dev/null", O_WRONLY);
	struct sbuf out;
	sb_init_fd(&out, devnull, 1u << 16);
	for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) run(path, filters[i], &out);
	sb_flush(&out);
	sb_free(&out);
	unlink(path);
	return 0;
}
