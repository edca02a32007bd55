/* dissect/radiotap.c — the radio headers in front of IEEE 802.11 frames: radiotap
 * (https://www.radiotap.org: fields in bit order, each aligned to its own size from the
 * header's start, extended presence words, radiotap and vendor namespaces) and PPI's
 * 802.11-common field (PPI specification 1.0.10, §4.1.2); both summed up as Wireshark's
 * `wlan_radio` layer. The frame after them is ieee80211.c's. */
#include "dissect/decoders.h"

/* What the radio header says about the frame, for wlan_radio and the 802.11 decoder. */
struct radio {
	bool fcs, datapad;
	bool have_tsft, have_rate, have_freq, have_signal, have_noise, have_mcs, have_vht, have_he;
	uint64_t tsft;
	uint32_t rate_500k;    /* data rate in 500 kb/s units */
	uint16_t freq, chan_flags;
	int8_t signal, noise;
};

/* Channel number from frequency in MHz (IEEE 802.11-2020 §15.4.4.3, §17.3.8.4.2, §27.3.23.2). */
static uint32_t channel_of(uint32_t mhz)
{
	if (mhz == 2484) return 14;
	if (mhz >= 2412 && mhz < 2484) return (mhz - 2407) / 5;
	if (mhz >= 4910 && mhz <= 4980) return (mhz - 4000) / 5;
	if (mhz >= 5000 && mhz <= 5925) return (mhz - 5000) / 5;
	if (mhz >= 5950 && mhz <= 7125) return (mhz - 5950) / 5;
	return 0;
}

/* Radiotap channel flags (the header's channel field, bits from net80211). */
enum { CH_TURBO = 0x0010, CH_CCK = 0x0020, CH_OFDM = 0x0040, CH_2GHZ = 0x0080, CH_5GHZ = 0x0100,
       CH_DYN = 0x0400, CH_GFSK = 0x0800 };

/* Wireshark's PHY guess (wlan_radio.phy): the newest modulation the header names. */
static uint32_t phy_of(const struct radio *r)
{
	if (r->have_he) return 11;
	if (r->have_vht) return 8;
	if (r->have_mcs) return 7;
	if (!r->have_freq) return 0;
	if ((r->chan_flags & CH_5GHZ) && (r->chan_flags & CH_OFDM)) return 5;
	if (r->chan_flags & CH_2GHZ) {
		if (r->chan_flags & (CH_OFDM | CH_DYN)) return 6;
		if (r->chan_flags & CH_CCK) return 4;
		if (r->chan_flags & CH_GFSK) return 1;
	}
	return 0;
}

static void wlan_radio(struct packet *p, const struct radio *r, struct cur *c)
{
	struct cur none = *c;
	none.end = none.pos; /* a summary: it covers no bytes of its own */
	int slot = pk_proto(p, F_WLAN_RADIO, &none);
	uint32_t phy = phy_of(r);
	if (phy) pk_uint(p, F_WLAN_RADIO_PHY, phy, 0, 0);
	if (r->have_rate) pk_float(p, F_WLAN_RADIO_DATA_RATE, r->rate_500k * 0.5, 0, 0);
	if (r->have_freq && channel_of(r->freq)) pk_uint(p, F_WLAN_RADIO_CHANNEL, channel_of(r->freq), 0, 0);
	if (r->have_freq) pk_uint(p, F_WLAN_RADIO_FREQUENCY, r->freq, 0, 0);
	if (r->have_signal) pk_int(p, F_WLAN_RADIO_SIGNAL_DBM, r->signal, 0, 0);
	if (r->have_noise) pk_int(p, F_WLAN_RADIO_NOISE_DBM, r->noise, 0, 0);
	if (r->have_signal && r->have_noise && r->signal > r->noise)
		pk_uint(p, F_WLAN_RADIO_SNR, (uint32_t)(r->signal - r->noise), 0, 0);
	if (r->have_tsft) pk_uint(p, F_WLAN_RADIO_TIMESTAMP, r->tsft, 0, 0);
	pk_proto_end(p, slot, &none);
}

/* Alignment and size of radiotap's defined fields, by presence bit (radiotap.org "Defined
 * fields"); size 0: not defined here, which ends the walk (its size is unknown). */
