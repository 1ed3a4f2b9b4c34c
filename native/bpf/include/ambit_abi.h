/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one definition of everything the eBPF programs, the addon and the
 * TypeScript agent exchange: map keys and values, listener slots, counters and
 * load-time knobs. The TypeScript mirror lives in common/native/abi.ts and a
 * native test checks it against the sizes and offsets the addon reports from
 * this very header.
 *
 * Rules: append only. Never reorder, resize or reuse a field, a slot or a
 * counter index; bump AMBIT_ABI_VERSION when adding. Addresses are stored as
 * 16 bytes with IPv4 as the v4-mapped IPv6 form (::ffff:a.b.c.d) so one key
 * shape serves both families; ports in keys are host byte order.
 */
#ifndef AMBIT_ABI_H
#define AMBIT_ABI_H

#include <linux/types.h>

#define AMBIT_ABI_VERSION 2

/* Capacity of the maps; the agent holds one pod per enrolled cgroup. */
#define AMBIT_MAX_PODS 16384
#define AMBIT_MAX_POD_IPS (AMBIT_MAX_PODS * 2)
#define AMBIT_MAX_BYPASS_PORTS 65536
#define AMBIT_MAX_BYPASS_CIDRS 16384
#define AMBIT_MAX_FLOWS 262144

/* Listener slots per pod in the `listeners` sockmap: key = pod_id * SLOTS + slot. */
enum ambit_listener_slot {
	AMBIT_SLOT_INBOUND4 = 0, /* 15006 plaintext, IPv4 */
	AMBIT_SLOT_HBONE4 = 1,   /* 15008 HBONE, IPv4 */
	AMBIT_SLOT_INBOUND6 = 2, /* 15006 plaintext, IPv6 */
	AMBIT_SLOT_HBONE6 = 3,   /* 15008 HBONE, IPv6 */
	AMBIT_SLOTS_PER_POD = 4,
};

/* Value of `enrolled` (key: __u64 cgroup id) and `pod_ips` (key: struct ambit_ip_key). */
struct ambit_pod {
	__u32 pod_id; /* agent-assigned, < AMBIT_MAX_PODS */
	__u32 flags;  /* AMBIT_POD_F_* */
};

enum ambit_pod_flags {
	AMBIT_POD_F_CAPTURE_OUT = 1 << 0, /* rewrite outbound TCP connects to 15001 */
	AMBIT_POD_F_CAPTURE_IN = 1 << 1,  /* steer inbound SYNs to 15006/15008 */
	AMBIT_POD_F_BIND_GUARD = 1 << 2,  /* refuse app binds of the agent's ports */
};

struct ambit_ip_key {
	__u8 addr[16];
};

/* `bypass_ports` key: traffic on this port is left alone for this pod. Value: __u8 1. */
struct ambit_port_key {
	__u32 pod_id;
	__u16 port;     /* host byte order */
	__u8 direction; /* enum ambit_direction */
	__u8 pad;
};

enum ambit_direction {
	AMBIT_DIR_OUTBOUND = 0, /* destination port of a connect() */
	AMBIT_DIR_INBOUND = 1,  /* destination port of an incoming SYN */
};

/* `bypass_cidrs` LPM key: prefixlen counts pod_id's 32 bits plus the address bits. */
struct ambit_cidr_key {
	__u32 prefixlen;
	__u32 pod_id;
	__u8 addr[16];
};

/* What connect() originally asked for. */
struct ambit_orig_dst {
	__u8 addr[16];
	__u16 port;   /* host byte order */
	__u16 family; /* AF_INET or AF_INET6 of the original destination */
	__u32 pod_id;
};

/*
 * `orig_dst` key: the captured client socket as the agent's 15001 listener
 * sees its peer — the pod's netns cookie plus the client's local address and
 * port, unique among live connections to 15001 in that netns.
 */
struct ambit_flow_key {
	__u64 netns_cookie;
	__u8 addr[16];
	__u16 port; /* host byte order */
	__u16 pad0;
	__u32 pad1;
};

/* Per-CPU counters in `stats`, indexed by these values. */
enum ambit_counter {
	AMBIT_CNT_OUT_CAPTURED = 0,
	AMBIT_CNT_OUT_BYPASS_PORT = 1,
	AMBIT_CNT_OUT_BYPASS_CIDR = 2,
	AMBIT_CNT_OUT_AGENT_SOCKET = 3,
	AMBIT_CNT_IN_STEERED = 4,
	AMBIT_CNT_IN_HBONE = 5,
	AMBIT_CNT_IN_BYPASS_PORT = 6,
	AMBIT_CNT_IN_NO_LISTENER = 7,
	AMBIT_CNT_BIND_DENIED = 8,
	AMBIT_CNT_ORIG_DST_RECORDED = 9,
	AMBIT_CNT_ORIG_DST_MISSED = 10,
	AMBIT_CNT_DNS_UDP_CAPTURED = 11,   /* UDP sendmsg/connect to port 53 sent to the DNS proxy */
	AMBIT_CNT_DNS_TCP_CAPTURED = 12,   /* TCP connect to port 53 sent to the DNS proxy */
	AMBIT_CNT_DNS_REPLY_REWRITTEN = 13, /* recvmsg source / getpeername shown as the queried nameserver */
	AMBIT_CNT_MAX = 16,
};

/* Load-time knobs, `const volatile struct ambit_knobs knobs` in .rodata. */
struct ambit_knobs {
	__u16 outbound_port; /* 15001 */
	__u16 inbound_port;  /* 15006 */
	__u16 hbone_port;    /* 15008 */
	__u16 dns_port;      /* 15053 */
	__u32 agent_mark;    /* SO_MARK of agent sockets: never captured */
	__u32 agent_src_ip4; /* network order; the agent's source toward apps (127.0.0.6) */
	__u8 agent_src_ip6[16]; /* the same for IPv6 (::1) */
	/* ABI 2 */
	__u32 dns_capture;   /* nonzero: pods' DNS (UDP and TCP port 53) goes to dns_port */
};

/* ABI 2: DNS capture. */

/* `dns_orig_dst` capacity: UDP sockets of enrolled pods that sent DNS through the proxy. */
#define AMBIT_MAX_DNS_SOCKETS 65536

/* Well-known DNS port (RFC 1035); host byte order like every port in this header. */
#define AMBIT_DNS_PORT 53

#endif /* AMBIT_ABI_H */
