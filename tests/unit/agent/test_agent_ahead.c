/* Unit tests for the collect-ahead policy (agent/agent_ahead.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent_ahead.h"

/* n scrapes every iv ms from t, each collected on scrape in dur ms;
 * returns the time of the last one. */
static uint64_t steady(agent_ahead *ah, uint64_t t, uint64_t iv, unsigned n, uint64_t dur)
{
    for (unsigned i = 0; i < n; i++, t += iv) {
        assert_int_equal(agent_ahead_scrape(ah, t, false), AGENT_AHEAD_COLLECT);
        agent_ahead_collected(ah, t, t + dur, false);
    }
    return t - iv;
}

static void test_needs_steady_intervals(void **st)
{
    (void)st;
    agent_ahead ah;
    agent_ahead_init(&ah, 1000);
    assert_int_equal(agent_ahead_due(&ah), 0);
    /* 4 scrapes are 3 intervals: not yet */
    uint64_t t = steady(&ah, 10000, 1000, 4, 20);
    assert_int_equal(agent_ahead_due(&ah), 0);
    t = steady(&ah, t + 1000, 1000, 1, 20);
    /* next scrape at t+1000, less 2*20 + 0 + 10 */
    assert_int_equal(agent_ahead_due(&ah), t + 1000 - 50);
}

static void test_take_held(void **st)
{
    (void)st;
    agent_ahead ah;
    agent_ahead_init(&ah, 1000);
    uint64_t t = steady(&ah, 5000, 15000, 5, 30);
    uint64_t due = agent_ahead_due(&ah);
    assert_int_equal(due, t + 15000 - 70);
    agent_ahead_collected(&ah, due, due + 28, true);
    /* the scrape comes on time: answered from the held collection */
    assert_int_equal(agent_ahead_scrape(&ah, t + 15000, false), AGENT_AHEAD_TAKE);
    /* consumed: a second scrape right after collects */
    assert_int_equal(agent_ahead_scrape(&ah, t + 15005, false), AGENT_AHEAD_COLLECT);
}

static void test_stale_held(void **st)
{
    (void)st;
    agent_ahead ah;
    agent_ahead_init(&ah, 1000);
    uint64_t t = steady(&ah, 5000, 15000, 5, 30);
    uint64_t due = agent_ahead_due(&ah);
    agent_ahead_collected(&ah, due, due + 30, true);
    /* the scraper is 2 s late: the held data is older than 1 s */
    assert_int_equal(agent_ahead_scrape(&ah, t + 17000, false), AGENT_AHEAD_STALE);
    assert_false(ah.held);
    /* and the late interval breaks the cadence for a while */
    agent_ahead_collected(&ah, t + 17000, t + 17030, false);
    assert_int_equal(agent_ahead_due(&ah), 0);
}

static void test_joined_scrape_keeps_nothing(void **st)
{
    (void)st;
    agent_ahead ah;
    agent_ahead_init(&ah, 1000);
    uint64_t t = steady(&ah, 0, 1000, 6, 20);
    agent_ahead_collected(&ah, t + 900, t + 920, true);
    /* a scrape arriving while a collection runs joins it; the held one stays */
    assert_int_equal(agent_ahead_scrape(&ah, t + 1000, true), AGENT_AHEAD_COLLECT);
    assert_true(ah.held);
    /* a collection somebody waited for replaces the held one */
    agent_ahead_collected(&ah, t + 1000, t + 1020, false);
    assert_int_equal(agent_ahead_scrape(&ah, t + 2000, false), AGENT_AHEAD_COLLECT);
}

static void test_no_plan(void **st)
{
    (void)st;
    agent_ahead ah;

    /* jittery scraper: spread over a tenth of the interval */
    agent_ahead_init(&ah, 1000);
    uint64_t t = 1000;
    const uint64_t ivs[] = {1000, 1150, 1000, 1000, 1000};
    for (unsigned i = 0; i < 5; i++) {
        agent_ahead_scrape(&ah, t, false);
        agent_ahead_collected(&ah, t, t + 10, false);
        t += ivs[i];
    }
    assert_int_equal(agent_ahead_due(&ah), 0);

    /* two scrapers at different phases: intervals alternate */
    agent_ahead_init(&ah, 1000);
    t = 1000;
    for (unsigned i = 0; i < 8; i++) {
        agent_ahead_scrape(&ah, t, false);
        agent_ahead_collected(&ah, t, t + 10, false);
        t += i % 2 ? 12000 : 3000;
    }
    assert_int_equal(agent_ahead_due(&ah), 0);

    /* a poller faster than AGENT_AHEAD_MIN_IV_MS */
    agent_ahead_init(&ah, 1000);
    steady(&ah, 0, 50, 8, 1);
    assert_int_equal(agent_ahead_due(&ah), 0);

    /* collections too slow for the interval: 2*300+10 > 1000/2 */
    agent_ahead_init(&ah, 5000);
    steady(&ah, 0, 1000, 6, 300);
    assert_int_equal(agent_ahead_due(&ah), 0);

    /* ... or for the maximum age: 2*50+10 > 100 */
    agent_ahead_init(&ah, 100);
    steady(&ah, 0, 10000, 6, 50);
    assert_int_equal(agent_ahead_due(&ah), 0);
    agent_ahead_set_max_age(&ah, 200);
    assert_int_not_equal(agent_ahead_due(&ah), 0);

    /* off */
    agent_ahead_init(&ah, 0);
    steady(&ah, 0, 1000, 6, 10);
    assert_int_equal(agent_ahead_due(&ah), 0);
}

