/*
 * agent_collectors.c - the const table of every collector the agent has.
 *
 * Order here is the order collectors run in. Each entry is defined in the
 * collectors/ file named after the kernel source it reads.
 */
#include "agent_collector.h"

/* node metrics (node_exporter compatible) */
/* @@node-proc@@ */
/* @@node-sys@@ */
/* pod and container metrics (cAdvisor compatible) */
/* @@pods@@ */
/* GPU metrics (dcgm-exporter compatible) */
/* @@gpu@@ */

const agent_collector *const agent_collectors[] = {
    /* @@table-node-proc@@ */
    /* @@table-node-sys@@ */
    /* @@table-pods@@ */
    /* @@table-gpu@@ */
    NULL,
};

const size_t agent_ncollectors = sizeof(agent_collectors) / sizeof(agent_collectors[0]) - 1;
