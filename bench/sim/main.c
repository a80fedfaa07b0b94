/*
 * main.c - ht-bench: every workload x fast ratio x policy on the simulated
 * machine (x sample period with --periods). In llc mode (the default)
 * each workload is filtered through the LLC model once and every run
 * replays its misses. Prints a table; with --out=DIR also writes
 * results.csv, results.md, timeline.csv (hit ratio per 500 ms of modelled
 * time) and heat-*.dat (those two at the first period only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "bench.h"
#include "llc.h"

static FILE *open_out(const struct bench_opts *o, const char *name, const char *mode)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", o->out, name);
	FILE *f = fopen(p, mode);
	if (!f)
		fprintf(stderr, "ht-bench: %s: %s\n", p, strerror(errno));
	return f;
}

static void write_heat(const struct bench_opts *o, const struct run_result *r)
{
	char name[256];
	snprintf(name, sizeof(name), "heat-%s-%s-%g.dat", r->workload, r->policy, r->fast_ratio);
	FILE *f = open_out(o, name, "w");
	if (!f)
		return;
	fprintf(f, "# epoch bucket(address/%zu of span) true_accesses policy_view\n", r->heat_buckets);
	for (size_t e = 0; e < r->nepochs; e++) {
		for (size_t b = 0; b < r->heat_buckets; b++)
			fprintf(f, "%zu %zu %g %g\n", e, b, r->true_heat[e * r->heat_buckets + b],
				r->heat[e * r->heat_buckets + b]);
		fprintf(f, "\n");
	}
	fclose(f);
}

static int load(struct workload *w, const char *spec, const struct bench_opts *o)
{
	char why[512];
	int rc;
	if (!strncmp(spec, "trace:", 6)) {
		char name[64];
		const char *eq = strchr(spec + 6, '=');
		if (!eq) {
			fprintf(stderr, "ht-bench: workload '%s': want trace:NAME=FILE\n", spec);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - spec - 6), spec + 6);
		rc = workload_load_trace(w, eq + 1, name, why, sizeof(why));
	} else {
		rc = workload_make(w, spec, o, why, sizeof(why));
	}
	if (!rc && !strcmp(o->mode, "llc"))
		rc = llc_filter(w, o, why, sizeof(why));
	if (!rc && !strncmp(spec, "trace:", 6) && o->trace_loops > 1)
		rc = workload_loop(w, o->trace_loops, why, sizeof(why));
	if (rc)
		fprintf(stderr, "ht-bench: %s\n", why);
	return rc;
}

/* "a;b/c;..." into up to max numbers (b/c as a fraction); 0 when empty. */
static int parse_list(const char *s, double *v, int max)
{
	char buf[256], *save, *tok;
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ";", &save); tok && n < max; tok = strtok_r(NULL, ";", &save))
		v[n++] = strchr(tok, '/') ? atof(tok) / atof(strchr(tok, '/') + 1) : atof(tok);
	return n;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	bench_opts_defaults(&o);
	if (bench_opts_parse(&o, argc, argv) < 0)
		return 2;
	double ratios[16], periods[16];
	int nr = parse_list(o.ratios, ratios, 16), npd = parse_list(o.periods, periods, 16);
	char buf[1024], *save, *tok;
	if (!nr)
		ratios[nr++] = o.fast_ratio;
	if (!npd)
		periods[npd++] = (double)o.period;
	for (int i = 0; i < npd; i++)
		if (periods[i] < 1) {
			fprintf(stderr, "ht-bench: periods must be >= 1\n");
			return 2;
		}
	const struct policy_ops *pols[16];
	int np = 0;
	snprintf(buf, sizeof(buf), "%s", o.policies);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		if (np == 16 || !(pols[np] = policy_find(tok))) {
			fprintf(stderr, "ht-bench: unknown policy '%s'\n", tok);
			return 2;
		}
		np++;
	}
	FILE *csv = NULL, *md = NULL, *tl = NULL;
	if (*o.out) {
		for (char *sl = o.out + 1;; sl++) /* mkdir -p */
			if (*sl == '/' || !*sl) {
				char keep = *sl;
				*sl = 0;
				mkdir(o.out, 0755);
				if (!(*sl = keep))
					break;
			}
		csv = open_out(&o, "results.csv", "w");
		md = open_out(&o, "results.md", "w");
		tl = open_out(&o, "timeline.csv", "w");
		if (!csv || !md || !tl)
			return 1;
		/* new columns at the end: scripts reading the first eleven keep working */
		fprintf(csv, "workload,fast_ratio,policy,accesses,samples,hit_ratio,modelled_ms,speedup_vs_first_touch,pages_promoted,pages_demoted,migrated_mib,mode,period,llc_misses,note\n");
		fprintf(md, "hit ratio: share of the %s served by the fast tier\n\n",
			strcmp(o.mode, "llc") ? "accesses (all mode: no cache)" : "LLC misses (llc mode)");
		fprintf(md, "| workload | fast | period | policy | fast-tier hit ratio | modelled time (ms) | vs first touch | pages migrated | note |\n|---|---|---|---|---|---|---|---|---|\n");
		fprintf(tl, "workload,fast_ratio,policy,epoch,hit_ratio,period\n");
	}
	printf("mode %s: hit%% is the share of %s served by the fast tier\n", o.mode,
	       strcmp(o.mode, "llc") ? "all accesses" : "LLC misses");
	printf("%-16s %6s %6s %-14s %8s %12s %8s %10s\n", "workload", "fast", "period", "policy", "hit%", "model_ms", "speedup", "migrated");
	char wbuf[1024], *wsave;
	snprintf(wbuf, sizeof(wbuf), "%s", o.workloads);
	for (char *ws = strtok_r(wbuf, ";", &wsave); ws; ws = strtok_r(NULL, ";", &wsave)) {
		struct workload w;
		if (load(&w, ws, &o))
			return 1;
		struct run_result first[16]; /* per policy, at the first period of this ratio */
		for (int ri = 0; ri < nr * npd; ri++) {
			struct bench_opts ro = o;
			ro.fast_ratio = ratios[ri / npd];
			ro.period = (uint64_t)periods[ri % npd];
			ro.heat = o.heat && ri % npd == 0;
			double base = 0;
			for (int pi = 0; pi < np; pi++) {
				struct run_result r;
				if (ri % npd && !pols[pi]->sample) {
					/* takes no samples: the period changes nothing, the first period's run stands */
					r = first[pi];
					r.period = ro.period;
					r.samples = r.misses / ro.period;
					if (!*r.note)
						snprintf(r.note, sizeof(r.note), "run at period %llu",
							 (unsigned long long)periods[0]);
				} else if (bench_run(&ro, &w, pols[pi], &r)) {
					fprintf(stderr, "ht-bench: %s on %s failed\n", pols[pi]->name, w.name);
					return 1;
				}
				double total = r.access_ns + r.migrate_ns, hit = r.misses ? (double)r.hits / r.misses : 0;
				if (pols[pi] == &pol_first_touch)
					base = total;
				char sp[32] = "-";
				if (base > 0)
					snprintf(sp, sizeof(sp), "%.3f", base / total);
				uint64_t mig = r.promoted + r.demoted;
				printf("%-16s %6.3f %6llu %-14s %8.2f %12.1f %8s %10llu %s\n", w.name, ro.fast_ratio,
				       (unsigned long long)ro.period, r.policy, 100 * hit, total / 1e6, sp,
				       (unsigned long long)mig, r.note);
				fflush(stdout);
				if (csv) {
					fprintf(csv, "%s,%.4f,%s,%llu,%llu,%.5f,%.2f,%s,%llu,%llu,%.1f,%s,%llu,%llu,%s\n", w.name,
						ro.fast_ratio, r.policy, (unsigned long long)r.accesses,
						(unsigned long long)r.samples, hit, total / 1e6, sp,
						(unsigned long long)r.promoted, (unsigned long long)r.demoted,
						mig * 4096.0 / (1 << 20), o.mode, (unsigned long long)ro.period,
						(unsigned long long)r.misses, r.note);
					fprintf(md, "| %s | %.3f | %llu | %s | %.2f%% | %.1f | %s | %llu | %s |\n", w.name,
						ro.fast_ratio, (unsigned long long)ro.period, r.policy, 100 * hit, total / 1e6,
						sp, (unsigned long long)mig, r.note);
					for (size_t e = 0; ri % npd == 0 && e < r.nepochs; e++) /* first period only */
						fprintf(tl, "%s,%.4f,%s,%zu,%.5f,%llu\n", w.name, ro.fast_ratio, r.policy, e,
							r.epoch_hit[e], (unsigned long long)ro.period);
					if (r.heat)
						write_heat(&o, &r);
				}
				if (ri % npd == 0 && npd > 1) { /* keep the numbers only */
					first[pi] = r;
					first[pi].epoch_hit = first[pi].heat = first[pi].true_heat = NULL;
					first[pi].nepochs = 0;
				}
				if (!(ri % npd && !pols[pi]->sample))
					run_result_free(&r);
			}
		}
		workload_free(&w);
	}
	if (csv) {
		fclose(csv);
		fclose(md);
		fclose(tl);
	}
	return 0;
}
