// SPDX-License-Identifier: Apache-2.0
#include "bpf_map.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "addon.h"
#include "bpf_object.h"
#include "errors.h"

namespace ambit {

Napi::Function BpfMap::Init(Napi::Env env) {
  return DefineClass(env, "BpfMap",
                     {
                         InstanceMethod<&BpfMap::Lookup>("lookup"),
                         InstanceMethod<&BpfMap::Update>("update"),
                         InstanceMethod<&BpfMap::Delete>("delete"),
                         InstanceMethod<&BpfMap::Keys>("keys"),
                         InstanceMethod<&BpfMap::SetPinPath>("setPinPath"),
                         InstanceMethod<&BpfMap::Pin>("pin"),
                         InstanceMethod<&BpfMap::Unpin>("unpin"),
                         InstanceMethod<&BpfMap::GetInfo>("info"),
                     });
}

// Created only by BpfObject.map(name): (External<bpf_map>, BpfObject).
BpfMap::BpfMap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfMap>(info) {
  if (info.Length() != 2 || !info[0].IsExternal() || !info[1].IsObject())
    throw ArgError(info.Env(), "BpfMap is created by BpfObject.map(name)");
  map_ = info[0].As<Napi::External<struct bpf_map>>().Data();
  parent_ = BpfObject::Unwrap(info[1].As<Napi::Object>());
  parent_ref_ = Napi::Persistent(info[1].As<Napi::Object>());
  name_ = bpf_map__name(map_);
}

int BpfMap::RequireFd(Napi::Env env, const char* what) {
  parent_->Require(env, what);
  int fd = bpf_map__fd(map_);
  if (fd < 0) throw SystemError(env, EBADF, what, "map '" + name_ + "' is not loaded; await object.load() first");
  return fd;
}

void BpfMap::CheckSize(Napi::Env env, const char* what, const char* kind, size_t got, size_t want) {
  if (got == want) return;
  throw SystemError(env, EINVAL, what,
                    "map '" + name_ + "': " + kind + " is " + std::to_string(got) + " bytes but the map's " + kind +
                        " is " + std::to_string(want) + " bytes; encode it with common/native/abi.ts");
}

size_t BpfMap::ValueBytes() const {
  size_t v = bpf_map__value_size(map_);
  switch (bpf_map__type(map_)) {
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
      return ((v + 7) / 8) * 8 * libbpf_num_possible_cpus();
    default:
      return v;
  }
}

// lookup(key): Buffer | null. Per-CPU maps return every CPU's value back to back (8-byte aligned).
Napi::Value BpfMap::Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> key = ArgBuffer(info, 0, "key");
  int fd = RequireFd(env, "bpf_map_lookup_elem");
  CheckSize(env, "bpf_map_lookup_elem", "key", key.Length(), bpf_map__key_size(map_));
  std::vector<uint8_t> value(ValueBytes());
  if (bpf_map_lookup_elem(fd, key.Data(), value.data()) != 0) {
    int err = errno;
    if (err == ENOENT) return env.Null();
    throw SystemError(env, err, "bpf_map_lookup_elem", "lookup in map '" + name_ + "' failed");
  }
  return Napi::Buffer<uint8_t>::Copy(env, value.data(), value.size());
}

// update(key, value, flags = BPF_ANY). For sockmaps the value is the socket fd.
Napi::Value BpfMap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> key = ArgBuffer(info, 0, "key");
  Napi::Buffer<uint8_t> value = ArgBuffer(info, 1, "value");
  uint64_t flags = BPF_ANY;
  if (info.Length() > 2 && !info[2].IsUndefined()) flags = static_cast<uint64_t>(ArgInt32(info, 2, "flags"));
  int fd = RequireFd(env, "bpf_map_update_elem");
  CheckSize(env, "bpf_map_update_elem", "key", key.Length(), bpf_map__key_size(map_));
  CheckSize(env, "bpf_map_update_elem", "value", value.Length(), ValueBytes());
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) {
    int err = errno;
    std::string hint;
    if (err == E2BIG || err == ENOSPC) hint = "; the map is full (" + std::to_string(bpf_map__max_entries(map_)) + " entries)";
    if (err == EEXIST) hint = "; the key exists and BPF_NOEXIST was asked";
    if (err == EOPNOTSUPP && bpf_map__type(map_) == BPF_MAP_TYPE_SOCKMAP)
      hint = "; sockmaps take TCP sockets that are listening or established";
    throw SystemError(env, err, "bpf_map_update_elem", "update of map '" + name_ + "' failed" + hint);
  }
  return env.Undefined();
}

