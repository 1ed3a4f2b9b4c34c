// SPDX-License-Identifier: Apache-2.0
// BpfProgram wraps one program of a BpfObject and attaches it: to a cgroup-v2
// directory, to a network namespace (sk_lookup), or to a sockmap (verdict).
// Every attach returns a BpfLink that owns the attachment.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <string>

namespace ambit {

class BpfObject;

class BpfProgram : public Napi::ObjectWrap<BpfProgram> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfProgram(const Napi::CallbackInfo& info);

  // The BpfProgram behind a JS value, or a TypeError naming `what` (never an unchecked Unwrap).
  static BpfProgram* FromValue(Napi::Env env, Napi::Value v, const char* what);
  // fd of the loaded program; throws when its object is closed or not loaded yet.
  int LoadedFd(Napi::Env env, const char* what);
  std::string name() const { return bpf_program__name(prog_); }

 private:
  struct bpf_program* Require(Napi::Env env, const char* what, bool must_be_loaded);
  Napi::Value AttachCgroup(const Napi::CallbackInfo& info);
  Napi::Value AttachNetns(const Napi::CallbackInfo& info);
  Napi::Value AttachSockmap(const Napi::CallbackInfo& info);
  Napi::Value SetAutoload(const Napi::CallbackInfo& info);
  Napi::Value GetName(const Napi::CallbackInfo& info);
  Napi::Value GetSection(const Napi::CallbackInfo& info);
  Napi::Value GetType(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);

  struct bpf_program* prog_ = nullptr;
  BpfObject* parent_ = nullptr;
  Napi::ObjectReference parent_ref_;  // keeps the object (and so prog_) alive
};

}  // namespace ambit
