/* SPDX-License-Identifier: MIT */
/*
 * Deterministic random numbers for training (initialisation, shuffling, augmentation,
 * dropout-free tests). xoshiro256** seeded through splitmix64: the same seed gives the
 * same run on every machine and thread count. Streams that must not influence each
 * other (init, shuffle, augmentation) use f8_rng_init(seed, stream).
 */
#ifndef F8_RNG_H
#define F8_RNG_H

#include <math.h>
#include <stdint.h>

struct f8_rng {
	uint64_t s[4];
};

static inline uint64_t f8_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void f8_rng_init(struct f8_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = f8_splitmix64(&x);
}

static inline uint64_t f8_rng_u64(struct f8_rng *r)
{
	uint64_t *s = r->s;
	uint64_t t = s[1] << 17;
	uint64_t x = s[1] * 5;
	uint64_t out = ((x << 7) | (x >> 57)) * 9;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return out;
}

/* Uniform in [0, n) without modulo bias worth caring about (n < 2^32). */
static inline uint32_t f8_rng_below(struct f8_rng *r, uint32_t n)
{
	return (uint32_t)(((f8_rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double f8_rng_uniform(struct f8_rng *r)
{
	return (double)(f8_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller; one value per call keeps the stream simple). */
static inline double f8_rng_normal(struct f8_rng *r)
{
	double u1 = 1.0 - f8_rng_uniform(r), u2 = f8_rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