// delete(key): true when an entry was removed, false when there was none.
Napi::Value BpfMap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> key = ArgBuffer(info, 0, "key");
  int fd = RequireFd(env, "bpf_map_delete_elem");
  CheckSize(env, "bpf_map_delete_elem", "key", key.Length(), bpf_map__key_size(map_));
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(env, false);
    throw SystemError(env, err, "bpf_map_delete_elem", "delete from map '" + name_ + "' failed");
  }
  return Napi::Boolean::New(env, true);
}

// keys(): Buffer[] — every key, walked with bpf_map_get_next_key.
Napi::Value BpfMap::Keys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = RequireFd(env, "bpf_map_get_next_key");
  size_t ks = bpf_map__key_size(map_);
  std::vector<uint8_t> cur(ks), next(ks);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const void* prev = nullptr;
  const uint32_t limit = bpf_map__max_entries(map_);
  while (n < limit && bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, next.data(), ks));
    cur.swap(next);
    prev = cur.data();
  }
  return out;
}

// setPinPath(path): before load. libbpf then reuses a map already pinned
// there (so an agent restart keeps its state) or pins the new one on load.
Napi::Value BpfMap::SetPinPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  parent_->Require(env, "bpf_map__set_pin_path");
  int rc = bpf_map__set_pin_path(map_, path.c_str());
  if (rc != 0) throw SystemError(env, -rc, "bpf_map__set_pin_path", "cannot set pin path of map '" + name_ + "'", path);
  return env.Undefined();
}

Napi::Value BpfMap::Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  RequireFd(env, "bpf_map__pin");
  int rc = bpf_map__pin(map_, path.c_str());
  if (rc != 0) {
    int err = -rc;
    throw SystemError(env, err, "bpf_map__pin",
                      "pinning map '" + name_ + "' at " + path + " failed" +
                          (err == ENOENT || err == EINVAL ? "; the path must be on a mounted bpffs (mount -t bpf bpf /sys/fs/bpf)" : ""),
                      path);
  }
  return env.Undefined();
}

// unpin(path?): removes the pin file (the map lives on while fds hold it).
Napi::Value BpfMap::Unpin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  parent_->Require(env, "bpf_map__unpin");
  std::string path = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (path.empty() && bpf_map__pin_path(map_) == nullptr) return env.Undefined();
  int rc = bpf_map__unpin(map_, path.empty() ? nullptr : path.c_str());
  if (rc != 0 && rc != -ENOENT)
    throw SystemError(env, -rc, "bpf_map__unpin", "unpinning map '" + name_ + "' failed", path);
  return env.Undefined();
}

Napi::Value BpfMap::GetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  parent_->Require(env, "bpf_map__name");
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name_);
  const char* type = libbpf_bpf_map_type_str(bpf_map__type(map_));
  o.Set("type", type ? type : "unknown");
  o.Set("keySize", bpf_map__key_size(map_));
  o.Set("valueSize", bpf_map__value_size(map_));
  o.Set("valueBytes", static_cast<double>(ValueBytes()));
  o.Set("maxEntries", bpf_map__max_entries(map_));
  int fd = bpf_map__fd(map_);
  o.Set("fd", fd);
  // The kernel's id (null before load): what a sockmap link's info names as its map.
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof(mi));
  __u32 len = sizeof(mi);
  if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &mi, &len) == 0) o.Set("id", mi.id);
  else o.Set("id", env.Null());
  o.Set("possibleCpus", libbpf_num_possible_cpus());
  const char* pin = bpf_map__pin_path(map_);
  o.Set("pinPath", pin ? Napi::Value(Napi::String::New(env, pin)) : env.Null());
  o.Set("pinned", bpf_map__is_pinned(map_));
  return o;
}

}  // namespace ambit
