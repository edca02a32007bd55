/* util/hash.c — SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input PRF";
 * one compression and three finalization rounds, the variant Rust's HashMap uses): keyed,
 * so attacker-chosen keys cannot collide on purpose without the seed. */
#include "util/hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                \
	do {                                                                                    \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                       \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                          \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                          \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                       \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
	return v;
}

uint64_t siphash13(const struct hash_seed *seed, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ seed->k0, v1 = 0x646f72616e646f6dull ^ seed->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ seed->k0, v3 = 0x7465646279746573ull ^ seed->k1;
	size_t end = len - len % 8;
	for (size_t i = 0; i < end; i += 8) {
		uint64_t m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < len % 8; i++) b |= (uint64_t)in[end + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

struct hash_seed hash_seed_random(void)
{
	struct hash_seed s;
	if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s.k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&s;
		s.k1 = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts << 17;
	}
	return s;
}
