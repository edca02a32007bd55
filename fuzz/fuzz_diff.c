/* fuzz/fuzz_diff.c — libFuzzer harness for `pktscope diff`'s engine (analysis/diff.c): the
 * input is a list of packets (side and length bytes, then the frame) given to one diff
 * with ignored fields, so the decoders run on every frame to find the bytes to leave out.
 * Every packet must end up matched or listed, once. */
#include <stdlib.h>
#include <string.h>

#include "analysis/diff.h"
#include "dissect/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t listed[2];

static void count(void *ctx, int side, const struct pkt_meta *m, const uint8_t *d)
{
	(void)ctx;
	(void)m;
	(void)d;
	listed[side]++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dissect_init();
	const int ignore[] = { F_IP_TTL, F_IP_CHECKSUM, F_ETH_SRC, F_TCP_CHECKSUM };
	struct diff *d = diff_new(ignore, (data && size && data[0] & 1) ? 4 : 0);
	uint64_t n[2] = { 0, 0 };
	size_t i = size ? 1 : 0;
	while (i + 2 <= size) {
		int side = data[i] & 1;
		int linktype = data[i] & 2 ? LT_RAW : LT_ETHERNET;
		size_t len = data[i + 1];
		i += 2;
		if (len > size - i) len = size - i;
		struct pkt_meta m = { .number = ++n[side], .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
				      .linktype = linktype, .ts_digits = 6 };
		diff_add(d, side, &m, data + i);
		i += len;
	}
	listed[0] = listed[1] = 0;
	diff_extras(d, 0, 0, count, NULL);
	diff_extras(d, 1, 0, count, NULL);
	struct diff_totals t = diff_totals(d);
	for (int s = 0; s < 2; s++)
		if (t.packets[s] != n[s] || t.common + t.only[s] != n[s] || listed[s] != t.only[s]) abort();
	diff_free(d);
	return 0;
}
