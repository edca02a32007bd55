/* dissect/ieee80211.c — IEEE 802.11 MAC frames (IEEE 802.11-2020 §9.2-§9.4): the frame
 * control field, addresses by frame type and DS bits, sequence control, QoS and HT
 * control; management frames' fixed fields and elements (SSID, rates, DS channel,
 * country, vendor OUI); control frames named; data frames through LLC/SNAP to IP, as
 * Wireshark decodes them. Protected bodies stay data (no keys). A radio header in front
 * (radiotap.c) says whether an FCS ends the frame. */
#include "dissect/decoders.h"

enum wlan_type { WT_MGMT = 0, WT_CTRL = 1, WT_DATA = 2, WT_EXT = 3 };
enum { FC_TODS = 0x01, FC_FROMDS = 0x02, FC_MOREFRAG = 0x04, FC_RETRY = 0x08, FC_PWRMGT = 0x10,
       FC_MOREDATA = 0x20, FC_PROTECTED = 0x40, FC_ORDER = 0x80 };

/* Management subtypes (Table 9-1). */
enum { MG_ASSOC_REQ = 0, MG_ASSOC_RESP = 1, MG_REASSOC_REQ = 2, MG_REASSOC_RESP = 3, MG_PROBE_REQ = 4,
       MG_PROBE_RESP = 5, MG_BEACON = 8, MG_ATIM = 9, MG_DISASSOC = 10, MG_AUTH = 11, MG_DEAUTH = 12,
       MG_ACTION = 13, MG_ACTION_NOACK = 14 };

/* Element IDs (Table 9-92) decoded here. */
enum { EL_SSID = 0, EL_RATES = 1, EL_DS = 3, EL_COUNTRY = 7, EL_VENDOR = 221 };

struct wlan_info {
	uint8_t type, subtype, flags;
	bool fcs;
	uint16_t seq, frag;
	bool have_seq;
	uint16_t beacon_interval;
	bool have_bi;
	const uint8_t *ssid;
	int ssid_len;        /* -1: no SSID element */
};

static void fc_fields(struct packet *p, uint8_t fc0, uint8_t fc1, uint32_t off)
{
	uint8_t type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
	pk_uint(p, F_WLAN_FC_TYPE_SUBTYPE, (uint32_t)type << 4 | subtype, off, 2); /* 16 bits, as Wireshark's */
	pk_uint(p, F_WLAN_FC, (uint32_t)fc0 << 8 | fc1, off, 2);
	pk_uint(p, F_WLAN_FC_VERSION, fc0 & 3, off, 1);
	pk_uint(p, F_WLAN_FC_TYPE, type, off, 1);
	pk_uint(p, F_WLAN_FC_SUBTYPE, subtype, off, 1);
	pk_uint(p, F_WLAN_FLAGS, fc1, off + 1, 1);
	pk_uint(p, F_WLAN_FC_DS, fc1 & 3, off + 1, 1);
	static const enum field_id bits[8] = { F_WLAN_FC_TODS, F_WLAN_FC_FROMDS, F_WLAN_FC_FRAG, F_WLAN_FC_RETRY,
					       F_WLAN_FC_PWRMGT, F_WLAN_FC_MOREDATA, F_WLAN_FC_PROTECTED, F_WLAN_FC_ORDER };
	for (int i = 0; i < 8; i++) pk_bool(p, bits[i], fc1 & (1u << i), off + 1, 1);
}

/* An address in its role, and as wlan.addr (Wireshark's any-address field). */
static const uint8_t *addr(struct packet *p, struct cur *c, enum field_id role, enum field_id role2)
{
	uint32_t off = cur_off(c);
	const uint8_t *a = cur_bytes(c, 6);
	if (!a) return NULL;
	pk_addr(p, role, a, off);
	if (role2 != F__COUNT) pk_addr(p, role2, a, off);
	pk_addr(p, F_WLAN_ADDR, a, off);
	return a;
}

static void seq_ctl(struct packet *p, struct cur *c, struct wlan_info *w)
{
	uint32_t off = cur_off(c);
	uint16_t sc = cur_le16(c);
	if (c->err) return;
	w->frag = sc & 0xf;
	w->seq = sc >> 4;
	w->have_seq = true;
	pk_uint(p, F_WLAN_FRAG, w->frag, off, 2);
	pk_uint(p, F_WLAN_SEQ, w->seq, off, 2);
}

