import { test, expect } from "./fixtures";
import { waitForMailTo } from "./mail";

// The server under test sends its mail over SMTP to the test SMTP server; this reads it
// from that server's Maildir, as later tests will read emailed codes.
test("locking an account emails its owner what happened and what to do", async ({ page, baseURL }) => {
  const signIn = (password: string) =>
    page.request.post("/api/sign_in", {
      headers: { origin: baseURL as string },
      data: { username: "bob", password },
    });
  // Another test may have locked bob already; the right password tells.
  const first = await (await signIn("copper-fjord-whistle")).json();
  if (first.result !== "locked") {
    for (let i = 0; i < 5; i++) await signIn(`not-the-password-${i}`);
  }
  const mail = await waitForMailTo("bob@example.org", (m) => m.subject.includes("was locked"));
  expect(mail.subject).toBe("Your Example Health account was locked");
  expect(mail.text).toContain("Hello Bob Brennan,");
  expect(mail.text).toContain("EXAMPLE\\bob");
  expect(mail.text).toMatch(/locked on \w+day \d{1,2} \w+ \d{4}, \d{2}:\d{2} UTC/);
  // The "This was me" link, built from the base URL (see lockmail.spec.ts).
  expect(mail.text).toContain(`${baseURL}/locked/unlock#`);
  expect(mail.text).toContain("If it was not you");
});
