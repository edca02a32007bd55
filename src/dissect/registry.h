/* dissect/registry.h — the field registry: every field pktscope records, named once
 * (fields.def, one file per protocol family under fields/), with its type, display base,
 * value names and title; lookups by name for the filter and -e; and the field mask a run
 * records by. The table is static and read-only once dissect_init has run.
 */
#ifndef PKTSCOPE_DISSECT_REGISTRY_H
#define PKTSCOPE_DISSECT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/names.h"

enum ftype {
	FT_PROTO,   /* a protocol: no value of its own, its fields are its children */
	FT_NONE,    /* present or not (an option without a value) */
	FT_BOOL,
	FT_UINT,
	FT_INT,
	FT_IPV4,
	FT_IPV6,
	FT_ETHER,
	FT_BYTES,
	FT_STRING,
	FT_ABSTIME, /* seconds + nanoseconds since the epoch */
	FT_EPOCH,   /* the same instant, shown as decimal seconds */
	FT_RELTIME, /* signed seconds + nanoseconds */
	FT_FLOAT,   /* a decimal number (a data rate of 5.5 Mb/s): fvalue.d */
};

enum fbase { BASE_NONE, BASE_DEC, BASE_HEX };

enum field_id {
#define FIELD(id, name, type, base, vals, title) F_##id,
#include "dissect/fields.def"
#undef FIELD
	F__COUNT
};

struct field_def {
	const char *name;   /* Wireshark's name where Wireshark has the field */
	const char *title;
	enum ftype type;
	enum fbase base;
	const struct val_name *vals;
	/* computed by field_registry_init(): */
	uint16_t parent;    /* registered field whose name is the longest dotted prefix, or F__COUNT */
	uint16_t name_len;
	bool has_children;  /* some registered field's name starts with "name." */
};

extern struct field_def field_defs[F__COUNT];

/* Computes parents and the name index; idempotent, called by dissect_init(). */
void field_registry_init(void);
/* The id of the field named `name` (exact), or -1. Also accepts the aliases the seed used. */
int field_by_name(const char *name, size_t len);
/* A pseudo-field (ip.addr, ipv6.addr, tcp.port, udp.port, eth.addr): the two fields it
 * stands for, in ids; 0, or -1 when `name` is not one. */
int field_pseudo(const char *name, size_t len, uint16_t ids[2]);
/* Whether a field's value comes from its packet's bytes alone, the same with or without
 * conversation tracking (ip.src, tcp.srcport, eth.dst…), as opposed to fields that need
 * the flow's history (tcp.stream, relative tcp.seq, tcp.analysis.*, the application
 * layers, which need reassembly or per-flow state). */
bool field_is_packet_local(int id);
/* Whether a field is made by the application decoders or depends on their work (the
 * application layers' fields, frame.protocols which names them, ICMP echo pairing which
 * keeps its requests in the same per-flow state): a run that records one runs them. */
bool field_needs_app(int id);
/* The i-th pseudo-field's name and its two fields (from 0), or NULL past the last. */
const char *field_pseudo_at(size_t i, uint16_t ids[2]);
/* A type's name as `pktscope fields` lists it: "uint", "ipv4", "string"… */
const char *ftype_name(enum ftype t);
/* The registered field name closest to `name` (for "did you mean"), or NULL. */
const char *field_suggest(const char *name);

/* Which fields a run needs (one bit per field id); decoders still parse everything, but
 * only these are recorded. Set with field_mask_add; a packet with no mask records all. */
struct field_mask {
	uint8_t bits[(F__COUNT + 7) / 8];
};

static inline void field_mask_add(struct field_mask *m, int id) { m->bits[id >> 3] |= (uint8_t)(1u << (id & 7)); }

/* Registers the field table; call once, before dissecting and before any thread starts. */
void dissect_init(void);

#endif
