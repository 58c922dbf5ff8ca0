/*
 * agent_scraper.h - runs the enabled collectors into one scrape.
 *
 * Decides which collectors are on (--collector.NAME, --no-collector.NAME,
 * --collector.disable-defaults), initialises them, and on each collection
 * runs them in table order, timing each into
 * node_scrape_collector_duration_seconds{collector} and reporting
 * node_scrape_collector_success{collector}. One failing collector never
 * fails the scrape.
 *
 * Not thread-safe: one collection at a time. A collection may start on the
 * event loop thread (agent_scraper_collect_loop) and go on on the
 * collection thread (agent_scraper_collect_rest).
 */
#ifndef AGENT_SCRAPER_H
#define AGENT_SCRAPER_H

#include <stdint.h>

#include "agent_collector.h"

typedef struct agent_scraper agent_scraper;

/*
 * The agent's option tables: fixed options, one collector.NAME switch per
 * collector, then every collector's own options. Built once (heap), freed
 * with agent_options_release. The arrays are owned by opts.
 */
typedef struct agent_options {
    const vg_opt_def **tables;
    size_t *ntables;
    size_t count;
    vg_opt_def *switches;   /* collector.NAME */
    char **names;
} agent_options;

int agent_options_build(agent_options *opts);
void agent_options_release(agent_options *opts);

/* Create from a loaded config. Logs each collector that fails to init. */
int agent_scraper_new(const vg_config *cfg, vg_log *log, vg_registry *reg,
                      agent_scraper **out);
void agent_scraper_free(agent_scraper *sc);

/* Apply a reloaded config: switches and collector options take effect. */
void agent_scraper_set_config(agent_scraper *sc, const vg_config *cfg);

/* Run every enabled collector into s (not reset here). Returns 0. */
int agent_scraper_collect(agent_scraper *sc, vg_scrape *s, uint64_t deadline_ms);

/*
 * Start a collection on the event loop thread: run the collectors in table
 * order while they are loop-safe (agent_collector.loop_safe); one that
 * starts workers (filesystem) is finished after the others, waiting for
 * them a few ms at most. 0: the collection is complete. 1: it stopped at a
 * collector that may block or wait longer; finish it with
 * agent_scraper_collect_rest on the collection thread (nothing else may use
 * sc or s meanwhile). The output is the same either way.
 */
int agent_scraper_collect_loop(agent_scraper *sc, vg_scrape *s, uint64_t deadline_ms);
/* Finish a collection agent_scraper_collect_loop left (1). Returns 0. */
int agent_scraper_collect_rest(agent_scraper *sc, vg_scrape *s);

/* Number of enabled collectors (for logging). */
size_t agent_scraper_enabled(const agent_scraper *sc);

#endif
