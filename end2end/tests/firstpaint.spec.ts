import type { Page } from "@playwright/test";
import { test, expect, expectAccessible, PRODUCT_NAME } from "./fixtures";

// The start page and the kiosk page paint before the Wasm has loaded (static markup in
// index.html), and the app takes their place without moving anything (CLS 0).
// The Wasm is held back until the static page has been checked: no timing involved.
test.use({ serviceWorkers: "block" });

/** Holds the Wasm download until the returned function is called. */
async function holdWasm(page: Page): Promise<() => void> {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/*_bg.wasm", async (route) => {
    await gate;
    await route.continue().catch(() => {});
  });
  return release;
}

/** The sum of the page's layout shifts so far (what CLS adds up). */
async function layoutShift(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
            if (!e.hadRecentInput) total += e.value;
          }
        }).observe({ type: "layout-shift", buffered: true });
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(total)));
      }),
  );
}

test("the start page paints before the Wasm runs, and the app takes over without a shift", async ({ page }) => {
  const release = await holdWasm(page);
  await page.goto("/", { waitUntil: "domcontentloaded" });
  await expect(page.getByRole("heading", { level: 1, name: "Locked out? Get back in." })).toBeVisible();
  await expect(page.getByText(`${PRODUCT_NAME} lets you unlock your account`)).toBeVisible();
  await expect(page.getByRole("link", { name: /Unlock my account/ })).toHaveAttribute("href", "/unlock");
  await expect(page.getByRole("link", { name: /Reset my password/ })).toHaveAttribute("href", "/reset");
  await expect(page.getByRole("region", { name: "Where you can use this" }).getByRole("listitem")).toHaveCount(3);
  await expect(page.getByRole("contentinfo")).toBeVisible();
  await expect(page.getByText("Loading…")).toBeHidden();
  await expect(page.locator("#boot")).toHaveCount(1);

  release();
  await expect(page.locator("#boot")).toHaveCount(0);
  await expect(page).toHaveTitle(`Start · ${PRODUCT_NAME}`);
  await expect(page.getByRole("heading", { level: 1, name: "Locked out? Get back in." })).toBeVisible();
  await expect(page.getByRole("contentinfo").getByRole("link", { name: /\+44/ })).toBeVisible();
  expect(await layoutShift(page)).toBe(0);
  await expectAccessible(page);
});

test("the kiosk page paints before the Wasm runs, and the app takes over without a shift", async ({ page }) => {
  const release = await holdWasm(page);
  await page.goto("/desktop", { waitUntil: "domcontentloaded" });
  await expect(page.getByRole("heading", { level: 1, name: "Locked your account?" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Unlock my account" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Talk to a person" })).toBeVisible();

  release();
  await expect(page.locator("#boot")).toHaveCount(0);
  await expect(page).toHaveTitle(`Locked your account? · ${PRODUCT_NAME}`);
  await expect(page.getByRole("button", { name: "Unlock my account" })).toBeVisible();
  expect(await layoutShift(page)).toBe(0);
  await page.getByRole("button", { name: "Unlock my account" }).click();
  await expect(page.getByRole("heading", { name: "Who are you?" })).toBeVisible();
});

test("other pages do not show the start page while the Wasm loads", async ({ page }) => {
  const release = await holdWasm(page);
  await page.goto("/unlock", { waitUntil: "domcontentloaded" });
  await expect(page.getByText("Loading…")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Locked out? Get back in." })).toBeHidden();
  await expect(page.getByRole("button", { name: "Unlock my account" })).toBeHidden();

  release();
  await expect(page.getByRole("heading", { level: 1, name: "Unlock my account" })).toBeVisible();
  await expect(page.getByText("Loading…")).toBeHidden();
});

test("a link on the static start page works before the Wasm has loaded", async ({ page }) => {
  const release = await holdWasm(page);
  await page.goto("/", { waitUntil: "domcontentloaded" });
  await page.getByRole("link", { name: /Reset my password/ }).click();
  await expect(page).toHaveURL("/reset");
  release();
  await expect(page.getByRole("heading", { level: 1, name: "Reset my password" })).toBeVisible();
});
