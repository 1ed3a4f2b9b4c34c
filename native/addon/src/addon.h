// SPDX-License-Identifier: Apache-2.0
// Per-instance addon state (Napi::Addon, never statics): the constructors the
// C++ side needs to create wrapped objects (object.map() returns a BpfMap).
#pragma once

#include <napi.h>

namespace ambit {

class AmbitAddon : public Napi::Addon<AmbitAddon> {
 public:
  AmbitAddon(Napi::Env env, Napi::Object exports);

  Napi::FunctionReference program_ctor;
  Napi::FunctionReference map_ctor;
  Napi::FunctionReference link_ctor;
  Napi::FunctionReference seqpacket_ctor;  // accept() makes SeqpacketSockets
};

// Throws a TypeError unless info[i] is present and of the right kind.
int32_t ArgInt32(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace ambit
