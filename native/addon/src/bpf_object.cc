// SPDX-License-Identifier: Apache-2.0
#include "bpf_object.h"

#include <bpf/btf.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "errors.h"

namespace ambit {

Napi::Function BpfObject::Init(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {
                         InstanceMethod<&BpfObject::Load>("load"),
                         InstanceMethod<&BpfObject::Program>("program"),
                         InstanceMethod<&BpfObject::Map>("map"),
                         InstanceMethod<&BpfObject::ProgramNames>("programNames"),
                         InstanceMethod<&BpfObject::MapNames>("mapNames"),
                         InstanceMethod<&BpfObject::SetGlobal>("setGlobal"),
                         InstanceMethod<&BpfObject::Close>("close"),
                         InstanceAccessor<&BpfObject::GetPath>("path"),
                         InstanceAccessor<&BpfObject::GetLoaded>("loaded"),
                         InstanceAccessor<&BpfObject::GetClosed>("closed"),
                     });
}

// new BpfObject(path): opens and parses the ELF file; nothing reaches the kernel yet.
BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  path_ = ArgString(info, 0, "path");
  ClearLibbpfLog();
  obj_ = bpf_object__open_file(path_.c_str(), nullptr);
  if (obj_ == nullptr) {
    int err = errno;
    Failure f;
    f.err = err;
    f.syscall = "bpf_object__open_file";
    f.path = path_;
    f.details = TakeLibbpfLog();
    if (err == ENOENT) {
      f.message = "eBPF object file not found: " + path_ +
                  "; build it with `npm run build:native` (or run scripts/setup.sh)";
    } else {
      f.message = "cannot open eBPF object " + path_ + "; is it an ELF file built with clang -target bpf?";
    }
    throw SystemError(env, f);
  }
}

BpfObject::~BpfObject() { Destroy(); }

void BpfObject::Destroy() {
  // A running load still uses obj_; the worker holds a reference to this
  // wrapper, so the finalizer cannot run before it finishes.
  if (obj_ != nullptr && !busy_) {
    bpf_object__close(obj_);
    obj_ = nullptr;
  }
}

struct bpf_object* BpfObject::Require(Napi::Env env, const char* what) const {
  if (obj_ == nullptr)
    throw SystemError(env, EBADF, what, "eBPF object " + path_ + " is closed", path_);
  if (busy_)
    throw SystemError(env, EBUSY, what, "eBPF object " + path_ + " is loading; await load() first", path_);
  return obj_;
}

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, BpfObject* self, Napi::Object keep)
      : Napi::AsyncWorker(env), self_(self), deferred_(Napi::Promise::Deferred::New(env)) {
    keep_ = Napi::Persistent(keep);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    ClearLibbpfLog();
    int rc = bpf_object__load(self_->obj_);
    if (rc != 0) {
      failure_.err = -rc;
      failure_.syscall = "bpf_object__load";
      failure_.path = self_->path_;
      failure_.details = TakeLibbpfLog();
      failure_.message = "loading eBPF object " + self_->path_ + " failed" + HintFor(-rc) +
                         (failure_.details.empty() ? "" : "; see error.details for the libbpf/verifier log");
    }
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    self_->busy_ = false;
    if (failure_.failed()) {
      deferred_.Reject(SystemError(Env(), failure_).Value());
      return;
    }
    self_->loaded_ = true;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    self_->busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  BpfObject* self_;
  Napi::ObjectReference keep_;
  Napi::Promise::Deferred deferred_;
  Failure failure_;
};

// load(): Promise<void>. Runs the verifier on a libuv worker thread.
Napi::Value BpfObject::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // State errors reject the promise rather than throw: callers await load().
  try {
    Require(env, "bpf_object__load");
    if (loaded_)
      throw SystemError(env, EALREADY, "bpf_object__load", "eBPF object " + path_ + " is already loaded", path_);
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
  busy_ = true;
  auto* w = new LoadWorker(env, this, info.This().As<Napi::Object>());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value BpfObject::Program(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  struct bpf_object* obj = Require(env, "bpf_object__find_program_by_name");
  struct bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
  if (prog == nullptr) {
    std::string have;
    struct bpf_program* p;
    bpf_object__for_each_program(p, obj) have += (have.empty() ? "" : ", ") + std::string(bpf_program__name(p));
    throw SystemError(env, ENOENT, "bpf_object__find_program_by_name",
                      "no program '" + name + "' in " + path_ + " (it has: " + have + ")", path_);
  }
  auto* addon = env.GetInstanceData<AmbitAddon>();
  return addon->program_ctor.New({Napi::External<struct bpf_program>::New(env, prog), info.This()});
}

Napi::Value BpfObject::Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  struct bpf_object* obj = Require(env, "bpf_object__find_map_by_name");
  struct bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
  if (map == nullptr) {
    std::string have;
    struct bpf_map* m;
    bpf_object__for_each_map(m, obj) have += (have.empty() ? "" : ", ") + std::string(bpf_map__name(m));
    throw SystemError(env, ENOENT, "bpf_object__find_map_by_name",
                      "no map '" + name + "' in " + path_ + " (it has: " + have + ")", path_);
  }
  auto* addon = env.GetInstanceData<AmbitAddon>();
  return addon->map_ctor.New({Napi::External<struct bpf_map>::New(env, map), info.This()});
}