/* Info: "Beacon frame, SN=1, FN=0, Flags=........C, BI=100, SSID="x"", as Wireshark. */
static void wlan_info_text(struct packet *p, const struct wlan_info *w)
{
	struct sbuf *sb = pk_col(p, "802.11");
	if (!sb) return;
	uint32_t ts = (uint32_t)w->type << 4 | w->subtype;
	const char *name = vn_lookup(vn_wlan_type_subtype, ts);
	if (name) {
		sb_puts(sb, name);
	} else {
		sb_puts(sb, "Unrecognized (Reserved frame) 0x");
		sb_hex(sb, ts, 2);
	}
	if (w->have_seq) {
		sb_puts(sb, ", SN=");
		sb_u64(sb, w->seq);
		sb_puts(sb, ", FN=");
		sb_u64(sb, w->frag);
	}
	sb_puts(sb, ", Flags=");
	static const char letters[] = "OpmPRMFT";
	for (int i = 0; i < 8; i++) sb_putc(sb, (w->flags & (0x80u >> i)) ? letters[i] : '.');
	if (w->fcs) sb_putc(sb, 'C');
	if (w->have_bi) {
		sb_puts(sb, ", BI=");
		sb_u64(sb, w->beacon_interval);
	}
	if (w->ssid_len == 0) {
		sb_puts(sb, ", SSID=Wildcard (Broadcast)");
	} else if (w->ssid_len > 0) {
		sb_puts(sb, ", SSID=\"");
		sb_text(sb, w->ssid, (size_t)w->ssid_len);
		sb_putc(sb, '"');
	}
}

/* Elements: ID, length, body (§9.4.2.1); the loop always advances and stops at a length
 * past the frame. */
static void elements(struct packet *p, struct cur *c, struct wlan_info *w)
{
	while (cur_left(c) >= 2) {
		uint8_t id = cur_peek_u8(c, 0), len = cur_peek_u8(c, 1);
		if (len + 2u > cur_left(c)) {
			pk_broken(p, "wlan", "element length exceeds the frame");
			return;
		}
		struct cur el = cur_sub(c, 2u + len);
		int tree = pk_tree(p, F_WLAN_TAG, &el);
		pk_u8(p, &el, F_WLAN_TAG_NUMBER);
		pk_u8(p, &el, F_WLAN_TAG_LENGTH);
		uint32_t off = cur_off(&el);
		switch (id) {
		case EL_SSID:
			pk_bytes(p, F_WLAN_SSID, el.pos, len, off);
			if (w->ssid_len < 0) {
				w->ssid = el.pos;
				w->ssid_len = len;
			}
			break;
		case EL_RATES:
			for (uint8_t i = 0; i < len; i++) pk_uint(p, F_WLAN_SUPPORTED_RATES, el.pos[i], off + i, 1);
			break;
		case EL_DS:
			if (len >= 1) pk_uint(p, F_WLAN_DS_CURRENT_CHANNEL, el.pos[0], off, 1);
			break;
		case EL_COUNTRY:
			if (len >= 2) pk_string(p, F_WLAN_COUNTRY_INFO_CODE, (const char *)el.pos, 2, off, 2);
			break;
		case EL_VENDOR:
			if (len >= 3) pk_be24(p, &el, F_WLAN_TAG_OUI);
			break;
		default:
			break;
		}
		pk_proto_end(p, tree, &el);
	}
}

static void capabilities(struct packet *p, struct cur *c)
{
	uint32_t off = cur_off(c);
	uint16_t cap = cur_le16(c);
	if (c->err) return;
	pk_uint(p, F_WLAN_FIXED_CAPABILITIES, cap, off, 2);
	pk_bool(p, F_WLAN_FIXED_CAPABILITIES_ESS, cap & 0x0001, off, 2);
	pk_bool(p, F_WLAN_FIXED_CAPABILITIES_IBSS, cap & 0x0002, off, 2);
	pk_bool(p, F_WLAN_FIXED_CAPABILITIES_PRIVACY, cap & 0x0010, off, 2);
}

static void le16_field(struct packet *p, struct cur *c, enum field_id id, uint16_t mask)
{
	uint32_t off = cur_off(c);
	uint16_t v = cur_le16(c);
	if (!c->err) pk_uint(p, id, v & mask, off, 2);
}

