import type { Page } from "@playwright/test";
import * as OTPAuth from "otpauth";
import { test, expect, expectAccessible, expectNoHorizontalScroll } from "./fixtures";
import { waitForMailTo } from "./mail";

// Seeds 001 (Reset a Secret Key) and 002 (Resecure an account), on the console's own
// server: the operator acts in the console, the user goes through the required actions
// in the portal. Users here (bob, grace) are used by no other console test.

const LENA = "juniper-atlas-kettle"; // local administrator of Example Health
const PASSWORDS: Record<string, string> = {
  bob: "copper-fjord-whistle",
  grace: "meadow-lantern-quartz",
};

function totp(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.replace(/\s+/g, "")), digits: 6, period: 30 }).generate();
}

function origin(): string {
  return String(test.info().project.use.baseURL);
}

async function operatorOpensUser(page: Page, username: string) {
  await page.goto("/console");
  await page.getByLabel("Username", { exact: true }).fill("lena");
  await page.getByLabel("Password", { exact: true }).fill(LENA);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Console", exact: true })).toBeVisible();
  await page.goto(`/console/users?q=${username}`);
  await page.getByRole("link", { name: new RegExp(`EXAMPLE\\\\${username}`) }).first().click();
  await expect(page.getByRole("heading", { level: 2, name: "Security" })).toBeVisible();
}

