import { test, expect, expectAccessible, expectNoHorizontalScroll } from "./fixtures";
import type { Page } from "@playwright/test";

const REFUSED = "The username or password is incorrect.";
const LOCKED = "Your account is locked because of too many failed sign-in attempts.";

async function attempt(page: Page, username: string, password: string) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/sign_in"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await answered;
}

test("mistyping the password until the account locks shows the documented messages", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await expectAccessible(page);

  for (let i = 1; i <= 5; i++) {
    await attempt(page, "bob", `not-the-password-${i}`);
    await expect(page.getByRole("alert")).toContainText(REFUSED);
    await expect(page.getByRole("alert")).not.toContainText("locked");
    // Sent by mouse, and the button disabled itself meanwhile: focus is on the message.
    await expect(page.getByRole("alert")).toBeFocused();
  }
  await expectAccessible(page);

  // The right password now only reveals that the account is locked, and how to fix it.
  await attempt(page, "bob", "copper-fjord-whistle");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText(LOCKED);
  await expect(alert.getByRole("link", { name: "Unlock my account" })).toHaveAttribute("href", "/unlock");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expectAccessible(page);

  // Every page has a visible "Locked out?" link to the self-service portal.
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Locked out?" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1, name: "Locked out? Get back in." })).toBeVisible();
});

test("an unknown username gets exactly the same message as a wrong password", async ({ page }) => {
  await page.goto("/sign-in");
  await attempt(page, "no-such-person", "whatever-they-typed");
  await expect(page.getByRole("alert")).toHaveText(new RegExp(`^${REFUSED}`));
});

test("an empty form names the field to fix", async ({ page }) => {
  await page.goto("/sign-in");
  await attempt(page, "", "");
  const username = page.getByLabel("Username");
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText("Enter your username.")).toBeVisible();
  await expectAccessible(page);
});

test("signing in leads to the account page, and signing out ends the session", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Sign in" }).click();
  await attempt(page, "alice", "lantern-orbit-meadow");
  await expect(page).toHaveURL("/account");
  await expect(page.getByText("Signed in as Alice Ashdown.")).toBeVisible();
  await expect(page.getByText("EXAMPLE\\alice")).toBeVisible();
  await expectAccessible(page);
  // The header leads back to the account, also after a reload.
  const nav = page.getByRole("navigation", { name: "Site" });
  await page.goto("/");
  await nav.getByRole("link", { name: "Your account" }).click();
  await expect(page).toHaveURL("/account");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL("/");
  await expect(nav.getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.goto("/account");
  await expect(page.getByText("You are not signed in.")).toBeVisible();
});

test.describe("on a 360 px phone", () => {
  test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });

  test("the sign-in page fits and the Locked out? link is visible", async ({ page }) => {
    await page.goto("/sign-in");
    await expect(page.getByRole("link", { name: "Locked out?" })).toBeVisible();
    await expectNoHorizontalScroll(page);
  });
});
