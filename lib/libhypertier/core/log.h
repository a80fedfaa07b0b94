/* log.h - the runtime's only output. Silent unless log= asks for it. */
#ifndef HT_LOG_H
#define HT_LOG_H
#include "conf.h"

/* Set the level and destination (fd 2 unless path given). Idempotent. */
void ht_log_setup(int level, const char *path);
int ht_log_level(void);
void ht_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Misconfiguration: always one line on stderr, whatever the level. */
void ht_log_conf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ht_err(...) ht_log(HT_LOG_ERROR, __VA_ARGS__)
#define ht_warn(...) ht_log(HT_LOG_WARN, __VA_ARGS__)
#define ht_info(...) ht_log(HT_LOG_INFO, __VA_ARGS__)
#define ht_dbg(...) ht_log(HT_LOG_DEBUG, __VA_ARGS__)
#endif
