// SPDX-License-Identifier: Apache-2.0
// abiLayout(): sizes, field offsets and constants of ambit_abi.h as the C
// compiler sees them, so a test can hold common/native/abi.ts to the header.
#include <cstddef>

#include "ambit_abi.h"
#include "abi_layout.h"

namespace ambit {
namespace {

#define FIELD(obj, T, f)                                           \
  do {                                                             \
    Napi::Object fo = Napi::Object::New(env);                      \
    fo.Set("offset", static_cast<double>(offsetof(T, f)));         \
    fo.Set("size", static_cast<double>(sizeof(((T*)nullptr)->f))); \
    obj.Set(#f, fo);                                               \
  } while (0)

Napi::Object Struct(Napi::Env env, size_t size, Napi::Object fields) {
  Napi::Object s = Napi::Object::New(env);
  s.Set("size", static_cast<double>(size));
  s.Set("fields", fields);
  return s;
}

Napi::Value AbiLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object structs = Napi::Object::New(env);
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_pod, pod_id);
    FIELD(f, ambit_pod, flags);
    structs.Set("ambit_pod", Struct(env, sizeof(ambit_pod), f));
  }
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_ip_key, addr);
    structs.Set("ambit_ip_key", Struct(env, sizeof(ambit_ip_key), f));
  }
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_port_key, pod_id);
    FIELD(f, ambit_port_key, port);
    FIELD(f, ambit_port_key, direction);
    structs.Set("ambit_port_key", Struct(env, sizeof(ambit_port_key), f));
  }
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_cidr_key, prefixlen);
    FIELD(f, ambit_cidr_key, pod_id);
    FIELD(f, ambit_cidr_key, addr);
    structs.Set("ambit_cidr_key", Struct(env, sizeof(ambit_cidr_key), f));
  }
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_orig_dst, addr);
    FIELD(f, ambit_orig_dst, port);
    FIELD(f, ambit_orig_dst, family);
    FIELD(f, ambit_orig_dst, pod_id);
    structs.Set("ambit_orig_dst", Struct(env, sizeof(ambit_orig_dst), f));
  }
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_flow_key, netns_cookie);
    FIELD(f, ambit_flow_key, addr);
    FIELD(f, ambit_flow_key, port);
    structs.Set("ambit_flow_key", Struct(env, sizeof(ambit_flow_key), f));
  }
  {
    Napi::Object f = Napi::Object::New(env);
    FIELD(f, ambit_knobs, outbound_port);
    FIELD(f, ambit_knobs, inbound_port);
    FIELD(f, ambit_knobs, hbone_port);
    FIELD(f, ambit_knobs, dns_port);
    FIELD(f, ambit_knobs, agent_mark);
    FIELD(f, ambit_knobs, agent_src_ip4);
    FIELD(f, ambit_knobs, agent_src_ip6);
    FIELD(f, ambit_knobs, dns_capture);
    structs.Set("ambit_knobs", Struct(env, sizeof(ambit_knobs), f));
  }

  Napi::Object c = Napi::Object::New(env);
  c.Set("AMBIT_ABI_VERSION", static_cast<double>(AMBIT_ABI_VERSION));
  c.Set("AMBIT_MAX_PODS", static_cast<double>(AMBIT_MAX_PODS));
  c.Set("AMBIT_SLOT_INBOUND4", static_cast<double>(AMBIT_SLOT_INBOUND4));
  c.Set("AMBIT_SLOT_HBONE4", static_cast<double>(AMBIT_SLOT_HBONE4));
  c.Set("AMBIT_SLOT_INBOUND6", static_cast<double>(AMBIT_SLOT_INBOUND6));
  c.Set("AMBIT_SLOT_HBONE6", static_cast<double>(AMBIT_SLOT_HBONE6));
  c.Set("AMBIT_SLOTS_PER_POD", static_cast<double>(AMBIT_SLOTS_PER_POD));
  c.Set("AMBIT_POD_F_CAPTURE_OUT", static_cast<double>(AMBIT_POD_F_CAPTURE_OUT));
  c.Set("AMBIT_POD_F_CAPTURE_IN", static_cast<double>(AMBIT_POD_F_CAPTURE_IN));
  c.Set("AMBIT_POD_F_BIND_GUARD", static_cast<double>(AMBIT_POD_F_BIND_GUARD));
  c.Set("AMBIT_DIR_OUTBOUND", static_cast<double>(AMBIT_DIR_OUTBOUND));
  c.Set("AMBIT_DIR_INBOUND", static_cast<double>(AMBIT_DIR_INBOUND));
  c.Set("AMBIT_CNT_OUT_CAPTURED", static_cast<double>(AMBIT_CNT_OUT_CAPTURED));
  c.Set("AMBIT_CNT_OUT_BYPASS_PORT", static_cast<double>(AMBIT_CNT_OUT_BYPASS_PORT));
  c.Set("AMBIT_CNT_OUT_BYPASS_CIDR", static_cast<double>(AMBIT_CNT_OUT_BYPASS_CIDR));
  c.Set("AMBIT_CNT_OUT_AGENT_SOCKET", static_cast<double>(AMBIT_CNT_OUT_AGENT_SOCKET));
  c.Set("AMBIT_CNT_IN_STEERED", static_cast<double>(AMBIT_CNT_IN_STEERED));
  c.Set("AMBIT_CNT_IN_HBONE", static_cast<double>(AMBIT_CNT_IN_HBONE));
  c.Set("AMBIT_CNT_IN_BYPASS_PORT", static_cast<double>(AMBIT_CNT_IN_BYPASS_PORT));
  c.Set("AMBIT_CNT_IN_NO_LISTENER", static_cast<double>(AMBIT_CNT_IN_NO_LISTENER));
  c.Set("AMBIT_CNT_BIND_DENIED", static_cast<double>(AMBIT_CNT_BIND_DENIED));
  c.Set("AMBIT_CNT_ORIG_DST_RECORDED", static_cast<double>(AMBIT_CNT_ORIG_DST_RECORDED));
  c.Set("AMBIT_CNT_ORIG_DST_MISSED", static_cast<double>(AMBIT_CNT_ORIG_DST_MISSED));
  c.Set("AMBIT_CNT_DNS_UDP_CAPTURED", static_cast<double>(AMBIT_CNT_DNS_UDP_CAPTURED));
  c.Set("AMBIT_CNT_DNS_TCP_CAPTURED", static_cast<double>(AMBIT_CNT_DNS_TCP_CAPTURED));
  c.Set("AMBIT_CNT_DNS_REPLY_REWRITTEN", static_cast<double>(AMBIT_CNT_DNS_REPLY_REWRITTEN));
  c.Set("AMBIT_CNT_MAX", static_cast<double>(AMBIT_CNT_MAX));
  c.Set("AMBIT_MAX_DNS_SOCKETS", static_cast<double>(AMBIT_MAX_DNS_SOCKETS));
  c.Set("AMBIT_DNS_PORT", static_cast<double>(AMBIT_DNS_PORT));

  Napi::Object out = Napi::Object::New(env);
  out.Set("structs", structs);
  out.Set("constants", c);
  return out;
}

}  // namespace

void RegisterAbiLayout(Napi::Env env, Napi::Object exports) {
  exports.Set("abiLayout", Napi::Function::New<AbiLayout>(env, "abiLayout"));
}

}  // namespace ambit
