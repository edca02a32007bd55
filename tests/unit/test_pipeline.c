/* tests/unit/test_pipeline.c — the pipeline decides how the engine runs from what a run
 * needs, so one filter selects the same frames whatever the run does with them: printed
 * as text, as NDJSON, as -T fields, written to pcap or pcapng, counted. (Issue 11: capture
 * -w -Y on an application field matched nothing, because capture decided by itself that
 * the application decoders could stay off.) Runs over the bundled lab sample. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "pipeline/pipeline.h"

static const char *sample;

#define MAX_FRAMES 4096

/* The frames `filter` selects over the sample when the run needs `needs`. */
static size_t matches(const struct df_filter *filter, struct pipeline_needs needs, uint64_t *frames)
{
	char err[256];
	struct pkt_source *src = src_open_file(sample, err, sizeof err);
	assert_non_null(src);
	needs.filter = filter;
	struct pipeline *pl = pipeline_new(&needs);
	size_t n = 0;
	uint64_t number = 0;
	struct pkt_meta m;
	const uint8_t *data;
	while (src_next(src, &m, &data) == SRC_OK) {
		m.number = ++number;
		struct packet *p = pipeline_decode(pl, &m, data);
		if (pipeline_match(pl, p) && n < MAX_FRAMES) frames[n++] = number;
	}
	pipeline_free(pl);
	src_close(src);
	return n;
}

static void same_frames_for_every_run(const char *text, size_t at_least)
{
	struct df_error ferr;
	struct df_filter *f = df_compile(text, &ferr);
	assert_non_null(f);
	static const int shown[] = { F_FRAME_NUMBER, F_IP_SRC };
	const struct pipeline_needs runs[] = {
		{ .columns = true },                            /* read: text lines */
		{ .all_fields = true, .columns = true },        /* read --json, capture --json */
		{ .fields = shown, .nfields = 2 },              /* read -T fields */
		{ 0 },                                          /* read -w x.pcap, capture -w x.pcap */
		{ .comments = true },                           /* -w x.pcapng: pktscope's comments */
		{ .stats = true },                              /* --stats conv,tcp */
	};
	static uint64_t want[MAX_FRAMES], got[MAX_FRAMES];
	size_t nwant = matches(f, runs[0], want);
	assert_true(nwant >= at_least);
	for (size_t r = 1; r < sizeof runs / sizeof runs[0]; r++) {
		size_t ngot = matches(f, runs[r], got);
		if (ngot != nwant || memcmp(want, got, nwant * sizeof want[0])) {
			fprintf(stderr, "%s: run %zu selects %zu frames, text selects %zu\n", text, r, ngot, nwant);
			fail();
		}
	}
	df_free(f);
}

static void app_field_sni(void **s)
{
	(void)s;
	same_frames_for_every_run("tls.handshake.extensions_server_name", 1);
}

static void app_field_http_host(void **s)
{
	(void)s;
	same_frames_for_every_run("http.host == \"10.77.0.2\" or http.response.code == 200", 2);
}

static void app_field_dns(void **s)
{
	(void)s;
	same_frames_for_every_run("dns.qry.name contains \"example\"", 1);
}

static void flow_field(void **s)
{
	(void)s;
	same_frames_for_every_run("tcp.analysis.flags or tcp.stream == 3", 1);
}

static void packet_local_field(void **s)
{
	(void)s;
	same_frames_for_every_run("tcp.port == 443 and ip.src == 10.77.0.1", 1);
}

static void decisions(void **s)
{
	(void)s;
	struct df_error ferr;
	struct df_filter *sni = df_compile("tls.sni", &ferr), *port = df_compile("tcp.port == 443", &ferr);
	struct pipeline *pl = pipeline_new(&(struct pipeline_needs){ .filter = sni });
	assert_true(pipeline_runs_apps(pl));
	assert_non_null(pipeline_mask(pl));
	pipeline_free(pl);
	pl = pipeline_new(&(struct pipeline_needs){ .filter = port });
	assert_false(pipeline_runs_apps(pl)); /* nothing shows the application layers' work */
	pipeline_free(pl);
	pl = pipeline_new(&(struct pipeline_needs){ .filter = port, .columns = true });
	assert_true(pipeline_runs_apps(pl)); /* Info shows it */
	pipeline_free(pl);
	pl = pipeline_new(&(struct pipeline_needs){ .all_fields = true });
	assert_null(pipeline_mask(pl));
	pipeline_free(pl);
	df_free(sni);
	df_free(port);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_pipeline SAMPLE.pcapng\n");
		return 2;
	}
	sample = argv[1];
	dissect_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(app_field_sni),       cmocka_unit_test(app_field_http_host),
		cmocka_unit_test(app_field_dns),       cmocka_unit_test(flow_field),
		cmocka_unit_test(packet_local_field),  cmocka_unit_test(decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
