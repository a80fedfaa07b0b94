/* conf.h - the one parser of HYPERTIER_CONF. */
#ifndef HT_CONF_H
#define HT_CONF_H
#include <stdint.h>
#include <stddef.h>

enum ht_log_level { HT_LOG_OFF, HT_LOG_ERROR, HT_LOG_WARN, HT_LOG_INFO, HT_LOG_DEBUG };
enum ht_sample_kind { HT_SAMPLE_AUTO, HT_SAMPLE_PEBS, HT_SAMPLE_IBS, HT_SAMPLE_DAMON, HT_SAMPLE_SOFTWARE,
		      HT_SAMPLE_REPLAY, HT_SAMPLE_NONE };
enum ht_manage { HT_MANAGE_ANON, HT_MANAGE_ALL };
enum ht_place { HT_PLACE_FAST_FIRST, HT_PLACE_SLOW, HT_PLACE_FAST, HT_PLACE_NONE };

/* Types: BOOL/U64/NODE -> int64_t, SIZE -> uint64_t bytes, DUR -> uint64_t us,
 * PCT -> double, ENUM -> int, STR -> char[256]. */
#define HT_CONF_STRLEN 256
#define HT_T_BOOL int64_t
#define HT_T_U64 int64_t
#define HT_T_NODE int64_t
#define HT_T_SIZE uint64_t
#define HT_T_DUR uint64_t
#define HT_T_PCT double
#define HT_T_ENUM int
#define HT_T_STR char

struct ht_conf {
#define X(name, type, def, lo, hi, doc) HT_T_##type name HT_CONF_DIM_##type;
#define HT_CONF_DIM_BOOL
#define HT_CONF_DIM_U64
#define HT_CONF_DIM_NODE
#define HT_CONF_DIM_SIZE
#define HT_CONF_DIM_DUR
#define HT_CONF_DIM_PCT
#define HT_CONF_DIM_ENUM
#define HT_CONF_DIM_STR [HT_CONF_STRLEN]
#include "conf_keys.h"
#undef X
};

/* Fill c with defaults. */
void ht_conf_defaults(struct ht_conf *c);
/*
 * Parse s (may be NULL) over the defaults. Returns 0, or -1 with one
 * human-readable line in err (no newline) naming the bad key or value.
 */
int ht_conf_parse(struct ht_conf *c, const char *s, char *err, size_t errlen);
/* Checks that need the machine (nodes exist). nr_nodes_possible: numa_max_node()+1. */
int ht_conf_check_nodes(const struct ht_conf *c, int (*node_exists)(int), char *err, size_t errlen);

/* Table access for hypertier-info and the man page test. */
struct ht_conf_key { const char *name, *type, *def, *doc; };
extern const struct ht_conf_key ht_conf_keys[];
extern const size_t ht_conf_nkeys;
/* The spelling of enum value v of key (e.g. "sample", HT_SAMPLE_DAMON -> "damon"), "?" if none. */
const char *ht_conf_enum_name(const char *key, int v);

/* Helpers, exported for other parsers (hostctl sizes, tests). */
int ht_parse_size(const char *s, uint64_t *out);
int ht_parse_dur_us(const char *s, uint64_t *out);
#endif
