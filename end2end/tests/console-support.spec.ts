import type { Page } from "@playwright/test";
import { test, expect, expectAccessible, expectNoHorizontalScroll, lockAccount, PHONE } from "./fixtures";
import { newestMailTo, waitForMailTo } from "./mail";

// Support requests (issue 14, item 4; seed 003), on the console's own server: a locked-out
// person sends the public Contact support form; a registered address gets a confirmation
// mail, an unregistered one the same words on screen and no mail; an agent opens the
// request, unlocks the account from it, replies and resolves, and the person is emailed.
// alice is used here and only looked at (not locked) by the other console tests.

const ADA = "harbour-violet-compass"; // global administrator: works the queue, unrestricted
const UNREGISTERED = "someone.else@example.net";

async function sendForm(page: Page, name: string, email: string, description: string): Promise<string> {
  await page.goto("/support");
  await expect(page.getByRole("heading", { level: 1, name: "Contact support" })).toBeVisible();
  await page.getByLabel("Full name").fill(name);
  await page.getByLabel("Registered email address").fill(email);
  await page.getByLabel("What is the problem?").fill(description);
  await page.getByRole("button", { name: "Send request" }).click();
  const sent = page.getByRole("region", { name: "We have your request" });
  // The browser solves the captcha first: a few seconds.
  await expect(sent).toBeVisible({ timeout: 30_000 });
  return (await sent.innerText()).trim();
}

async function signInAs(page: Page, who: string, password: string) {
  await page.goto("/console");
  await page.getByLabel("Username", { exact: true }).fill(who);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Console", exact: true })).toBeVisible();
}

test("a support request from the public form to resolution, with the mails; the same answer for an unregistered address", async ({
  page,
}) => {
  await lockAccount(page, "alice");
  const since = Date.now();
  await page.goto("/");
  await page.getByRole("link", { name: "Contact support" }).click();
  await expect(page).toHaveURL(/\/support$/);
  await expectAccessible(page);

  // Bad input names the field, and nothing is sent.
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByLabel("Full name")).toHaveAttribute("aria-invalid", "true", { timeout: 30_000 });
  await expect(page.getByLabel("Full name")).toBeFocused();
  await expectAccessible(page);

  const registered = await sendForm(
    page,
    "Alice Ashdown",
    "alice@example.org",
    "<b>Locked</b> out after my holiday & cannot sign in",
  );
  await expectAccessible(page);
  const unregistered = await sendForm(page, "Someone Else", UNREGISTERED, "Locked out");
  expect(unregistered).toBe(registered);
  expect(registered).toContain("Monday to Friday, 9:00–17:00");

  const received = await waitForMailTo(
    "alice@example.org",
    (m) => /support request SR-\d+ is received/.test(m.subject) && m.receivedAt >= since - 1000,
  );
  const reference = received.subject.match(/SR-\d+/)?.[0] as string;

  // The agent's queue: both requests, the registered one matched to the account.
  await signInAs(page, "ada", ADA);
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Support" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Support requests" })).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(reference) });
  await expect(row).toContainText("EXAMPLE\\alice");
  await expect(page.getByRole("row", { name: /someone\.else@example\.net/ })).toContainText("Not registered");
  await expectAccessible(page);

  await row.getByRole("link", { name: reference }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Support request ${reference}` })).toBeVisible();
  // What the person wrote is shown as text, never as markup.
  await expect(page.getByText("<b>Locked</b> out after my holiday & cannot sign in").first()).toBeVisible();
  await expect(page.locator("main b", { hasText: "Locked" })).toHaveCount(0);
  await expectAccessible(page);

  // Unlock from the request, through the helpdesk's dialog.
  await page.getByRole("button", { name: "Unlock EXAMPLE\\alice" }).click();
  const dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\alice?" });
  await dialog.getByRole("button", { name: "Unlock", exact: true }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator("#support-status")).toContainText("EXAMPLE\\alice is unlocked");
  await expect(page.getByText(/Unlocked EXAMPLE\\alice\./)).toBeVisible();
  await waitForMailTo("alice@example.org", (m) => m.subject.includes("unlocked") && m.receivedAt >= since);

  // Reply and resolve in one go: the person is emailed the message.
  await page.getByLabel("Message to the person (optional)").fill("Your account is unlocked. Please reset your password.");
  await page.getByLabel("Status").selectOption("resolved");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#support-status")).toContainText("The request is now: resolved.");
  const resolved = await waitForMailTo("alice@example.org", (m) => m.subject.includes(`${reference} is resolved`));
  expect(resolved.text).toContain("Your account is unlocked. Please reset your password.");

  // Out of the open queue, in the resolved one.
  await page.goto("/console/support");
  await expect(page.getByRole("row", { name: new RegExp(`${reference}\\b`) })).toHaveCount(0);
  await page.getByRole("link", { name: /^Resolved/ }).click();
  await expect(page.getByRole("row", { name: new RegExp(reference) })).toBeVisible();

  // No mail ever went to the unregistered address.
  expect(newestMailTo(UNREGISTERED)).toBeUndefined();
});

test.describe("on a phone", () => {
  test.use(PHONE);
  test("the Contact support page fits 360 px", async ({ page }) => {
    await page.goto("/support");
    await expect(page.getByRole("heading", { level: 1, name: "Contact support" })).toBeVisible();
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);
  });
});
