// SPDX-License-Identifier: Apache-2.0
// BpfMap wraps one map of a BpfObject. Keys and values are Buffers laid out
// as in native/bpf/include/ambit_abi.h (common/native/abi.ts encodes them);
// sizes are re-checked here so a wrong-sized key is an error, never a crash.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <string>

namespace ambit {

class BpfObject;

class BpfMap : public Napi::ObjectWrap<BpfMap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfMap(const Napi::CallbackInfo& info);

  int RequireFd(Napi::Env env, const char* what);
  std::string name() const { return name_; }

 private:
  void CheckSize(Napi::Env env, const char* what, const char* kind, size_t got, size_t want);
  size_t ValueBytes() const;  // per-CPU maps hold one value per possible CPU
  Napi::Value Lookup(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value Keys(const Napi::CallbackInfo& info);
  Napi::Value SetPinPath(const Napi::CallbackInfo& info);
  Napi::Value Pin(const Napi::CallbackInfo& info);
  Napi::Value Unpin(const Napi::CallbackInfo& info);
  Napi::Value GetInfo(const Napi::CallbackInfo& info);

  struct bpf_map* map_ = nullptr;
  BpfObject* parent_ = nullptr;
  Napi::ObjectReference parent_ref_;
  std::string name_;
};

}  // namespace ambit