static const struct { uint8_t align, size; } rt_fields[29] = {
	[0] = { 8, 8 },  [1] = { 1, 1 },  [2] = { 1, 1 },  [3] = { 2, 4 },  [4] = { 1, 2 },  [5] = { 1, 1 },
	[6] = { 1, 1 },  [7] = { 2, 2 },  [8] = { 2, 2 },  [9] = { 2, 2 },  [10] = { 1, 1 }, [11] = { 1, 1 },
	[12] = { 1, 1 }, [13] = { 1, 1 }, [14] = { 2, 2 }, [15] = { 2, 2 }, [16] = { 1, 1 }, [17] = { 1, 1 },
	[18] = { 4, 8 }, [19] = { 1, 3 }, [20] = { 4, 8 }, [21] = { 2, 12 }, [22] = { 8, 12 }, [23] = { 2, 12 },
	[24] = { 2, 12 }, [25] = { 2, 6 }, [26] = { 1, 1 }, [27] = { 2, 4 },
};

static void rt_flags(struct packet *p, uint8_t v, uint32_t off, struct radio *r)
{
	static const enum field_id bits[8] = { F_RADIOTAP_FLAGS_CFP, F_RADIOTAP_FLAGS_PREAMBLE, F_RADIOTAP_FLAGS_WEP,
					       F_RADIOTAP_FLAGS_FRAG, F_RADIOTAP_FLAGS_FCS, F_RADIOTAP_FLAGS_DATAPAD,
					       F_RADIOTAP_FLAGS_BADFCS, F_RADIOTAP_FLAGS_SHORTGI };
	pk_uint(p, F_RADIOTAP_FLAGS, v, off, 1);
	for (int i = 0; i < 8; i++) pk_bool(p, bits[i], v & (1u << i), off, 1);
	r->fcs = v & 0x10;
	r->datapad = v & 0x20;
}

/* One defined field of the radiotap namespace, at cursor f (its bytes). */
static void rt_field(struct packet *p, int bit, struct cur *f, struct radio *r)
{
	uint32_t off = cur_off(f);
	switch (bit) {
	case 0: r->tsft = (uint64_t)cur_le32(f) | (uint64_t)cur_le32(f) << 32; r->have_tsft = true;
		pk_uint(p, F_RADIOTAP_MACTIME, r->tsft, off, 8); break;
	case 1: rt_flags(p, cur_u8(f), off, r); break;
	case 2: r->rate_500k = cur_u8(f); r->have_rate = true;
		pk_float(p, F_RADIOTAP_DATARATE, r->rate_500k * 0.5, off, 1); break;
	case 3: r->freq = cur_le16(f); r->chan_flags = cur_le16(f); r->have_freq = true;
		pk_uint(p, F_RADIOTAP_CHANNEL_FREQ, r->freq, off, 2);
		pk_uint(p, F_RADIOTAP_CHANNEL_FLAGS, r->chan_flags, off + 2, 2); break;
	case 4: pk_uint(p, F_RADIOTAP_FHSS_HOPSET, cur_u8(f), off, 1);
		pk_uint(p, F_RADIOTAP_FHSS_PATTERN, cur_u8(f), off + 1, 1); break;
	case 5: r->signal = (int8_t)cur_u8(f); r->have_signal = true;
		pk_int(p, F_RADIOTAP_DBM_ANTSIGNAL, r->signal, off, 1); break;
	case 6: r->noise = (int8_t)cur_u8(f); r->have_noise = true;
		pk_int(p, F_RADIOTAP_DBM_ANTNOISE, r->noise, off, 1); break;
	case 7: pk_uint(p, F_RADIOTAP_QUALITY, cur_le16(f), off, 2); break;
	case 8: pk_uint(p, F_RADIOTAP_TXATTENUATION, cur_le16(f), off, 2); break;
	case 9: pk_uint(p, F_RADIOTAP_DB_TXATTENUATION, cur_le16(f), off, 2); break;
	case 10: pk_int(p, F_RADIOTAP_TXPOWER, (int8_t)cur_u8(f), off, 1); break;
	case 11: pk_uint(p, F_RADIOTAP_ANTENNA, cur_u8(f), off, 1); break;
	case 12: pk_uint(p, F_RADIOTAP_DB_ANTSIGNAL, cur_u8(f), off, 1); break;
	case 13: pk_uint(p, F_RADIOTAP_DB_ANTNOISE, cur_u8(f), off, 1); break;
	case 14: pk_uint(p, F_RADIOTAP_RXFLAGS, cur_le16(f), off, 2); break;
	case 15: pk_uint(p, F_RADIOTAP_TXFLAGS, cur_le16(f), off, 2); break;
	case 18: { /* XChannel: flags (u32), frequency, channel, max power */
		uint32_t fl = cur_le32(f);
		uint16_t mhz = cur_le16(f);
		if (!r->have_freq) {
			r->freq = mhz;
			r->chan_flags = (uint16_t)fl;
			r->have_freq = true;
		}
		break;
	}
	case 19: { /* MCS: known, flags, index */
		uint8_t known = cur_u8(f);
		cur_u8(f);
		uint8_t mcs = cur_u8(f);
		r->have_mcs = true;
		if (known & 0x02) pk_uint(p, F_RADIOTAP_MCS_INDEX, mcs, off + 2, 1);
		break;
	}
	case 21: { /* VHT: known (u16), flags, bandwidth, ... */
		cur_le16(f);
		cur_u8(f);
		pk_uint(p, F_RADIOTAP_VHT_BW, cur_u8(f), off + 3, 1);
		r->have_vht = true;
		break;
	}
	case 23: case 24: r->have_he = true; break;
	default: break;
	}
}

