/* fuzz/fuzz_app.c — libFuzzer harness for the application decoders with their per-flow
 * state: the input is cut into chunks, each given to one direction of one flow (TCP:
 * through the stream driver, so TLS records, HTTP messages, HTTP/2 frames with HPACK and
 * DNS-over-TCP messages and FTP/POP3/IMAP/SMTP/Telnet lines span chunks; UDP: as datagrams to DNS, DTLS and QUIC with the
 * flow's state, so QUIC CRYPTO reassembly and Initial decryption see many packets).
 * One more UDP choice seals each chunk as the plaintext of a QUIC v1 Initial packet (the
 * harness encrypts it with the Initial keys), so that the frame parser, CRYPTO
 * reassembly and the TLS messages inside see what the fuzzer writes, past the AEAD.
 * Every packet's record is printed as text and NDJSON.
 *
 * Input: byte 0 picks the flow (TCP or UDP and the server port); then chunks of
 * [header byte: bit 7 direction, bits 0-6 length] followed by that many bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/app_internal.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "output/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t tcp_ports[] = { 443, 80, 8080, 53, 5353, 25, 9000, 21, 110, 143, 23 };
#define SEALED 1 /* not a port: QUIC Initial packets to 443 whose plaintext is the chunk */
static const uint16_t udp_ports[] = { 443, 53, 5353, 5355, 1900, 4433, SEALED };

static const uint8_t dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, scid[8] = { 9, 10, 11, 12, 13, 14, 15, 16 };

/* The chunk as the payload of a protected QUIC v1 Initial (RFC 9001 §5) from dir, packet
 * number pn: written to out, its length returned. */
static size_t seal_initial(int dir, uint8_t pn, const uint8_t *plain, size_t n, uint8_t *out)
{
	static const uint8_t salt[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
					  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
	uint8_t initial[32], secret[32], key[16], iv[12], hp[16];
	unsigned int l = 0;
	HMAC(EVP_sha256(), salt, 20, dcid, sizeof dcid, initial, &l);
	tls13_expand_label(EVP_sha256(), initial, 32, dir ? "server in" : "client in", secret, 32);
	tls13_expand_label(EVP_sha256(), secret, 32, "quic key", key, 16);
	tls13_expand_label(EVP_sha256(), secret, 32, "quic iv", iv, 12);
	tls13_expand_label(EVP_sha256(), secret, 32, "quic hp", hp, 16);
	uint8_t body[1200];
	if (n > sizeof body - 40) n = sizeof body - 40;
	memcpy(body, plain, n);
	while (n < 20) body[n++] = 0; /* PADDING: the sample needs 20 bytes after the number */
	size_t k = 0;
	out[k++] = 0xc0; /* long header, Initial, 1-byte packet number */
	out[k++] = 0, out[k++] = 0, out[k++] = 0, out[k++] = 1;
	const uint8_t *d = dir ? scid : dcid, *s = dir ? dcid : scid;
	out[k++] = 8;
	memcpy(out + k, d, 8), k += 8;
	out[k++] = 8;
	memcpy(out + k, s, 8), k += 8;
	out[k++] = 0; /* no token */
	size_t len = 1 + n + 16;
	out[k++] = (uint8_t)(0x40 | len >> 8), out[k++] = (uint8_t)len;
	size_t pn_off = k;
	out[k++] = pn;
	uint8_t nonce[12];
	memcpy(nonce, iv, 12);
	nonce[11] ^= pn;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int ol = 0;
	EVP_EncryptInit_ex(x, EVP_aes_128_gcm(), NULL, key, nonce);
	EVP_EncryptUpdate(x, NULL, &ol, out, (int)k);
	EVP_EncryptUpdate(x, out + k, &ol, body, (int)n);
	EVP_EncryptFinal_ex(x, out + k + n, &ol);
	EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, out + k + n);
	EVP_CIPHER_CTX_free(x);
	k += n + 16;
	uint8_t mask[16];
	x = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, hp, NULL);
	EVP_CIPHER_CTX_set_padding(x, 0);
	EVP_EncryptUpdate(x, mask, &ol, out + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(x);
	out[0] ^= mask[0] & 0x0f;
	out[pn_off] ^= mask[1];
	return k;
}

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
		} else if (port == SEALED) {
			static uint8_t sealed[1300];
			size_t sn = seal_initial(dir, (uint8_t)frame, data + i, n, sealed);
			m.caplen = m.wirelen = (uint32_t)sn;
			packet_begin(&p, &m, sealed);
			p.app = &flow;
			p.app_dir = (uint8_t)dir;
			p.udp_dport = 443;
			struct cur c = cur_make(sealed, sn);
			dissect_quic(&p, &c);
		} else {
			struct cur c = cur_make(data + i, n);
			if (port == 53 || port == 5353 || port == 5355) dissect_dns(&p, &c);
			else if (port == 1900) dissect_ssdp(&p, &c);
			else if (!dissect_dtls(&p, &c)) dissect_quic(&p, &c);
		}
		sb_init_fixed(&sb, out, sizeof out - 1);
		out_text_line(&sb, &p);
		if (getenv("FUZZ_APP_PRINT")) fwrite(sb.buf, 1, sb.len, stdout); /* to look at an input */
		sb_reset(&sb);
		out_json_packet(&sb, &p);
		i += n;
	}
	app_flow_free(flow);
	return 0;
}
