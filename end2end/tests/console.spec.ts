import { readFileSync } from "node:fs";
import type { Locator, Page } from "@playwright/test";
import { test, expect, expectAccessible, expectNoHorizontalScroll, lockAccount } from "./fixtures";
import { waitForMailTo } from "./mail";

// The console's own server (see playwright.config.ts): these tests lock, unlock and
// change policies without touching the portal tests' demo users.

/** The demo operators (README): one per role. */
const OPERATORS: Record<string, string> = {
  lena: "juniper-atlas-kettle", // local administrator of Example Health
  ada: "harbour-violet-compass", // global administrator
  hugo: "marble-ferry-sparrow", // helpdesk operator
};

async function signIn(page: Page, who: string) {
  await page.goto("/console");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to the console" })).toBeVisible();
  await page.getByLabel("Username", { exact: true }).fill(who);
  await page.getByLabel("Password", { exact: true }).fill(OPERATORS[who]);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Console", exact: true })).toBeVisible();
}

function consoleNav(page: Page) {
  return page.getByRole("navigation", { name: "Console" });
}

/** The value next to a label of the user page's facts. */
function fact(page: Page, label: string): Locator {
  return page.locator("dt", { hasText: new RegExp(`^${label}$`) }).locator("xpath=following-sibling::dd[1]");
}

/** Failed sign-ins through the portal's API, as someone mistyping would. */
async function failSignIns(page: Page, username: string, times: number) {
  const origin = String(test.info().project.use.baseURL);
  for (let i = 0; i < times; i++) {
    const res = await page.request.post("/api/sign_in", {
      data: { username, password: `not-the-password-${i}` },
      headers: { Origin: origin },
    });
    expect(res.status()).toBe(200);
  }
}

