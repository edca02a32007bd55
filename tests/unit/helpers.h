/* tests/unit/helpers.h — decode bytes into a packet and look fields up, for the unit tests. */
#ifndef PKTSCOPE_TESTS_HELPERS_H
#define PKTSCOPE_TESTS_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <stdlib.h>

#include "dissect/dissect.h"

static inline struct packet *decode(const uint8_t *b, size_t n, int linktype, uint32_t wirelen)
{
	static struct packet p;
	dissect_init();
	struct pkt_meta m = { .number = 1, .caplen = (uint32_t)n, .wirelen = wirelen ? wirelen : (uint32_t)n,
			      .linktype = linktype, .ts_digits = 6 };
	packet_begin(&p, &m, b);
	dissect_frame(&p);
	return &p;
}

/* The n-th (from 0) value of the named field, or NULL. */
static inline const struct fval *fnth(const struct packet *p, const char *name, int n)
{
	int id = field_by_name(name, strlen(name));
	assert_true(id >= 0);
	for (uint16_t i = 0; i < p->nfields; i++)
		if (p->fields[i].id == id && n-- == 0) return &p->fields[i];
	return NULL;
}

static inline const struct fval *f1(const struct packet *p, const char *name) { return fnth(p, name, 0); }

static inline uint64_t fu(const struct packet *p, const char *name)
{
	const struct fval *f = f1(p, name);
	assert_non_null(f);
	return f->v.u;
}

static inline bool has(const struct packet *p, const char *name) { return f1(p, name) != NULL; }

/* The Info column as a C string. */
static inline const char *info(struct packet *p)
{
	static char buf[PKT_INFO_MAX + 1];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, PKT_INFO_MAX);
	pk_info_write(&sb, p);
	return sb_cstr(&sb);
}

#endif
