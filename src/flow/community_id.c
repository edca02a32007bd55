/* flow/community_id.c — Community ID v1 (corelight/community-id-spec): a flow hash that
 * Zeek and Suricata log, so a flow seen here can be found there. SHA-1 over
 * seed(2) | smaller endpoint addr | other addr | proto(1) | pad(1) | ports(2+2), base64,
 * prefixed "1:". ICMP types with a counterpart (echo request/reply …) map to port
 * equivalents so both directions hash alike; other ICMP messages are one-way. */
#include "flow/flow.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

/* Type -> counterpart type; -1 when the message has none (one-way). */
static int icmp_counterpart(uint8_t proto, uint8_t type)
{
	static const uint8_t v4[][2] = { { 8, 0 }, { 0, 8 }, { 13, 14 }, { 14, 13 }, { 15, 16 }, { 16, 15 },
					 { 10, 9 }, { 9, 10 }, { 17, 18 }, { 18, 17 } };
	static const uint8_t v6[][2] = { { 128, 129 }, { 129, 128 }, { 133, 134 }, { 134, 133 }, { 135, 136 },
					 { 136, 135 }, { 130, 131 }, { 131, 130 }, { 144, 145 }, { 145, 144 } };
	const uint8_t(*t)[2] = proto == 1 ? v4 : v6;
	for (size_t i = 0; i < 10; i++)
		if (t[i][0] == type) return t[i][1];
	return -1;
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
}

void community_id_v1(char out[COMMUNITY_ID_LEN], uint16_t seed, uint8_t family, const uint8_t *saddr,
		     const uint8_t *daddr, uint8_t proto, uint16_t sport, uint16_t dport)
{
	size_t alen = family == 6 ? 16 : 4;
	bool one_way = false;
	if (proto == 1 || proto == 58) { /* sport is the type, dport the code */
		int other = icmp_counterpart(proto, (uint8_t)sport);
		if (other >= 0) dport = (uint16_t)other;
		else one_way = true;
	}
	if (!one_way) {
		int c = memcmp(saddr, daddr, alen);
		if (c > 0 || (c == 0 && sport > dport)) {
			const uint8_t *ta = saddr;
			saddr = daddr;
			daddr = ta;
			uint16_t tp = sport;
			sport = dport;
			dport = tp;
		}
	}
	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, saddr, alen);
	n += alen;
	memcpy(buf + n, daddr, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (has_ports(proto)) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}
	uint8_t digest[SHA_DIGEST_LENGTH];
	SHA1(buf, n, digest);
	memcpy(out, "1:", 2);
	EVP_EncodeBlock((unsigned char *)out + 2, digest, SHA_DIGEST_LENGTH); /* 28 chars + NUL */
}