/** Presses Tab until `target` has the focus, as a keyboard user would. */
async function tabTo(page: Page, target: Locator, most = 60) {
  for (let i = 0; i < most; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${target}`);
}

test("a local administrator finds a locked user, unlocks them with the key icon and advises a password reset", async ({
  page,
  browser,
}) => {
  // Seed 003: the user is locked by five wrong passwords.
  await lockAccount(page, "dave");

  await signIn(page, "lena");
  await consoleNav(page).getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Only include locked users").check();
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\/console\/users\?locked=1$/);

  const row = page.getByRole("row", { name: /EXAMPLE\\dave/ });
  await expect(row).toBeVisible();
  await expect(row.locator('td[data-label="Locked Date"]')).toHaveText(/\d{2}:\d{2}/);
  await expect(row.locator('td[data-label="Lock Reason"]')).toHaveText("Failures");
  // Only locked users are listed.
  const states = await page.locator('tbody td[data-label="State"]').allTextContents();
  expect(states.length).toBeGreaterThan(0);
  expect(states.every((s) => s === "Locked")).toBe(true);
  await expectAccessible(page);

  // The small key icon, then the prompt that confirms the unlock.
  await row.getByRole("button", { name: "Unlock EXAMPLE\\dave" }).click();
  const dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\dave?" });
  await expect(dialog).toBeVisible();
  await expectAccessible(page);
  await dialog.getByLabel("Advise the user to reset their password").check();
  await dialog.getByRole("button", { name: "Unlock" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator("#grid-status")).toHaveText(
    "EXAMPLE\\dave is unlocked. They were emailed, with the advice to reset their password before signing in.",
  );
  await expect(row.getByRole("button", { name: "Unlock EXAMPLE\\dave" })).toHaveCount(0);
  await expect(row.locator('td[data-label="Lock Reason"]')).toHaveText("—");

  // Seed 001: the lock fields are emptied and Unlocked by names the operator.
  await row.getByRole("link", { name: "EXAMPLE\\dave" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Dave" })).toBeVisible();
  await expect(fact(page, "Unlocked by")).toContainText("EXAMPLE\\lena");
  await expect(fact(page, "Locked Date")).toHaveText("—");
  await expect(fact(page, "Lock Reason")).toHaveText("—");
  await expect(fact(page, "Failed attempts")).toHaveText("0");
  await expect(page.getByRole("table", { name: "Recent history of this user" })).toContainText("Unlock");
  await expectAccessible(page);

  // The mail reaches the SMTP server, with the advice and the portal's reset link.
  const mail = await waitForMailTo("dave@example.org", (m) => m.subject.includes("unlocked"));
  expect(mail.text).toContain("by EXAMPLE\\lena of the help desk");
  expect(mail.text).toContain("advises you to reset your password");
  expect(mail.text).toContain(`${test.info().project.use.baseURL}/reset`);

  // And the user signs in.
  const context = await browser.newContext({ baseURL: String(test.info().project.use.baseURL) });
  const user = await context.newPage();
  await user.goto("/sign-in");
  await user.getByLabel("Username", { exact: true }).fill("dave");
  await user.getByLabel("Password", { exact: true }).fill("walnut-harbour-tram");
  await user.getByRole("button", { name: "Sign in" }).click();
  await expect(user).toHaveURL("/account");
  await context.close();
});

test("the whole unlock path works with the keyboard alone", async ({ page }) => {
  await lockAccount(page, "erin");
  await page.goto("/console");
  const username = page.getByLabel("Username", { exact: true });
  await expect(username).toBeFocused();
  await page.keyboard.type("lena");
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await page.keyboard.type(OPERATORS.lena);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Console", exact: true })).toBeVisible();

  await tabTo(page, consoleNav(page).getByRole("link", { name: "Users" }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  await tabTo(page, page.getByLabel("Only include locked users"));
  await page.keyboard.press("Space");
  await tabTo(page, page.getByRole("button", { name: "Search" }));
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/locked=1/);

  const key = page.getByRole("button", { name: "Unlock EXAMPLE\\erin" });
  await expect(key).toBeVisible();
  await tabTo(page, key);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Unlock EXAMPLE\\erin?" });
  await expect(dialog).toBeVisible();
  // Focus moved into the dialog: its first control.
  await expect(dialog.getByLabel("Advise the user to reset their password")).toBeFocused();
  await tabTo(page, dialog.getByRole("button", { name: "Unlock" }), 5);
  await page.keyboard.press("Enter");
  await expect(dialog).toBeHidden();
  // The key is gone; focus is on the message that says what happened.
  const status = page.locator("#grid-status");
  await expect(status).toBeFocused();
  await expect(status).toHaveText("EXAMPLE\\erin is unlocked and was emailed about it.");
  await expect(key).toHaveCount(0);

  // Escape closes the dialog without unlocking.
  await lockAccount(page, "erin");
  await tabTo(page, page.getByRole("button", { name: "Search" }));
  await page.keyboard.press("Enter");
  await tabTo(page, key);
  await page.keyboard.press("Enter");
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(key).toBeVisible();
});

test("a lower threshold set on the Policies page locks the next account at that many failures", async ({ page }) => {
  await signIn(page, "lena");
  await consoleNav(page).getByRole("link", { name: "Policies" }).click();
  const form = page.getByRole("form", { name: "Example Health" });
  const attempts = form.getByLabel("Failed attempts before automatic lock");
  await expect(attempts).toHaveValue("5");
  await expectAccessible(page);

  // Bad input names its field and changes nothing.
  await attempts.fill("lots");
  await form.getByRole("button", { name: "Save lockout policy" }).click();
  await expect(attempts).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByText("Enter a whole number, such as 5.")).toBeVisible();

  await attempts.fill("3");
  await form.getByRole("button", { name: "Save lockout policy" }).click();
  await expect(form.getByRole("status")).toContainText("Saved.");
  try {
    await failSignIns(page, "frank", 3);
    const res = await page.request.post("/api/sign_in", {
      data: { username: "frank", password: "thistle-anchor-ember" },
      headers: { Origin: String(test.info().project.use.baseURL) },
    });
    expect((await res.json()).result).toBe("locked");
  } finally {
    await attempts.fill("5");
    await form.getByRole("button", { name: "Save lockout policy" }).click();
    await expect(form.getByRole("status")).toContainText("Saved.");
  }

  // The history has both changes, each with the value it replaced.
  await consoleNav(page).getByRole("link", { name: "History" }).click();
  await page.getByLabel("Action", { exact: true }).selectOption({ label: "Lockout policy changed" });
  await page.getByRole("button", { name: "Show history" }).click();
  const table = page.getByRole("table", { name: "History, newest first" });
  await expect(table.locator("tbody tr")).toHaveCount(2);
  await expect(table.locator("tbody tr").first()).toContainText("failed attempts: 5");
  await expect(table.locator("tbody tr").first()).toContainText("before: lock after 3 failed attempts");
});

test("the history filters by account and outcome, and downloads the same filter as CSV", async ({ page }) => {
  await failSignIns(page, "grace", 2);
  await signIn(page, "lena");
  await consoleNav(page).getByRole("link", { name: "History" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "History" })).toBeVisible();
  await expect(page.getByText(/The log is intact/)).toBeVisible();

  await page.getByLabel("Account", { exact: true }).fill("example\\GRACE");
  await page.getByLabel("Outcome", { exact: true }).selectOption({ label: "Failure" });
  await page.getByRole("button", { name: "Show history" }).click();
  await expect(page).toHaveURL(/subject=example%5CGRACE&outcome=failure/);
  const rows = page.getByRole("table", { name: "History, newest first" }).locator("tbody tr");
  await expect(rows).toHaveCount(2);
  for (const row of await rows.all()) {
    await expect(row.locator('td[data-label="Account"]')).toHaveText("EXAMPLE\\grace");
    await expect(row.locator('td[data-label="Outcome"]')).toHaveText("Failure");
  }
  await expectAccessible(page);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download as CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\r\n");
  expect(csv[0]).toBe("seq,at,actor,subject,action,channel,client,outcome,details");
  expect(csv).toHaveLength(3);
  for (const line of csv.slice(1)) {
    expect(line).toContain("EXAMPLE\\grace");
    expect(line).toContain(",sign_in,");
    expect(line).toContain(",failure,");
  }

  // The download itself is in the history.
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(page).toHaveURL(/\/console\/history$/);
  await page.getByLabel("Action", { exact: true }).selectOption({ label: "History downloaded" });
  await page.getByRole("button", { name: "Show history" }).click();
  await expect(page.getByRole("table", { name: "History, newest first" }).locator("tbody tr").first()).toContainText(
    "EXAMPLE\\lena",
  );

  // A last day before the first names the field.
  await page.getByLabel("From", { exact: true }).fill("2026-11-20");
  await page.getByLabel("To", { exact: true }).fill("2026-11-10");
  await page.getByRole("button", { name: "Show history" }).click();
  await expect(page.getByText("The last day must not be before the first day.")).toBeVisible();
});

test("the lock activity charts draw the locks and name the clients behind failures", async ({ page }) => {
  await lockAccount(page, "heidi");
  await signIn(page, "lena");
  await consoleNav(page).getByRole("link", { name: "Lock activity" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Lock activity" })).toBeVisible();

  const locks = page.getByRole("img", { name: /^Locks per hour/ });
  await expect(locks).toBeVisible();
  expect(await locks.locator("rect.bar").count()).toBeGreaterThan(0);
  const lockedNow = Number(await page.locator(".stat").first().locator(".stat-value").textContent());
  expect(lockedNow).toBeGreaterThan(0);

  const clients = page.getByRole("img", { name: /^Client addresses behind failed sign-ins/ });
  await expect(clients).toContainText("127.0.0.1");

  // The numbers behind each chart, as a table.
  const section = page.locator("section.chart").first();
  await section.getByText("The numbers behind the chart").click();
  const table = section.getByRole("table", { name: /Locks per hour/ });
  await expect(table).toBeVisible();
  expect(await table.locator("tbody tr").count()).toBeGreaterThan(0);
  await expectAccessible(page);
});

test("users are created, edited, disabled and enabled; bad input names its field", async ({ page }) => {
  await signIn(page, "lena");
  await consoleNav(page).getByRole("link", { name: "Users" }).click();
  await page.getByRole("link", { name: "Create user" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Create user" })).toBeVisible();
  await expect(page.getByLabel("Identity store", { exact: true })).toHaveValue("EXAMPLE");

  await page.getByLabel("Username", { exact: true }).fill("zoe");
  await page.getByLabel("Name", { exact: true }).fill("Zoe Zimmer");
  await page.getByLabel("Email", { exact: true }).fill("not-an-address");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByLabel("Email", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expectAccessible(page);

  await page.getByLabel("Email", { exact: true }).fill("zoe@example.org");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Zoe Zimmer" })).toBeVisible();
  await expect(page.locator("#user-status")).toContainText("User created. They have no password yet");
  await expect(fact(page, "Username")).toHaveText("EXAMPLE\\zoe");

  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Zoe Zed");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator("#user-status")).toHaveText("Changes saved.");
  await expect(page.getByRole("heading", { level: 1, name: "Zoe Zed" })).toBeVisible();

  await page.getByRole("button", { name: "Disable" }).click();
  const dialog = page.getByRole("dialog", { name: "Disable EXAMPLE\\zoe?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Disable" }).click();
  await expect(page.locator("#user-status")).toHaveText("User disabled. Their sessions have ended.");
  await expect(fact(page, "Status")).toHaveText("Disabled");
  await page.getByRole("button", { name: "Enable" }).click();
  await expect(page.locator("#user-status")).toHaveText("User enabled.");
  await expect(fact(page, "Status")).toHaveText("Active");

  const history = page.getByRole("table", { name: "Recent history of this user" });
  await expect(history).toContainText("User created");
  await expect(history).toContainText("User changed");
  await expect(history).toContainText("User disabled or enabled");

  // The prefix search finds her by name, any case.
  await page.goto("/console/users?q=ZOE");
  await expect(page.getByRole("row", { name: /EXAMPLE\\zoe/ })).toBeVisible();
});

test("each operator sees only their organisation and what their role allows", async ({ page, browser }) => {
  // The local administrator of Example Health does not find Northwind's users.
  await signIn(page, "lena");
  await page.goto("/console/users?q=nina");
  await expect(page.getByText("No users match.")).toBeVisible();

  // The global administrator does, and can filter by organisation.
  const adaContext = await browser.newContext({ baseURL: String(test.info().project.use.baseURL) });
  const ada = await adaContext.newPage();
  await signIn(ada, "ada");
  await ada.goto("/console/users?q=nina");
  await expect(ada.getByRole("row", { name: /NORTHWIND\\nina/ })).toBeVisible();
  await ada.getByText("More filters and sorting").click();
  await expect(ada.getByLabel("Organisation", { exact: true })).toBeVisible();
  await adaContext.close();

  // A helpdesk operator unlocks and reads history, but has no policies or user management.
  const hugoContext = await browser.newContext({ baseURL: String(test.info().project.use.baseURL) });
  const hugo = await hugoContext.newPage();
  await signIn(hugo, "hugo");
  const nav = consoleNav(hugo);
  await expect(nav.getByRole("link", { name: "Users" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "History" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Policies" })).toHaveCount(0);
  await nav.getByRole("link", { name: "Users" }).click();
  await expect(hugo.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  await expect(hugo.getByRole("link", { name: "Create user" })).toHaveCount(0);
  await hugoContext.close();

  // A person without a role is told so, and signing out ends the console session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to the console" })).toBeVisible();
  await page.getByLabel("Username", { exact: true }).fill("alice");
  await page.getByLabel("Password", { exact: true }).fill("lantern-orbit-meadow");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("This account has no role in the console.");
});

const PAGES: [string, string][] = [
  ["/console", "Console"],
  ["/console/users?locked=1", "Users"],
  ["/console/users/new", "Create user"],
  ["/console/history", "History"],
  ["/console/activity", "Lock activity"],
  ["/console/policies", "Policies"],
  ["/console/mail", "Mail"],
];

test("every console page passes axe-core", async ({ page }) => {
  await signIn(page, "lena");
  for (const [path, heading] of PAGES) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1, name: heading, exact: true })).toBeVisible();
    await expect(page.locator(".loading")).toHaveCount(0);
    await expectAccessible(page);
  }
  await page.goto("/console/users?q=alice");
  await page.getByRole("link", { name: "EXAMPLE\\alice" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Alice" })).toBeVisible();
  await expectAccessible(page);
});

test.describe("on a 360 px phone", () => {
  test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });

  test("every console page fits without scrolling sideways", async ({ page }) => {
    await signIn(page, "lena");
    await expectNoHorizontalScroll(page);
    for (const [path, heading] of PAGES) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1, name: heading, exact: true })).toBeVisible();
      await expect(page.locator(".loading")).toHaveCount(0);
      await expectNoHorizontalScroll(page);
    }
  });
});
