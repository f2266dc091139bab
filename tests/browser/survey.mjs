// Drives the survey page in Debian's headless Chromium, as a partner would on a phone:
// skip logic, draft save and reload, submit, thank-you page.
// Usage: node survey.mjs <survey link>   (prints one JSON line; exits non-zero on failure)
import { chromium } from "playwright-core";

const link = process.argv[2];
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  await page.goto(link + "?lang=en");
  const follow = page.locator("#q-meetings_improve");
  if (!(await follow.isHidden())) fail("the follow-up question should start hidden");

  await page.check("input[name=q_meetings_useful][value=disagree]");
  if (!(await follow.isVisible())) fail("choosing 'disagree' should show the follow-up");
  await page.fill("#in-meetings_improve", "Send the agenda two days before");
  await page.check("input[name=q_meetings_useful][value=agree]");
  if (!(await follow.isHidden())) fail("choosing 'agree' should hide the follow-up");
  await page.check("input[name=q_meetings_useful][value=strongly_disagree]");
  if (!(await follow.isVisible())) fail("'strongly_disagree' should show it again");
  await page.fill("#in-overall_rating", "8");

  // Save a draft, then reload in a fresh context (another device).
  // The page is already loaded, so waitForLoadState alone could return before the POST's
  // reply replaces it: wait for the confirmation itself.
  await page.click("button[value=save]");
  try {
    await page.locator(".notice").waitFor({ state: "visible", timeout: 15000 });
  } catch {
    fail("no confirmation after saving the draft");
  }
  const other = await (await browser.newContext()).newPage();
  await other.goto(link + "?lang=en");
  if ((await other.inputValue("#in-meetings_improve")) !== "Send the agenda two days before") fail("draft text not restored");
  if (!(await other.isChecked("input[name=q_meetings_useful][value=strongly_disagree]"))) fail("draft choice not restored");
  if (!(await other.locator("#q-meetings_improve").isVisible())) fail("restored draft should show the follow-up");

  // Arabic renders right to left.
  await other.goto(link + "?lang=ar");
  const dir = await other.getAttribute("html", "dir");
  if (dir !== "rtl") fail("Arabic page is not right-to-left");

  // Submit from the first device and reach the thank-you page.
  await other.goto(link + "?lang=en");
  await Promise.all([other.waitForURL(/\/thanks/), other.click("button[value=submit]")]);
  const heading = await other.textContent("h1");
  if (!/Thank you/.test(heading || "")) fail("no thank-you page: " + heading);
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ ok: true }));
} finally {
  await browser.close();
}
