import type { Page } from "@playwright/test";
import { test, expect, expectAccessible, lockAccount } from "./fixtures";
import { waitForMailTo } from "./mail";

// The helpdesk's *Unlock account* dialog (issue 14, seed 004), on the console's own
// server: a helpdesk operator (restricted by default) verifies the caller with a code
// sent to the user's registered address, which the test reads at the SMTP server as the
// caller would read it out; then unlocks the user and their linked MAIL account at once.

const OPERATORS: Record<string, string> = {
  lena: "juniper-atlas-kettle", // local administrator: unrestricted, Unlock any account
  hugo: "marble-ferry-sparrow", // helpdesk operator: restricted by default
};

async function signIn(page: Page, who: string) {
  await page.goto("/console");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to the console" })).toBeVisible();
  await page.getByLabel("Username", { exact: true }).fill(who);
  await page.getByLabel("Password", { exact: true }).fill(OPERATORS[who]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Console", exact: true })).toBeVisible();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to the console" })).toBeVisible();
}

/** Opens the locked users grid, searched for `text`. */
async function lockedUsers(page: Page, text: string) {
  await page.goto(`/console/users?locked=1&q=${encodeURIComponent(text)}`);
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
}

test("a restricted helpdesk operator verifies the caller by an emailed code and unlocks them and their linked MAIL account", async ({
  page,
}) => {
  await lockAccount(page, "ivy");
  await lockAccount(page, "MAIL\\ivy");
  await signIn(page, "hugo");
  await lockedUsers(page, "ivy");
  const row = page.getByRole("row", { name: /EXAMPLE\\ivy/ });
  await row.getByRole("button", { name: "Unlock EXAMPLE\\ivy" }).click();
  const dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\ivy?" });
  // Restricted: the dialog opens on Authenticate, and offers no way round it.
  await expect(dialog.getByRole("heading", { name: "Authenticate" })).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Skip to Unlock" })).toHaveCount(0);
  await expect(dialog.getByRole("button", { name: "Unlock", exact: true })).toHaveCount(0);
  await expectAccessible(page);

  const sentAfter = Date.now();
  await dialog.getByRole("button", { name: "Email a code to their registered address" }).click();
  const field = dialog.getByLabel("Code the caller reads out");
  await expect(field).toBeFocused();
  // The caller reads the code out from their inbox.
  const mail = await waitForMailTo(
    "ivy@example.org",
    (m) => m.subject.includes("verification code") && m.receivedAt >= sentAfter - 1000,
  );
  expect(mail.text).toContain("prove who you are to the help desk");
  const code = /\b(\d{6})\b/.exec(mail.text)?.[1] ?? "";
  expect(code).toMatch(/^\d{6}$/);
  // First misheard, then right.
  await field.fill(code === "123456" ? "654321" : "123456");
  await dialog.getByRole("button", { name: "Check" }).click();
  await expect(dialog.getByRole("alert")).toContainText("That is not right. 2 more tries on this check.");
  await field.fill(code);
  await dialog.getByRole("button", { name: "Check" }).click();

  // The Unlock page: the user, their store, and the linked MAIL account, checked.
  await expect(dialog.locator("dt", { hasText: "Caller verified" })).toBeVisible();
  await expect(dialog.locator("dd", { hasText: "with an emailed code" })).toBeVisible();
  await expect(dialog.locator("dt", { hasText: "Identity store" }).locator("xpath=following-sibling::dd[1]")).toHaveText(
    "EXAMPLE",
  );
  const linked = dialog.getByLabel("Also unlock MAIL\\ivy (locked)");
  await expect(linked).toBeChecked();
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Unlock", exact: true }).click();
  const results = dialog.getByRole("table", { name: "Unlock results, per identity store" });
  await expect(results.getByRole("row", { name: /EXAMPLE\\ivy/ })).toContainText("Unlocked; the owner was emailed.");
  await expect(results.getByRole("row", { name: /MAIL\\ivy/ })).toContainText("Unlocked; the owner was emailed.");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator("#grid-status")).toHaveText("EXAMPLE\\ivy is unlocked and was emailed about it.");

  // The audit record of the unlock holds the evidence — the factor and its outcome,
  // never the code.
  await page.goto(`/console/history?subject=${encodeURIComponent("EXAMPLE\\ivy")}`);
  const history = page.getByRole("table");
  const unlock = history.getByRole("row").filter({ hasText: "Unlock" }).filter({ hasText: "EXAMPLE\\hugo" }).first();
  await expect(unlock).toContainText('"factor":"email_code"');
  await expect(unlock).toContainText('"outcome":"passed"');
  await expect(history).not.toContainText(code);
  await expect(page.getByRole("row").filter({ hasText: "Caller verified by the helpdesk" }).first()).toBeVisible();
});

