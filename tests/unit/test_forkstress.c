/*
 * Fork, threads and exec under LD_PRELOAD=libhypertier.so: allocating
 * threads run while the main thread forks; children allocate (also from a
 * new thread), some exec, some exit. Any deadlock trips the alarm.
 * Usage: test_forkstress [ROUNDS]
 */
#define _GNU_SOURCE
#include "tap.h"
#include "hypertier.h"
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

static _Atomic int stop;

static void *alloc_loop(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		size_t n = (rand_r(&seed) % 4 == 0) ? (size_t)(rand_r(&seed) % (4 << 20)) : (size_t)(rand_r(&seed) % 4096);
		char *p = malloc(n + 1);
		p[n] = 1;
		if (rand_r(&seed) % 8 == 0)
			ht_hint(p, n + 1, rand_r(&seed) % 5);
		free(p);
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	char *p = malloc(1 << 20);
	memset(p, 3, 1 << 20);
	int okk = p[12345] == 3;
	free(p);
	return (void *)(uintptr_t)okk;
}

static void on_alarm(int sig)
{
	static const char msg[] = "Bail out! deadlock: fork/thread/exec stress did not finish in time\n";
	ssize_t w = write(1, msg, sizeof(msg) - 1);
	(void)w;
	_exit(1);
}

/* A crash says where it happened (the guest has no debugger). */
static void on_fault(int sig)
{
	static const char msg[] = "Bail out! fatal signal in fork/thread/exec stress; backtrace:\n";
	void *bt[32];
	ssize_t w = write(1, msg, sizeof(msg) - 1);
	(void)w;
	backtrace_symbols_fd(bt, backtrace(bt, 32), 1);
	_exit(1);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	signal(SIGSEGV, on_fault);
	signal(SIGBUS, on_fault);
	signal(SIGABRT, on_fault);
	signal(SIGALRM, on_alarm);
	alarm(120);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, alloc_loop, (void *)(uintptr_t)(i + 1));
	int bad = 0, execs = 0;
	for (int r = 0; r < rounds; r++) {
		pid_t c = fork();
		if (c < 0) {
			bad++;
			continue;
		}
		if (c == 0) {
			alarm(30);
			char *p = malloc(64 << 10);
			memset(p, 1, 64 << 10);
			free(p);
			pthread_t ct;
			void *rv = NULL;
			if (pthread_create(&ct, NULL, child_thread, NULL) || pthread_join(ct, &rv) || !rv)
				_exit(3);
			if (r % 4 == 0)
				execl("/bin/true", "true", (char *)NULL);
			if (r % 4 == 1)
				exit(0); /* atexit + destructors run in the child */
			_exit(0);
		}
		execs += r % 4 == 0;
		int status;
		if (waitpid(c, &status, 0) != c || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ok(bad == 0, "%d forks (%d exec'd) with 3 allocating threads: every child exited 0 (%d bad)", rounds, execs, bad);
	return tap_done();
}
