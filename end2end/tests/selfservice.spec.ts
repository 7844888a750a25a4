import { chromium, type Page } from "@playwright/test";
import {
  test,
  expect,
  expectAccessible,
  expectNoHorizontalScroll,
  lockAccount,
  answerQuestions,
  ANSWERS,
  CHROMIUM_ARGS,
} from "./fixtures";
import { waitForMailTo } from "./mail";

/** Starts at the portal's home page and picks the action. */
async function begin(page: Page, action: "Unlock my account" | "Reset my password") {
  await page.goto("/");
  await page.getByRole("link", { name: new RegExp(action) }).click();
  await expect(page.getByRole("heading", { level: 1, name: action })).toBeVisible();
}

async function identify(page: Page, username: string) {
  await expect(page.getByRole("heading", { name: "Who are you?" })).toBeVisible();
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Continue" }).click();
}

test("unlock on the web: captcha and security questions, then the summary page", async ({ page }) => {
  await page.goto("/");
  await lockAccount(page, "dave");
  await begin(page, "Unlock my account");
  await expect(page.getByText("Step 1 of 3")).toBeVisible();
  await expectAccessible(page);
  await identify(page, "dave");

  // The captcha solves itself in the browser, with visible progress.
  await expect(page.getByRole("heading", { name: "Checking that you are a person" })).toBeVisible();
  await expect(page.getByText("Step 2 of 3")).toBeVisible();
  await expectAccessible(page);

  await expect(page.getByText("Step 3 of 3")).toBeVisible({ timeout: 30_000 });
  await expectAccessible(page);
  await answerQuestions(page, (q) => ANSWERS.dave[q]);

  const summary = page.getByRole("region", { name: "Your account is unlocked" });
  await expect(summary).toBeVisible();
  await expect(summary).toContainText("You can sign in again now.");
  await expectAccessible(page);

  // And it is: the right password signs in.
  await summary.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Username").fill("dave");
  await page.getByLabel("Password").fill("walnut-harbour-tram");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/account");
});

test("unlocking an account that is not locked says nothing needed doing", async ({ page }) => {
  await begin(page, "Unlock my account");
  await identify(page, "frank");
  await answerQuestions(page, (q) => ANSWERS.frank[q]);
  const summary = page.getByRole("region", { name: "Nothing needed unlocking" });
  await expect(summary).toContainText("Your account was not locked, so nothing needed unlocking.");
  await expectAccessible(page);
  // The likely problem is the password: the next step is one click away.
  await summary.getByRole("link", { name: "Reset my password" }).click();
  await expect(page).toHaveURL("/reset");
  await expect(page.getByRole("heading", { name: "Reset my password" })).toBeVisible();
});

/** Reads the newest code emailed to `address` after `since` (ms), from the SMTP sink. */
async function emailedCode(address: string, since: number): Promise<string> {
  const mail = await waitForMailTo(address, (m) => /verification code/.test(m.subject) && m.receivedAt >= since);
  const code = mail.text.match(/\b(\d{6})\b/)?.[1];
  expect(code, mail.text).toBeTruthy();
  return code as string;
}

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("unlock with an emailed code ends in a dialog", async ({ page }) => {
    await page.goto("/");
    await lockAccount(page, "erin");
    await begin(page, "Unlock my account");
    await expectNoHorizontalScroll(page);
    const asked = Date.now();
    await identify(page, "erin");
    // The mobile channel's flow: captcha, then a code sent to the registered address —
    // which the page does not show, not even masked: that would tell who exists.
    await expect(page.getByRole("heading", { name: "Enter the code we emailed you" })).toBeVisible({ timeout: 30_000 });
    await expect(page.getByText(
      "If the username is right, we have sent a 6-digit code to the email address registered for this account. It is valid for 10 minutes.",
      { exact: false },
    )).toBeVisible();
    await expect(page.getByText("@example.org")).toHaveCount(0);
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);
    await page.getByLabel("Code").fill(await emailedCode("erin@example.org", asked));
    await page.getByRole("button", { name: "Continue" }).click();

    const dialog = page.getByRole("dialog", { name: "Your account is unlocked" });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("We have emailed you a confirmation.");
    await expectAccessible(page);
    await waitForMailTo("erin@example.org", (m) => /unlocked/i.test(m.subject));
    await dialog.getByRole("link", { name: "Done" }).click();
    await expect(page).toHaveURL("/");
  });

  test("reset with an emailed code, then sign in with the new password", async ({ page }) => {
    await begin(page, "Reset my password");
    const asked = Date.now();
    await identify(page, "grace");
    await expect(page.getByRole("heading", { name: "Enter the code we emailed you" })).toBeVisible({ timeout: 30_000 });
    await page.getByLabel("Code").fill("000000");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("alert")).toContainText("2 attempts left");
    await page.getByLabel("Code").fill(await emailedCode("grace@example.org", asked));
    await page.getByRole("button", { name: "Continue" }).click();

    await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
    await expectAccessible(page);
    await page.getByLabel("New password", { exact: true }).fill("grace2026");
    await page.getByLabel("New password again").fill("grace2026");
    await page.getByRole("button", { name: "Change my password" }).click();
    await expect(page.getByText("Use at least 12 characters")).toBeVisible();
    await expectAccessible(page);
    await page.getByLabel("New password", { exact: true }).fill("harbour-violet-kestrel");
    await page.getByLabel("New password again").fill("harbour-violet-kestrel");
    await page.getByRole("button", { name: "Change my password" }).click();
    const dialog = page.getByRole("dialog", { name: "Your password is changed" });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("link", { name: "Sign in" }).click();

    await page.getByLabel("Username").fill("grace");
    await page.getByLabel("Password").fill("harbour-violet-kestrel");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL("/account");
    await expect(page.getByText("Signed in as Grace Gillow.")).toBeVisible();
  });
});

