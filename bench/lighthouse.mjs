// Lighthouse (mobile form factor, Debian's Chromium) against a running `latchkey` with its
// demo data: 3 runs each of the recovery portal's start page, the kiosk page and the
// signed-in bundle's sign-in page; prints the median of each figure. Part of `make bench`
// (see bench/README.md), after the bundle budget's figures.
//
//   node bench/lighthouse.mjs [path/to/latchkey]   (default: target/release/latchkey)

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const BINARY = process.argv[2] ?? "target/release/latchkey";
const PAGES = ["/", "/desktop", "/sign-in"];
const RUNS = 3;
const CHROMIUM = process.env.CHROME_PATH ?? "/usr/bin/chromium";

/** A free port on loopback, for the server. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitReady(base, server) {
  for (let i = 0; i < 600; i++) {
    if (server.exitCode !== null) throw new Error(`${BINARY} exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${BINARY} did not become ready`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(BINARY, ["serve", "--demo", "--ephemeral", "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, LATCHKEY_BASE_URL: base, RUST_LOG: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const profile = mkdtempSync(join(tmpdir(), "latchkey-lighthouse-"));
  let chrome;
  try {
    await waitReady(base, server);
    chrome = await chromeLauncher.launch({
      chromePath: CHROMIUM,
      userDataDir: profile,
      chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
    });
    console.log(`Lighthouse ${RUNS} runs each, mobile form factor, median (${BINARY}, brotli as served)`);
    console.log(
      "page        perf  a11y  best  FCP ms  LCP ms  TBT ms    CLS   bytes",
    );
    for (const page of PAGES) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const result = await lighthouse(`${base}${page}`, {
          port: chrome.port,
          output: "json",
          logLevel: "error",
          onlyCategories: ["performance", "accessibility", "best-practices"],
        });
        const { categories, audits } = result.lhr;
        runs.push({
          perf: categories.performance.score * 100,
          a11y: categories.accessibility.score * 100,
          best: categories["best-practices"].score * 100,
          fcp: audits["first-contentful-paint"].numericValue,
          lcp: audits["largest-contentful-paint"].numericValue,
          tbt: audits["total-blocking-time"].numericValue,
          cls: audits["cumulative-layout-shift"].numericValue,
          bytes: audits["total-byte-weight"].numericValue,
        });
      }
      const m = (key) => median(runs.map((r) => r[key]));
      console.log(
        [
          page.padEnd(10),
          String(Math.round(m("perf"))).padStart(5),
          String(Math.round(m("a11y"))).padStart(5),
          String(Math.round(m("best"))).padStart(5),
          String(Math.round(m("fcp"))).padStart(7),
          String(Math.round(m("lcp"))).padStart(7),
          String(Math.round(m("tbt"))).padStart(7),
          m("cls").toFixed(3).padStart(6),
          String(Math.round(m("bytes"))).padStart(7),
        ].join(" "),
      );
    }
  } finally {
    if (chrome) await chrome.kill();
    server.kill();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
