/*
 * htstat - live tier statistics of a process running the HyperTier runtime,
 * read from its shared-memory stats file (see core/statsfile.h).
 */
#include "core/statsfile.h"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: htstat [--json | --prometheus] [-i SECONDS] [-n COUNT] [-d DIR] PID\n"
		   "Show a HyperTier process's fast-tier use, hot set, migrations, sampling and\n"
		   "hottest ranges and allocation sites. Also installed as hypertier-stat.\n"
		   "  --json        one JSON object per report\n"
		   "  --prometheus  gauges and counters in the Prometheus text format (once)\n"
		   "  -i SECONDS    repeat every SECONDS (default: report once)\n"
		   "  -n COUNT      stop after COUNT reports\n"
		   "  -d DIR        stats directory (default: the process owner's, see htstat(1))\n");
}

static const char *bytes(uint64_t b, char *buf, size_t len)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

static const char *tier_name(int t) { return t == 0 ? "fast" : t == 1 ? "slow" : "-"; }
static const char *hint_name(int h)
{
	static const char *n[] = { "", "hot", "cold", "pin_fast", "pin_slow" };
	return h >= 0 && h <= 4 ? n[h] : "?";
}

static void show(const struct ht_sf_data *d, int pid)
{
	const struct ht_stats *s = &d->st;
	char a[32], b[32], c[32], e[32];
	printf("hypertier pid %d: %s, fast node %d, slow node %d, source %s\n", pid,
	       s->enabled ? "on" : "off", s->fast_node, s->slow_node, d->source);
	printf("fast tier   %s used of %s quota (budget %s); slow tier %s used\n", bytes(s->fast_used, a, sizeof(a)),
	       s->fast_quota ? bytes(s->fast_quota, b, sizeof(b)) : "no", bytes(s->fast_budget, c, sizeof(c)),
	       bytes(s->slow_used, e, sizeof(e)));
	printf("hot set     %s in %" PRIu64 " ranges, %" PRIu64 " epochs\n", bytes(s->hot_set_bytes, a, sizeof(a)),
	       s->nr_ranges, s->epochs);
	printf("pages       %" PRIu64 " promoted on their own; page state %s\n", s->pages_single,
	       bytes(s->page_state_bytes, a, sizeof(a)));
	printf("migration   %.1f promotions/s, %.1f demotions/s (pages); %s moved in all\n", d->promote_per_s,
	       d->demote_per_s, bytes(s->bytes_moved, a, sizeof(a)));
	printf("sampling    %.1f samples/s, %" PRIu64 " lost, sampler CPU %.2f%%, period %" PRIu64 "\n",
	       d->samples_per_s, s->samples_lost, 100 * d->sampler_cpu_share, s->sample_period);
	printf("allocator   %" PRIu64 " extents born fast, %" PRIu64 " slow\n", s->extents_fast, s->extents_slow);
	if (d->nranges) {
		printf("top ranges  %-18s %10s %12s %6s %4s %s\n", "start", "length", "density", "fast%", "hot", "hint");
		for (uint32_t i = 0; i < d->nranges && i < HT_SF_TOP; i++) {
			const struct ht_sf_range *r = &d->ranges[i];
			char share[16];
			if (r->fast_share < 0)
				snprintf(share, sizeof(share), "?");
			else
				snprintf(share, sizeof(share), "%.0f", 100 * r->fast_share);
			printf("            0x%016" PRIx64 " %10s %12.3g %6s %4s %s\n", r->start, bytes(r->len, a, sizeof(a)),
			       r->density, share, r->hot ? "yes" : "", hint_name(r->hint));
		}
	}
	if (d->nsites) {
		printf("top sites   %6s %5s %8s %8s %12s %s\n", "heat", "tier", "allocs", "placed", "live", "call site");
		for (uint32_t i = 0; i < d->nsites && i < HT_SF_TOP; i++) {
			const struct ht_sf_site *t = &d->sites[i];
			char heat[16];
			if (t->heat < 0)
				snprintf(heat, sizeof(heat), "?");
			else
				snprintf(heat, sizeof(heat), "%.2f", t->heat);
			printf("            %6s %5s %8" PRIu64 " %8" PRIu64 " %12s %s\n", heat, tier_name(t->tier), t->allocs,
			       t->placed, bytes(t->live_bytes, a, sizeof(a)), t->name[0] ? t->name : "(resolving)");
		}
	}
}

