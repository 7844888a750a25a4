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
  CODE_MINUTES,
  HELP_DESK,
  PHONE,
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

/** Reads the newest code emailed to `address` after `since` (ms), from the SMTP sink. */
async function emailedCode(address: string, since: number): Promise<string> {
  const mail = await waitForMailTo(address, (m) => /verification code/.test(m.subject) && m.receivedAt >= since);
  const code = mail.text.match(/\b(\d{6})\b/)?.[1];
  expect(code, mail.text).toBeTruthy();
  return code as string;
}

const CODE_STEP = "Enter the code we emailed you";

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
  await page.getByLabel("Password", { exact: true }).fill("walnut-harbour-tram");
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

test.describe("on a phone", () => {
  test.use(PHONE);

  test("unlock with an emailed code; the attempt survives a reload and the result survives Esc", async ({ page }) => {
    await page.goto("/");
    await lockAccount(page, "erin");
    await begin(page, "Unlock my account");
    await expectNoHorizontalScroll(page);
    const asked = Date.now();
    await identify(page, "erin");
    // The mobile channel's flow: captcha, then a code sent to the registered address —
    // which the page does not show, not even masked: that would tell who exists.
    await expect(page.getByRole("heading", { name: CODE_STEP })).toBeVisible({ timeout: 30_000 });
    await expect(page.getByText(
      "If the username is right, we have sent a 6-digit code to the email address registered for this account, or to its recovery address if one was added.",
      { exact: false },
    )).toBeVisible();
    await expect(page.getByText("@example.org")).toHaveCount(0);
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);
    const code = await emailedCode("erin@example.org", asked);

    // The person switches to the mail app and the browser discards the tab (a reload):
    // the attempt resumes at the same step and the code still works.
    await page.reload();
    await expect(page.getByRole("heading", { name: CODE_STEP })).toBeVisible();
    await expect(page.getByText("Answering for: erin")).toBeVisible();
    await page.getByLabel("Code").fill(code);
    await page.getByRole("button", { name: "Continue" }).click();

    const dialog = page.getByRole("dialog", { name: "Your account is unlocked" });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("We have emailed you a confirmation.");
    await expectAccessible(page);
    await waitForMailTo("erin@example.org", (m) => /unlocked/i.test(m.subject));

    // Esc (or Android's back gesture) closes the dialog: the outcome is still on the page.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    const summary = page.getByRole("region", { name: "Your account is unlocked" });
    await expect(summary).toBeVisible();
    await expectAccessible(page);
    // And after a reload as well.
    await page.reload();
    await expect(page.getByRole("region", { name: "Your account is unlocked" })).toBeVisible();
    await page.getByRole("dialog").getByRole("link", { name: "Done" }).click();
    await expect(page).toHaveURL("/");
    // Leaving forgets the attempt: coming back starts a new one.
    await page.getByRole("link", { name: /Unlock my account/ }).click();
    await expect(page.getByRole("heading", { name: "Who are you?" })).toBeVisible();
  });

  test("reset with an emailed code, then sign in with the new password", async ({ page }) => {
    await begin(page, "Reset my password");
    const asked = Date.now();
    await identify(page, "grace");
    await expect(page.getByRole("heading", { name: CODE_STEP })).toBeVisible({ timeout: 30_000 });
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
    await page.getByLabel("Password", { exact: true }).fill("harbour-violet-kestrel");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL("/account");
    await expect(page.getByText("Signed in as Grace Gillow.")).toBeVisible();
  });

  test("a wrong code is called a wrong code, and the failure names the code", async ({ page }) => {
    await begin(page, "Unlock my account");
    await identify(page, "zed-phone");
    await expect(page.getByRole("heading", { name: CODE_STEP })).toBeVisible({ timeout: 30_000 });
    // "valid for 15 minutes" is the server's `self_service.code_minutes`, not a constant.
    await expect(page.getByText(`It is valid for ${CODE_MINUTES} minutes.`, { exact: false })).toBeVisible();
    for (const left of [2, 1]) {
      await page.getByLabel("Code").fill("000000");
      await page.getByRole("button", { name: "Continue" }).click();
      const alert = page.getByRole("alert");
      await expect(alert).toContainText(`That code is wrong or has expired. ${left} attempt`);
      await expect(alert).not.toContainText("answers");
    }
    await page.getByLabel("Code").fill("000000");
    await page.getByRole("button", { name: "Continue" }).click();
    const dialog = page.getByRole("dialog", { name: "We could not confirm it is you" });
    await expect(dialog).toContainText("the emailed code you entered was wrong or had expired");
    await expect(dialog).not.toContainText("answers");
    // Somewhere to turn: the help desk, on every failure.
    await expect(dialog.getByRole("link", { name: HELP_DESK.phone })).toHaveAttribute("href", "tel:+442079460000");
    await expectAccessible(page);
  });

  test("Send a new code waits, replaces the old code, and the step can take questions instead", async ({ page }) => {
    await begin(page, "Unlock my account");
    const first = Date.now();
    await identify(page, "dave");
    await expect(page.getByRole("heading", { name: CODE_STEP })).toBeVisible({ timeout: 30_000 });
    const old = await emailedCode("dave@example.org", first);
    // A short cooldown first, counted down on the button.
    const resend = page.getByRole("button", { name: /^Send a new code/ });
    await expect(resend).toBeDisabled();
    await expect(resend).toHaveText(/Send a new code \(in \d+ s\)/);
    await expect(resend).toBeEnabled({ timeout: 10_000 });
    await expect(resend).toHaveText("Send a new code");
    const second = Date.now();
    await resend.click();
    await expect(page.getByRole("status").filter({ hasText: "A new code is on its way" })).toHaveCount(1);
    const fresh = await emailedCode("dave@example.org", second);
    expect(fresh).not.toBe(old);
    // The old code no longer works.
    await page.getByLabel("Code").fill(old);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("alert")).toContainText("That code is wrong or has expired");
    await expectAccessible(page);
    await expectNoHorizontalScroll(page);
    // Can't reach the mailbox after all: the security questions instead.
    await page.getByRole("button", { name: "Use security questions instead" }).click();
    await answerQuestions(page, (q) => ANSWERS.dave[q]);
    await expect(page.getByRole("dialog", { name: "Nothing needed unlocking" })).toBeVisible();
  });

  test("a rate limit counts down, says why, and the form comes back by itself", async ({ page }) => {
    await page.clock.install();
    let refused = false;
    await page.route("**/api/flow_start", async (route) => {
      if (refused) return route.continue();
      refused = true;
      await route.fulfill({
        status: 429,
        headers: { "content-type": "application/json", "retry-after": "600", "serverfnerror": "latchkey" },
        body: JSON.stringify({ kind: "rate_limited", retry_after_secs: 600 }),
      });
    });
    await begin(page, "Unlock my account");
    const alert = page.getByRole("alert");
    await expect(alert).toContainText("Too many requests from your network");
    await expect(alert.getByRole("timer")).toHaveText("10 minutes");
    await expect(alert.getByRole("link", { name: HELP_DESK.phone })).toBeVisible();
    await expect(page.getByLabel("Username")).toHaveCount(0);
    await expectAccessible(page);
    await page.clock.fastForward("05:00");
    await expect(alert.getByRole("timer")).toHaveText("5 minutes");
    await page.clock.fastForward("05:00");
    await expect(page.getByRole("heading", { name: "Who are you?" })).toBeVisible();
    await expect(page.getByText("Too many requests")).toHaveCount(0);
  });
});

