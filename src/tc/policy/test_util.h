#pragma once

// Helpers shared by the policy tests.

#include <string>
#include <vector>

#include "tc/policy/evaluate.h"

namespace tc::policy::testing {

// "name:state" of every component that is not trusted, in report order.
inline std::vector<std::string> NotTrusted(const Evaluation& e) {
  std::vector<std::string> out;
  for (const ComponentResult& c : e.components) {
    if (c.state != ComponentState::kTrusted) {
      out.push_back(c.name + ":" + std::string(ComponentStateName(c.state)));
    }
  }
  return out;
}

}  // namespace tc::policy::testing
