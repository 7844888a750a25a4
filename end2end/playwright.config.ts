import { defineConfig } from "@playwright/test";

// One server for the run: the real binary, a fresh temporary database with the demo
// data, on a random port. The port is chosen once, in the main process; the workers
// inherit it through the environment.
const port = process.env.E2E_PORT ?? String(20000 + Math.floor(Math.random() * 20000));
process.env.E2E_PORT = port;
const baseURL = `http://127.0.0.1:${port}`;
process.env.E2E_BASE = baseURL;

/** The product name the test server is configured with; pages must show it. */
export const PRODUCT_NAME = "Example Unlock";

export default defineConfig({
  testDir: "./tests",
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `../target/debug/latchkey serve --demo --ephemeral --listen 127.0.0.1:${port}`,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      LATCHKEY_BASE_URL: baseURL,
      LATCHKEY_PRODUCT_NAME: PRODUCT_NAME,
      RUST_LOG: "warn",
    },
  },
});
