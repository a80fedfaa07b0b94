/*
 * hypertier.h - public API of libhypertier.
 *
 * The runtime starts by itself when libhypertier.so is preloaded or linked
 * (a constructor reads HYPERTIER_CONF). Everything here is optional: it lets
 * a program give hints, allocate on a chosen tier, feed its own access
 * samples and read statistics. Every call is safe when the runtime is off
 * (one NUMA node, bad configuration, enable=0): hints then succeed as no-ops
 * after validating their arguments, allocation falls back to malloc.
 *
 * ABI: functions are only ever added. struct ht_stats starts with its own
 * size; callers set .size = sizeof(struct ht_stats) and the library fills at
 * most that many bytes, so old binaries keep working with new libraries.
 */
#ifndef HYPERTIER_H
#define HYPERTIER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HT_VERSION_MAJOR 0
#define HT_VERSION_MINOR 1
#define HT_VERSION_PATCH 0
#define HT_VERSION ((HT_VERSION_MAJOR << 16) | (HT_VERSION_MINOR << 8) | HT_VERSION_PATCH)

/** Runtime version of the library (same encoding as HT_VERSION). */
unsigned ht_version(void);

/* ---- tiers ------------------------------------------------------------ */

enum ht_tier {
	HT_TIER_FAST = 0, /* DRAM, the node with CPUs and the lowest distance */
	HT_TIER_SLOW = 1, /* CXL / PMem, usually a CPU-less node */
};

/** 1 when the runtime is active (two tiers found, configuration valid). */
int ht_enabled(void);

/* ---- hints ------------------------------------------------------------ */

enum ht_hint {
	HT_AUTO = 0,      /* forget earlier hints: the classifier decides */
	HT_HOT = 1,       /* promote now, before samples would show it */
	HT_COLD = 2,      /* demote when fast memory is needed */
	HT_PIN_FAST = 3,  /* keep on the fast tier; never demoted */
	HT_PIN_SLOW = 4,  /* keep on the slow tier; never promoted */
};

/**
 * Tell the runtime how [addr, addr+len) will be used.
 * Returns 0, or -1 with errno = EINVAL (bad hint, len 0, range not mapped)
 * or ENOMEM (out of range-map slots).
 */
int ht_hint(void *addr, size_t len, int hint);

/* ---- tier-directed allocation ----------------------------------------- */

/**
 * Allocate size bytes whose pages are bound to tier (enum ht_tier): the
 * runtime pins them there (ht_hint(HT_AUTO) hands them to the classifier).
 */
void *ht_malloc_tier(size_t size, int tier);
/** Free memory from ht_malloc_tier (plain free() also works). */
void ht_free(void *ptr);

/* ---- quotas ----------------------------------------------------------- */

/** Change the fast-tier quota in bytes at run time (0: no quota). Returns 0, or -1 with
 *  errno = EINVAL for a quota under two transparent huge pages while THP is on (it cannot be held). */
int ht_set_fast_quota(uint64_t bytes);

/* ---- software-reported samples ---------------------------------------- */

enum ht_access { HT_LOAD = 0, HT_STORE = 1 };

/**
 * Report one access to addr, as a PEBS sample would. Cheap and lock-free;
 * used with HYPERTIER_CONF=sample=software on machines without a PMU and by
 * applications that know their hot objects. weight: latency or count (>=1).
 */
void ht_sample_access(const void *addr, uint32_t weight);
/** Same, with the access kind (enum ht_access). */
void ht_sample_access2(const void *addr, uint32_t weight, int kind);

/* ---- explicit range registration -------------------------------------- */

/** Manage a mapping the runtime cannot see otherwise (e.g. from raw mmap). */
int ht_register(void *addr, size_t len);
/** Stop managing it (call before munmap for exact accounting). */
int ht_unregister(void *addr, size_t len);

/* ---- statistics ------------------------------------------------------- */

struct ht_stats {
	uint32_t size;            /* set by caller: sizeof(struct ht_stats) */
	uint32_t enabled;
	int32_t fast_node, slow_node;

	uint64_t fast_quota;      /* configured (0 = none) */
	uint64_t fast_budget;     /* min(quota, capacity - watermark, balloon) */
	uint64_t fast_used;       /* managed bytes resident on the fast node */
	uint64_t slow_used;
	uint64_t hot_set_bytes;
	uint64_t nr_ranges;
	uint64_t epochs;

	uint64_t samples;         /* delivered to the classifier */
	uint64_t samples_lost;    /* PERF_RECORD_LOST totals */
	uint64_t throttle, unthrottle;
	uint64_t samples_unmanaged; /* address outside every managed range */
	uint64_t sample_period;   /* current load period */
	uint64_t period_changes;  /* CPU-budget controller steps */
	uint64_t sampler_cpu_ns;  /* sampler thread CPU time */

	uint64_t pages_promoted, pages_demoted, bytes_moved;
	uint64_t fail_enoent;     /* page gone (-ENOENT / -EFAULT) */
	uint64_t fail_ebusy, fail_enomem, fail_other;
	uint64_t fast_hit_samples; /* samples that hit fast-tier pages */
	uint64_t located_samples;  /* samples whose tier was resolved */

	uint64_t extents_fast, extents_slow; /* allocator placement at birth */
	uint64_t map_changes_lost; /* range-map changes dropped while the engine was busy (the next maps rescan recovers them) */
	uint64_t pages_backed_off; /* moves skipped: the page failed recently (backoff= epochs, doubling per failure) */
	uint64_t pages_single;     /* pages planned for promotion on their own: hot below range granularity (page_hot) */
	uint64_t page_state_bytes; /* memory of the page-grain layer (at most page_state and 0.2% of the managed bytes) */
	uint64_t reserved[12];
};

/** Fill *st (st->size must be set). Returns 0, or -1 with errno = EINVAL. */
int ht_stats(struct ht_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* HYPERTIER_H */