Napi::Value BpfObject::ProgramNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct bpf_object* obj = Require(env, "bpf_object__next_program");
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_program* p;
  bpf_object__for_each_program(p, obj) out.Set(i++, bpf_program__name(p));
  return out;
}

Napi::Value BpfObject::MapNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct bpf_object* obj = Require(env, "bpf_object__next_map");
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  struct bpf_map* m;
  bpf_object__for_each_map(m, obj) out.Set(i++, bpf_map__name(m));
  return out;
}

// setGlobal(name, bytes): before load, set a global (e.g. a `const volatile`
// knob in .rodata) by its BTF variable name. The size must match exactly.
Napi::Value BpfObject::SetGlobal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "name");
  Napi::Buffer<uint8_t> bytes = ArgBuffer(info, 1, "value");
  struct bpf_object* obj = Require(env, "bpf_map__set_initial_value");
  if (loaded_)
    throw SystemError(env, EALREADY, "bpf_map__set_initial_value",
                      "cannot set global '" + name + "' after load(); set knobs before loading", path_);
  struct btf* btf = bpf_object__btf(obj);
  if (btf == nullptr) throw SystemError(env, ENOENT, "bpf_object__btf", path_ + " has no BTF; build it with -g", path_);
  // Find the variable in any data section, then the internal map that holds
  // that section (libbpf names it "<object prefix><section>", e.g. "ambit_bp.rodata").
  for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
    const struct btf_type* sec = btf__type_by_id(btf, id);
    if (!btf_is_datasec(sec)) continue;
    std::string secname = btf__name_by_offset(btf, sec->name_off);
    const struct btf_var_secinfo* vs = btf_var_secinfos(sec);
    for (int i = 0; i < btf_vlen(sec); i++, vs++) {
      const struct btf_type* var = btf__type_by_id(btf, vs->type);
      if (name != btf__name_by_offset(btf, var->name_off)) continue;
      if (vs->size != bytes.Length())
        throw SystemError(env, EINVAL, "bpf_map__set_initial_value",
                          "global '" + name + "' is " + std::to_string(vs->size) + " bytes, got " +
                              std::to_string(bytes.Length()) + "; encode it with common/native/abi.ts",
                          path_);
      struct bpf_map* map;
      bpf_object__for_each_map(map, obj) {
        std::string mname = bpf_map__name(map);
        if (!bpf_map__is_internal(map) || mname.size() < secname.size() ||
            mname.compare(mname.size() - secname.size(), secname.size(), secname) != 0)
          continue;
        size_t size = 0;
        // libbpf 1.1 returns const; the buffer is writable until load.
        void* data = const_cast<void*>(bpf_map__initial_value(map, &size));
        if (data == nullptr || vs->offset + vs->size > size) break;
        memcpy(static_cast<uint8_t*>(data) + vs->offset, bytes.Data(), vs->size);
        return env.Undefined();
      }
      throw SystemError(env, ENOENT, "bpf_map__initial_value",
                        "global '" + name + "' has no writable section " + secname + " in " + path_, path_);
    }
  }
  throw SystemError(env, ENOENT, "btf__find_by_name_kind", "no global variable '" + name + "' in " + path_, path_);
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  if (busy_)
    throw SystemError(info.Env(), EBUSY, "bpf_object__close", "eBPF object " + path_ + " is loading; await load() first", path_);
  Destroy();
  return info.Env().Undefined();
}

Napi::Value BpfObject::GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }
Napi::Value BpfObject::GetLoaded(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), loaded_); }
Napi::Value BpfObject::GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), obj_ == nullptr); }

}  // namespace ambit