/* The fixed fields of each management subtype (§9.3.3), then its elements. */
static void mgmt_body(struct packet *p, struct cur *c, struct wlan_info *w)
{
	switch (w->subtype) {
	case MG_ASSOC_REQ:
		capabilities(p, c);
		le16_field(p, c, F_WLAN_FIXED_LISTEN_IVAL, 0xffff);
		break;
	case MG_REASSOC_REQ:
		capabilities(p, c);
		le16_field(p, c, F_WLAN_FIXED_LISTEN_IVAL, 0xffff);
		pk_ether(p, c, F_WLAN_FIXED_CURRENT_AP);
		break;
	case MG_ASSOC_RESP: case MG_REASSOC_RESP:
		capabilities(p, c);
		le16_field(p, c, F_WLAN_FIXED_STATUS_CODE, 0xffff);
		le16_field(p, c, F_WLAN_FIXED_AID, 0x3fff);
		break;
	case MG_PROBE_RESP: case MG_BEACON: {
		uint32_t off = cur_off(c);
		uint64_t t = (uint64_t)cur_le32(c) | (uint64_t)cur_le32(c) << 32;
		if (!c->err) pk_uint(p, F_WLAN_FIXED_TIMESTAMP, t, off, 8);
		off = cur_off(c);
		w->beacon_interval = cur_le16(c);
		if (!c->err) {
			pk_uint(p, F_WLAN_FIXED_BEACON, w->beacon_interval, off, 2);
			w->have_bi = true;
		}
		capabilities(p, c);
		break;
	}
	case MG_DISASSOC: case MG_DEAUTH:
		le16_field(p, c, F_WLAN_FIXED_REASON_CODE, 0xffff);
		return;
	case MG_AUTH:
		le16_field(p, c, F_WLAN_FIXED_AUTH_ALG, 0xffff);
		le16_field(p, c, F_WLAN_FIXED_AUTH_SEQ, 0xffff);
		le16_field(p, c, F_WLAN_FIXED_STATUS_CODE, 0xffff);
		break;
	case MG_ACTION: case MG_ACTION_NOACK:
		pk_u8(p, c, F_WLAN_FIXED_CATEGORY_CODE);
		return;
	case MG_PROBE_REQ:
		break;
	default:
		return;
	}
	if (c->err) {
		pk_broken(p, "wlan", "management frame body cut short");
		return;
	}
	elements(p, c, w);
}

/* Control frames: the receiver, and the transmitter for those that carry one (§9.3.1). */
static void ctrl_addrs(struct packet *p, struct cur *c, uint8_t subtype)
{
	const uint8_t *ra = NULL, *ta = NULL;
	switch (subtype) {
	case 10: /* PS-Poll: BSSID, TA */
		ra = addr(p, c, F_WLAN_BSSID, F__COUNT);
		ta = addr(p, c, F_WLAN_TA, F__COUNT);
		break;
	case 14: case 15: /* CF-End: RA, BSSID */
		ra = addr(p, c, F_WLAN_RA, F__COUNT);
		addr(p, c, F_WLAN_BSSID, F__COUNT);
		break;
	case 12: case 13: /* CTS, ACK */
		ra = addr(p, c, F_WLAN_RA, F__COUNT);
		break;
	default:
		ra = addr(p, c, F_WLAN_RA, F__COUNT);
		if (subtype != 7) ta = addr(p, c, F_WLAN_TA, F__COUNT);
		break;
	}
	if (ra) pk_set_wlan_cols(p, ta, ADDR_ROLE_TA, ra, ADDR_ROLE_RA);
}

