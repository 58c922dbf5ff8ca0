/*
 * agent_ahead.h - collecting ahead of a steady scraper.
 *
 * Prometheus scrapes a target at a fixed interval and phase. Once the last
 * few scrapes came at a steady interval, the agent starts the next
 * collection shortly before the next scrape is due and answers that scrape
 * from it, so the scrape waits only for the encoding instead of for the
 * reading of thousands of cgroup files. It costs no extra collection while
 * the cadence holds (each collection still serves one scrape), and the data
 * is never older than the configured maximum age when answered (the age is
 * counted from the start of the collection). cAdvisor answers from
 * housekeeping that runs every 1-15 s on its own; this keeps collections
 * tied to scrapes instead.
 *
 * This file is the policy only: it is told when scrapes arrive and when
 * collections run, and says when to start the next one and whether a
 * scrape may take the collection already held. Times are milliseconds on
 * any monotonic clock; nothing here reads the clock, so it is tested with
 * made-up times. Not thread-safe: the agent calls it on its loop thread.
 */
#ifndef AGENT_AHEAD_H
#define AGENT_AHEAD_H

#include <stdbool.h>
#include <stdint.h>

#define AGENT_AHEAD_NIV 4          /* intervals that must agree */
#define AGENT_AHEAD_NDUR 4         /* collection durations remembered */
#define AGENT_AHEAD_MIN_IV_MS 100u /* below: too fast a poller to plan for */

typedef enum {
    AGENT_AHEAD_COLLECT = 0,  /* collect for this scrape (or join the running one) */
    AGENT_AHEAD_TAKE,         /* answer from the held collection (now consumed) */
    AGENT_AHEAD_STALE,        /* the held collection was too old: dropped; collect */
} agent_ahead_verdict;

/* Caller's storage; all state is plain values (no release needed). */
typedef struct agent_ahead {
    uint64_t max_age_ms;        /* 0: off */
    uint64_t last_scrape_ms;    /* 0: no scrape yet */
    uint64_t iv[AGENT_AHEAD_NIV];
    unsigned niv, iv_next;
    uint64_t dur[AGENT_AHEAD_NDUR];
    unsigned ndur, dur_next;
    bool held;                  /* an ahead collection is done and unanswered */
    uint64_t held_start_ms;
} agent_ahead;

void agent_ahead_init(agent_ahead *ah, uint64_t max_age_ms);

/* A new maximum age (config reload). 0 turns collecting ahead off and
 * drops what is held. */
void agent_ahead_set_max_age(agent_ahead *ah, uint64_t max_age_ms);

/*
 * A collection ran from start_ms to end_ms. unclaimed: it was started ahead
 * and no scrape joined it, so it is held for the next scrape. Any other
 * collection replaces what was held (it reset the scrape model).
 */
void agent_ahead_collected(agent_ahead *ah, uint64_t start_ms, uint64_t end_ms, bool unclaimed);

/*
 * A scrape arrived at now_ms. Records the interval since the previous one.
 * collecting: a collection is running (the scrape joins it; the verdict is
 * then always COLLECT and nothing held is touched).
 */
agent_ahead_verdict agent_ahead_scrape(agent_ahead *ah, uint64_t now_ms, bool collecting);

/*
 * When to start the next collection ahead (absolute ms), or 0 when there is
 * no steady cadence to plan for (fewer than AGENT_AHEAD_NIV intervals, a
 * spread of more than a tenth of the interval or half the maximum age, an
 * interval under AGENT_AHEAD_MIN_IV_MS, or collections too slow to finish
 * well inside both the interval and the maximum age). Call after each
 * scrape; the start is the expected next scrape less twice the slowest
 * recent collection, the spread and 10 ms.
 */
uint64_t agent_ahead_due(const agent_ahead *ah);

#endif
