import { test, expect, expectAccessible, expectNoHorizontalScroll, PRODUCT_NAME } from "./fixtures";

test("the start page offers the self-service actions and shows the server's settings", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Locked out? Get back in." })).toBeVisible();
  // The product name is configured on the server and comes through the server function.
  await expect(page.getByRole("link", { name: PRODUCT_NAME })).toBeVisible();
  await expect(page).toHaveTitle(`Start · ${PRODUCT_NAME}`);
  await expect(page.getByText(`${PRODUCT_NAME} lets you unlock your account`)).toBeVisible();

  const actions = page.getByRole("list", { name: "What do you need to do?" });
  await expect(actions.getByRole("link")).toHaveText([
    /Unlock my account/,
    /Reset my password/,
    /Sign in/,
  ]);

  // All three channels are enabled by default.
  const channels = page.getByRole("region", { name: "Where you can use this" });
  await expect(channels.getByRole("listitem")).toHaveCount(3);
  await expect(channels).toContainText("On your phone");

  await expectAccessible(page);
});

test("the start page works by keyboard alone", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: /Unlock my account/ })).toBeFocused();
});

test.describe("on a 360 px phone", () => {
  test.use({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });

  test("the start page fits without sideways scrolling", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("link", { name: /Reset my password/ })).toBeVisible();
    await expectNoHorizontalScroll(page);
    await expectAccessible(page);
  });
});

test("an unknown address says so and leads back", async ({ page }) => {
  await page.goto("/no/such/page");
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  await page.getByRole("link", { name: "Go to the start page" }).click();
  await expect(page).toHaveURL("/");
  await expectAccessible(page);
});

test("the console is a separate bundle under /console", async ({ page }) => {
  const portalScripts: string[] = [];
  page.on("request", (r) => {
    if (r.resourceType() === "script" || r.url().endsWith(".wasm")) portalScripts.push(r.url());
  });
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  expect(portalScripts.some((u) => u.includes("/console"))).toBe(false);

  await page.goto("/console");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to the console" })).toBeVisible();
  await expect(page.getByRole("link", { name: `${PRODUCT_NAME} console` })).toBeVisible();
  await expectAccessible(page);
});
