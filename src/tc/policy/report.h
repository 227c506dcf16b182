#pragma once

// Reports for people (text) and machines (doc::Value -> JSON/YAML) of a
// verification, of a policy, and of the difference between two policies.
// The JSON member names are a public interface (docs/policy.md).

#include <string>

#include "tc/doc/value.h"
#include "tc/policy/evaluate.h"
#include "tc/policy/policy.h"

namespace tc::policy {

// {"verdict", "components": [{"name", "stage", "state", "reason", "what",
//  "in_policy", "diff"?, "events": [{"index", "offset", "pcr", "type",
//  "description", "state", "measured", "expected", "measured_content"?,
//  "expected_content"?}]}], "pcrs": [{"bank", "pcr", "status", "replayed"?,
//  "reported"?, "golden"?, "golden_match"?}], "problems": [...],
//  "attested", "reported_source", "summary": {state: count}, "ima"?}
// Trusted components are listed without their events unless `verbose`.
doc::Value EvaluationDocument(const Evaluation& evaluation, bool verbose);
std::string EvaluationText(const Evaluation& evaluation, bool verbose);

// `policy show`.
doc::Value PolicyDocument(const Policy& policy);
std::string PolicyText(const Policy& policy);

// `policy diff`: what changed from `a` to `b`, one line per change.
struct PolicyDiff {
  std::vector<std::string> lines;  // "+ component kernel-x", "~ kernel-cmdline: sha256:.. trusted -> quarantined"
  bool same() const { return lines.empty(); }
};
PolicyDiff DiffPolicies(const Policy& a, const Policy& b);

}  // namespace tc::policy
