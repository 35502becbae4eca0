// Merges the three result files of bench/run.sh into one Markdown table and a verdict per target:
//   node report.mjs DECIDE_JSON CEDAR_JSON CHECK_JSON
// DECIDE_JSON and CHECK_JSON are Google Benchmark JSON outputs (decide_bench, check_bench); CEDAR_JSON
// is bench.mjs's report. Exits 1 when an input lacks a figure the table needs.
import { readFileSync } from "node:fs";

const [decidePath, cedarPath, checkPath] = process.argv.slice(2);
if (!decidePath || !cedarPath) {
  console.error("usage: node report.mjs DECIDE_JSON CEDAR_JSON [CHECK_JSON]");
  process.exit(2);
}
// Google Benchmark writes NaN (the coefficient of variation of a counter that is always 0) and
// infinities, which JSON does not have.
const readBenchmark = (path) => JSON.parse(readFileSync(path, "utf8").replace(/:\s*-?(NaN|nan|Infinity|inf)\b/g, ": null"));
const decide = readBenchmark(decidePath);
const cedar = JSON.parse(readFileSync(cedarPath, "utf8"));
const check = checkPath ? readBenchmark(checkPath) : null;

function fail(message) {
  console.error(`report: ${message}`);
  process.exit(1);
}

const toNs = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };
// The median aggregate of a Google Benchmark run, in ns, with its counters.
// Run names carry the options (`BM_x/100/min_time:0.100/repeats:9`); compare without them.
const base = (name) => name.replace(/\/(min_time|repeats|process_time|real_time|iterations)[^/]*/g, "");
function median(results, runName) {
  const b = results.benchmarks.find((x) => base(x.run_name) === runName && x.aggregate_name === "median");
  if (!b) return null;
  return { ns: b.real_time * toNs[b.time_unit], cpu: b.cpu_time * toNs[b.time_unit], allocs: b.allocs_per_op };
}

const fmt = (ns) => (ns >= 1000 ? Math.round(ns).toLocaleString("en-US") : ns.toFixed(ns < 100 ? 1 : 0));
const ratio = (a, b) => (a / b >= 100 ? Math.round(a / b).toLocaleString("en-US") : (a / b).toFixed(1)) + "×";

const sizes = [...new Set(cedar.results.map((r) => r.rules))].sort((a, b) => a - b);
const paths = ["allow", "deny_forbid", "deny_no_permit"];
const lines = [];
lines.push("Medians; agentos: Google Benchmark, median of 9 repetitions (wall time, CPU time in brackets); Cedar: median of single timed calls (wall time).");
lines.push("");
lines.push("| rules | path | agentos (prebuilt request) | agentos (JSON text → decision) | Cedar wasm | Cedar ÷ agentos | Cedar ÷ agentos JSON |");
lines.push("| ----: | ---- | ----: | ----: | ----: | ----: | ----: |");
let maxAllocs = 0;
let unmeasured = false;  // decide_bench reports -1 where it cannot count (AddressSanitizer builds)
const allocsOf = (x) => {
  if (x.allocs === undefined || x.allocs === null || x.allocs < 0) unmeasured = true;
  return x.allocs ?? 0;
};
const median100 = [];
const median10k = [];
for (const n of sizes) {
  for (const p of paths) {
    const a = median(decide, `BM_decide_${p}/${n}`);
    const j = median(decide, `BM_decide_json_${p}/${n}`);
    const c = cedar.results.find((r) => r.rules === n && r.path === p);
    if (!a || !j || !c) fail(`missing figures for ${n} rules, ${p}`);
    maxAllocs = Math.max(maxAllocs, allocsOf(a));
    if (n === 100) median100.push(a.ns);
    if (n === 10000) median10k.push(a.ns);
    lines.push(`| ${n.toLocaleString("en-US")} | ${p} | ${fmt(a.ns)} ns (cpu ${fmt(a.cpu)}) | ${fmt(j.ns)} ns | ${fmt(c.median_ns)} ns | ${ratio(c.median_ns, a.ns)} | ${ratio(c.median_ns, j.ns)} |`);
  }
}
lines.push("");
lines.push(`Cedar with an empty policy set (the fixed cost of a call: boundary, entity parsing, response): median ${fmt(cedar.empty_policy_set.median_ns)} ns` +
  (cedar.empty_policy_set_no_entities ? `; the same call without the two entities: ${fmt(cedar.empty_policy_set_no_entities.median_ns)} ns.` : "."));
const miss = cedar.results.filter((r) => r.path === "scope_miss");
if (miss.length > 0) {
  lines.push(`Cedar with the same number of policies, none of which can apply (scoped to unused actions): ${miss.map((r) => `${r.cedar_policies.toLocaleString("en-US")}: ${fmt(r.median_ns)} ns`).join("; ")}.`);
}
lines.push("");
lines.push("| rules | route() | gate() | allocations per decide/route/gate |");
lines.push("| ----: | ----: | ----: | ----: |");
for (const n of sizes) {
  const r = median(decide, `BM_route/${n}`);
  const g = median(decide, `BM_gate/${n}`);
  if (!r || !g) fail(`missing intake figures for ${n} rules`);
  maxAllocs = Math.max(maxAllocs, allocsOf(r), allocsOf(g));
  const allocs = Math.max(...paths.map((p) => median(decide, `BM_decide_${p}/${n}`).allocs ?? 0), r.allocs ?? 0, g.allocs ?? 0);
  lines.push(`| ${n.toLocaleString("en-US")} | ${fmt(r.ns)} ns | ${fmt(g.ns)} ns | ${allocs} |`);
}
const jsonAllocs = sizes.map((n) => median(decide, `BM_decide_json_allow/${n}`).allocs);
lines.push("");
lines.push(`JSON text → decision allocates (JSON parsing and request building): ${[...new Set(jsonAllocs.map((x) => Math.round(x)))].join(", ")} allocations per call.`);

let checkMs = null;
if (check) {
  const b = check.benchmarks.find((x) => base(x.run_name) === "check_set/20/10000" && x.aggregate_name === "median") ??
    check.benchmarks.find((x) => base(x.run_name) === "check_set/20/10000");
  if (!b) fail("no check_set/20/10000 figure");
  checkMs = (b.real_time * toNs[b.time_unit]) / 1e6;
  lines.push("");
  lines.push(`check_bench, 10,000 rules across 20 files (read, parse, check, lint): ${checkMs.toFixed(0)} ms (median wall time; target < 200 ms).`);
}

const verdict = (ok) => (ok ? "met" : "MISSED");
lines.push("");
lines.push("Targets:");
lines.push(`- median under 1 µs at 100 rules: ${verdict(Math.max(...median100) < 1000)} (worst path ${fmt(Math.max(...median100))} ns)`);
lines.push(`- median under 2 µs at 10,000 rules: ${verdict(Math.max(...median10k) < 2000)} (worst path ${fmt(Math.max(...median10k))} ns)`);
lines.push(unmeasured
  ? "- zero heap allocations per decision: NOT MEASURED (this build cannot count allocations)"
  : `- zero heap allocations per decision: ${verdict(maxAllocs === 0)} (${maxAllocs} measured)`);
if (checkMs !== null) lines.push(`- check of 10,000 rules in 20 files under 200 ms: ${verdict(checkMs < 200)} (${checkMs.toFixed(0)} ms)`);
lines.push("");
lines.push(`Cedar ${cedar.cedar_version} (@cedar-policy/cedar-wasm ${cedar.cedar_sdk_version}) on Node ${cedar.node_version}, ${cedar.api}.`);
console.log(lines.join("\n"));