test("the attempts counter tells the truth, and a block says why, until when, and whom to call", async ({ page }) => {
  await begin(page, "Unlock my account");
  await identify(page, "heidi");
  for (let attempt = 1; attempt <= 3; attempt++) {
    await answerQuestions(page, () => `not right ${attempt}`);
    if (attempt < 3) {
      await expect(page.getByRole("alert")).toContainText(
        `If the username is right, the answers did not match. ${3 - attempt} attempt`,
      );
    }
  }
  const failed = page.getByRole("region", { name: "We could not confirm it is you" });
  await expect(failed).toBeVisible();
  await expectAccessible(page);

  // The account's limit (5) is nearer than the step's (3): the counter says 2, then 1,
  // and before the last try what happens if it is wrong too.
  await failed.getByRole("button", { name: "Start again" }).click();
  await identify(page, "heidi");
  await expect(page.getByRole("heading", { name: "Answer your security questions" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("status").filter({ hasText: "attempts left" })).toContainText("2 attempts left");
  await answerQuestions(page, () => "still wrong");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("1 attempt left");
  await expect(alert).toContainText(
    "One more wrong answer pauses self-service for 30 minutes and locks your account.",
  );
  await expectAccessible(page);
  const blockedAt = Date.now();
  await answerQuestions(page, () => "still wrong again");

  // The real reason and time, no "Start again" that would only be paused again, and the
  // help desk as the way forward.
  const paused = page.getByRole("region", { name: "Self-service is paused for this account" });
  await expect(paused).toContainText(/locked until .+ — in 30 minutes — because the security answers did not match/);
  await expect(paused.getByRole("button", { name: "Start again" })).toHaveCount(0);
  const help = paused.getByRole("region", { name: "Talk to a person" });
  await expect(help.getByRole("link", { name: HELP_DESK.phone })).toBeVisible();
  await expect(help).toContainText(HELP_DESK.hours);
  await expectAccessible(page);
  // The owner is told: someone may be guessing.
  await waitForMailTo("heidi@example.org", (m) => /paused/i.test(m.subject) && m.receivedAt >= blockedAt);

  // Even the right answers do not help now: a new attempt is stopped at once.
  await page.getByRole("link", { name: "Locked out?" }).click();
  await begin(page, "Unlock my account");
  await identify(page, "heidi");
  await expect(page.getByRole("region", { name: "Self-service is paused for this account" })).toBeVisible();

  // Signing in says the same, and does not send the person round to "Unlock" again.
  await page.goto("/sign-in");
  await page.getByLabel("Username").fill("heidi");
  await page.getByLabel("Password", { exact: true }).fill("saddle-orchid-beacon");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("too many wrong answers were given when trying to unlock it");
  await expect(page.getByRole("alert")).toContainText(/locked until .+ — in 30 minutes/);
  await expect(page.getByRole("link", { name: "Unlock my account" })).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Talk to a person" })).toBeVisible();
  await expectAccessible(page);
});

test("locked by mistyped passwords, then paused by wrong answers: sign-in offers the help desk, not Unlock", async ({ page }) => {
  // The usual order: the password fails five times (a lock until unlocked), then the
  // answers fail until self-service pauses. Sam is used by no other portal test.
  await page.goto("/");
  await lockAccount(page, "sam");
  await begin(page, "Unlock my account");
  await identify(page, "sam");
  for (let attempt = 1; attempt <= 3; attempt++) {
    await answerQuestions(page, () => `wrong ${attempt}`);
    if (attempt < 3) await expect(page.getByRole("alert")).toContainText(`${3 - attempt} attempt`);
  }
  await page.getByRole("region", { name: "We could not confirm it is you" }).getByRole("button", { name: "Start again" }).click();
  await identify(page, "sam");
  await answerQuestions(page, () => "wrong 4");
  await expect(page.getByRole("alert")).toContainText("1 attempt left");
  await answerQuestions(page, () => "wrong 5");
  await expect(page.getByRole("region", { name: "Self-service is paused for this account" })).toBeVisible();

  await page.goto("/sign-in");
  await page.getByLabel("Username").fill("sam");
  await page.getByLabel("Password", { exact: true }).fill("cobalt-willow-ledger");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("Your account is locked because of too many failed sign-in attempts.");
  await expect(alert).toContainText(/self-service is paused until .+ — in 30 minutes/);
  // No way round in a circle: the help desk is what is offered.
  await expect(page.getByRole("link", { name: "Unlock my account" })).toHaveCount(0);
  const help = page.getByRole("region", { name: "Talk to a person" });
  await expect(help.getByRole("link", { name: HELP_DESK.phone })).toBeVisible();
  await expectAccessible(page);
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
      await expect(page.getByRole("alert")).toContainText("If the username is right, the answers did not match");
    }
  }
  await expect(page.getByRole("region", { name: "We could not confirm it is you" })).toContainText(
    "If the username is right, the answers to the security questions did not match what we have on record.",
  );
});

