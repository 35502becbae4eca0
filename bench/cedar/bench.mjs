// The Cedar side of the decision benchmark. Reads what `decide_bench --emit-cedar=DIR` wrote
// (DIR/<rules>/policies.cedar and cases.json), proves that Cedar decides every case exactly as
// agentos did (the measured requests and a seeded random sample), then times
// statefulIsAuthorized — the policy set parsed once with preparsePolicySet, as a long-running
// service would hold it — on the measured requests. Exits 1 on any disagreement or error.
//
//   node bench.mjs DIR [--out=FILE] [--min-ms=MS]
//
// Each timed call crosses the JS/wasm boundary: the request object (principal, action, resource,
// context and the entities with their attributes) is converted into Rust values, the entities
// are parsed and validated into a Cedar Entities store, every policy is evaluated, and the
// response is converted back to a JS object. That is the cost a Node service pays per decision
// with this package; it is not Cedar's native (Rust) latency.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getCedarVersion, getCedarSDKVersion, preparsePolicySet, statefulIsAuthorized } from "@cedar-policy/cedar-wasm/nodejs";

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith("--"));
const option = (name, fallback) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
};
if (!dir) {
  console.error("usage: node bench.mjs DIR [--out=FILE] [--min-ms=MS]");
  process.exit(2);
}
const outFile = option("out", null);
const minMs = Number(option("min-ms", "1000"));

function fail(message) {
  console.error(`cedar bench: FAILED: ${message}`);
  process.exit(1);
}

function decide(call, psetId) {
  const answer = statefulIsAuthorized({ ...call, preparsedPolicySetId: psetId });
  if (answer.type !== "success") fail(`isAuthorized failed: ${JSON.stringify(answer.errors)}`);
  return answer.response;
}

// Per-call latency: warm up, then time single calls until both a minimum count and a minimum
// time are reached. process.hrtime.bigint() costs well under 1% of a Cedar call here.
function measure(call, psetId) {
  const request = { ...call, preparsedPolicySetId: psetId };
  const warmupUntil = performance.now() + Math.min(300, minMs / 2);
  let warm = 0;
  while (warm < 50 || performance.now() < warmupUntil) {
    statefulIsAuthorized(request);
    ++warm;
  }
  const samples = [];
  const start = performance.now();
  while (samples.length < 30 || (performance.now() - start < minMs && samples.length < 200000)) {
    const t0 = process.hrtime.bigint();
    const answer = statefulIsAuthorized(request);
    const t1 = process.hrtime.bigint();
    if (answer.type !== "success") fail("isAuthorized failed while timing");
    samples.push(Number(t1 - t0));
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { calls: samples.length, median_ns: at(0.5), p90_ns: at(0.9), p99_ns: at(0.99), mean_ns: Math.round(mean) };
}

const sizes = readdirSync(dir)
  .filter((d) => /^\d+$/.test(d))
  .map(Number)
  .sort((a, b) => a - b);
if (sizes.length === 0) fail(`no generated policies in ${dir} (run decide_bench --emit-cedar=${dir})`);

const results = [];
let baselineCall = null;
for (const n of sizes) {
  const policies = readFileSync(join(dir, String(n), "policies.cedar"), "utf8");
  const spec = JSON.parse(readFileSync(join(dir, String(n), "cases.json"), "utf8"));
  const psetId = `bench_${n}`;
  const parsed = preparsePolicySet(psetId, { staticPolicies: policies });
  if (parsed.type !== "success") fail(`Cedar cannot parse the ${n}-rule policy set: ${JSON.stringify(parsed.errors)}`);

  // Equivalence: every case, measured or sampled, decided as agentos decided it, with no
  // evaluation errors (an erroring Cedar policy is skipped, which would hide a broken encoding).
  let agree = 0;
  for (const c of spec.cases) {
    const response = decide(c.call, psetId);
    if (response.diagnostics.errors.length > 0) {
      fail(`${n} rules, case ${c.name}: Cedar evaluation errors ${JSON.stringify(response.diagnostics.errors)}`);
    }
    if (response.decision !== c.expect) {
      fail(`${n} rules, case ${c.name}: agentos says ${c.expect}, Cedar says ${response.decision}\n${JSON.stringify(c.call)}`);
    }
    ++agree;
  }
  console.error(`cedar bench: ${n} rules (${spec.cedar_policies} Cedar policies): Cedar agrees with agentos on all ${agree} cases (${spec.allows} allow, ${spec.denies} deny)`);

  for (const c of spec.cases.filter((x) => x.measured)) {
    const m = measure(c.call, psetId);
    results.push({ rules: n, cedar_policies: spec.cedar_policies, path: c.name, expect: c.expect, ...m });
    console.error(`cedar bench: ${n} rules ${c.name}: median ${m.median_ns} ns (p99 ${m.p99_ns} ns, ${m.calls} calls)`);
    if (c.name === "allow" && baselineCall === null) baselineCall = c.call;
  }

  // Where Cedar's time goes: as many policies again, none of which can apply (each is scoped to
  // an action no request names). If this costs about as much as the real set, the cost is per
  // policy held, not per condition evaluated.
  const allow = spec.cases.find((x) => x.name === "allow");
  let unused = "";
  for (let i = 0; i < spec.cedar_policies; ++i) unused += `permit (principal, action == Action::"unused_${i}", resource);\n`;
  if (preparsePolicySet(`${psetId}_unused`, { staticPolicies: unused }).type !== "success") fail("cannot preparse the unused set");
  if (decide(allow.call, `${psetId}_unused`).decision !== "deny") fail("a policy for an unused action applied");
  const m = measure(allow.call, `${psetId}_unused`);
  results.push({ rules: n, cedar_policies: spec.cedar_policies, path: "scope_miss", expect: "deny", ...m });
  console.error(`cedar bench: ${n} policies that never apply: median ${m.median_ns} ns`);
}

// The fixed cost of a call: the same request against an empty policy set (always deny). What is
// left is the boundary crossing, entity parsing and the response, with no policy evaluated.
if (preparsePolicySet("bench_empty", { staticPolicies: "" }).type !== "success") fail("cannot preparse the empty set");
if (decide(baselineCall, "bench_empty").decision !== "deny") fail("the empty policy set allowed a request");
const empty = measure(baselineCall, "bench_empty");
console.error(`cedar bench: empty policy set: median ${empty.median_ns} ns`);
// And without the two entities: the boundary crossing, the request and the response alone.
const bare = measure({ ...baselineCall, entities: [] }, "bench_empty");
console.error(`cedar bench: empty policy set, no entities: median ${bare.median_ns} ns`);

const report = {
  cedar_version: getCedarVersion(),
  cedar_sdk_version: getCedarSDKVersion(),
  node_version: process.version,
  api: "statefulIsAuthorized (policy set preparsed once; entities passed as JSON on every call)",
  empty_policy_set: empty,
  empty_policy_set_no_entities: bare,
  results,
};
if (outFile) writeFileSync(outFile, JSON.stringify(report, null, 2) + "\n");
else console.log(JSON.stringify(report, null, 2));
