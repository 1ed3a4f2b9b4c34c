/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small helpers shared by the entry files: knobs, counters, address keys. */
#ifndef AMBIT_COMMON_H
#define AMBIT_COMMON_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ambit_abi.h"
#include "maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/*
 * Read one 32-bit context word. Without volatile, clang merges neighbouring
 * u32 loads of ip6 arrays into a u64 load the verifier rejects.
 */
#define CTX_U32(field) (*(volatile __u32 *)&(field))

/* Copy a 4-word IPv6 address out of a context structure. */
#define CTX_IP6(dst, src)                    \
	do {                                 \
		(dst)[0] = CTX_U32((src)[0]); \
		(dst)[1] = CTX_U32((src)[1]); \
		(dst)[2] = CTX_U32((src)[2]); \
		(dst)[3] = CTX_U32((src)[3]); \
	} while (0)

/* Set by the loader before load (see struct ambit_knobs); weak so every unit shares one. */
const volatile struct ambit_knobs knobs __weak = {
	.outbound_port = 15001,
	.inbound_port = 15006,
	.hbone_port = 15008,
	.dns_port = 15053,
	.agent_mark = 0x539,
	.agent_src_ip4 = __bpf_constant_htonl(0x7f000006), /* 127.0.0.6 */
	.agent_src_ip6 = { [15] = 1 },                       /* ::1 */
	.dns_capture = 1,
};

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* ::ffff:a.b.c.d from a network-order IPv4 address. */
static __always_inline void addr_from_v4(__u8 addr[16], __u32 ip4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(addr + 12, &ip4, 4);
}

static __always_inline void addr_from_v6(__u8 addr[16], const __u32 ip6[4])
{
	__u32 w[4] = { ip6[0], ip6[1], ip6[2], ip6[3] };

	__builtin_memcpy(addr, w, 16);
}

static __always_inline int addr_is_v4_mapped(const __u8 addr[16])
{
	__u64 lo;
	__u32 mid;

	__builtin_memcpy(&lo, addr, 8);
	__builtin_memcpy(&mid, addr + 8, 4);
	return lo == 0 && mid == bpf_htonl(0x0000ffff);
}

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 never leave the pod: never captured. */
static __always_inline int addr_is_loopback(const __u8 addr[16])
{
	__u64 hi, lo;

	if (addr_is_v4_mapped(addr))
		return addr[12] == 127;
	__builtin_memcpy(&hi, addr, 8);
	__builtin_memcpy(&lo, addr + 8, 8);
	return hi == 0 && lo == bpf_cpu_to_be64(1);
}

static __always_inline int port_bypassed(__u32 pod_id, __u16 port, __u8 dir)
{
	struct ambit_port_key k = { .pod_id = pod_id, .port = port, .direction = dir };

	return bpf_map_lookup_elem(&bypass_ports, &k) != NULL;
}

static __always_inline int cidr_bypassed(__u32 pod_id, const __u8 addr[16])
{
	struct ambit_cidr_key k = { .prefixlen = 32 + 128, .pod_id = pod_id };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bypass_cidrs, &k) != NULL;
}

#endif /* AMBIT_COMMON_H */