test("a mistyped username is shown on every step and can be changed", async ({ page }) => {
  await begin(page, "Reset my password");
  await identify(page, "franl");
  // Shown as typed — it says nothing about whether such an account exists.
  await expect(page.getByText("Answering for: franl · Not you? Change")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Answer your security questions" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("Answering for: franl")).toBeVisible();
  await expectAccessible(page);
  await page.getByRole("button", { name: "Change" }).click();
  // Back at the username, with the mistake there to fix.
  const username = page.getByLabel("Username");
  await expect(username).toHaveValue("franl");
  await expect(username).toBeFocused();
  await username.fill("frank");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByText("Answering for: frank")).toBeVisible();
  await answerQuestions(page, (q) => ANSWERS.frank[q]);
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  await expect(page.getByText("Answering for: frank")).toBeVisible();

  // The new password can be seen before it is sent, with a hint as it is typed.
  const password = page.getByLabel("New password", { exact: true });
  await password.fill("frank2026");
  await expect(page.getByText("9 of at least 12 characters")).toBeVisible();
  await expect(page.locator(".strength-verdict")).toHaveText("Too short");
  await password.fill("orchard-velvet-pylon");
  await expect(page.locator(".strength-verdict")).toHaveText("Strong");
  await expect(password).toHaveAttribute("type", "password");
  await page.getByRole("button", { name: "Show password" }).first().click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByRole("button", { name: "Show password" }).first()).toHaveAttribute("aria-pressed", "true");
  await expectAccessible(page);
});

