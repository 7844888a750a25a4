import { defineConfig } from "@playwright/test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Servers for the run, on random ports chosen once in the main process (the workers
// inherit them through the environment):
// - the real binary with a fresh temporary database and the demo data, sending its mail
//   over SMTP to
// - aiosmtpd (the test SMTP server from `make test-tools`), which writes a Maildir that
//   `tests/mail.ts` reads, and
// - a second server without SMTP, whose mail goes to its on-disk mailbox and is shown by
//   the console's demo mailbox page (only `demo-mailbox.spec.ts` uses it), and
// - a third server with its own SMTP server and Maildir for the console's tests
//   (`console*.spec.ts`), which lock, unlock and change policies: their demo users and
//   mail never meet the portal tests'.
if (!process.env.E2E_PORT) {
  const base = 20000 + Math.floor(Math.random() * 20000);
  process.env.E2E_PORT = String(base);
  process.env.E2E_SMTP_PORT = String(base + 1);
  process.env.E2E_DEMO_PORT = String(base + 2);
  process.env.E2E_CONSOLE_PORT = String(base + 3);
  process.env.E2E_CONSOLE_SMTP_PORT = String(base + 4);
  // aiosmtpd creates the Maildir, and only if it does not exist yet.
  process.env.E2E_MAILDIR = join(tmpdir(), `latchkey-e2e-maildir-${base}`);
  process.env.E2E_CONSOLE_MAILDIR = join(tmpdir(), `latchkey-e2e-console-maildir-${base}`);
  rmSync(process.env.E2E_MAILDIR, { recursive: true, force: true });
  rmSync(process.env.E2E_CONSOLE_MAILDIR, { recursive: true, force: true });
}
const port = process.env.E2E_PORT;
const smtpPort = process.env.E2E_SMTP_PORT;
const demoPort = process.env.E2E_DEMO_PORT;
const consolePort = process.env.E2E_CONSOLE_PORT;
const consoleSmtpPort = process.env.E2E_CONSOLE_SMTP_PORT;
const baseURL = `http://127.0.0.1:${port}`;
process.env.E2E_BASE = baseURL;
const demoURL = `http://127.0.0.1:${demoPort}`;
const consoleURL = `http://127.0.0.1:${consolePort}`;

/** The flags every Chromium here runs with (Debian's, offline, in a container). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The product name the test server is configured with; pages must show it. */
export const PRODUCT_NAME = "Example Unlock";

/** The real binary with a fresh temporary database and the demo data, on `listen`. */
function latchkey(listen: string | undefined, env: Record<string, string>) {
  const url = `http://127.0.0.1:${listen}`;
  return {
    command: `../target/debug/latchkey serve --demo --ephemeral --listen 127.0.0.1:${listen}`,
    url: `${url}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    env: {
      LATCHKEY_BASE_URL: url,
      LATCHKEY_PRODUCT_NAME: PRODUCT_NAME,
      LATCHKEY_OUTBOX__POLL_INTERVAL_MS: "100",
      // Every test comes from 127.0.0.1, like a whole office behind one NAT address.
      LATCHKEY_CLIENT_LIMITS__REQUESTS_PER_MINUTE: "10000",
      LATCHKEY_CLIENT_LIMITS__FAILURES_PER_HOUR: "10000",
      RUST_LOG: "warn",
      ...env,
    },
  };
}

/** aiosmtpd (from `make test-tools`), keeping every message it receives in `maildir`. */
function smtpSink(listen: string | undefined, maildir: string | undefined) {
  return {
    command: `../.venv/bin/python -m aiosmtpd -n -l 127.0.0.1:${listen} -c aiosmtpd.handlers.Mailbox ${maildir}`,
    port: Number(listen),
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
  };
}

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
      args: CHROMIUM_ARGS,
    },
  },
  projects: [
    {
      name: "portal",
      testIgnore: /(demo-mailbox|console[\w-]*)\.spec\.ts/,
      use: { baseURL },
      metadata: { maildir: process.env.E2E_MAILDIR },
    },
    { name: "demo-mailbox", testMatch: /demo-mailbox\.spec\.ts/, use: { baseURL: demoURL } },
    {
      name: "console",
      testMatch: /console[\w-]*\.spec\.ts/,
      use: { baseURL: consoleURL },
      metadata: { maildir: process.env.E2E_CONSOLE_MAILDIR },
    },
  ],
  webServer: [
    smtpSink(smtpPort, process.env.E2E_MAILDIR),
    latchkey(port, {
      LATCHKEY_SMTP__HOST: "127.0.0.1",
      LATCHKEY_SMTP__PORT: String(smtpPort),
      LATCHKEY_SMTP__TLS: "none",
    }),
    latchkey(demoPort, {}),
    smtpSink(consoleSmtpPort, process.env.E2E_CONSOLE_MAILDIR),
    latchkey(consolePort, {
      LATCHKEY_SMTP__HOST: "127.0.0.1",
      LATCHKEY_SMTP__PORT: String(consoleSmtpPort),
      LATCHKEY_SMTP__TLS: "none",
    }),
  ],
});
