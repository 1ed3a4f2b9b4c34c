/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record of the pods this plugin enrolled: <recordDir>/<uid>.json, written before an ADD is
 * forwarded (so an agent that restarts at any moment finds every pod it may have enrolled) and
 * removed after the DEL, or when the agent did not take the pod. The agent reads it at start
 * (agent/enrollment/cni-records.ts) to re-enroll the pods already running.
 */
#ifndef AMBIT_CNI_RECORD_H
#define AMBIT_CNI_RECORD_H

#include <stddef.h>

#include "cni.h"
#include "enroll.h"

int record_write(const char *dir, const struct cni_pod *pod, const char *container_id, const char *netns,
		 const char *netns_inode, struct cni_error *e);
/* Removing a record that is not there is fine. */
int record_remove(const char *dir, const char *uid, struct cni_error *e);
/* The containerId of uid's record into `out`: 1 found, 0 no record, -1 unreadable (e set). */
int record_container(const char *dir, const char *uid, char *out, size_t len, struct cni_error *e);

/* Calls `fn` for every record (uid, containerId) in `dir`; stops at the first non-zero return. */
int record_each(const char *dir, int (*fn)(const char *uid, const char *container_id, void *arg), void *arg,
		struct cni_error *e);

#endif
