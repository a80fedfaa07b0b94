/*
 * front.h - the call-site recorder's seam in libhypertier.so's own malloc
 * family (preload.c wraps jemalloc's entry points, renamed at build time).
 *
 * Why not jemalloc's experimental hooks: with any hook installed, jemalloc
 * takes its slow path on every malloc and free; that halved a small-block
 * malloc loop in the test guest. The wrappers cost one compare per call
 * (size against min) and one load per free (the live-count filter).
 */
#ifndef HT_ALLOC_FRONT_H
#define HT_ALLOC_FRONT_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Entry points, in the order of jemalloc 5.3's hook_alloc_t (the hook path shares calibration). */
enum ht_alloc_entry { HT_AE_MALLOC, HT_AE_POSIX_MEMALIGN, HT_AE_ALIGNED_ALLOC, HT_AE_CALLOC, HT_AE_MEMALIGN,
		      HT_AE_VALLOC, HT_AE_MALLOCX, HT_AE_REALLOC, HT_AE_RALLOCX };

#define HT_FRONT_SLOTS 4096 /* filter size: a capacity, not a policy */

struct ht_alloc;
struct ht_site_front {
	_Atomic(struct ht_alloc *) a;           /* NULL: nothing recorded */
	_Atomic size_t min;                     /* blocks at least this big are recorded (SIZE_MAX: none) */
	_Atomic uint16_t live[HT_FRONT_SLOTS];  /* recorded live blocks per hashed address: a free that sees 0 skips the lookup */
};

static inline size_t ht_front_slot(const void *p)
{
	return (size_t)((((uintptr_t)p >> 6) * 0x9E3779B97F4A7C15ull) >> 52) % HT_FRONT_SLOTS;
}

/* preload.c, before the runtime starts: the runtime records sites through f instead of jemalloc hooks. */
void ht_site_set_front(struct ht_site_front *f);
/* A block of size bytes was born at p through entry type; only called for size >= f->min. */
void ht_site_front_alloc(struct ht_site_front *f, int type, void *p, size_t size);
/* p is about to be freed; only called when its filter slot is non-zero. */
void ht_site_front_free(struct ht_site_front *f, void *p);

static inline void ht_front_note(struct ht_site_front *f, int type, void *p, size_t size)
{
	if (__builtin_expect(size >= atomic_load_explicit(&f->min, memory_order_relaxed), 0) && p)
		ht_site_front_alloc(f, type, p, size);
}

static inline void ht_front_forget(struct ht_site_front *f, void *p)
{
	if (p && __builtin_expect(atomic_load_explicit(&f->live[ht_front_slot(p)], memory_order_relaxed) != 0, 0))
		ht_site_front_free(f, p);
}
#endif