async function portalSignIn(page: Page, username: string, password: string) {
  await page.goto("/sign-in");
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("seed 001: an operator resets the MFA secret; the user authorises the device by email and scans a new one", async ({
  page,
  browser,
}) => {
  // bob has an authenticator (set up through the API, as the account page would).
  const bob = await browser.newContext({ baseURL: origin() });
  const api = bob.request;
  const headers = { Origin: origin() };
  expect((await api.post("/api/sign_in", { data: { username: "bob", password: PASSWORDS.bob }, headers })).status()).toBe(200);
  const setup = await (await api.post("/api/authenticator_begin", { data: {}, headers })).json();
  const oldSecret: string = setup.secret;
  expect((await api.post("/api/authenticator_confirm", { data: { code: totp(oldSecret) }, headers })).status()).toBe(200);

  await operatorOpensUser(page, "bob");
  await page.getByRole("button", { name: "Reset MFA secret" }).click();
  const dialog = page.getByRole("dialog", { name: /Reset the secret key of EXAMPLE\\bob/ });
  await expect(dialog).toBeVisible();
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Reset MFA secret" }).click();
  await expect(page.getByText(/MFA secret reset/)).toBeVisible();
  await expect(page.locator("dd", { hasText: "Device authorization (code by email)" })).toBeVisible();
  // bob's open session ended with the reset.
  expect((await api.post("/api/security_questions", { data: {}, headers })).status()).toBe(401);

  // bob signs in: first the Device Authorization email's code.
  const userContext = await browser.newContext({ baseURL: origin() });
  const user = await userContext.newPage();
  await portalSignIn(user, "bob", PASSWORDS.bob);
  await expect(user.getByRole("heading", { level: 1, name: "Device authorization" })).toBeVisible();
  await expectAccessible(user);
  const mail = await waitForMailTo("bob@example.org", (m) => /device authorization code/.test(m.subject));
  const code = mail.text.match(/\b\d{6}\b/)?.[0] ?? "";
  // Typing another address in the browser gets nowhere: the server sends back here.
  await user.goto("/account");
  await expect(user).toHaveURL(/\/required$/);
  await user.getByLabel("Device authorization code").fill(code);
  await user.getByRole("button", { name: "Continue" }).click();

  // Then the Multi-Factor Authentication page with a new QR code and its key.
  await expect(user.getByRole("heading", { level: 1, name: "Multi-Factor Authentication" })).toBeVisible();
  await expect(user.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  const newSecret = (await user.locator("code.secret").textContent()) ?? "";
  expect(newSecret.replace(/\s+/g, "")).not.toBe(oldSecret);
  await expectAccessible(user);
  await user.getByLabel("Code from the app").fill(totp(newSecret));
  await user.getByRole("button", { name: "Confirm" }).click();
  await expect(user.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();
  await expect(user.getByText("Set up", { exact: true })).toBeVisible();
  await userContext.close();
  await bob.close();
});

test("seed 002: an operator resecures with a generated password; the user is signed out and goes through every required action", async ({
  page,
  browser,
}) => {
  // grace is signed in somewhere.
  const grace = await browser.newContext({ baseURL: origin() });
  const headers = { Origin: origin() };
  expect((await grace.request.post("/api/sign_in", { data: { username: "grace", password: PASSWORDS.grace }, headers })).status()).toBe(200);

  await operatorOpensUser(page, "grace");
  await page.getByRole("button", { name: "Resecure account" }).click();
  const dialog = page.getByRole("dialog", { name: /Resecure EXAMPLE\\grace/ });
  await expect(dialog.getByText("revoke all of the user's active sessions")).toBeVisible();
  await expectAccessible(page);
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await page.getByRole("button", { name: "Generate password" }).click();
  const field = page.getByLabel("Temporary password", { exact: true });
  await expect(field).toHaveValue(/^[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}$/);
  const temporary = await field.inputValue();
  await expect(page.getByLabel("Require password change at next logon")).toBeChecked();
  await page.getByRole("button", { name: "Update" }).click();
  // The notice, not the history row of the same name that the page shows once it reloads.
  await expect(page.getByText(/^Account resecured\. Give the user/)).toBeVisible();

  // Her open session ends at once.
  const res = await grace.request.post("/api/current_account", { data: {}, headers });
  expect(await res.json()).toBeNull();
  const denied = await grace.request.post("/api/security_questions", { data: {}, headers });
  expect((await denied.json()).kind).toBe("unauthenticated");

  // She signs in with the temporary password and is led through each step, in order.
  const userContext = await browser.newContext({
    baseURL: origin(),
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
  });
  const user = await userContext.newPage();
  await portalSignIn(user, "grace", temporary);
  await expect(user.getByRole("heading", { level: 1, name: "Choose a new password" })).toBeVisible();
  await expectNoHorizontalScroll(user);
  await expectAccessible(user);
  // No skipping: another page, or a server function called directly, is refused.
  await user.goto("/account");
  await expect(user).toHaveURL(/\/required$/);
  const skip = await user.request.post("/api/accept_aup", { data: { version: 1 }, headers });
  expect(skip.status()).toBe(409);
  expect((await skip.json()).action).toBe("change_password");

  await user.getByLabel("Temporary password", { exact: true }).fill(temporary);
  await user.getByLabel("New password", { exact: true }).fill("saffron-glacier-otter-19");
  await user.getByLabel("New password again").fill("saffron-glacier-otter-19");
  await user.getByRole("button", { name: "Save my new password" }).click();

  await expect(user.getByRole("heading", { level: 1, name: "Acceptable use policy" })).toBeVisible();
  await expectNoHorizontalScroll(user);
  await expectAccessible(user);
  const accept = user.getByRole("button", { name: "Accept and continue" });
  await expect(accept).toBeDisabled();
  await user.getByLabel("I have read the acceptable use policy and I accept it").check();
  await accept.click();

  await expect(user.getByRole("heading", { level: 1, name: "Check your profile" })).toBeVisible();
  await expectNoHorizontalScroll(user);
  await expectAccessible(user);
  await user.getByLabel("Phone number (optional)").fill("not a number");
  await user.getByRole("button", { name: "Save and continue" }).click();
  await expect(user.getByText(/Enter a phone number/)).toBeVisible();
  await user.getByLabel("Phone number (optional)").fill("+44 20 7946 0000");
  await user.getByRole("button", { name: "Save and continue" }).click();

  await expect(user.getByRole("heading", { level: 1, name: "Set new security questions" })).toBeVisible();
  await expectNoHorizontalScroll(user);
  await expectAccessible(user);
  const answers = user.getByLabel("Answer", { exact: true });
  const count = await answers.count();
  for (let i = 0; i < count; i++) await answers.nth(i).fill(`my answer number ${i + 1}`);
  await user.getByRole("button", { name: "Save my security questions" }).click();

  await expect(user.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();
  await userContext.close();
  await grace.close();
});
