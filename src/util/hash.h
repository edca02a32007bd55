/* util/hash.h — a seeded keyed hash (SipHash-1-3) for tables whose keys an attacker picks:
 * with a random seed per process, crafted 5-tuples cannot pile into one bucket. */
#ifndef PKTSCOPE_UTIL_HASH_H
#define PKTSCOPE_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash_seed {
	uint64_t k0, k1;
};

/* A seed from getrandom(2) (falls back to time and address entropy if that fails). */
struct hash_seed hash_seed_random(void);
uint64_t siphash13(const struct hash_seed *seed, const void *data, size_t len);

#endif
