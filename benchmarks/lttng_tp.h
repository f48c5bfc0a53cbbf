// LTTng-UST tracepoint provider for the peer benchmark: one structured "job finished" event.
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER eventscope_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "lttng_tp.h"

#if !defined(EVENTSCOPE_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define EVENTSCOPE_BENCH_LTTNG_TP_H

#include <lttng/tracepoint.h>
#include <stdint.h>

LTTNG_UST_TRACEPOINT_EVENT(eventscope_bench, job,
    LTTNG_UST_TP_ARGS(const char*, job_name, uint64_t, id, uint64_t, started, uint64_t, ended, int, status),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_string(job_name, job_name)
        lttng_ust_field_integer(uint64_t, id, id)
        lttng_ust_field_integer(uint64_t, started, started)
        lttng_ust_field_integer(uint64_t, ended, ended)
        lttng_ust_field_integer(int, status, status)))

#endif

#include <lttng/tracepoint-event.h>
