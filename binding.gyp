# The whole native build, driven by node-gyp:
#   1. ambit_native: the C++ addon (node-addon-api) linked against the system libbpf (pkg-config).
#   2. ambit_bpf:    eBPF objects: each native/bpf/<hook>.bpf.c compiled with clang -target bpf,
#                    then linked into one unit, build/Release/bpf/ambit.bpf.o, with `bpftool gen object`.
#   3. ambit-cni:    the chained CNI plugin (native/cni/, C11, libc only), build/Release/ambit-cni.
{
  "variables": {
    "bpf_sources": [
      "native/bpf/connect4.bpf.c",
      "native/bpf/connect6.bpf.c",
      "native/bpf/sockops.bpf.c",
      "native/bpf/sk_lookup.bpf.c",
      "native/bpf/bind.bpf.c",
      "native/bpf/sk_msg.bpf.c",
      "native/bpf/sendmsg4.bpf.c",
      "native/bpf/sendmsg6.bpf.c",
      "native/bpf/recvmsg4.bpf.c",
      "native/bpf/recvmsg6.bpf.c",
      "native/bpf/getpeername.bpf.c",
    ],
    "bpf_headers": [
      "native/bpf/include/ambit_abi.h",
      "native/bpf/lib/common.h",
      "native/bpf/lib/maps.h",
      "native/bpf/lib/outbound.h",
      "native/bpf/lib/dns.h",
    ],
  },
  "targets": [
    {
      # Installed on Kubernetes hosts (/opt/cni/bin): plain C and libc, nothing else to install there.
      "target_name": "ambit-cni",
      "type": "executable",
      "sources": [
        "native/cni/main.c",
        "native/cni/commands.c",
        "native/cni/conf.c",
        "native/cni/env.c",
        "native/cni/json.c",
        "native/cni/enroll.c",
        "native/cni/record.c",
        "native/cni/cgroup.c",
      ],
      "defines": ["_GNU_SOURCE"],
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-Werror"],
      "cflags!": ["-Wno-unused-parameter"],
    },
    {
      "target_name": "ambit_native",
      "sources": [
        "native/addon/src/addon.cc",
        "native/addon/src/errors.cc",
        "native/addon/src/bpf_object.cc",
        "native/addon/src/bpf_program.cc",
        "native/addon/src/bpf_map.cc",
        "native/addon/src/bpf_link.cc",
        "native/addon/src/netns_socket.cc",
        "native/addon/src/abi_layout.cc",
        "native/addon/src/seqpacket.cc",
        "native/addon/src/seqpacket_events.cc",
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/bpf/include",
      ],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags libbpf)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libbpf)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "dependencies": ["ambit_bpf"],
    },
    {
      "target_name": "ambit_bpf",
      "type": "none",
      "sources": ["<@(bpf_sources)"],
      "rules": [
        {
          "rule_name": "bpf_compile",
          "extension": "c",
          "inputs": ["<@(bpf_headers)"],
          "outputs": ["<(PRODUCT_DIR)/bpf/obj/<(RULE_INPUT_ROOT).o"],
          "action": [
            "clang", "-target", "bpf", "-O2", "-g", "-Wall", "-Werror",
            "-Inative/bpf/include", "-Inative/bpf/lib",
            "-I/usr/include/<!(gcc -print-multiarch)",
            "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)",
          ],
          "message": "BPF CC <(RULE_INPUT_PATH)",
          "process_outputs_as_sources": 0,
        },
      ],
      "actions": [
        {
          "action_name": "bpf_link",
          "inputs": [
            "<(PRODUCT_DIR)/bpf/obj/connect4.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/connect6.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/sockops.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/sk_lookup.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/bind.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/sk_msg.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/sendmsg4.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/sendmsg6.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/recvmsg4.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/recvmsg6.bpf.o",
            "<(PRODUCT_DIR)/bpf/obj/getpeername.bpf.o",
          ],
          "outputs": ["<(PRODUCT_DIR)/bpf/ambit.bpf.o"],
          "action": ["bpftool", "gen", "object", "<@(_outputs)", "<@(_inputs)"],
          "message": "BPF LINK ambit.bpf.o",
        },
      ],
    },
  ],
}
