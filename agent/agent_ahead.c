/*
 * agent_ahead.c - when to collect ahead of a steady scraper (agent_ahead.h).
 */
#include "agent_ahead.h"

#include <string.h>

#define AHEAD_SLACK_MS 10u

void agent_ahead_init(agent_ahead *ah, uint64_t max_age_ms)
{
    memset(ah, 0, sizeof *ah);
    ah->max_age_ms = max_age_ms;
}

void agent_ahead_set_max_age(agent_ahead *ah, uint64_t max_age_ms)
{
    ah->max_age_ms = max_age_ms;
    if (!max_age_ms)
        ah->held = false;
}

void agent_ahead_collected(agent_ahead *ah, uint64_t start_ms, uint64_t end_ms, bool unclaimed)
{
    ah->dur[ah->dur_next] = end_ms > start_ms ? end_ms - start_ms : 0;
    ah->dur_next = (ah->dur_next + 1) % AGENT_AHEAD_NDUR;
    if (ah->ndur < AGENT_AHEAD_NDUR)
        ah->ndur++;
    ah->held = unclaimed && ah->max_age_ms;
    ah->held_start_ms = start_ms;
}

agent_ahead_verdict agent_ahead_scrape(agent_ahead *ah, uint64_t now_ms, bool collecting)
{
    if (ah->last_scrape_ms && now_ms >= ah->last_scrape_ms) {
        ah->iv[ah->iv_next] = now_ms - ah->last_scrape_ms;
        ah->iv_next = (ah->iv_next + 1) % AGENT_AHEAD_NIV;
        if (ah->niv < AGENT_AHEAD_NIV)
            ah->niv++;
    }
    ah->last_scrape_ms = now_ms;
    if (collecting || !ah->held)
        return AGENT_AHEAD_COLLECT;
    ah->held = false;
    if (now_ms >= ah->held_start_ms && now_ms - ah->held_start_ms <= ah->max_age_ms)
        return AGENT_AHEAD_TAKE;
    return AGENT_AHEAD_STALE;
}

uint64_t agent_ahead_due(const agent_ahead *ah)
{
    if (!ah->max_age_ms || ah->niv < AGENT_AHEAD_NIV || !ah->ndur)
        return 0;
    uint64_t s[AGENT_AHEAD_NIV];
    memcpy(s, ah->iv, sizeof s);
    for (unsigned i = 1; i < AGENT_AHEAD_NIV; i++) /* insertion sort of 4 */
        for (unsigned j = i; j > 0 && s[j - 1] > s[j]; j--) {
            uint64_t t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    uint64_t median = s[AGENT_AHEAD_NIV / 2];
    uint64_t spread = s[AGENT_AHEAD_NIV - 1] - s[0];
    if (median < AGENT_AHEAD_MIN_IV_MS || spread * 10 > median || spread * 2 > ah->max_age_ms)
        return 0;
    uint64_t slowest = 0;
    for (unsigned i = 0; i < ah->ndur; i++)
        if (ah->dur[i] > slowest)
            slowest = ah->dur[i];
    uint64_t lead = 2 * slowest + spread + AHEAD_SLACK_MS;
    /* a scrape late by the spread still finds the data within the age */
    if (lead * 2 > median || lead + spread > ah->max_age_ms)
        return 0;
    return ah->last_scrape_ms + median - lead;
}
