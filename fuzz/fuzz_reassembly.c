/* fuzz/fuzz_reassembly.c — libFuzzer harness for stream reassembly: the input is a list
 * of segments (direction, flags, sequence offset, length, then that many payload bytes)
 * fed to one stream. The consumer checks that delivered bytes never exceed what was sent
 * and that memory held stays within the caps. */
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t delivered;

static void on_data(void *c, const struct flow *f, int dir, const uint8_t *p, size_t n, uint64_t frame)
{
	(void)c; (void)f; (void)dir; (void)frame;
	if (n && !p) abort();
	delivered += n;
}

static void on_gap(void *c, const struct flow *f, int dir, uint64_t len, uint64_t frame)
{
	(void)c; (void)f; (void)dir; (void)frame;
	if (len == 0) abort(); /* a gap is always a real hole */
}

static const struct stream_consumer consumer = { on_data, on_gap, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reasm_stats st = { 0 };
	struct reasm *r = reasm_new(&consumer, NULL);
	uint32_t base[2] = { 0xfffff000u, 1000 }; /* one direction wraps early */
	uint64_t sent = 0, frame = 0;
	delivered = 0;
	size_t i = 0;
	while (i + 6 <= size) {
		int dir = data[i] & 1;
		uint16_t flags = data[i] & 0x16 ? (uint16_t)(data[i] & 0x17) : 0x10;
		uint32_t off = (uint32_t)data[i + 1] << 16 | (uint32_t)data[i + 2] << 8 | data[i + 3];
		uint32_t len = (uint32_t)data[i + 4] << 8 | data[i + 5];
		i += 6;
		uint32_t captured = len;
		if (captured > size - i) captured = (uint32_t)(size - i);
		reasm_tcp(r, NULL, dir, base[dir] + off - 0x800000u, flags, data + i, len, captured, ++frame, &st);
		sent += captured;
		i += captured;
		if (st.held_now > REASM_MAX_HELD_TOTAL) abort();
	}
	reasm_finish(r, NULL, &st);
	if (delivered > sent || delivered != st.bytes_delivered) abort();
	return 0;
}
