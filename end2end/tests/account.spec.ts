import {
  test,
  expect,
  expectAccessible,
  expectNoHorizontalScroll,
  signIn,
  totp,
  PHONE,
} from "./fixtures";
import { waitForMailTo } from "./mail";

// Alice's own account page. Her security questions, authenticator and recovery address
// change here; no other test relies on them.
const ALICE = { username: "alice", password: "lantern-orbit-meadow" };

test("security questions: Cancel, every too-short answer at once, and a confirmation that stays", async ({ page }) => {
  await signIn(page, ALICE.username, ALICE.password);
  const section = page.getByRole("region", { name: "Security questions" });
  await section.getByRole("button", { name: "Change my security questions" }).click();
  // Cancel closes the form and changes nothing.
  await section.getByRole("button", { name: "Cancel" }).click();
  await expect(section.getByRole("button", { name: "Change my security questions" })).toBeVisible();
  await section.getByRole("button", { name: "Change my security questions" }).click();

  let sent = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/enrol_security_questions")) sent++;
  });
  const answers = section.getByLabel("Answer", { exact: true });
  await expect(answers).toHaveCount(3);
  for (let i = 0; i < 3; i++) await answers.nth(i).fill("ab");
  await section.getByRole("button", { name: "Save my security questions" }).click();
  // All three are flagged together, focus is on the first, nothing was sent.
  for (let i = 0; i < 3; i++) await expect(answers.nth(i)).toHaveAttribute("aria-invalid", "true");
  await expect(section.getByText("Answers have at least 3 characters.")).toHaveCount(3);
  await expect(answers.nth(0)).toBeFocused();
  expect(sent).toBe(0);
  await expectAccessible(page);

  await answers.nth(0).fill("Hillside Primary");
  await answers.nth(1).fill("Bristol");
  await answers.nth(2).fill("A red bicycle");
  await section.getByRole("button", { name: "Save my security questions" }).click();
  // The account is read again after saving; the confirmation survives that.
  await expect(page.getByRole("status").filter({ hasText: "Your security questions are saved." })).toBeVisible();
  await expect(section).toContainText("3 questions set up");
  await expectAccessible(page);
});

test.describe("on a phone", () => {
  test.use(PHONE);

  test("an authenticator is added from the phone itself, and the page says it is set up", async ({ page, context }) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await signIn(page, ALICE.username, ALICE.password);
    const section = page.getByRole("region", { name: "Authenticator app" });
    await section.getByRole("button", { name: "Set up an authenticator app" }).click();
    // The app is on this very phone: a link opens it, no QR code to scan.
    await expect(section.getByRole("link", { name: "Add to authenticator app" })).toHaveAttribute(
      "href",
      /^otpauth:\/\/totp\/.+secret=[A-Z2-7]+/,
    );
    // The key to type by hand, in groups of four, and a button that copies it whole.
    const shown = (await section.locator("code.secret").textContent()) ?? "";
    expect(shown).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
    const key = shown.replace(/ /g, "");
    await section.getByRole("button", { name: "Copy the key" }).click();
    await expect(section.getByRole("status")).toHaveText("Key copied.");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await expect(section.getByRole("button", { name: "Cancel" })).toBeVisible();
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);

    await section.getByLabel("Code from the app").fill(totp(key));
    await section.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Your authenticator app is set up." })).toBeVisible();
    await expect(section).toContainText("Set up");
  });

  test("codes go to a confirmed recovery address, and the portal still does not say where", async ({ page }) => {
    const home = "alice.home@example.net";
    await signIn(page, ALICE.username, ALICE.password);
    const section = page.getByRole("region", { name: "Recovery email address" });
    await expect(section).toContainText("Not set up yet");
    await section.getByRole("button", { name: "Add a recovery email address" }).click();
    await section.getByLabel("Recovery email address").fill("not an address");
    await section.getByRole("button", { name: "Send a code to this address" }).click();
    await expect(section.getByLabel("Recovery email address")).toHaveAttribute("aria-invalid", "true");
    await expect(section.getByLabel("Recovery email address")).toBeFocused();

    const asked = Date.now();
    await section.getByLabel("Recovery email address").fill(home);
    await section.getByRole("button", { name: "Send a code to this address" }).click();
    await expect(section).toContainText(`We have sent a 6-digit code to ${home}.`);
    const mail = await waitForMailTo(home, (m) => /verification code/.test(m.subject) && m.receivedAt >= asked);
    await section.getByLabel("Code from the email").fill(mail.text.match(/\b(\d{6})\b/)![1]);
    await section.getByRole("button", { name: "Confirm the address" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Your recovery email address is confirmed." })).toBeVisible();
    await expect(section).toContainText(`go to ${home}`);
    // The work address hears of it: a stranger's address cannot be added unseen.
    await waitForMailTo("alice@example.org", (m) => /recovery email address was added/.test(m.subject));
    await expectAccessible(page);
    await page.getByRole("button", { name: "Sign out" }).click();

    // Locked out later, on the phone: the code goes to the recovery address.
    await page.getByRole("link", { name: /Unlock my account/ }).click();
    await page.getByLabel("Username").fill("alice");
    const unlocking = Date.now();
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("heading", { name: "Enter the code we emailed you" })).toBeVisible({ timeout: 30_000 });
    // Every name is told the same words; nothing says which address was used.
    await expect(page.getByText("example.net")).toHaveCount(0);
    await expect(page.getByText("@")).toHaveCount(0);
    const code = await waitForMailTo(home, (m) => /verification code/.test(m.subject) && m.receivedAt >= unlocking);
    await page.getByLabel("Code").fill(code.text.match(/\b(\d{6})\b/)![1]);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("dialog", { name: "Nothing needed unlocking" })).toBeVisible();
  });
});
