import { test, expect, expectAccessible, expectNoHorizontalScroll } from "./fixtures";
import type { Page } from "@playwright/test";

// Runs against the second test server, which has no SMTP server: its mail is written to
// disk and shown by the console's demo mailbox page (`--demo` only).

async function lockBob(page: Page, baseURL: string) {
  for (let i = 0; i < 5; i++) {
    await page.request.post("/api/sign_in", {
      headers: { origin: baseURL },
      data: { username: "bob", password: `not-the-password-${i}` },
    });
  }
}

test("the demo mailbox lists the mail sent and shows a message", async ({ page, baseURL }) => {
  await lockBob(page, baseURL as string);
  await page.goto("/console/demo-mailbox");
  await expect(page.getByRole("heading", { level: 1, name: "Demo mailbox" })).toBeVisible();
  const messages = page.getByRole("list", { name: "Messages, newest first" });
  // The worker writes the mail shortly after the lock; ask again until it is there.
  await expect(async () => {
    await page.getByRole("button", { name: "Check for new mail" }).click();
    await expect(messages.getByRole("link", { name: "Your Example Health account was locked" })).toBeVisible({
      timeout: 1_000,
    });
  }).toPass({ timeout: 15_000 });
  await expect(messages).toContainText("To bob@example.org");
  await expectAccessible(page);

  await messages.getByRole("link", { name: "Your Example Health account was locked" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your Example Health account was locked" })).toBeVisible();
  const text = page.getByLabel("Message text");
  await expect(text).toContainText("Hello Bob Brennan,");
  await expect(text).toContainText("EXAMPLE\\bob");
  await expect(text).toContainText(`${baseURL}/locked/unlock#`);
  await expectAccessible(page);

  await page.getByRole("link", { name: "Back to the demo mailbox" }).click();
  await expect(page).toHaveURL("/console/demo-mailbox");
});

test("the demo mailbox works by keyboard alone", async ({ page }) => {
  await page.goto("/console/demo-mailbox");
  const list = page.getByRole("list", { name: "Messages, newest first" });
  await expect(list.getByRole("link").first()).toBeVisible();
  const link = list.getByRole("link").first();
  const name = await link.textContent();
  await link.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: name ?? "" })).toBeVisible();
});

test("an unknown message says so", async ({ page }) => {
  // A malformed id (400) and an unknown one (404) read the same to a person.
  await page.goto("/console/demo-mailbox/no~such~message");
  await expect(page.getByRole("heading", { level: 1, name: "Message not found" })).toBeVisible();
  await expectAccessible(page);
});

test.describe("on a 360 px phone", () => {
  test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });

  test("a message fits without sideways scrolling", async ({ page }) => {
    await page.goto("/console/demo-mailbox");
    const link = page.getByRole("list", { name: "Messages, newest first" }).getByRole("link").first();
    await link.click();
    await expect(page.getByLabel("Message text")).toBeVisible();
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);
  });
});
