import type { Page } from "@playwright/test";
import {
  test,
  expect,
  answerQuestions,
  expectAccessible,
  expectNoHorizontalScroll,
  LONG_PRODUCT_NAME,
  PHONE,
} from "./fixtures";

// A server with nothing configured but a long product name: no organisation, no help desk.

test.describe("on a 360 px phone", () => {
  test.use(PHONE);

  test("a long product name stays on one line beside the links", async ({ page }) => {
    await page.goto("/");
    const header = page.getByRole("banner");
    await expect(header.getByRole("link", { name: LONG_PRODUCT_NAME })).toBeVisible();
    const brand = await header.locator(".brand").boundingBox();
    const nav = await header.getByRole("navigation").boundingBox();
    expect(Math.abs(brand!.y + brand!.height / 2 - (nav!.y + nav!.height / 2))).toBeLessThan(8);
    expect(brand!.height).toBeLessThan(40);
    await expect(header.getByRole("link", { name: "Locked out?" })).toBeInViewport();
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);
  });
});

test("the installed app's name is the product name, not doubled", async ({ page }) => {
  const manifest = await (await page.request.get("/manifest.webmanifest")).json();
  expect(manifest.name).toBe(LONG_PRODUCT_NAME);
  expect(manifest.short_name.length).toBeLessThanOrEqual(15);
});

async function failOnce(page: Page) {
  await page.goto("/unlock");
  await page.getByLabel("Username").fill("nobody-at-all");
  await page.getByRole("button", { name: "Continue" }).click();
  for (let i = 0; i < 3; i++) {
    await answerQuestions(page, () => "a guess");
    if (i < 2) await expect(page.getByRole("alert")).toContainText("did not match");
  }
}

test("without a configured help desk the pages still say whom to ask", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("contentinfo")).toContainText("Contact your IT help desk.");
  await failOnce(page);
  const failed = page.getByRole("region", { name: "We could not confirm it is you" });
  await expect(failed).toContainText("Contact your IT help desk.");
  await expectAccessible(page);
});