/* Walks the presence words and fields; returns false when the walk had to stop early (an
 * undefined field of unknown size): what follows the header is still found by its length. */
static bool rt_walk(struct packet *p, struct cur *hdr, struct radio *r)
{
	uint32_t words[8];
	unsigned nwords = 0;
	do {
		uint32_t off = cur_off(hdr);
		words[nwords] = cur_le32(hdr);
		if (hdr->err) return false;
		pk_uint(p, F_RADIOTAP_PRESENT_WORD, words[nwords], off, 4);
	} while ((words[nwords++] & 0x80000000u) && nwords < 8);
	const uint8_t *start = hdr->base + 0; /* alignment counts from the radiotap header */
	bool radiotap_ns = true;
	unsigned ns_word = 0; /* index of the word within its namespace */
	for (unsigned w = 0; w < nwords; w++) {
		uint32_t word = words[w];
		for (int bit = 0; bit < 29 && radiotap_ns; bit++) {
			if (!(word & (1u << bit))) continue;
			if (ns_word != 0 || bit == 28 || !rt_fields[bit].size) return false; /* TLVs or unknown */
			size_t at = (size_t)(hdr->pos - start), a = rt_fields[bit].align;
			if (!cur_skip(hdr, (a - at % a) % a)) return false;
			struct cur f = cur_sub(hdr, rt_fields[bit].size);
			if (f.err) return false;
			rt_field(p, bit, &f, r);
		}
		if (word & (1u << 29)) {
			radiotap_ns = true;
			ns_word = 0;
		} else if (word & (1u << 30)) { /* vendor namespace: OUI, sub-namespace, skip length */
			size_t at = (size_t)(hdr->pos - start);
			if (!cur_skip(hdr, at % 2)) return false;
			cur_skip(hdr, 4);
			uint16_t skip = cur_le16(hdr);
			if (hdr->err || !cur_skip(hdr, skip)) return false;
			radiotap_ns = false;
			ns_word = 0;
		} else {
			ns_word++;
		}
	}
	return true;
}

void dissect_radiotap(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_RADIOTAP, c);
	uint32_t off = cur_off(c);
	uint8_t version = cur_u8(c);
	uint8_t pad = cur_u8(c);
	uint16_t len = cur_le16(c);
	if (c->err || len < 8) {
		pk_broken(p, "radiotap", c->err ? "radiotap header cut short" : "radiotap header length below 8");
		return;
	}
	pk_uint(p, F_RADIOTAP_VERSION, version, off, 1);
	pk_uint(p, F_RADIOTAP_PAD, pad, off + 1, 1);
	pk_uint(p, F_RADIOTAP_LENGTH, len, off + 2, 2);
	struct cur hdr = *c;
	hdr.base = c->pos - 4; /* alignment is from the header's first byte */
	struct cur rest = cur_sub(&hdr, (size_t)len - 4);
	if (rest.err) {
		pk_broken(p, "radiotap", "radiotap header length exceeds packet");
		return;
	}
	struct radio r = { 0 };
	struct cur fields = rest;
	rt_walk(p, &fields, &r);
	cur_skip(c, (size_t)len - 4);
	pk_proto_end(p, slot, c);
	wlan_radio(p, &r, c);
	dissect_wlan_frame(p, c, r.fcs, r.datapad);
}

