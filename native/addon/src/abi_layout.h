// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <napi.h>

namespace ambit {
void RegisterAbiLayout(Napi::Env env, Napi::Object exports);
}  // namespace ambit
