/* fuzz/fuzz_decoder.c — libFuzzer harness for one decoder, chosen at compile time with
 * -DFUZZ_DECODER=dissect_xxx. The input is the decoder's own bytes; the record it makes
 * is then printed as text and NDJSON so the output paths see every field it can make. */
#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"
#include "dissect/app.h"
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct packet p;
	static char out[1 << 16];
	dissect_init();
	struct pkt_meta m = { .number = 1, .caplen = (uint32_t)size, .wirelen = (uint32_t)size,
			      .linktype = LT_ETHERNET, .ts_digits = 6 };
	packet_begin(&p, &m, data);
	struct cur c = cur_make(data, size);
	FUZZ_DECODER(&p, &c);
	struct sbuf sb;
	sb_init_fixed(&sb, out, sizeof out - 1);
	out_text_line(&sb, &p);
	sb_reset(&sb);
	out_json_packet(&sb, &p);
	return 0;
}
