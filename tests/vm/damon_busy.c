/* damon_busy - a process for DAMON to watch in the guest (tiers.sh): a hot
 * 8 MiB buffer it writes page by page without pause and a cold 32 MiB one it
 * touches once, 8 TiB apart. Linked statically: no libraries in its address
 * space. DAMON's vaddr operations start from three regions, cut at the two
 * largest unmapped gaps (heap to mmap area, and the next largest); with the
 * buffers 64 MiB apart that next one was the gap below the stack, so one
 * region held both buffers and the gap, and a region holding the hot
 * buffer's tail could stay merged with the cold one (a CI run saw no region
 * of the cold buffer alone in 16 aggregations). 8 TiB is more than the
 * stack gap (at most about 1 TiB of mmap randomisation plus 16 GiB), so the
 * hot buffer starts as a region of its own.
 *
 * usage: damon_busy FILE [SECONDS]
 *        damon_busy --tick [SECONDS]   only the ticker, for another program
 *        that DAMON watches (vm/damon.sh, bench/guest)
 * Writes "hot START END" and "cold START END" (hex) to FILE once both
 * buffers are populated, then keeps the hot one busy until killed or
 * SECONDS (default 60) have passed.
 *
 * DAMON sees an access only when the CPU sets a page's accessed bit again
 * after DAMON cleared it, i.e. on a TLB miss. Under TCG the soft TLB holds
 * all of the hot buffer, so a loop alone never misses: a child wakes every
 * 10 ms, and on the guest's one vCPU (run-guest --smp 1) each wake-up
 * switches address spaces, a CR3 write that empties TCG's TLB (see README). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MIB (1UL << 20)

int main(int argc, char **argv)
{
	const size_t gap = 64 * MIB, mid = (size_t)8 << 40, hot = 8 * MIB, cold = 32 * MIB, page = 4096;
	if (argc < 2) {
		fprintf(stderr, "usage: damon_busy FILE [SECONDS]\n");
		return 2;
	}
	time_t end = time(NULL) + (argc > 2 ? atoi(argv[2]) : 60);
	if (!strcmp(argv[1], "--tick")) {
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		while (time(NULL) < end)
			nanosleep(&tick, NULL);
		return 0;
	}
	/* gap | hot | mid | cold | gap, then the gaps unmapped (PROT_NONE: not committed). */
	char *r = mmap(NULL, 2 * gap + mid + hot + cold, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	char *h = r + gap, *c = h + hot + mid;
	if (mprotect(h, hot, PROT_READ | PROT_WRITE) || mprotect(c, cold, PROT_READ | PROT_WRITE) ||
	    munmap(r, gap) || munmap(h + hot, mid) || munmap(c + cold, gap)) {
		perror("mprotect/munmap");
		return 1;
	}
	for (size_t i = 0; i < hot; i += page)
		h[i] = 1;
	for (size_t i = 0; i < cold; i += page)
		c[i] = 1;

	pid_t parent = getpid();
	if (fork() == 0) { /* the ticker; dies with its parent */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		while (getppid() == parent && time(NULL) < end)
			nanosleep(&tick, NULL);
		_exit(0);
	}

	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "hot %lx %lx\ncold %lx %lx\n", (unsigned long)h, (unsigned long)(h + hot),
			  (unsigned long)c, (unsigned long)(c + cold)) < 0 ||
	    fclose(f) || rename(tmp, argv[1])) {
		perror(argv[1]);
		return 1;
	}
	volatile char *vh = h;
	while (time(NULL) < end)
		for (size_t i = 0; i < hot; i += page)
			vh[i]++;
	return 0;
}
