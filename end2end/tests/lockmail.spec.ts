import { type Page } from "@playwright/test";
import { test, expect, expectAccessible, lockAccount, answerQuestions } from "./fixtures";
import { waitForMailTo } from "./mail";

// The lock email that helps (issue 14, item 6). Ivy is used by no other portal test.
const USER = "ivy";
const ADDRESS = "ivy@example.org";
const PASSWORD = "meadow-quartz-lantern";
const IVY: Record<string, string> = {
  "What was the name of your first school?": "Brookfield",
  "In which town or city were you born?": "Leeds",
  "What was your first job?": "Lifeguard",
};

/** Locks the user and reads the two links of the lock mail from the SMTP sink. */
async function lockAndReadLinks(page: Page): Promise<{ me: string; notMe: string }> {
  const since = Date.now();
  await page.goto("/");
  await lockAccount(page, USER);
  const mail = await waitForMailTo(ADDRESS, (m) => /was locked/.test(m.subject) && m.receivedAt >= since);
  const me = mail.text.match(/(https?:\/\/\S+\/locked\/unlock#[A-Za-z0-9_-]{43})/)?.[1];
  const notMe = mail.text.match(/(https?:\/\/\S+\/locked\/not-me#[A-Za-z0-9_-]{43})/)?.[1];
  expect(me, mail.text).toBeTruthy();
  expect(notMe, mail.text).toBeTruthy();
  // Built from the configured base URL.
  expect(new URL(me as string).origin).toBe(new URL(page.url()).origin);
  return { me: me as string, notMe: notMe as string };
}

async function expectSpent(page: Page, link: string, button: string) {
  // From another page: a link that differs only after `#` would not load the page again.
  await page.goto("/");
  await page.goto(link);
  await page.getByRole("button", { name: button }).click();
  await expect(page.getByRole("heading", { level: 1, name: "This link no longer works" })).toBeVisible();
  await expect(page.getByText("This link has already been used or has expired.")).toBeVisible();
}

async function signInResult(page: Page): Promise<string> {
  const res = await page.request.post("/api/sign_in", {
    data: { username: USER, password: PASSWORD },
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).result;
}

test("This was me: the link opens the unlock past the name and email steps, once", async ({ page }) => {
  const { me } = await lockAndReadLinks(page);

  await page.goto(me);
  await expect(page.getByRole("heading", { level: 1, name: "Unlock my account" })).toBeVisible();
  // The token leaves the address bar at once.
  await expect(page).toHaveURL(/\/locked\/unlock$/);
  await expectAccessible(page);
  await page.getByRole("button", { name: "Continue" }).click();

  // The unlock flow, already at the first remaining factor: no "Who are you?", no code.
  await expect(page).toHaveURL(/\/unlock$/);
  await expect(page.getByRole("heading", { name: "Checking that you are a person" })).toBeVisible();
  await expect(page.getByText("Step 2 of 3")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Who are you?" })).toHaveCount(0);
  await answerQuestions(page, (q) => IVY[q]);
  await expect(page.getByRole("heading", { name: "Enter the code we emailed you" })).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Your account is unlocked" })).toBeVisible();
  expect(await signInResult(page)).toBe("signed_in");

  // A second use of the link is refused with a plain page.
  await expectSpent(page, me, "Continue");
});

test("This wasn't me: the account stays locked, the mail's other link stops working, and a suspicious request tops the support queue", async ({ page }) => {
  // An older request from the Contact support form, which the suspicious one will pass.
  await page.goto("/support");
  await page.getByLabel("Full name").fill("Someone Else");
  await page.getByLabel("Registered email address").fill("someone.else@example.net");
  await page.getByLabel("What is the problem?").fill("I cannot sign in");
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByRole("region", { name: "We have your request" })).toBeVisible({ timeout: 30_000 });

  const { me, notMe } = await lockAndReadLinks(page);

  await page.goto(notMe);
  await expect(page.getByRole("heading", { level: 1, name: "This wasn't me" })).toBeVisible();
  await expectAccessible(page);
  await page.getByRole("button", { name: "Keep my account locked" }).click();
  await expect(page.getByRole("heading", { name: "Thank you: your account stays locked" })).toBeVisible();

  expect(await signInResult(page)).toBe("locked");
  await expectSpent(page, notMe, "Keep my account locked");
  await expectSpent(page, me, "Continue");
  expect(await signInResult(page)).toBe("locked");

  // The support agent's queue: the suspicious request for ivy first, though newer.
  await page.goto("/console");
  await page.getByLabel("Username", { exact: true }).fill("sam");
  await page.getByLabel("Password", { exact: true }).fill("cobalt-willow-ledger");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Console", exact: true })).toBeVisible();
  await page.goto("/console/support");
  const rows = page.locator("table tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText("Suspicious");
  await expect(rows.nth(0)).toContainText("EXAMPLE\\ivy");
  await expect(rows.nth(0)).toContainText("Lock mail: this wasn't me");
  await expect(rows.nth(1)).toContainText("someone.else@example.net");
  await expectAccessible(page);
  await rows.nth(0).getByRole("link").click();
  await expect(page.getByText("Suspicious.", { exact: false }).first()).toBeVisible();
  await expectAccessible(page);
});
