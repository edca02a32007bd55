/* dissect/vlan.c — IEEE 802.1Q VLAN tags (TPID 0x8100, and 0x9100 used for QinQ before
 * 802.1ad) and IEEE 802.1ad service tags (0x88a8): a TCI (priority, DEI, VLAN id) then the
 * inner EtherType or an 802.3 length. Stacked tags recurse through the dispatch table. */
#include "dissect/decoders.h"

struct tag_fields {
	enum field_id proto, priority, dei, id;
	const char *name;
};

static void dissect_tag(struct packet *p, struct cur *c, const struct tag_fields *tf)
{
	int slot = pk_proto(p, tf->proto, c);
	uint32_t off = cur_off(c);
	uint16_t tci = cur_be16(c);
	uint32_t toff = cur_off(c);
	uint16_t type = cur_be16(c);
	if (c->err) {
		pk_broken(p, tf->name, "VLAN tag cut short");
		return;
	}
	pk_uint(p, tf->priority, tci >> 13, off, 2);
	pk_uint(p, tf->dei, (tci >> 12) & 1, off, 2);
	pk_uint(p, tf->id, tci & 0x0fff, off, 2);
	struct sbuf *sb = pk_col(p, "802.1Q");
	if (sb) {
		sb_puts(sb, "PRI: ");
		sb_u64(sb, tci >> 13);
		sb_puts(sb, "  DEI: ");
		sb_u64(sb, (tci >> 12) & 1);
		sb_puts(sb, "  ID: ");
		sb_u64(sb, tci & 0x0fff);
	}
	if (type <= 1500) {
		pk_uint(p, F_VLAN_LEN, type, toff, 2);
		pk_proto_end(p, slot, c);
		struct cur payload = cur_sub(c, type);
		if (payload.err) pk_broken(p, tf->name, "802.3 length exceeds frame");
		dissect_llc(p, &payload);
		return;
	}
	pk_uint(p, F_VLAN_ETYPE, type, toff, 2);
	pk_proto_end(p, slot, c);
	dissect_ethertype(p, type, c);
}

void dissect_vlan(struct packet *p, struct cur *c)
{
	static const struct tag_fields f = { F_VLAN, F_VLAN_PRIORITY, F_VLAN_DEI, F_VLAN_ID, "vlan" };
	dissect_tag(p, c, &f);
}

void dissect_ieee8021ad(struct packet *p, struct cur *c)
{
	static const struct tag_fields f = { F_IEEE8021AD, F_IEEE8021AD_PRIORITY, F_IEEE8021AD_DEI,
					     F_IEEE8021AD_ID, "ieee8021ad" };
	dissect_tag(p, c, &f);
}

/* VN-Tag (Cisco, IEEE 802.1Qbh precursor): 4 bytes of tag, then the inner EtherType. */
void dissect_vntag(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_VNTAG, c);
	cur_skip(c, 4);
	uint16_t type = pk_be16(p, c, F_VNTAG_ETYPE);
	if (c->err) {
		pk_broken(p, "vntag", "VN-Tag cut short");
		return;
	}
	pk_proto_end(p, slot, c);
	dissect_ethertype(p, type, c);
}