test("focus goes where the person is: the field, the problem, the new page's heading", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("link", { name: /Unlock my account/ }).click();
  // A new page: its main heading first, then (once the attempt has started) the field.
  await expect(page.getByRole("heading", { level: 1, name: "Unlock my account" })).toBeFocused();
  const username = page.getByLabel("Username");
  await expect(username).toBeFocused();
  // A refused submit by mouse (the button disables itself while busy) puts focus on the
  // field to fix, and the error is announced.
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toHaveText("Enter your username.");
  await expect(username).toHaveAttribute("aria-invalid", "true");
  await expect(username).toBeFocused();
  await expectAccessible(page);
  // The captcha says "Check complete" once — not its percentage as it climbs.
  const said: string[] = [];
  await page.exposeFunction("heard", (text: string) => said.push(text));
  await page.evaluate(() => {
    const w = window as unknown as { heard: (t: string) => void };
    new MutationObserver(() => {
      for (const live of document.querySelectorAll("[role=status], [aria-live], [role=alert]")) {
        const text = live.textContent?.trim();
        if (text) w.heard(text);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await username.fill("nobody-here");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { name: "Answer your security questions" })).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => said).toContain("Check complete");
  expect(said.filter((t) => /%/.test(t))).toEqual([]);
  await expect(page.getByRole("status").filter({ hasText: "Check complete" })).toHaveCount(1);
  // A wrong answer sent by mouse: focus goes to what says so, not the step's heading
  // (nor the page's body).
  await answerQuestions(page, () => "a guess");
  const wrong = page.getByRole("alert").filter({ hasText: "the answers did not match" });
  await expect(wrong).toBeFocused();
  await expectAccessible(page);
  // Another page by its link: its heading takes focus.
  await page.getByRole("navigation", { name: "Site" }).getByRole("link", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeFocused();
});

test("the desktop kiosk page runs the same flow with nowhere else to go", async ({ page }) => {
  await page.goto("/");
  await lockAccount(page, "frank");
  await page.goto("/desktop");
  await expect(page.getByRole("heading", { level: 1, name: "Locked your account?" })).toBeVisible();
  await expect(page.getByRole("navigation")).toHaveCount(0);
  // Under a locked screen nothing else says whom to call: the help desk, prominently,
  // to write down (no link leads away from the kiosk).
  const help = page.getByRole("region", { name: "Talk to a person" });
  await expect(help).toContainText(HELP_DESK.phone);
  await expect(help).toContainText(HELP_DESK.url);
  await expectAccessible(page);
  await page.getByRole("button", { name: "Unlock my account" }).click();
  await identify(page, "frank");
  await expect(page.getByRole("heading", { name: "Answer your security questions" })).toBeVisible({ timeout: 30_000 });
  // "Cancel and start over" is well apart from "Continue".
  const proceed = await page.getByRole("button", { name: "Continue" }).boundingBox();
  const cancel = await page.getByRole("button", { name: "Cancel and start over" }).boundingBox();
  expect(cancel!.y - (proceed!.y + proceed!.height)).toBeGreaterThanOrEqual(32);
  await answerQuestions(page, (q) => ANSWERS.frank[q]);
  const summary = page.getByRole("region", { name: "Your account is unlocked" });
  await expect(summary).toBeVisible();
  await expect(summary).toContainText("Go back to the sign-in screen and sign in with your password.");
  // Finished: only "Finish" is left.
  await expect(page.getByRole("button")).toHaveText(["Finish"]);
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
