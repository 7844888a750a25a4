import { test as base, expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";

export { expect };
export {
  CHROMIUM_ARGS,
  PRODUCT_NAME,
  ORGANISATION,
  HELP_DESK,
  LONG_PRODUCT_NAME,
  CODE_MINUTES,
  CODE_RESEND_SECONDS,
} from "../playwright.config";

/**
 * Every test fails if the page logs an error (a CSP violation, a panic in the Wasm
 * app, a failed request) — those are bugs even when the page looks right. The one
 * exception: Chromium logs every 400 (refused input), 410 (a used or expired lock-mail
 * link, or an ended flow) and 429 (rate limit) answer, which the pages handle and explain.
 */
const EXPECTED = /Failed to load resource: the server responded with a status of (400|410|429) /;

export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error" && !EXPECTED.test(msg.text())) errors.push(msg.text());
      });
      page.on("pageerror", (err) => errors.push(err.message));
      await use(errors);
      expect(errors, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});

/** Runs axe-core on the page as it is now; any violation fails the test. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const summary = results.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
  expect(summary, "axe-core violations").toEqual([]);
}

/** The page fits the viewport's width: nothing scrolls sideways. */
export async function expectNoHorizontalScroll(page: Page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

/** Locks `username` by failing to sign in as often as the demo policy allows (5). */
export async function lockAccount(page: Page, username: string) {
  const origin = new URL(page.url() === "about:blank" ? String(base.info().project.use.baseURL) : page.url()).origin;
  for (let i = 0; i < 5; i++) {
    const res = await page.request.post("/api/sign_in", {
      data: { username, password: `wrong-password-${i}` },
      headers: { Origin: origin },
    });
    expect(res.status()).toBe(200);
  }
}

/** The demo users' answers (see core/src/demo.rs and README). */
export const ANSWERS: Record<string, Record<string, string>> = {
  alice: {
    "What was the name of your first school?": "Hillside Primary",
    "In which town or city were you born?": "Bristol",
    "What was your first job?": "Paper round",
  },
  dave: {
    "What was the name of your first school?": "Greenfield",
    "In which town or city were you born?": "Cardiff",
    "What was your first job?": "Shelf stacker",
  },
  erin: {
    "What was the name of your first school?": "Riverside",
    "In which town or city were you born?": "Glasgow",
    "What was your first job?": "Barista",
  },
  frank: {
    "What was the name of your first school?": "Northgate",
    "In which town or city were you born?": "Belfast",
    "What was your first job?": "Gardener",
  },
  heidi: {
    "What was the name of your first school?": "Kingsway",
    "In which town or city were you born?": "Exeter",
    "What was your first job?": "Tutor",
  },
};

/** Fills every security question shown with `answer(question)`. */
export async function answerQuestions(page: Page, answer: (question: string) => string) {
  const heading = page.getByRole("heading", { name: "Answer your security questions" });
  await expect(heading).toBeVisible({ timeout: 30_000 });
  const inputs = page.locator("form input[type=text]");
  const count = await inputs.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const input = inputs.nth(i);
    const id = await input.getAttribute("id");
    const question = (await page.locator(`label[for="${id}"]`).textContent()) ?? "";
    await input.fill(answer(question));
  }
  await page.getByRole("button", { name: "Continue" }).click();
}

/** The 360 px phone with a touch screen that the phone tests use. */
export const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true };

/** The current RFC 6238 code (SHA-1, 6 digits, 30 s) for a base32 secret, as an app shows it. */
export function totp(secretBase32: string, at: number = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretBase32.replace(/[\s=]/g, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

/** Signs in through the sign-in page and waits for the account page. */
export async function signIn(page: Page, username: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/account");
}
