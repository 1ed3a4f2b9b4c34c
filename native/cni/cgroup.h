/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pod's cgroup (v2), whose id keys the agent's outbound capture. The kubelet creates it before
 * the sandbox; the runtime names it in runtimeConfig.cgroupPath when the plugin asks for the
 * "cgroupPath" capability (containerd: the sandbox's cgroup parent, a systemd slice name such as
 * kubepods-besteffort-pod<uid>.slice or a cgroupfs path such as /kubepods/besteffort/pod<uid>).
 * Without it, the cgroup named after the pod's uid is searched under podCgroupRoot.
 */
#ifndef AMBIT_CNI_CGROUP_H
#define AMBIT_CNI_CGROUP_H

#include <stddef.h>

#include "cni.h"

/* The pod's cgroup directory (absolute) into `out`; -1 with `e` set (code 101) when not found. */
int pod_cgroup(const struct cni_conf *conf, const char *uid, char *out, size_t len, struct cni_error *e);

#endif
