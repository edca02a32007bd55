/* dissect/llc.c — IEEE 802.2 LLC header with SNAP (RFC 1042): DSAP, SSAP, control, and
 * for SNAP an OUI and protocol id; OUI 0 carries an EtherType. */
#include "dissect/decoders.h"

void dissect_llc(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_LLC, c);
	uint8_t dsap = pk_u8(p, c, F_LLC_DSAP);
	uint8_t ssap = pk_u8(p, c, F_LLC_SSAP);
	uint32_t coff = cur_off(c);
	uint8_t ctl = cur_u8(c);
	/* I and S frames (low bit 0, or low bits 01) have a 2-byte control field. */
	uint16_t control = ctl;
	if ((ctl & 3) != 3) control = (uint16_t)(ctl | cur_u8(c) << 8);
	if (c->err) {
		pk_broken(p, "llc", "LLC header cut short");
		return;
	}
	pk_uint(p, F_LLC_CONTROL, control, coff, (ctl & 3) != 3 ? 2 : 1);
	struct sbuf *sb = pk_col(p, "LLC");
	if (sb) {
		sb_puts(sb, "DSAP ");
		sb_puts(sb, vn_name(vn_llc_sap, dsap & 0xfe, "0x"));
		if (!vn_lookup(vn_llc_sap, dsap & 0xfe)) sb_hex(sb, dsap, 2);
		sb_puts(sb, (dsap & 1) ? " Group" : " Individual");
		sb_puts(sb, ", SSAP ");
		sb_puts(sb, vn_name(vn_llc_sap, ssap & 0xfe, "0x"));
		if (!vn_lookup(vn_llc_sap, ssap & 0xfe)) sb_hex(sb, ssap, 2);
		sb_puts(sb, (ssap & 1) ? " Response" : " Command");
	}
	if (dsap == 0xaa && ssap == 0xaa && control == 0x03) {
		uint32_t ooff = cur_off(c);
		uint32_t oui = cur_be24(c);
		uint32_t poff = cur_off(c);
		uint16_t pid = cur_be16(c);
		if (c->err) {
			pk_broken(p, "llc", "SNAP header cut short");
			return;
		}
		pk_uint(p, F_LLC_OUI, oui, ooff, 3);
		pk_uint(p, F_LLC_PID, pid, poff, 2);
		pk_proto_end(p, slot, c);
		if (oui == 0) dissect_ethertype(p, pid, c);
		else pk_data(p, c);
		return;
	}
	pk_proto_end(p, slot, c);
	pk_data(p, c);
}
