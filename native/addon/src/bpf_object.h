// SPDX-License-Identifier: Apache-2.0
// BpfObject wraps one libbpf `struct bpf_object`: open (sync, parses ELF),
// load (async: the verifier can take a while), its programs and maps, and an
// explicit, idempotent close() with the finalizer as backstop.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <string>

namespace ambit {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;

  // For children (programs, maps): throws unless the object is open and idle.
  struct bpf_object* Require(Napi::Env env, const char* what) const;
  const std::string& path() const { return path_; }
  bool loaded() const { return loaded_; }

 private:
  friend class LoadWorker;

  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Program(const Napi::CallbackInfo& info);
  Napi::Value Map(const Napi::CallbackInfo& info);
  Napi::Value ProgramNames(const Napi::CallbackInfo& info);
  Napi::Value MapNames(const Napi::CallbackInfo& info);
  Napi::Value SetGlobal(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetPath(const Napi::CallbackInfo& info);
  Napi::Value GetLoaded(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);

  void Destroy();

  struct bpf_object* obj_ = nullptr;
  std::string path_;
  bool loaded_ = false;
  bool busy_ = false;  // a load is running on a worker thread
};

}  // namespace ambit
