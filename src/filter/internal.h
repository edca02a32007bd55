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
	TK_PLUS, TK_STAR, TK_PERCENT, TK_HASH, TK_FIELDREF, /* '-' and '/' are words (ranges, CIDR) */
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

/* Arithmetic and value functions (Wireshark 4.x): an operand may be an expression over
 * other operands, evaluated to a list of values for each packet. */
enum ex_op { EX_NEG, EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_MOD, EX_ABS, EX_MIN, EX_MAX, EX_STRING };
#define DF_MAX_ARGS 8        /* arguments of max()/min() */
#define DF_MAX_VALUES 64     /* values an expression yields per packet (products are cut) */
#define DF_STRING_MAX 64     /* bytes of one string() value */
struct operand;
struct expr {
	uint8_t op;              /* enum ex_op */
	uint8_t nargs;
	struct operand *args[DF_MAX_ARGS]; /* owned */
};

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
	struct expr *expr;         /* an expression (its values: vals, filled per packet), or NULL */
	struct dval *vals;         /* DF_MAX_VALUES: an expression's values, or a reference's */
	uint8_t nvals;
	uint16_t layer_proto;      /* ip.src#2: the protocol whose layers are counted, or 0 */
	uint8_t layer_lo, layer_hi; /* the layers (from 1) whose values count */
	bool ref;                  /* ${field}: the reference packet's values (df_set_reference) */
	uint8_t *refbuf;           /* the bytes those values point into (owned) */
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
	struct field_mask ref_needs; /* fields ${…} reads from the reference packet */
	uint32_t max_stack;
	void **owned;             /* what expressions allocated (nodes, operands, value lists):
				   * freed with the program, whether or not compiling finished */
	size_t nowned, cap_owned;
};

/* The values an operand takes in packet p, one at a time (eval.c). */
bool df_eval_test(const struct test *t, const struct packet *p);

#endif
