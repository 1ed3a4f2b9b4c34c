// SPDX-License-Identifier: Apache-2.0
// Entry point of ambit_native.node. The one TypeScript module that loads it
// is common/native/addon.ts.
#include "addon.h"

#include "abi_layout.h"
#include "bpf_link.h"
#include "bpf_map.h"
#include "bpf_object.h"
#include "bpf_program.h"
#include "errors.h"
#include "netns_socket.h"
#include "seqpacket.h"

namespace ambit {

AmbitAddon::AmbitAddon(Napi::Env env, Napi::Object exports) {
  InstallLibbpfLogger();
  Napi::Function object = BpfObject::Init(env);
  Napi::Function program = BpfProgram::Init(env);
  Napi::Function map = BpfMap::Init(env);
  Napi::Function link = BpfLink::Init(env);
  program_ctor = Napi::Persistent(program);
  map_ctor = Napi::Persistent(map);
  link_ctor = Napi::Persistent(link);
  exports.Set("BpfObject", object);
  exports.Set("BpfProgram", program);
  exports.Set("BpfMap", map);
  exports.Set("BpfLink", link);
  RegisterNetnsSocket(env, exports);
  RegisterAbiLayout(env, exports);
  Napi::Function seqpacket = SeqpacketSocket::Init(env);
  seqpacket_ctor = Napi::Persistent(seqpacket);
  exports.Set("SeqpacketSocket", seqpacket);
}

int32_t ArgInt32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw ArgError(info.Env(), std::string("argument '") + name + "' must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString())
    throw ArgError(info.Env(), std::string("argument '") + name + "' must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBuffer())
    throw ArgError(info.Env(), std::string("argument '") + name + "' must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

}  // namespace ambit

using ambit::AmbitAddon;
NODE_API_ADDON(AmbitAddon)
