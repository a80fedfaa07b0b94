/* conf.c - parse HYPERTIER_CONF ("k=v,k=v") against the table in conf_keys.h. */
#include "conf.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ktype { K_BOOL, K_U64, K_NODE, K_SIZE, K_DUR, K_PCT, K_ENUM, K_STR };

struct key {
	const char *name;
	enum ktype type;
	const char *def;
	double lo, hi; /* hi == 0 and lo == 0 on SIZE/DUR/U64: no bound */
	size_t off;
	const char *doc;
};

static const struct key keys[] = {
#define X(n, t, d, l, h, doc) { #n, K_##t, d, (double)(l), (double)(h), offsetof(struct ht_conf, n), doc },
#include "conf_keys.h"
#undef X
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *type_names[] = { "bool", "int", "node", "size", "duration", "percent", "enum", "string" };

const struct ht_conf_key ht_conf_keys[] = {
#define X(n, t, d, l, h, doc) { #n, #t, d, doc },
#include "conf_keys.h"
#undef X
};
const size_t ht_conf_nkeys = NKEYS;

/* Enum spellings; index = enum value. */
static const char *const log_names[] = { "off", "error", "warn", "info", "debug", NULL };
static const char *const sample_names[] = { "auto", "pebs", "ibs", "damon", "software", "replay", "none", NULL };
static const char *const manage_names[] = { "anon", "all", NULL };
static const char *const place_names[] = { "fast_first", "slow", "fast", "none", NULL };
static const char *const *enum_names(const char *key);

const char *ht_conf_enum_name(const char *key, int v)
{
	const char *const *names = enum_names(key);
	for (int i = 0; names && names[i]; i++)
		if (i == v)
			return names[i];
	return "?";
}

static const char *const *enum_names(const char *key)
{
	if (!strcmp(key, "log")) return log_names;
	if (!strcmp(key, "sample")) return sample_names;
	if (!strcmp(key, "manage")) return manage_names;
	if (!strcmp(key, "place")) return place_names;
	return NULL;
}

int ht_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s)) /* strtoull would take " 1", "+1" and "-1" (as 2^64-1) */
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case 0: break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'I') end++;
	if (*end == 'b' || *end == 'B') end++;
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int ht_parse_dur_us(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	uint64_t mul;
	if (!*end || !strcmp(end, "ms")) mul = 1000;
	else if (!strcmp(end, "us")) mul = 1;
	else if (!strcmp(end, "s")) mul = 1000000;
	else if (!strcmp(end, "min")) mul = 60000000;
	else return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int set_one(struct ht_conf *c, const struct key *k, const char *v, char *err, size_t errlen)
{
	char *p = (char *)c + k->off;
	char *end;
	switch (k->type) {
	case K_BOOL:
		if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
			*(int64_t *)p = 1;
		else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
			*(int64_t *)p = 0;
		else
			goto bad;
		return 0;
	case K_U64:
	case K_NODE: {
		if (!isdigit((unsigned char)v[0]) && !(v[0] == '-' && isdigit((unsigned char)v[1])))
			goto bad;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			goto bad;
		if ((double)x < k->lo || (double)x > k->hi) {
			snprintf(err, errlen, "%s=%s is out of range [%.0f, %.0f]", k->name, v, k->lo, k->hi);
			return -1;
		}
		*(int64_t *)p = x;
		return 0;
	}
	case K_SIZE:
	case K_DUR: {
		uint64_t x;
		if ((k->type == K_SIZE ? ht_parse_size(v, &x) : ht_parse_dur_us(v, &x)) < 0)
			goto bad;
		if ((k->lo && (double)x < k->lo) || (k->hi && (double)x > k->hi)) {
			snprintf(err, errlen, "%s=%s is out of range", k->name, v);
			return -1;
		}
		*(uint64_t *)p = x;
		return 0;
	}
	case K_PCT: {
		errno = 0;
		double x = strtod(v, &end);
		if (errno || end == v || (*end && strcmp(end, "%")))
			goto bad;
		if (!(x >= k->lo && x <= k->hi)) {
			snprintf(err, errlen, "%s=%s is out of range [%g, %g]", k->name, v, k->lo, k->hi);
			return -1;
		}
		*(double *)p = x;
		return 0;
	}
	case K_ENUM: {
		const char *const *names = enum_names(k->name);
		for (int i = 0; names && names[i]; i++)
			if (!strcmp(v, names[i])) {
				*(int *)p = i;
				return 0;
			}
		char opts[160] = "";
		for (int i = 0; names && names[i]; i++) {
			if (i) strncat(opts, "|", sizeof(opts) - strlen(opts) - 1);
			strncat(opts, names[i], sizeof(opts) - strlen(opts) - 1);
		}
		snprintf(err, errlen, "%s=%s: expected one of %s", k->name, v, opts);
		return -1;
	}
	case K_STR:
		if (strlen(v) >= HT_CONF_STRLEN) {
			snprintf(err, errlen, "%s: value longer than %d bytes", k->name, HT_CONF_STRLEN - 1);
			return -1;
		}
		strcpy(p, v);
		return 0;
	}
bad:
	snprintf(err, errlen, "%s=%s: not a valid %s", k->name, v, type_names[k->type]);
	return -1;
}

void ht_conf_defaults(struct ht_conf *c)
{
	char err[64];
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if (set_one(c, &keys[i], keys[i].def, err, sizeof(err)) < 0)
			abort(); /* a broken default is a build bug, caught by the unit test */
}

int ht_conf_parse(struct ht_conf *c, const char *s, char *err, size_t errlen)
{
	if (!s)
		return 0;
	size_t len = strlen(s);
	if (len > 8192) {
		snprintf(err, errlen, "HYPERTIER_CONF is longer than 8192 bytes");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) { /* never echoed: it could be a newline or ESC */
			snprintf(err, errlen, "HYPERTIER_CONF holds control character 0x%02x at byte %zu", (unsigned char)s[i], i);
			return -1;
		}
	char buf[8193];
	unsigned char seen[NKEYS];
	memset(seen, 0, sizeof(seen));
	memcpy(buf, s, len + 1);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ') tok++;
		if (!*tok)
			continue;
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "'%s': expected key=value", tok);
			return -1;
		}
		*eq = 0;
		const struct key *k = NULL;
		for (size_t i = 0; i < NKEYS; i++)
			if (!strcmp(keys[i].name, tok))
				k = &keys[i];
		if (!k) {
			snprintf(err, errlen, "unknown key '%s'", tok);
			return -1;
		}
		if (seen[k - keys]++) { /* which one was meant is anyone's guess */
			snprintf(err, errlen, "%s given twice", tok);
			return -1;
		}
		if (set_one(c, k, eq + 1, err, errlen) < 0)
			return -1;
	}
	if (c->period_min > c->period_max) {
		snprintf(err, errlen, "period_min=%" PRId64 " is above period_max=%" PRId64, c->period_min, c->period_max);
		return -1;
	}
	if (c->ring_pages & (c->ring_pages - 1)) {
		snprintf(err, errlen, "ring_pages=%" PRId64 " is not a power of two", c->ring_pages);
		return -1;
	}
	if (c->fast_node >= 0 && c->fast_node == c->slow_node) {
		snprintf(err, errlen, "fast_node and slow_node are both %" PRId64, c->fast_node);
		return -1;
	}
	if (c->sample == HT_SAMPLE_REPLAY && !c->replay[0]) {
		snprintf(err, errlen, "sample=replay needs replay=FILE");
		return -1;
	}
	return 0;
}

int ht_conf_check_nodes(const struct ht_conf *c, int (*node_exists)(int), char *err, size_t errlen)
{
	if (c->fast_node >= 0 && !node_exists((int)c->fast_node)) {
		snprintf(err, errlen, "fast_node=%" PRId64 ": no such NUMA node with memory", c->fast_node);
		return -1;
	}
	if (c->slow_node >= 0 && !node_exists((int)c->slow_node)) {
		snprintf(err, errlen, "slow_node=%" PRId64 ": no such NUMA node with memory", c->slow_node);
		return -1;
	}
	return 0;
}
