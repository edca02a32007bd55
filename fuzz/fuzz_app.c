/* fuzz/fuzz_app.c — libFuzzer harness for the application decoders with their per-flow
 * state: the input is cut into chunks, each given to one direction of one flow (TCP:
 * through the stream driver, so TLS records, HTTP messages, HTTP/2 frames with HPACK and
 * DNS-over-TCP messages and FTP/POP3/IMAP/SMTP/Telnet lines span chunks; UDP: as datagrams to DNS, DTLS and QUIC with the
 * flow's state, so QUIC CRYPTO reassembly and Initial decryption see many packets).
 * Every packet's record is printed as text and NDJSON.
 *
 * Input: byte 0 picks the flow (TCP or UDP and the server port); then chunks of
 * [header byte: bit 7 direction, bits 0-6 length] followed by that many bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dissect/app.h"
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t tcp_ports[] = { 443, 80, 8080, 53, 5353, 25, 9000, 21, 110, 143, 23 };
static const uint16_t udp_ports[] = { 443, 53, 5353, 5355, 1900, 4433 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct packet p;
	static char out[1 << 17];
	dissect_init();
	if (size < 1) return 0;
	bool tcp = !(data[0] & 0x80);
	uint16_t port = tcp ? tcp_ports[(data[0] & 0x7f) % (sizeof tcp_ports / sizeof tcp_ports[0])]
			    : udp_ports[(data[0] & 0x7f) % (sizeof udp_ports / sizeof udp_ports[0])];
	struct app_flow *flow = NULL;
	size_t i = 1;
	uint64_t frame = 0;
	struct sbuf sb;
	while (i < size) {
		int dir = data[i] >> 7;
		size_t n = data[i] & 0x7f;
		i++;
		if (n == 0x7f && i < size) n = 0x7f + (size_t)data[i++] * 8; /* longer chunks */
		if (n > size - i) n = size - i;
		frame++;
		struct pkt_meta m = { .number = frame, .caplen = (uint32_t)n, .wirelen = (uint32_t)n,
				      .linktype = LT_ETHERNET, .ts_digits = 6, .ts_sec = (int64_t)frame };
		packet_begin(&p, &m, data + i);
		p.app = &flow;
		p.app_dir = (uint8_t)dir;
		if (tcp) {
			app_stream_data(&flow, &p, dir, 40000, port, data + i, n);
		} else {
			struct cur c = cur_make(data + i, n);
			if (port == 53 || port == 5353 || port == 5355) dissect_dns(&p, &c);
			else if (port == 1900) dissect_ssdp(&p, &c);
			else if (!dissect_dtls(&p, &c)) dissect_quic(&p, &c);
		}
		sb_init_fixed(&sb, out, sizeof out - 1);
		out_text_line(&sb, &p);
		sb_reset(&sb);
		out_json_packet(&sb, &p);
		i += n;
	}
	app_flow_free(flow);
	return 0;
}