/* PPI's 802.11-common field (type 2): TSF, flags, rate, channel, FHSS, signal, noise.
 * PPI marks what it lacks: rate and frequency 0, signal and noise -128. */
static void ppi_80211_common(struct packet *p, struct cur *f, struct radio *r)
{
	uint32_t off = cur_off(f);
	uint64_t tsft = (uint64_t)cur_le32(f) | (uint64_t)cur_le32(f) << 32;
	uint16_t flags = cur_le16(f);
	uint16_t rate = cur_le16(f);
	uint16_t freq = cur_le16(f);
	uint16_t chan_flags = cur_le16(f);
	cur_skip(f, 2);
	int8_t signal = (int8_t)cur_u8(f), noise = (int8_t)cur_u8(f);
	if (f->err) return;
	pk_uint(p, F_PPI_80211_COMMON_TSFT, tsft, off, 8);
	pk_uint(p, F_PPI_80211_COMMON_FLAGS, flags, off + 8, 2);
	pk_uint(p, F_PPI_80211_COMMON_RATE, (uint32_t)rate * 500, off + 10, 2); /* in kb/s */
	pk_uint(p, F_PPI_80211_COMMON_CHAN_FREQ, freq, off + 12, 2);
	pk_uint(p, F_PPI_80211_COMMON_CHAN_FLAGS, chan_flags, off + 14, 2);
	pk_int(p, F_PPI_80211_COMMON_DBM_ANTSIGNAL, signal, off + 18, 1);
	pk_int(p, F_PPI_80211_COMMON_DBM_ANTNOISE, noise, off + 19, 1);
	*r = (struct radio){ .fcs = flags & 0x0001, .have_tsft = true, .tsft = tsft, .have_rate = rate != 0,
			     .rate_500k = rate, .have_freq = freq != 0, .freq = freq, .chan_flags = chan_flags,
			     .have_signal = signal != -128, .signal = signal, .have_noise = noise != -128,
			     .noise = noise };
}

/* PPI (LINKTYPE_PPI, PPI specification 1.0.10): a header, type-length fields, then a
 * frame of the link type it names. */
void dissect_ppi(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_PPI, c);
	uint32_t off = cur_off(c);
	uint8_t version = cur_u8(c);
	uint8_t flags = cur_u8(c);
	uint16_t len = cur_le16(c);
	uint32_t dlt = cur_le32(c);
	if (c->err || len < 8) {
		pk_broken(p, "ppi", "PPI header cut short");
		return;
	}
	pk_uint(p, F_PPI_VERSION, version, off, 1);
	pk_uint(p, F_PPI_FLAGS, flags, off + 1, 1);
	pk_uint(p, F_PPI_LENGTH, len, off + 2, 2);
	pk_uint(p, F_PPI_DLT, dlt, off + 4, 4);
	struct cur fields = cur_sub(c, (size_t)len - 8);
	if (fields.err) {
		pk_broken(p, "ppi", "PPI header length exceeds packet");
		return;
	}
	struct radio r;
	bool radio = false;
	while (cur_left(&fields) >= 4) { /* each field: type, length (little-endian), data */
		uint16_t type = cur_le16(&fields), flen = cur_le16(&fields);
		struct cur f = cur_sub(&fields, flen);
		if (f.err) break;
		if (type == 2 && flen >= 20) {
			ppi_80211_common(p, &f, &r);
			radio = true;
		}
	}
	pk_proto_end(p, slot, c);
	if (dlt == LT_PPI) {
		pk_data(p, c); /* no PPI inside PPI */
	} else if (dlt == LT_IEEE802_11) {
		if (radio) wlan_radio(p, &r, c);
		dissect_wlan_frame(p, c, radio && r.fcs, false);
	} else {
		dissect_linktype(p, (int)dlt, c);
	}
}
