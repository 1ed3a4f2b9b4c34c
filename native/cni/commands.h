/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI commands; each returns 0 (its output printed) or -1 with `e` set. */
#ifndef AMBIT_CNI_COMMANDS_H
#define AMBIT_CNI_COMMANDS_H

#include "cni.h"

int cmd_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e);
int cmd_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e);
int cmd_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e);
int cmd_status(const struct cni_env *env, const struct cni_conf *conf, struct cni_error *e);
int cmd_gc(const struct cni_conf *conf, struct cni_error *e);

/* Output shared with main.c: the result's cniVersion, and prevResult passed on. */
const char *result_version(const struct cni_conf *conf);
void print_prev_result(const struct cni_conf *conf);

#endif