test("wrong answers until self-service is blocked", async ({ page }) => {
  await begin(page, "Unlock my account");
  await identify(page, "heidi");
  for (let attempt = 1; attempt <= 3; attempt++) {
    await answerQuestions(page, () => `not right ${attempt}`);
    if (attempt < 3) {
      await expect(page.getByRole("alert")).toContainText("did not match what we have on record");
      await expect(page.getByRole("alert")).toContainText(`${3 - attempt} attempt`);
    }
  }
  const failed = page.getByRole("region", { name: "We could not confirm it is you" });
  await expect(failed).toBeVisible();
  await expectAccessible(page);

  // Two more wrong answers reach the account's limit of five.
  await failed.getByRole("button", { name: "Start again" }).click();
  await identify(page, "heidi");
  await answerQuestions(page, () => "still wrong");
  await answerQuestions(page, () => "still wrong again");
  await expect(page.getByRole("region", { name: "Self-service is paused for this account" })).toContainText(
    "After too many failed attempts",
  );
  await expectAccessible(page);

  // Even the right answers do not help now: a new attempt is stopped at once.
  await page.getByRole("link", { name: "Locked out?" }).click();
  await begin(page, "Unlock my account");
  await identify(page, "heidi");
  await expect(page.getByRole("region", { name: "Self-service is paused for this account" })).toBeVisible();
});

test("an unknown username sees the same pages and the generic failure", async ({ page }) => {
  await begin(page, "Unlock my account");
  await identify(page, "no-such-person");
  await expect(page.getByText("Step 3 of 3")).toBeVisible({ timeout: 30_000 });
  // Plausible questions, just as for a real person.
  await expect(page.locator("form label")).toHaveCount(2);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await answerQuestions(page, () => "a guess");
    if (attempt < 3) {
      await expect(page.getByRole("alert")).toContainText("did not match what we have on record");
    }
  }
  await expect(page.getByRole("region", { name: "We could not confirm it is you" })).toContainText(
    "The answers given did not match what we have on record.",
  );
});

test("the desktop kiosk page runs the same flow with nowhere else to go", async ({ page }) => {
  await page.goto("/");
  await lockAccount(page, "frank");
  await page.goto("/desktop");
  await expect(page.getByRole("heading", { level: 1, name: "Locked your account?" })).toBeVisible();
  await expect(page.getByRole("navigation")).toHaveCount(0);
  await expectAccessible(page);
  await page.getByRole("button", { name: "Unlock my account" }).click();
  await identify(page, "frank");
  await answerQuestions(page, (q) => ANSWERS.frank[q]);
  const summary = page.getByRole("region", { name: "Your account is unlocked" });
  await expect(summary).toBeVisible();
  await expect(page.getByRole("link")).toHaveCount(1); // only "Skip to content"
  await expectAccessible(page);
  await summary.getByRole("button", { name: "Finish" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Locked your account?" })).toBeVisible();
});

test("the desktop kiosk page clears itself after two minutes without use", async ({ page }) => {
  await page.clock.install();
  await page.goto("/desktop");
  await page.getByRole("button", { name: "Reset my password" }).click();
  await page.getByLabel("Username").fill("frank");
  // Someone walks away from the sign-in screen with their name typed in.
  await page.clock.fastForward("01:50");
  await expect(page.getByLabel("Username")).toHaveValue("frank");
  await page.clock.fastForward("00:15");
  await expect(page.getByRole("heading", { level: 1, name: "Locked your account?" })).toBeVisible();
  await expect(page.getByLabel("Username")).toHaveCount(0);
});

test("the portal is an installable app with an honest offline page", async ({ browserName: _ }, testInfo) => {
  // Installability needs a real profile: Playwright's usual contexts count as incognito.
  const context = await chromium.launchPersistentContext(testInfo.outputPath("profile"), {
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    baseURL: process.env.E2E_BASE,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  const cdp = await page.context().newCDPSession(page);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  expect(installabilityErrors).toEqual([]);
  const manifest = await (await page.request.get("/manifest.webmanifest")).json();
  expect(manifest.display).toBe("standalone");

  await page.reload();
  await context.setOffline(true);
  await page.goto("/unlock").catch(() => undefined);
  await expect(page.getByRole("heading", { level: 1, name: "You are offline" })).toBeVisible();
  await expect(page.getByText("needs a connection")).toBeVisible();
  await expectAccessible(page);
  await context.close();
});
