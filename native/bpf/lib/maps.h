/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps shared by every Ambit program. Each entry file includes this header;
 * the definitions are __weak so `bpftool gen object` links the identical
 * copies into one map each (libbpf's static linker keeps one weak definition).
 */
#ifndef AMBIT_MAPS_H
#define AMBIT_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "ambit_abi.h"

/* Enrolled pods by cgroup id: the outbound and bind hooks act only on these. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_MAX_PODS);
	__type(key, __u64);
	__type(value, struct ambit_pod);
} enrolled SEC(".maps") __weak;

/* Enrolled pods by IP: sk_lookup steers SYNs only to these addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_MAX_POD_IPS);
	__type(key, struct ambit_ip_key);
	__type(value, struct ambit_pod);
} pod_ips SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_MAX_BYPASS_PORTS);
	__type(key, struct ambit_port_key);
	__type(value, __u8);
} bypass_ports SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, AMBIT_MAX_BYPASS_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ambit_cidr_key);
	__type(value, __u8);
} bypass_cidrs SEC(".maps") __weak;

/* connect() -> sockops hand-off, keyed by socket cookie; LRU bounds leaks from failed connects. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AMBIT_MAX_FLOWS);
	__type(key, __u64);
	__type(value, struct ambit_orig_dst);
} orig_dst_by_cookie SEC(".maps") __weak;

/* What the agent reads for an accepted 15001 connection. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AMBIT_MAX_FLOWS);
	__type(key, struct ambit_flow_key);
	__type(value, struct ambit_orig_dst);
} orig_dst SEC(".maps") __weak;

/* The agent's in-pod 15006/15008 listeners, for sk_lookup to assign. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, AMBIT_MAX_PODS * AMBIT_SLOTS_PER_POD);
	__type(key, __u32);
	__type(value, __u64);
} listeners SEC(".maps") __weak;

/*
 * DNS capture: where a pod's UDP socket meant its port-53 datagrams to go,
 * keyed by socket cookie, so recvmsg/getpeername can show the proxy's replies
 * as coming from that nameserver. Cookies are never reused; LRU drops the
 * entries of closed sockets.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AMBIT_MAX_DNS_SOCKETS);
	__type(key, __u64);
	__type(value, struct ambit_orig_dst);
} dns_orig_dst SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AMBIT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") __weak;

#endif /* AMBIT_MAPS_H */