void dissect_wlan_frame(struct packet *p, struct cur *c, bool fcs, bool datapad)
{
	struct cur frame = *c;
	uint32_t fcs_value = 0;
	uint32_t fcs_off = 0;
	if (fcs) {
		if (cur_left(&frame) < 4) {
			pk_broken(p, "wlan", "frame shorter than its FCS");
			return;
		}
		frame.end -= 4;
		struct cur t = cur_make(frame.end, 4);
		fcs_value = cur_le32(&t);
		fcs_off = cur_off(&frame) + (uint32_t)cur_left(&frame);
	}
	int slot = pk_proto(p, F_WLAN, &frame);
	const uint8_t *start = frame.pos;
	uint32_t off = cur_off(&frame);
	uint8_t fc0 = cur_u8(&frame), fc1 = cur_u8(&frame);
	uint16_t duration = cur_le16(&frame);
	if (frame.err) {
		pk_broken(p, "wlan", "802.11 header cut short");
		return;
	}
	struct wlan_info w = { .type = (fc0 >> 2) & 3, .subtype = fc0 >> 4, .flags = fc1, .fcs = fcs, .ssid_len = -1 };
	fc_fields(p, fc0, fc1, off);
	pk_uint(p, F_WLAN_DURATION, duration, off + 2, 2);
	struct cur body = frame;
	bool decode_llc = false;
	if (w.type == WT_CTRL) {
		ctrl_addrs(p, &frame, w.subtype);
		body.pos = body.end;
	} else if (w.type == WT_MGMT) {
		const uint8_t *da = addr(p, &frame, F_WLAN_RA, F_WLAN_DA);
		const uint8_t *sa = addr(p, &frame, F_WLAN_TA, F_WLAN_SA);
		addr(p, &frame, F_WLAN_BSSID, F__COUNT);
		seq_ctl(p, &frame, &w);
		if (sa && da) pk_set_wlan_cols(p, sa, ADDR_ROLE_NONE, da, ADDR_ROLE_NONE);
		body = frame;
	} else if (w.type == WT_DATA) {
		/* Address 1-4 by To DS / From DS (Table 9-30) */
		static const enum field_id roles[4][4] = {
			{ F_WLAN_DA, F_WLAN_SA, F_WLAN_BSSID, F__COUNT },
			{ F_WLAN_BSSID, F_WLAN_SA, F_WLAN_DA, F__COUNT },
			{ F_WLAN_DA, F_WLAN_BSSID, F_WLAN_SA, F__COUNT },
			{ F_WLAN_RA, F_WLAN_TA, F_WLAN_DA, F_WLAN_SA },
		};
		unsigned ds = fc1 & 3;
		const uint8_t *a[4] = { NULL, NULL, NULL, NULL };
		a[0] = addr(p, &frame, F_WLAN_RA, roles[ds][0] == F_WLAN_RA ? F__COUNT : roles[ds][0]);
		a[1] = addr(p, &frame, F_WLAN_TA, roles[ds][1] == F_WLAN_TA ? F__COUNT : roles[ds][1]);
		a[2] = addr(p, &frame, roles[ds][2], F__COUNT);
		seq_ctl(p, &frame, &w);
		if (ds == 3) a[3] = addr(p, &frame, F_WLAN_SA, F__COUNT);
		const uint8_t *sa = ds == 0 ? a[1] : ds == 1 ? a[1] : ds == 2 ? a[2] : a[3];
		const uint8_t *da = ds == 0 ? a[0] : ds == 1 ? a[2] : ds == 2 ? a[0] : a[2];
		if (sa && da) pk_set_wlan_cols(p, sa, ADDR_ROLE_NONE, da, ADDR_ROLE_NONE);
		bool amsdu = false;
		if (w.subtype & 0x8) { /* QoS */
			uint32_t qoff = cur_off(&frame);
			uint16_t qos = cur_le16(&frame);
			if (!frame.err) {
				pk_uint(p, F_WLAN_QOS, qos, qoff, 2);
				pk_uint(p, F_WLAN_QOS_TID, qos & 0xf, qoff, 1);
				pk_uint(p, F_WLAN_QOS_PRIORITY, qos & 7, qoff, 1);
				pk_bool(p, F_WLAN_QOS_AMSDUPRESENT, qos & 0x80, qoff, 1);
				amsdu = qos & 0x80;
			}
			if (fc1 & FC_ORDER) pk_le32(p, &frame, F_WLAN_HTC);
		}
		if (datapad) {
			size_t hl = (size_t)(frame.pos - start);
			cur_skip(&frame, (4 - hl % 4) % 4);
		}
		body = frame;
		if (!(w.subtype & 0x4) && !body.err) { /* the (No data) subtypes carry no body */
			if (fc1 & FC_PROTECTED) {
				/* CCMP/TKIP (ExtIV set): the 48-bit packet number from the 8-byte header */
				if (cur_left(&body) >= 8 && (body.pos[3] & 0x20)) {
					const uint8_t *h = body.pos;
					uint64_t pn = (uint64_t)h[7] << 40 | (uint64_t)h[6] << 32 | (uint64_t)h[5] << 24 |
						      (uint64_t)h[4] << 16 | (uint64_t)h[1] << 8 | h[0];
					pk_uint(p, F_WLAN_CCMP_EXTIV, pn, cur_off(&body), 6); /* a 48-bit number */
					cur_skip(&body, 8);
				}
			} else {
				decode_llc = !amsdu;
			}
		}
	} else {
		body.pos = body.end; /* extension frames (DMG, S1G beacons): named only */
	}
	if (frame.err) {
		pk_broken(p, "wlan", "802.11 header cut short");
		return;
	}
	if (fcs) {
		pk_uint(p, F_WLAN_FCS, fcs_value, fcs_off, 4);
		pk_uint(p, F_WLAN_FCS_STATUS, 2, fcs_off, 4); /* unverified, as tshark's default */
	}
	struct cur hdr_end = body;
	if (w.type == WT_MGMT) {
		pk_proto_end(p, slot, &hdr_end); /* the fixed fields and elements are its children */
		mgmt_body(p, &body, &w);
		wlan_info_text(p, &w);
		return;
	}
	pk_proto_end(p, slot, &hdr_end);
	wlan_info_text(p, &w);
	if (decode_llc) dissect_llc(p, &body);
	else if (cur_left(&body)) pk_data(p, &body);
}

void dissect_wlan(struct packet *p, struct cur *c) { dissect_wlan_frame(p, c, false, false); }
