/*
 * exec.c - the exec family, wrapped: the runtime stops before the image is
 * replaced, so its kdamond (sample=damon), perf rings and stats file do not
 * outlive it when the new image runs without the runtime. glibc's execl*,
 * execvp* and friends call its internal execve, not ours, so each is
 * wrapped. A failed exec leaves the runtime off (logged): the program runs
 * on, untiered. A vfork child (same memory, other pid) touches nothing.
 */
#define _GNU_SOURCE
#include "core/runtime.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#define HT_API __attribute__((visibility("default")))

#define REAL(name, ret, params, args)                                          \
	HT_API ret name params                                                 \
	{                                                                      \
		static ret(*real) params;                                      \
		if (!real)                                                     \
			real = (ret(*) params)dlsym(RTLD_NEXT, #name);         \
		if (!real) {                                                   \
			errno = ENOSYS;                                        \
			return -1;                                             \
		}                                                              \
		ht_runtime_before_exec();                                      \
		return real args;                                              \
	}

REAL(execve, int, (const char *path, char *const argv[], char *const envp[]), (path, argv, envp))
REAL(execv, int, (const char *path, char *const argv[]), (path, argv))
REAL(execvp, int, (const char *file, char *const argv[]), (file, argv))
REAL(execvpe, int, (const char *file, char *const argv[], char *const envp[]), (file, argv, envp))
REAL(fexecve, int, (int fd, char *const argv[], char *const envp[]), (fd, argv, envp))

/* execl*: the arguments as an array on the stack, then the v form above. */
#define COLLECT(arg0, ap, argv, envp_out)                                      \
	size_t n = 1;                                                          \
	va_start(ap, arg0);                                                    \
	while (va_arg(ap, char *))                                             \
		n++;                                                           \
	va_end(ap);                                                            \
	char *argv[n + 1];                                                     \
	argv[0] = (char *)arg0;                                                \
	va_start(ap, arg0);                                                    \
	for (size_t i = 1; i <= n; i++)                                        \
		argv[i] = va_arg(ap, char *);                                  \
	envp_out;                                                              \
	va_end(ap)

HT_API int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	COLLECT(arg0, ap, argv, (void)0);
	return execv(path, argv);
}

HT_API int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	COLLECT(arg0, ap, argv, (void)0);
	return execvp(file, argv);
}

HT_API int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	char *const *envp;
	COLLECT(arg0, ap, argv, envp = va_arg(ap, char *const *));
	return execve(path, argv, envp);
}
