/* filter/internal.h — what the filter's lexer, compiler and evaluator share. Not part of
 * the module's contract (filter.h is). */
#ifndef PKTSCOPE_FILTER_INTERNAL_H
#define PKTSCOPE_FILTER_INTERNAL_H

#include "filter/filter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ---- tokens ---- */

enum tok {
	TK_END, TK_WORD, TK_STRING, TK_CHAR,
	TK_LPAREN, TK_RPAREN, TK_LBRACE, TK_RBRACE, TK_LBRACKET, TK_RBRACKET, TK_COMMA,
	TK_EQ, TK_NE, TK_ALL_EQ, TK_ANY_NE, TK_LT, TK_GT, TK_LE, TK_GE,
	TK_CONTAINS, TK_MATCHES, TK_IN, TK_ANY, TK_ALL, TK_BITAND,
	TK_AND, TK_OR, TK_XOR, TK_NOT,
};

struct token {
	enum tok kind;
	uint32_t pos, len;   /* in the filter text */
	uint32_t str, slen;  /* TK_STRING: the decoded bytes in the lexer's string buffer */
	uint64_t ch;         /* TK_CHAR: the character's value */
};

struct lexed {
	struct token *toks;
	size_t n;
	uint8_t *strbuf;     /* decoded string literals, back to back */
};

/* Splits text into tokens (the last is TK_END). Returns 0, or -1 with *err set. */
int df_lex(const char *text, size_t len, struct lexed *out, struct df_error *err);
void df_lexed_free(struct lexed *l);

/* ---- the program ---- */

/* Every value a test compares is reduced to one of these classes. */
enum dclass { DC_INT, DC_IPV4, DC_IPV6, DC_ETHER, DC_BYTES, DC_STRING, DC_TIME, DC_NONE };

struct dval {
	uint8_t cls;
	uint8_t prefix;            /* addresses: CIDR bits that count */
	uint32_t n;                /* bytes/string length */
	const uint8_t *p;          /* bytes/string */
	__int128 i;                /* integers; times in nanoseconds */
	uint8_t addr[16];
};

enum fn { FN_NONE, FN_LEN, FN_COUNT, FN_LOWER, FN_UPPER };

#define DF_MAX_RANGES 16
struct range {
	int64_t start;             /* negative: from the end */
	int64_t len;               /* -1: to the end */
};

/* One side of a relation: a field (with slice, function and bitmask applied in that
 * order, the way Wireshark applies them) or a constant. */
struct operand {
	bool is_field;
	uint16_t ids[2];           /* a pseudo-field (ip.addr) reads two fields */
	uint8_t nids;
	uint8_t ftype;             /* enum ftype of the field */
	uint8_t fn;
	uint8_t nranges;
	struct range ranges[DF_MAX_RANGES];
	bool has_mask;
	uint64_t mask;
	uint8_t cls;               /* class of the values produced */
	uint8_t *scratch;          /* lower()/upper() and joined slices write here */
	struct dval lit;           /* the constant */
	uint8_t *lit_owned;        /* bytes the constant owns */
};

enum test_kind { TS_EXISTS, TS_CMP, TS_CONTAINS, TS_MATCHES, TS_IN, TS_NONZERO };
enum cmp_op { OP_EQ, OP_NE, OP_ALL_EQ, OP_ANY_NE, OP_LT, OP_GT, OP_LE, OP_GE };
enum quant { Q_ANY, Q_ALL };

struct set_elem {
	struct dval lo, hi;        /* hi.cls == DC_NONE: a single value */
	uint8_t *owned;
};

struct test {
	enum test_kind kind;
	enum cmp_op op;
	enum quant quant;
	struct operand a, b;
	struct set_elem *set;
	size_t nset;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

/* Instructions: a boolean accumulator, short-circuit jumps, and a small stack for xor
 * (its depth is bounded by DF_MAX_DEPTH). */
enum op { I_TEST, I_JUMP_FALSE, I_JUMP_TRUE, I_NOT, I_PUSH, I_XOR };
struct insn {
	uint8_t op;
	uint32_t arg;              /* test index or jump target */
};

struct df_filter {
	struct insn *code;
	size_t ncode;
	struct test *tests;
	size_t ntests;
	struct field_mask needs;
	uint32_t max_stack;
};

/* The values an operand takes in packet p, one at a time (eval.c). */
bool df_eval_test(const struct test *t, const struct packet *p);

#endif