/* The Prometheus text exposition format, one family after another. */
static void prom(const struct ht_sf_data *d, int pid)
{
	const struct ht_stats *s = &d->st;
	const struct { const char *name, *type, *help; uint64_t v; } m[] = {
		{ "fast_used_bytes", "gauge", "Managed bytes resident on the fast node.", s->fast_used },
		{ "fast_budget_bytes", "gauge", "Fast-tier budget in force (quota, capacity and balloon).", s->fast_budget },
		{ "fast_quota_bytes", "gauge", "Configured fast-tier quota (0: none).", s->fast_quota },
		{ "slow_used_bytes", "gauge", "Managed bytes resident on the slow node.", s->slow_used },
		{ "hot_set_bytes", "gauge", "Bytes the classifier counts as hot.", s->hot_set_bytes },
		{ "promotions_total", "counter", "Pages moved to the fast tier.", s->pages_promoted },
		{ "demotions_total", "counter", "Pages moved to the slow tier.", s->pages_demoted },
		{ "single_promotions_total", "counter", "Pages planned for promotion on their own (hot below range granularity).", s->pages_single },
		{ "page_state_bytes", "gauge", "Memory of the page-grain layer.", s->page_state_bytes },
		{ "samples_total", "counter", "Access samples delivered to the classifier.", s->samples },
		{ "samples_lost_total", "counter", "Access samples the kernel dropped.", s->samples_lost },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		printf("# HELP hypertier_process_%s %s\n# TYPE hypertier_process_%s %s\nhypertier_process_%s{pid=\"%d\"} %" PRIu64 "\n",
		       m[i].name, m[i].help, m[i].name, m[i].type, m[i].name, pid, m[i].v);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' },
					      { "interval", required_argument, 0, 'i' },
					      { "count", required_argument, 0, 'n' },
					      { "prometheus", no_argument, 0, 'P' }, { 0, 0, 0, 0 } };
	int json = 0, prometheus = 0, c;
	double interval = 0;
	long count = -1;
	const char *dir = NULL;
	while ((c = getopt_long(argc, argv, "ji:n:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'P': prometheus = 1; break;
		case 'i': interval = strtod(optarg, NULL); break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	char *end;
	long pid = strtol(argv[optind], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "htstat: '%s' is not a process id\n", argv[optind]);
		return 2;
	}
	if (interval < 0 || (interval == 0 && count > 1)) {
		fprintf(stderr, "htstat: -n needs -i SECONDS > 0\n");
		return 2;
	}
	if (prometheus && (json || interval > 0 || count > 1)) {
		fprintf(stderr, "htstat: --prometheus writes one snapshot: no --json, -i or -n\n");
		return 2;
	}
	if (count < 0)
		count = interval > 0 ? 0 : 1; /* 0: forever */
	char why[512];
	struct ht_statsfile *f = ht_statsfile_open(dir, (int)pid, why, sizeof(why));
	if (!f) {
		fprintf(stderr, "htstat: %s\n", why);
		return 1;
	}
	struct ht_sf_data d;
	for (long i = 0; count == 0 || i < count; i++) {
		if (i)
			usleep((useconds_t)(interval * 1e6));
		int tries = 0, rc;
		while ((rc = ht_statsfile_read(f, &d)) < 0 && errno == EAGAIN && ++tries <= 50)
			usleep(100000); /* not published yet: the runtime may be starting */
		if (rc < 0) {
			if (errno == EAGAIN)
				fprintf(stderr, "htstat: process %ld has not published stats yet\n", pid);
			else if (errno == ETIMEDOUT)
				fprintf(stderr, "htstat: %s: sequence counter stuck odd after %d tries (writer died mid-update?)\n",
					ht_statsfile_path(f), HT_SF_READ_TRIES);
			else if (errno == ENODATA)
				fprintf(stderr, "htstat: %s: truncated\n", ht_statsfile_path(f));
			else
				fprintf(stderr, "htstat: %s: %s\n", ht_statsfile_path(f), strerror(errno));
			ht_statsfile_close(f, 0);
			return 1;
		}
		if (prometheus) {
			prom(&d, (int)pid);
		} else if (json) {
			static char line[32768];
			ht_sf_json(&d, (int)pid, line, sizeof(line));
			printf("%s\n", line);
		} else {
			if (i)
				printf("\n");
			show(&d, (int)pid);
		}
		fflush(stdout);
	}
	ht_statsfile_close(f, 0);
	return 0;
}
