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

/*
 * The pod's record lock, <recordDir>/<uid>.lock: ADD, DEL and GC hold it from reading the record
 * until the agent answered and the record is written or removed, so a late DEL of an old sandbox
 * cannot read the record before a new sandbox's ADD rewrites it and then take the new sandbox out.
 * Waits up to `wait_ms` for another call on the same pod (0: do not wait). Returns the lock fd,
 * -2 when `wait_ms` passed (e set, code 11), -1 on another failure (e set).
 */
int record_lock(const char *dir, const char *uid, int wait_ms, struct cni_error *e);
/* Releases the lock and removes its file (no lock file outlives the call that made it). */
void record_unlock(const char *dir, const char *uid, int fd);

/* Calls `fn` for every record (uid, containerId) in `dir`; stops at the first non-zero return. */
int record_each(const char *dir, int (*fn)(const char *uid, const char *container_id, void *arg), void *arg,
		struct cni_error *e);

#endif
