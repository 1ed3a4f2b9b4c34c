// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Re-keys a captured connection's original destination once the kernel has
 * picked the client port: socket cookie -> (netns cookie, client addr, port),
 * which is what the agent can compute from the socket it accepted on 15001.
 * The entry is dropped when the client socket closes.
 */
#include "common.h"

static __always_inline void flow_key(struct bpf_sock_ops *skops, struct ambit_flow_key *k)
{
	__u32 ip6[4];

	k->netns_cookie = bpf_get_netns_cookie(skops);
	k->port = (__u16)skops->local_port;
	if (skops->family == AF_INET) {
		addr_from_v4(k->addr, skops->local_ip4);
	} else {
		CTX_IP6(ip6, skops->local_ip6);
		addr_from_v6(k->addr, ip6);
	}
}

SEC("sockops")
int ambit_sockops(struct bpf_sock_ops *skops)
{
	struct ambit_flow_key key = {};
	struct ambit_orig_dst *od;
	__u64 cookie;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		cookie = bpf_get_socket_cookie(skops);
		od = bpf_map_lookup_elem(&orig_dst_by_cookie, &cookie);
		if (!od)
			return 1;
		flow_key(skops, &key);
		if (bpf_map_update_elem(&orig_dst, &key, od, BPF_ANY)) {
			count(AMBIT_CNT_ORIG_DST_MISSED);
		} else {
			count(AMBIT_CNT_ORIG_DST_RECORDED);
			bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
		}
		bpf_map_delete_elem(&orig_dst_by_cookie, &cookie);
		return 1;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] != BPF_TCP_CLOSE)
			return 1;
		flow_key(skops, &key);
		bpf_map_delete_elem(&orig_dst, &key);
		return 1;
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
