/* dissect/nflog.c — Linux NFLOG (LINKTYPE_NFLOG, https://www.tcpdump.org/linktypes/
 * LINKTYPE_NFLOG.html): a 4-byte header then TLVs in host byte order, padded to 4 bytes;
 * NFULA_PAYLOAD (9) holds the packet, NFULA_PREFIX (10) the log prefix. */
#include "dissect/decoders.h"

#define NFLOG_MAX_TLVS 64

void dissect_nflog(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_NFLOG, c);
	uint8_t family = pk_u8(p, c, F_NFLOG_FAMILY);
	pk_u8(p, c, F_NFLOG_VERSION);
	pk_be16(p, c, F_NFLOG_RES_ID);
	struct cur payload = { 0 };
	bool have_payload = false;
	for (int i = 0; i < NFLOG_MAX_TLVS && cur_left(c) >= 4; i++) {
		uint32_t off = cur_off(c);
		uint16_t len = cur_le16(c);
		uint16_t type = cur_le16(c);
		if (len < 4 || (size_t)len - 4 > cur_left(c)) {
			pk_broken(p, "nflog", "NFLOG TLV length is bad");
			return;
		}
		pk_uint(p, F_NFLOG_TLV_TYPE, type, off + 2, 2);
		struct cur v = cur_sub(c, (size_t)len - 4);
		size_t pad = (size_t)((4 - len % 4) % 4);
		cur_skip(c, pad <= cur_left(c) ? pad : cur_left(c));
		if (type == 10 && cur_left(&v)) {
			size_t n = cur_left(&v);
			if (v.pos[n - 1] == 0) n--; /* NUL-terminated */
			pk_string(p, F_NFLOG_PREFIX, (const char *)v.pos, n, cur_off(&v), (uint32_t)cur_left(&v));
		} else if (type == 9) {
			payload = v;
			have_payload = true;
		}
	}
	pk_proto_end(p, slot, c);
	if (!have_payload) return;
	if (family == 2) dissect_ethertype(p, 0x0800, &payload);
	else if (family == 10) dissect_ethertype(p, 0x86dd, &payload);
	else pk_data(p, &payload);
}