test("an unenrolled user: refused to a restricted or merely unrestricted operator, unlocked by one with Unlock any account", async ({
  page,
}) => {
  await signIn(page, "lena");
  const origin = new URL(page.url()).origin;
  const created = await page.request.post("/api/user_create", {
    data: { user: { store: "EXAMPLE", username: "uma", display_name: "Uma Unenrolled", email: "uma@example.org" } },
    headers: { Origin: origin },
  });
  expect(created.status()).toBe(200);
  await lockAccount(page, "uma");
  await signOut(page);

  const refusal =
    "This user is enrolled with nothing to verify them by. Only an operator whose role has Unlock any account and is unrestricted can unlock them.";
  await signIn(page, "hugo");
  await lockedUsers(page, "uma");
  await page.getByRole("button", { name: "Unlock EXAMPLE\\uma" }).click();
  let dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\uma?" });
  await expect(dialog.getByText(refusal)).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Unlock", exact: true })).toHaveCount(0);
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await signOut(page);

  // The helpdesk role made unrestricted on the Policies page: still no Unlock any account.
  await signIn(page, "lena");
  await page.goto("/console/policies");
  const helpdesk = page.getByRole("region", { name: "Example Health" });
  await helpdesk.getByLabel("Helpdesk operator").selectOption("unrestricted");
  await helpdesk.getByRole("button", { name: "Save helpdesk policy" }).click();
  await expect(helpdesk.getByText("Saved. It applies to the next unlock.")).toBeVisible();
  await signOut(page);
  await signIn(page, "hugo");
  await lockedUsers(page, "uma");
  await page.getByRole("button", { name: "Unlock EXAMPLE\\uma" }).click();
  dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\uma?" });
  await expect(dialog.getByText(refusal)).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await signOut(page);

  // The local administrator: unrestricted, with Unlock any account.
  await signIn(page, "lena");
  await lockedUsers(page, "uma");
  await page.getByRole("button", { name: "Unlock EXAMPLE\\uma" }).click();
  dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\uma?" });
  await dialog.getByRole("button", { name: "Unlock", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator("#grid-status")).toHaveText("EXAMPLE\\uma is unlocked and was emailed about it.");

  // Back to the default, for the tests that follow on this server.
  await page.goto("/console/policies");
  await page.getByRole("region", { name: "Example Health" }).getByLabel("Helpdesk operator").selectOption("restricted");
  await page.getByRole("region", { name: "Example Health" }).getByRole("button", { name: "Save helpdesk policy" }).click();
  await expect(page.getByRole("region", { name: "Example Health" }).getByText("Saved.")).toBeVisible();
});

test("a local administrator unlinks and links an account of the same person in another identity store", async ({
  page,
}) => {
  await signIn(page, "lena");
  await page.goto("/console/users?q=alice");
  await page.getByRole("link", { name: "EXAMPLE\\alice" }).click();
  await expect(page.getByRole("heading", { level: 2, name: "Linked accounts" })).toBeVisible();
  await expect(page.getByRole("link", { name: "MAIL\\alice" })).toBeVisible();
  await expectAccessible(page);

  await page.getByRole("button", { name: "Unlink MAIL\\alice" }).click();
  await expect(page.locator("#user-status")).toContainText("MAIL\\alice is no longer linked to this user.");
  await expect(page.getByText("None in other identity stores.")).toBeVisible();

  // A name without its store is refused, naming the field.
  const field = page.getByLabel("Link an account in another identity store");
  await field.fill("alice");
  await page.getByRole("button", { name: "Link", exact: true }).click();
  await expect(page.getByText("Name the identity store too, as STORE\\username.")).toBeVisible();
  await field.fill("MAIL\\alice");
  await page.getByRole("button", { name: "Link", exact: true }).click();
  await expect(page.locator("#user-status")).toContainText("MAIL\\alice is now linked to this user.");
  await expect(page.getByRole("link", { name: "MAIL\\alice" })).toBeVisible();
});
