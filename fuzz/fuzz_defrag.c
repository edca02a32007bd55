/* fuzz/fuzz_defrag.c — libFuzzer harness for IP reassembly (dissect/defrag.c): the input
 * is a list of pieces (datagram selector, offset in 8-byte units, more-fragments, a time
 * step, length, then that many bytes) fed to one reassembler. Each datagram it completes
 * must be as long as its tail said, covered by its pieces, and the bytes held must stay
 * within the caps. The pipeline harness reaches the same code through the IP decoders. */
#include <stdlib.h>
#include <string.h>

#include "dissect/defrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct defrag *d = defrag_new();
	int64_t now = 0;
	uint64_t frame = 0;
	size_t i = 0;
	while (i + 6 <= size) {
		struct defrag_key k;
		memset(&k, 0, sizeof k);
		k.family = (data[i] & 0x80) ? 6 : 4;
		k.id = data[i] & 7; /* few datagrams: pieces meet */
		uint32_t off = ((uint32_t)data[i + 1] << 8 | data[i + 2]) * 8;
		bool more = data[i + 3] & 1;
		now += (int64_t)(data[i + 3] >> 1) * 1000000000;
		uint32_t len = (uint32_t)data[i + 4] << 8 | data[i + 5];
		i += 6;
		if (len > size - i) len = (uint32_t)(size - i);
		struct defrag_done out;
		enum defrag_status st = defrag_add(d, &k, now, ++frame, off, more, data + i, len, &out);
		i += len;
		if (st == DEFRAG_DONE) {
			if (!out.npieces || out.len > DEFRAG_MAX_DATAGRAM) abort();
			uint64_t pos = 0;
			for (uint32_t j = 0; j < out.npieces; j++) {
				if (out.pieces[j].off > pos && pos < out.len) abort(); /* a hole */
				if (j && out.pieces[j].off < out.pieces[j - 1].off) abort(); /* offset order */
				uint64_t end = (uint64_t)out.pieces[j].off + out.pieces[j].len;
				if (end > pos) pos = end;
			}
			if (pos < out.len) abort();
			uint8_t sum = 0;
			for (uint32_t j = 0; j < out.len; j++) sum ^= out.data[j]; /* every byte readable */
			if (sum == 0 && out.len == 1 && out.data[0] != 0) abort();
		}
		if (defrag_stats(d).held_bytes > DEFRAG_MAX_BYTES) abort();
	}
	defrag_free(d);
	return 0;
}
