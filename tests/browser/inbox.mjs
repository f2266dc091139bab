// The staff feedback inbox in Debian's headless Chromium on a phone (390×844): the form to
// log feedback from another channel is on the first screen, folded; the list is paged (25
// a page, "Older" leads to the next ones); categories and channels read as words; nothing is
// wider than the screen; logging a call from the folded form lands on the new item.
// Usage: node inbox.mjs <base url> <email> <password>   (prints one JSON line)
import { fail, launch, phonePage } from "./launch.mjs";

const [base, email, password] = process.argv.slice(2);
const browser = await launch();
try {
  const errors = [];
  const page = await phonePage(browser, { width: 390, height: 844 }, errors);

  await page.goto(base + "/login");
  await page.fill("#email", email);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login")), page.click("form[action='/login'] button[type=submit]")]);

  await page.goto(base + "/feedback");
  // The intake is reachable on the first screen, before the list.
  const summary = page.locator("details#intake > summary");
  if ((await summary.count()) !== 1) fail("no folded intake form (details#intake > summary)");
  const box = await summary.boundingBox();
  if (!box || box.y + box.height > 844) fail("the intake form is not on the first screen: at " + (box && box.y) + "px");
  if (!(await page.locator("#log-message").isHidden())) fail("the intake form should start folded");
  const listTop = (await page.locator("#inbox-list").boundingBox()).y;
  if (listTop < box.y) fail("the list comes before the intake form");

  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: process.env.SCREENSHOT_DIR + "/inbox-phone.png" });
  // One page of 25, with a count and a way to older items.
  const rows = page.locator("#inbox-list tbody tr");
  if ((await rows.count()) !== 25) fail("expected 25 items on page 1, got " + (await rows.count()));
  const count = (await page.textContent("#inbox-count")) || "";
  if (!/Items 1–25 of 40/.test(count)) fail("count says: " + count);
  const firstPage = await page.locator("#inbox-list tbody tr td:first-child a").allTextContents();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wide > 392) fail("the inbox is wider than the phone: " + wide + "px");
  // Words, not codes.
  const cells = (await page.locator("#inbox-list tbody").innerText());
  if (!cells.includes("A complaint") || !cells.includes("Hotline")) fail("category and channel should read as words");
  if (/\bhotline\b/.test(cells)) fail("a channel code is shown: hotline");

  await Promise.all([page.waitForURL(/page=2/), page.locator("nav.pager a.older").first().click()]);
  const secondPage = await page.locator("#inbox-list tbody tr td:first-child a").allTextContents();
  if (secondPage.length !== 15) fail("expected the 15 older items on page 2, got " + secondPage.length);
  if (secondPage.some((r) => firstPage.includes(r))) fail("page 2 repeats items of page 1");
  if (!/Items 26–40 of 40/.test((await page.textContent("#inbox-count")) || "")) fail("page 2 count wrong");

  // Log a phone call from the folded form.
  await summary.click();
  await page.selectOption("#log-channel", { label: "Hotline" });
  await page.selectOption("#log-category", { label: "A request for help" });
  await page.fill("#log-message", "Caller asks when the next distribution in block D is.");
  await page.selectOption("#log-age_group", { label: "60 or older" });
  await Promise.all([page.waitForURL(/\/feedback\/FB-/), page.click("#intake button[type=submit]")]);
  const reference = page.url().split("/feedback/")[1];
  const item = await page.innerText("main");
  if (!item.includes("A request for help") || !item.includes("60 or older")) fail("the new item should show labels: " + item.slice(0, 400));
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ ok: true, reference, height, summary_y: box.y }));
} finally {
  await browser.close();
}
