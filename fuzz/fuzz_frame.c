/* fuzz/fuzz_frame.c — libFuzzer harness for whole frames: the first two input bytes pick
 * the link type (any value, known or not), the rest is the frame. Text, NDJSON and
 * `-T fields` output all run on the result; the frame's bytes are its pktscope comment too. */
#include <stddef.h>
#include <stdint.h>

#include "dissect/dissect.h"
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct packet p;
	static char out[1 << 16];
	if (size < 2) return 0;
	dissect_init();
	int lt = data[0] << 8 | data[1];
	struct pkt_meta m = { .number = 1, .caplen = (uint32_t)size - 2, .wirelen = (uint32_t)size - 2 + (data[0] & 1),
			      .linktype = lt, .ts_digits = 9 };
	/* the same bytes as a pcapng comment pktscope might have written (proc.* read back) */
	m.note = data + 2;
	m.note_len = (uint32_t)(size - 2 < 1024 ? size - 2 : 1024);
	packet_begin(&p, &m, data + 2);
	dissect_frame(&p);
	struct sbuf sb;
	sb_init_fixed(&sb, out, sizeof out - 1);
	out_text_line(&sb, &p);
	sb_reset(&sb);
	out_json_packet(&sb, &p);
	sb_reset(&sb);
	static const int ids[] = { F_FRAME_PROTOCOLS, F_IP_SRC, F_TCP_FLAGS_STR, F_ETH_PADDING, F_WS_MALFORMED };
	out_fields_line(&sb, &p, ids, 5, '\t');
	return 0;
}