static void test_turn_off_drops_held(void **st)
{
    (void)st;
    agent_ahead ah;
    agent_ahead_init(&ah, 1000);
    uint64_t t = steady(&ah, 0, 1000, 6, 10);
    agent_ahead_collected(&ah, t + 950, t + 960, true);
    agent_ahead_set_max_age(&ah, 0);
    assert_int_equal(agent_ahead_due(&ah), 0);
    assert_int_equal(agent_ahead_scrape(&ah, t + 1000, false), AGENT_AHEAD_COLLECT);
}

static void test_slowest_recent_collection_sets_lead(void **st)
{
    (void)st;
    agent_ahead ah;
    agent_ahead_init(&ah, 1000);
    uint64_t t = steady(&ah, 0, 2000, 6, 10);
    agent_ahead_collected(&ah, t, t + 200, false); /* one slow collection */
    assert_int_equal(agent_ahead_due(&ah), t + 2000 - 410);
    /* forgotten after AGENT_AHEAD_NDUR faster ones */
    t = steady(&ah, t + 2000, 2000, AGENT_AHEAD_NDUR, 10);
    assert_int_equal(agent_ahead_due(&ah), t + 2000 - 30);
}

/* Random scrapers (steady, jittery, late, early, stopping) and collections:
 * whatever the sequence, a scrape is only answered from a collection that
 * started ahead at most max-age before it, each held collection serves at
 * most one scrape, and a planned start lies between the last scrape and
 * the next one expected. */
static void test_invariants_random(void **st)
{
    (void)st;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 200; round++) {
        agent_ahead ah;
        uint64_t max_age = 100 + (seed >> 33) % 2000;
        agent_ahead_init(&ah, max_age);
        uint64_t t = 1000, iv = 200 + (seed >> 40) % 20000;
        uint64_t held_start = 0;
        bool held = false;
        for (int i = 0; i < 300; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            unsigned r = (unsigned)(seed >> 33);
            uint64_t jitter = r % 8 == 0 ? (r >> 3) % (iv / 2 + 1) : (r >> 3) % 5;
            uint64_t dur = 1 + (r >> 12) % 300;
            uint64_t due = agent_ahead_due(&ah);
            if (due) {
                assert_true(due > ah.last_scrape_ms);
                assert_true(due < ah.last_scrape_ms + 2 * iv + 2 * (iv / 2 + 5));
            }
            uint64_t next = t + iv + jitter;
            if (due && due < next && r % 5) {
                /* the planned collection runs, nobody joins it */
                agent_ahead_collected(&ah, due, due + dur, true);
                held = true;
                held_start = due;
            }
            bool collecting = r % 17 == 0;
            agent_ahead_verdict v = agent_ahead_scrape(&ah, next, collecting);
            if (v == AGENT_AHEAD_TAKE) {
                assert_true(held);
                assert_true(next - held_start <= max_age);
            }
            if (v != AGENT_AHEAD_COLLECT || !collecting)
                held = false;
            if (v != AGENT_AHEAD_TAKE && !collecting) {
                agent_ahead_collected(&ah, next, next + dur, false);
                held = false;
            }
            assert_false(ah.held && !held);
            t = next;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needs_steady_intervals),
        cmocka_unit_test(test_take_held),
        cmocka_unit_test(test_stale_held),
        cmocka_unit_test(test_joined_scrape_keeps_nothing),
        cmocka_unit_test(test_no_plan),
        cmocka_unit_test(test_turn_off_drops_held),
        cmocka_unit_test(test_slowest_recent_collection_sets_lead),
        cmocka_unit_test(test_invariants_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
